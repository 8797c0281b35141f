"""What X-Ray records when a function runs traced: AWS calls only. Each function is loaded as Lambda loads it,
with tracing on, in a process of its own, and asked which libraries X-Ray patched: `requests` would put the
URLs of HubSpot's token calls (`/oauth/v1/access-tokens/{token}`) into every trace. An install is started traced
and every entity X-Ray is sent is read: the answer's cookie and state stay out."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack.cfn_yaml import load_template
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
# The OAuth function starting an install, traced, its AWS calls served by moto; every entity X-Ray would send
# is kept, with the answer (which carries the flow cookie and the signed state).
RUN_TRACED = """
import importlib.util, json, os, sys
import boto3
from moto import mock_aws
from aws_xray_sdk.core import xray_recorder

sent = []
class Kept:
    def send_entity(self, entity):
        sent.append(entity.serialize())
    def set_daemon_address(self, address):
        pass

with mock_aws():
    secrets = boto3.client("secretsmanager")
    app = {"hubspot_client_id": "id", "hubspot_client_secret": "s", "qbo_client_id": "q", "qbo_client_secret": "s"}
    os.environ["HUBBOOKS_APP_SECRET_ARN"] = secrets.create_secret(Name="app", SecretString=json.dumps(app))["ARN"]
    key = json.dumps({"signing_key": "k" * 43})
    os.environ["HUBBOOKS_SIGNING_SECRET_ARN"] = secrets.create_secret(Name="key", SecretString=key)["ARN"]
    xray_recorder.configure(emitter=Kept())
    spec = importlib.util.spec_from_file_location("app", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    class Context:
        function_name, memory_limit_in_mb, aws_request_id = "oauth", 256, "r-1"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:oauth"
    answer = module.lambda_handler(json.loads(open(sys.argv[2]).read()), Context())
    print(json.dumps({"answer": answer, "sent": sent}))
"""


def _traced_env(function: str) -> dict[str, str]:
    """The environment Lambda gives a traced function, without this test run's own settings."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HUBBOOKS_", "POWERTOOLS_", "AWS_", "_X_AMZN"))},
        "PYTHONPATH": f"{ROOT / 'layers' / 'common'}:{ROOT}",
        "LAMBDA_TASK_ROOT": str(ROOT / "functions" / function),
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "POWERTOOLS_TRACE_DISABLED": "false",
        **{f"HUBBOOKS_{k}": "x" for k in ("STACK_NAME", "TABLE_NAME", "IDEMPOTENCY_TABLE_NAME", "TOKEN_KEY_ID")},
        "HUBBOOKS_SYNC_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/q.fifo",
    }


def _run(script: str, env: dict[str, str], *args: Path) -> Any:
    """What a script run in a process of its own printed last, as JSON."""
    ran = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    return json.loads(ran.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_traced_function_records_aws_calls_and_never_the_provider_calls(function: str) -> None:
    traced = _run(LOAD, _traced_env(function), ROOT / "functions" / function / "app.py")
    assert traced["disabled"] is False
    assert "requests" not in traced["patched"]
    assert "botocore" in traced["patched"]  # boto3 is patched through botocore


def _install_started_traced(capture: dict[str, str]) -> tuple[list[str], list[str]]:
    """The secrets in the answer to starting an install (flow cookie, signed state), and what X-Ray was sent."""
    env = {
        **_traced_env("oauth"),
        **capture,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "_X_AMZN_TRACE_ID": "Root=1-6762b9f0-1f2e3d4c5b6a798877665544;Parent=53995c3f42cd8ad8;Sampled=1",
    }
    out = _run(RUN_TRACED, env, ROOT / "functions/oauth/app.py", ROOT / "events/oauth-connect-hubspot.json")
    answer = out["answer"]
    assert answer["statusCode"] == 302
    cookie = answer["cookies"][0].split(";")[0].split("=", 1)[1]
    state = answer["headers"]["Location"].split("state=", 1)[1].split("&")[0]
    return [cookie, state], out["sent"]


def test_a_traced_install_sends_x_ray_no_cookie_and_no_state() -> None:
    """Run with the template's own tracer settings; the same run with Powertools' defaults shows the check sees
    an answer in a trace when one is there."""
    variables = load_template(ROOT / "template.yaml")["Globals"]["Function"]["Environment"]["Variables"]
    template = {k: str(v) for k, v in variables.items() if k.startswith("POWERTOOLS_TRACER_")}
    secrets, sent = _install_started_traced(template)
    assert any('"## lambda_handler"' in entity for entity in sent)
    assert any('"GetSecretValue"' in entity for entity in sent)
    assert [s for s in secrets if any(s in entity for entity in sent)] == []

    secrets, sent = _install_started_traced({"POWERTOOLS_TRACER_CAPTURE_RESPONSE": "true"})
    assert all(any(s in entity for entity in sent) for s in secrets)


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
