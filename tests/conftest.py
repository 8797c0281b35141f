"""Fixtures shared by every suite: devstacks (the real template, the pump fixture) and the sandbox."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack import Devstack
from devstack.sandboxed import SandboxedProduct
from sandbox.client import HubSpotAdmin, QuickBooksAdmin
from sandbox.http import RunningServer, serve
from sandbox.hubspot.app import HubSpotEmulator
from sandbox.quickbooks.app import QuickBooksEmulator
from tests.contract.hubspot_openapi import HubSpotContract
from tests.contract.qbo_shapes import QboShapes
from tests.support.product import SHARED_TIME_SCALE, UNSPECIFIED_REPORT, checked_product
from tests.support.product import hubspot_contract as shared_hubspot_contract
from tests.support.product import qbo_shapes as shared_qbo_shapes
from tests.support.recording import Recorder
from tests.support.webhook_sink import WebhookSink

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="session")
def hubbooks_stack() -> Iterator[Devstack]:
    """template.yaml deployed into moto and served; shared by the integration and e2e suites."""
    with Devstack(stack_name="hubbooks-test", time_scale=0.01) as stack:
        yield stack


@pytest.fixture(scope="session")
def pump_stack() -> Iterator[Devstack]:
    with Devstack(
        template=FIXTURES / "pump" / "template.yaml", stack_name="pump-fixture", time_scale=0.01, pollers=3
    ) as stack:
        yield stack


# -- the sandbox emulators, shared by a session and reset before each test -----------------------------

PORTAL_ID = 62515
REALM_ID = "9341455000000001"
DEV_TOKEN = "sandbox-dev-token"
CLIENT_ID = "hubbooks-client"
CLIENT_SECRET = "hubbooks-secret"
VERIFIER_TOKEN = "hubbooks-verifier"


@dataclass
class Sandbox:
    """One emulator as a test sees it: its URL, an API session with the dev token, the admin client."""

    url: str
    app: Any
    admin: Any
    recorder: Recorder

    def api(self) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {DEV_TOKEN}"
        session.headers["Accept"] = "application/json"
        return session


@pytest.fixture(scope="session")
def hubspot_contract() -> HubSpotContract:
    return shared_hubspot_contract()


@pytest.fixture(scope="session")
def qbo_shapes() -> QboShapes:
    return shared_qbo_shapes()


@pytest.fixture(scope="session")
def _hubspot_server() -> Iterator[tuple[RunningServer, Recorder]]:
    app = HubSpotEmulator(
        portal_id=PORTAL_ID,
        dev_token=DEV_TOKEN,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        time_scale=SHARED_TIME_SCALE,
    )
    recorder = Recorder(app)
    server = serve(app, wsgi=recorder)
    yield server, recorder
    server.stop()


@pytest.fixture(scope="session")
def _quickbooks_server() -> Iterator[tuple[RunningServer, Recorder]]:
    app = QuickBooksEmulator(
        realm_id=REALM_ID,
        dev_token=DEV_TOKEN,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        verifier_token=VERIFIER_TOKEN,
        time_scale=SHARED_TIME_SCALE,
    )
    recorder = Recorder(app)
    server = serve(app, wsgi=recorder)
    yield server, recorder
    server.stop()


@pytest.fixture
def hubspot(_hubspot_server: tuple[RunningServer, Recorder], hubspot_contract: HubSpotContract) -> Iterator[Sandbox]:
    """A clean HubSpot emulator; every API response the test caused must validate against HubSpot's specs."""
    server, recorder = _hubspot_server
    admin = HubSpotAdmin(server.url)
    admin.reset()
    recorder.take()
    yield Sandbox(server.url, server.app, admin, recorder)
    problems = [p for exchange in recorder.take() if (p := hubspot_contract.check(exchange, requests=False))]
    assert not problems, "responses that break HubSpot's OpenAPI specs:\n" + "\n".join(problems)


@pytest.fixture
def quickbooks(_quickbooks_server: tuple[RunningServer, Recorder], qbo_shapes: QboShapes) -> Iterator[Sandbox]:
    """A clean QBO emulator; every API response the test caused must have QBO's shapes."""
    server, recorder = _quickbooks_server
    admin = QuickBooksAdmin(server.url)
    admin.reset()
    admin.set_company(sandbox=False, CustomTxnNumbers=False, legacy_webhooks=False)
    recorder.take()
    yield Sandbox(server.url, server.app, admin, recorder)
    problems = [p for exchange in recorder.take() for p in qbo_shapes.problems(exchange)]
    assert not problems, "responses that break QBO's shapes:\n" + "\n".join(problems)


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    with WebhookSink().running() as running:
        yield running


# -- the whole product: both emulators and template.yaml on devstack, wired together ------------------


@pytest.fixture(scope="module")
def product() -> Iterator[SandboxedProduct]:
    """A fresh product per test module (its own stack, emulators and data), its traffic contract-checked."""
    with checked_product("it") as running:
        yield running


# -- running on three workers ---------------------------------------------------------------------------------

# Modules that take longest on this machine (each is a product of its own): scheduled first, so that under
# `pytest -n 3 --dist loadscope` the short ones fill in around them instead of a long one starting last.
LONGEST_FIRST = (
    "tests/integration/test_sync.py",
    "tests/integration/test_first_day.py",
    "tests/integration/test_bulk.py",
    "tests/reliability/test_convergence.py",
    "tests/reliability/test_soak.py",
    "tests/browser/test_settings_page.py",
    "tests/integration/test_billing.py",
    "tests/security/test_attack_matrix.py",
    "tests/integration/test_settings_api.py",
    "tests/security/test_fuzz.py",
    "tests/integration/test_initial_sync.py",
    "tests/integration/test_retries.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {module: index for index, module in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


def pytest_sessionstart(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):  # the run itself, not one of its workers
        UNSPECIFIED_REPORT.unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Which calls the product made that no shared spec covers (known and allowed, so counted, not checked)."""
    if not UNSPECIFIED_REPORT.exists():
        return
    counts = json.loads(UNSPECIFIED_REPORT.read_text())
    terminalreporter.section("HubSpot calls no shared spec covers (not validated)")
    for path, count in counts.items():
        terminalreporter.write_line(f"{count:6d}  {path}")


# -- the security suite's figures ---------------------------------------------------------------------------

SECURITY_RESULTS = ROOT / ".security" / "results.json"
_security: dict[str, int] = {"cases_tried": 0, "refused_as_expected": 0}
_run: dict[str, bool] = {"is_worker": False}


def pytest_configure(config: pytest.Config) -> None:
    _run["is_worker"] = hasattr(config, "workerinput")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Each security test is an attack case: tried, and refused as expected when it passes (counted once, on
    the run itself: workers send their reports to it)."""
    if _run["is_worker"] or report.when != "call" or not report.nodeid.startswith("tests/security/"):
        return
    _security["cases_tried"] += 1
    _security["refused_as_expected"] += int(report.passed)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput") or not _security["cases_tried"]:
        return
    SECURITY_RESULTS.parent.mkdir(exist_ok=True)
    SECURITY_RESULTS.write_text(json.dumps(_security, indent=2) + "\n")
