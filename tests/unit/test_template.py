"""template.yaml: every function points at real code, and the production settings the design asks for."""

import ast
from pathlib import Path
from typing import Any

import pytest

from devstack.cfn_yaml import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = {k: v["Properties"] for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"}


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_code_uri_and_handler_resolve_to_real_code(logical_id: str) -> None:
    props = FUNCTIONS[logical_id]
    code_dir = ROOT / props["CodeUri"]
    assert code_dir.is_dir(), f"{logical_id}: CodeUri {props['CodeUri']} is missing"
    module, _, function = props["Handler"].rpartition(".")
    source = code_dir / (module.replace(".", "/") + ".py")
    assert source.is_file(), f"{logical_id}: handler module {source} is missing"
    names = {node.name for node in ast.parse(source.read_text()).body if isinstance(node, ast.FunctionDef)}
    assert function in names, f"{logical_id}: {source} defines no {function}()"


def test_layer_builds_with_python312_and_has_requirements() -> None:
    layer = RESOURCES["CommonLayer"]
    assert layer["Metadata"]["BuildMethod"] == "python3.12"
    content = ROOT / layer["Properties"]["ContentUri"]
    assert (content / "requirements.txt").is_file()
    assert (content / "hubbooks" / "__init__.py").is_file()


def test_globals_run_python312_with_powertools_settings() -> None:
    function_globals = TEMPLATE["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.12"
    variables = function_globals["Environment"]["Variables"]
    for name in ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"):
        assert name in variables
    # X-Ray keeps no handler answer or error: cookies, install tokens and tenant data stay out of traces.
    assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    assert variables["POWERTOOLS_TRACER_CAPTURE_ERROR"] == "false"


def test_sync_queue_is_fifo_with_a_fifo_dead_letter_queue() -> None:
    queue = RESOURCES["SyncQueue"]["Properties"]
    dlq = RESOURCES["SyncDeadLetterQueue"]["Properties"]
    assert queue["FifoQueue"] is True
    assert dlq["FifoQueue"] is True
    assert queue["QueueName"]["Fn::Sub"].endswith(".fifo")
    assert dlq["QueueName"]["Fn::Sub"].endswith(".fifo")
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["SyncDeadLetterQueue", "Arn"]}
    worker = TEMPLATE["Mappings"]["Sync"]["Worker"]
    assert worker["QueueVisibilityTimeoutSeconds"] == 6 * worker["TimeoutSeconds"]
    # Throttles and outages are not counted against a signal: the queue's ceiling sits well above the
    # worker's own count of failures, which dead-letters first.
    assert worker["FailuresBeforeDeadLetter"] == 5
    assert worker["MaxReceiveCount"] >= 10 * worker["FailuresBeforeDeadLetter"]
    variables = FUNCTIONS["SyncWorkerFunction"]["Environment"]["Variables"]
    assert variables["HUBBOOKS_SYNC_DEAD_LETTER_QUEUE_URL"] == {"Ref": "SyncDeadLetterQueue"}


def test_parameters_cover_sweep_rate_and_api_bases() -> None:
    assert {"SweepRate", "HubSpotApiBase", "QuickBooksApiBase"} <= set(TEMPLATE["Parameters"])


def test_worker_timeout_is_the_mappings_and_its_queue_event_reports_each_failed_record() -> None:
    worker = FUNCTIONS["SyncWorkerFunction"]
    assert worker["Timeout"] == TEMPLATE["Mappings"]["Sync"]["Worker"]["TimeoutSeconds"]
    event = worker["Events"]["Signals"]["Properties"]
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event["Queue"] == {"Fn::GetAtt": ["SyncQueue", "Arn"]}
