"""A connection and pair's lane: a pass of the worker takes every live change waiting in it, not only the ten
messages SQS hands over, and the messages whose changes it took find nothing left to do; its two sides run at
the same time when they share no pair of records."""

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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


def test_a_lanes_two_sides_run_side_by_side(product: SandboxedProduct, linked: list[tuple[str, str]]) -> None:
    """The HubSpot side's pass is held on its QuickBooks batch call and the QuickBooks side's on its HubSpot batch
    update, both at once: the two passes of one delivery do not wait for each other (in turn, the second would
    never start while the first is held)."""
    pump = _sync_pump(product)
    towards_qbo, towards_hubspot = linked[:4], linked[4:8]
    product.quickbooks_admin.configure_webhooks(url=f"{product.devstack.gateway_url}/webhooks/quickbooks")
    try:
        for contact_id, _ in towards_qbo:
            product.hubspot_admin.update("contacts", contact_id, {"firstname": f"FromHubSpot{contact_id}"})
        for _, customer_id in towards_hubspot:
            product.quickbooks_admin.update("Customer", customer_id, {"GivenName": f"FromBooks{customer_id}"})
        assert product.hubspot_admin.flush_webhooks()
        assert product.quickbooks_admin.flush_webhooks()
        product.quickbooks_admin.add_fault("hold", count=1, method="POST", path="/batch$")
        product.hubspot_admin.add_fault("hold", count=1, method="POST", path="/contacts/batch/update$")
        delivery = ThreadPoolExecutor(max_workers=1).submit(pump.poll_once)
        try:
            product.quickbooks_admin.wait_held(timeout=30)
            product.hubspot_admin.wait_held(timeout=10)  # in turn, not before the first call's 20 s time-out
        finally:
            product.quickbooks_admin.release_held()
            product.hubspot_admin.release_held()
        delivery.result(timeout=60)
        given = {c["Id"]: c.get("GivenName") for c in product.quickbooks_admin.records("Customer")}
        assert {q: given[q] for c, q in towards_qbo} == {q: f"FromHubSpot{c}" for c, q in towards_qbo}
        names = {c["id"]: c["properties"].get("firstname") for c in product.hubspot_admin.records("contacts")}
        assert {c: names[c] for c, q in towards_hubspot} == {c: f"FromBooks{q}" for c, q in towards_hubspot}
        _work_off(pump)  # the echoes of the writes
    finally:
        product.quickbooks_admin.configure_webhooks(enabled=False)
