import os
import threading
from pathlib import Path

import pytest

from devstack.intrinsics import Resolver, UnresolvableError, evaluate_conditions
from devstack.pump import failed_message_ids
from devstack.runtime import function_environment, install_environment_overlay
from devstack.topology import parse_rate


def _resolver() -> Resolver:
    return Resolver(
        parameters={"Stage": "dev", "AWS::Region": "us-east-1"},
        physical_ids={"Queue": "https://sqs/123/q.fifo"},
        attribute=lambda logical_id, attr: f"{logical_id}:{attr}",
        mappings={"Sync": {"Worker": {"TimeoutSeconds": 60}}},
    )


def test_resolver_handles_the_intrinsics_templates_use() -> None:
    resolver = _resolver()
    assert resolver.resolve({"Ref": "Queue"}) == "https://sqs/123/q.fifo"
    assert resolver.resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == "Queue:Arn"
    assert resolver.resolve({"Fn::Sub": "${Stage}-${AWS::Region}-${Queue.QueueName}"}) == (
        "dev-us-east-1-Queue:QueueName"
    )
    assert resolver.resolve({"Fn::Sub": ["${X}/y", {"X": {"Ref": "Stage"}}]}) == "dev/y"
    assert resolver.resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-dev"
    assert resolver.resolve({"Fn::FindInMap": ["Sync", "Worker", "TimeoutSeconds"]}) == 60
    with pytest.raises(UnresolvableError):
        resolver.resolve({"Ref": "Missing"})


def test_conditions_evaluate() -> None:
    conditions = {
        "IsDev": {"Fn::Equals": [{"Ref": "Stage"}, "dev"]},
        "NotDev": {"Fn::Not": [{"Condition": "IsDev"}]},
        "Either": {"Fn::Or": [{"Condition": "IsDev"}, {"Condition": "NotDev"}]},
    }
    assert evaluate_conditions(conditions, _resolver()) == {"IsDev": True, "NotDev": False, "Either": True}


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [("rate(5 minutes)", 300), ("rate(1 minute)", 60), ("rate(2 hours)", 7200), ("rate(1 day)", 86400)],
)
def test_parse_rate(expression: str, seconds: int) -> None:
    assert parse_rate(expression) == seconds


def test_parse_rate_refuses_cron() -> None:
    with pytest.raises(ValueError, match="rate"):
        parse_rate("cron(0 12 * * ? *)")


def test_failed_ids_follow_lambda_rules() -> None:
    records = [{"messageId": "a"}, {"messageId": "b"}]
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "b"}]}, records, True) == {"b"}
    assert failed_message_ids({"batchItemFailures": []}, records, True) == set()
    # an identifier Lambda does not know fails the whole batch
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "zz"}]}, records, True) == {"a", "b"}
    # without ReportBatchItemFailures a normal return means every record succeeded
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "b"}]}, records, False) == set()


def test_environment_overlay_is_per_invocation_thread(tmp_path: Path) -> None:
    install_environment_overlay()
    seen: dict[str, str | None] = {}
    barrier = threading.Barrier(2)

    def run(name: str) -> None:
        with function_environment({"HUBBOOKS_PROBE": name}):
            barrier.wait()
            seen[name] = os.environ.get("HUBBOOKS_PROBE")

    threads = [threading.Thread(target=run, args=(n,)) for n in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"first": "first", "second": "second"}
    assert "HUBBOOKS_PROBE" not in os.environ
