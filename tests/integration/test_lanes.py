"""A connection and pair's lane: a pass of the worker takes every live change waiting in it, not only the ten
messages SQS hands over, and the messages whose changes it took find nothing left to do."""

import time
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.pump import QueuePump
from devstack.sandboxed import SandboxedProduct
from tests.support.product import checked_product, install, table_items

pytestmark = [pytest.mark.devstack, pytest.mark.slow]

CHANGES = 14  # more than one delivery's ten messages


@pytest.fixture(scope="module")
def product() -> Iterator[SandboxedProduct]:
    """The sync queue is polled by the tests, one delivery at a time."""
    with checked_product("lanes", run_pumps=False) as running:
        yield running


def _sync_pump(product: SandboxedProduct) -> QueuePump:
    return next(p for p in product.devstack.pumps if p.spec.function == "SyncWorkerFunction")


def _work_off(pump: QueuePump) -> None:
    deadline = time.monotonic() + 120
    while pump.poll_once() or pump.pending():
        assert time.monotonic() < deadline, "the sync queue did not empty"


@pytest.fixture(scope="module")
def linked(product: SandboxedProduct) -> list[tuple[str, str]]:
    """Contacts brought to QuickBooks by a first sync, then HubSpot's webhooks on (QuickBooks' echoes of the pass's
    writes would queue messages of their own): (contact id, customer id) pairs."""
    cid = install(product)[1]["connection_id"]
    contacts = [
        product.hubspot_admin.create("contacts", {"email": f"lane{n}@example.com", "firstname": f"L{n}"})
        for n in range(CHANGES)
    ]
    product.devstack.invoke("ReconcileFunction", {"action": "initial_sync", "connection_id": cid, "pair": "contacts"})
    _work_off(_sync_pump(product))
    product.hubspot_admin.configure_webhooks(url=f"{product.devstack.gateway_url}/webhooks/hubspot")
    ids = {c["id"]: c["properties"].get("qbo_customer_id") for c in product.hubspot_admin.records("contacts")}
    assert all(ids[c["id"]] for c in contacts)
    return [(c["id"], ids[c["id"]]) for c in contacts]


def _qbo_writes(calls: list[dict[str, Any]]) -> list[str]:
    return [
        c["path"].split("?")[0].rsplit("/", 1)[1] for c in calls if c["method"] == "POST" and "query" not in c["path"]
    ]


def test_a_pass_takes_every_change_waiting_in_the_lane_and_the_rest_find_nothing_to_do(
    product: SandboxedProduct, linked: list[tuple[str, str]]
) -> None:
    pump = _sync_pump(product)
    for n, (contact_id, _) in enumerate(linked):  # a person's edits, one delivery and one message each
        product.hubspot_admin.update("contacts", contact_id, {"firstname": f"Edited{n}"})
        assert product.hubspot_admin.flush_webhooks()
    assert pump.pending() == CHANGES
    product.quickbooks_admin.clear_calls()
    assert pump.poll_once() == 10
    given = {c["Id"]: c.get("GivenName") for c in product.quickbooks_admin.records("Customer")}
    assert [given[q] for _, q in linked] == [f"Edited{n}" for n in range(CHANGES)]  # all of them, not ten
    assert _qbo_writes(product.quickbooks_admin.calls()) == ["batch"]  # in one batch call
    for admin in (product.hubspot_admin, product.quickbooks_admin):
        admin.clear_calls()
    assert pump.poll_once() == CHANGES - 10
    assert pump.pending() == 0
    # Taken by the first pass: nothing to read or write.
    assert product.hubspot_admin.calls() == product.quickbooks_admin.calls() == []
    assert [i for i in table_items(product) if i["PK"]["S"].startswith("LANE#")] == []
