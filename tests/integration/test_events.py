"""Every sample event in events/ runs through its function on devstack and gets the answer AWS would give
for it; `python -m devstack invoke` does the same from the command line."""

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack import events
from devstack.sandboxed import SandboxedProduct
from tests.support.product import checked_product

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.devstack, pytest.mark.slow]


def _json_body(answer: dict[str, Any]) -> Any:
    return json.loads(answer["body"])


def _health(answer: dict[str, Any], product: SandboxedProduct) -> None:
    assert (answer["statusCode"], _json_body(answer)["status"]) == (200, "ok")


def _connect(answer: dict[str, Any], product: SandboxedProduct) -> None:
    assert answer["statusCode"] == 302
    assert product.hubspot is not None
    assert answer["headers"]["Location"].startswith(f"{product.hubspot.url}/oauth/authorize?")


def _unknown_portal(answer: dict[str, Any], product: SandboxedProduct) -> None:
    body = _json_body(answer)
    assert answer["statusCode"] == 200
    assert (body["received"], body["queued"], sum(body["dropped"].values())) == (1, 0, 1)


def _action(answer: dict[str, Any], product: SandboxedProduct) -> None:
    outputs = _json_body(answer)["outputFields"]
    assert answer["statusCode"] == 200
    assert outputs["hs_execution_state"] == "FAIL_CONTINUE"
    assert "not connected" in outputs["error_message"]


def _openapi(answer: dict[str, Any], product: SandboxedProduct) -> None:
    assert answer["statusCode"] == 200
    assert "/api/syncs" in _json_body(answer)["paths"]


def _worker(answer: dict[str, Any], product: SandboxedProduct) -> None:
    assert answer == {"batchItemFailures": []}


def _sweep(answer: dict[str, Any], product: SandboxedProduct) -> None:
    assert answer == {"queued": 0}  # a tick: one request per active connection, none here


def _sweep_request(answer: dict[str, Any], product: SandboxedProduct) -> None:
    assert answer == {"batchItemFailures": []}  # a request for a connection that does not exist is done


def _initial_sync(answer: dict[str, Any], product: SandboxedProduct) -> None:
    assert answer == {"error": "the connection is not active"}


EXPECTED: dict[str, tuple[str, Callable[[dict[str, Any], SandboxedProduct], None]]] = {
    "health.json": ("HealthFunction", _health),
    "oauth-connect-hubspot.json": ("OAuthFunction", _connect),
    "webhook-hubspot.json": ("WebhookFunction", _unknown_portal),
    "webhook-quickbooks.json": ("WebhookFunction", _unknown_portal),
    "action-create-invoice.json": ("ActionsFunction", _action),
    "settings-openapi.json": ("SettingsFunction", _openapi),
    "sync-worker-fifo-batch.json": ("SyncWorkerFunction", _worker),
    "reconcile-scheduled-sweep.json": ("ReconcileFunction", _sweep),
    "reconcile-sweep-request.json": ("ReconcileFunction", _sweep_request),
    "reconcile-initial-sync.json": ("ReconcileFunction", _initial_sync),
}


@pytest.fixture(scope="module")
def product() -> Iterator[SandboxedProduct]:
    with checked_product("ev", run_pumps=False, stack_parameters={"PublicBaseUrl": ""}) as running:
        yield running


def test_every_event_file_has_an_expected_answer() -> None:
    assert sorted(p.name for p in events.EVENTS.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_sample_event_gets_its_functions_answer(product: SandboxedProduct, name: str) -> None:
    function, check = EXPECTED[name]
    check(events.invoke(product, function, events.load(events.EVENTS / name)), product)


@pytest.mark.parametrize("name", ["webhook-hubspot.json", "action-create-invoice.json", "webhook-quickbooks.json"])
def test_a_stored_event_sent_as_is_is_refused_for_its_old_or_foreign_signature(
    product: SandboxedProduct, name: str
) -> None:
    """HubSpot's v3 timestamp is five minutes old at most; the stored events' are older (that is why invoke
    signs again). The QuickBooks event is signed for the sandbox app, so it passes as is."""
    function, check = EXPECTED[name]
    answer = events.invoke(product, function, events.load(events.EVENTS / name), as_is=True)
    if name == "webhook-quickbooks.json":
        check(answer, product)
    else:
        assert answer["statusCode"] == 401


def test_the_invoke_command_prints_the_functions_answer() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "devstack", "invoke", "ActionsFunction", "--event", "events/action-create-invoice.json"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'common'}:{ROOT}"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout)
    outputs = json.loads(answer["body"])["outputFields"]
    assert (answer["statusCode"], outputs["hs_execution_state"]) == (200, "FAIL_CONTINUE")
