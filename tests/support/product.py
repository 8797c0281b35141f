"""Helpers for tests that drive the whole product (install flow, table access, function environments)."""

import fcntl
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from devstack.browser import Browser
from devstack.runtime import function_environment
from devstack.sandboxed import SandboxedProduct
from hubbooks import wiring
from hubbooks.models.connection import CustomerMode
from hubbooks.models.sync_config import configurable
from hubbooks.store.sync_settings import SyncSettingsRepository
from tests.contract.hubspot_openapi import HubSpotContract
from tests.contract.qbo_shapes import QboShapes
from tests.support.recording import Recorder

# Shared emulators run their rate-limit windows 100x shorter so ordinary tests never meet them; the tests
# of the limits themselves start emulators at their own scale.
SHARED_TIME_SCALE = 0.01


@cache
def hubspot_contract() -> HubSpotContract:
    return HubSpotContract.load()


@cache
def qbo_shapes() -> QboShapes:
    return QboShapes()


UNSPECIFIED_REPORT = Path(__file__).resolve().parents[2] / ".contract" / "unspecified.json"


def report_unspecified(counts: Counter[str]) -> None:
    """Add calls to paths no shared spec covers to the run's report (workers of one run add to one file)."""
    UNSPECIFIED_REPORT.parent.mkdir(exist_ok=True)
    with (UNSPECIFIED_REPORT.parent / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        total = Counter(json.loads(UNSPECIFIED_REPORT.read_text())) if UNSPECIFIED_REPORT.exists() else Counter()
        total.update(counts)
        UNSPECIFIED_REPORT.write_text(json.dumps(dict(sorted(total.items())), indent=2) + "\n")


@contextmanager
def checked_product(name: str, **options: Any) -> Iterator[SandboxedProduct]:
    """The whole product (a stack of its own, named after `name`), whose traffic with both emulators must keep
    the providers' contracts: every request it sent and every answer it got is checked when it stops."""
    recorders: list[Recorder] = []

    def record(app: Any) -> Recorder:
        recorders.append(Recorder(app))
        return recorders[-1]

    options.setdefault("run_schedules", False)
    options.setdefault("sandbox_time_scale", SHARED_TIME_SCALE)
    with SandboxedProduct(stack_name=f"{name}-{uuid.uuid4().hex[:8]}", middleware=record, **options) as product:
        yield product
    hubspot, quickbooks = recorders
    contract = hubspot_contract()
    problems = [p for exchange in hubspot.take() if (p := contract.check(exchange))]
    report_unspecified(contract.unvalidated)
    contract.unvalidated.clear()
    problems += [p for exchange in quickbooks.take() for p in qbo_shapes().problems(exchange)]
    assert not problems, f"{len(problems)} exchanges break the providers' contracts:\n" + "\n".join(
        sorted(set(problems))[:40]
    )


def install(
    product: SandboxedProduct, browser: Browser | None = None, *, set_up: bool = True
) -> tuple[Browser, dict[str, Any]]:
    """Run the install flow in a browser; answers the browser (holding the session) and /api/connection.
    `set_up`: every pair is then marked set up and on as it stands, as a connection made before set-up was (the
    suites about syncing start there; the first day's own suite starts with nothing set up)."""
    browser = browser or Browser()
    _, final = product.connect(browser)
    assert final.status_code == 200, final.text
    connection = browser.get(f"{product.devstack.gateway_url}/api/connection")
    assert connection.status_code == 200, connection.text
    if set_up:
        with as_function(product):
            pairs = configurable(CustomerMode(connection.json()["customer_mode"]))
            SyncSettingsRepository(wiring.table(), connection.json()["connection_id"]).set_up_as_is(pairs)
    return browser, connection.json()


def table_items(product: SandboxedProduct) -> list[dict[str, Any]]:
    client = product.devstack.client("dynamodb")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": product.devstack.physical["Table"]}
    while True:
        page = client.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def customer_of(product: SandboxedProduct, contact_id: str) -> dict[str, Any]:
    """The QuickBooks customer a HubSpot contact is linked to."""
    link = next(i for i in table_items(product) if i["SK"]["S"] == f"LINK#contacts#hs#{contact_id}")
    return next(c for c in product.quickbooks_admin.records("Customer") if c["Id"] == link["other_id"]["S"])


def signing_key(product: SandboxedProduct) -> str:
    secrets = product.devstack.client("secretsmanager")
    secret = secrets.get_secret_value(SecretId=product.devstack.physical["SigningSecret"])
    return str(json.loads(secret["SecretString"])["signing_key"])


@contextmanager
def as_function(product: SandboxedProduct, logical_id: str = "OAuthFunction") -> Iterator[None]:
    """Run test code with a function's environment, to call hubbooks services as that function would."""
    with function_environment(product.devstack.runtimes[logical_id].spec.environment):
        yield


def settle(product: SandboxedProduct, timeout: float = 60.0) -> None:
    product.settle(timeout)


def connect_webhooks(product: SandboxedProduct) -> None:
    product.connect_webhooks()


def deal_with_contact(product: SandboxedProduct, contact_id: str, name: str, stage: str = "contractsent") -> str:
    """A HubSpot deal associated with one contact; answers its id."""
    deal = product.hubspot_admin.create("deals", {"dealname": name, "dealstage": stage, "pipeline": "default"})
    product.hubspot_admin.associate("deals", deal["id"], "contacts", contact_id)
    return str(deal["id"])


def billable_deal(product: SandboxedProduct, name: str) -> tuple[str, str]:
    """A HubSpot deal with a contact and a line item of a synced product; answers (deal, contact)."""
    contact = product.hubspot_admin.create(
        "contacts", {"email": f"{name.lower()}@example.com", "firstname": name, "lastname": "Buyer"}
    )
    product_record = product.hubspot_admin.create("products", {"name": f"{name} widget", "price": "40"})
    settle(product)
    deal_id = deal_with_contact(product, contact["id"], f"{name} order", stage="closedwon")
    line = product.hubspot_admin.create(
        "line_items", {"name": f"{name} widget", "quantity": "3", "price": "40", "hs_product_id": product_record["id"]}
    )
    product.hubspot_admin.associate("line_items", line["id"], "deals", deal_id)
    return deal_id, contact["id"]


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` until it holds; fail saying `what` did not happen within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.1)
