"""What X-Ray records when a function runs traced: AWS calls only. Each function is loaded as Lambda loads it,
with tracing on, in a process of its own, and asked which libraries X-Ray patched: `requests` would put the
URLs of HubSpot's token calls (`/oauth/v1/access-tokens/{token}`) into every trace."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from hubbooks.errors import UnavailableError, ValidationFaultError, loggable
from hubbooks.hubspot.oauth import HubSpotOAuth

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))
LOAD = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from aws_xray_sdk.core import patcher
print(json.dumps({"disabled": module.tracer.disabled, "patched": sorted(patcher._PATCHED_MODULES)}))
"""


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_traced_function_records_aws_calls_and_never_the_provider_calls(function: str) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HUBBOOKS_", "POWERTOOLS_"))},
        "PYTHONPATH": f"{ROOT / 'layers' / 'common'}:{ROOT}",
        "LAMBDA_TASK_ROOT": str(ROOT / "functions" / function),
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "POWERTOOLS_TRACE_DISABLED": "false",
        **{f"HUBBOOKS_{k}": "x" for k in ("STACK_NAME", "TABLE_NAME", "IDEMPOTENCY_TABLE_NAME", "TOKEN_KEY_ID")},
        "HUBBOOKS_SYNC_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/q.fifo",
    }
    loaded = subprocess.run(
        [sys.executable, "-c", LOAD, str(ROOT / "functions" / function / "app.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    traced = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert traced["disabled"] is False
    assert "requests" not in traced["patched"]
    assert "botocore" in traced["patched"]  # boto3 is patched through botocore


def test_a_failed_token_call_names_no_token() -> None:
    """The token sits in the URL of HubSpot's token-info and revoke calls; a failure must not carry it into a
    log line or a trace's error."""
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{closed.getsockname()[1]}"
    oauth = HubSpotOAuth(
        requests.Session(),
        api_base=base,
        authorize_url=f"{base}/authorize",
        client_id="c",
        client_secret="s",
        timeout=2,
    )
    for call in (oauth.portal_of, oauth.revoke):
        with pytest.raises(UnavailableError) as failed:
            call("CNrW-secret-token-123")
        assert "secret-token" not in str(failed.value)
        assert failed.value.__cause__ is None


def test_a_refusal_is_logged_by_its_kind_and_code_never_by_the_providers_words() -> None:
    fault = ValidationFaultError(
        "quickbooks",
        400,
        "6240",
        "Duplicate Name Exists Error",
        detail="The name supplied already exists: ada@example.com",
    )
    assert loggable(fault) == "ValidationFaultError: quickbooks 400 6240"
