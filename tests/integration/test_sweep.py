"""The reconciliation sweep catches every change whose webhook was lost, and applies each once."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devstack.sandboxed import SandboxedProduct
from hubbooks.store.connections import META
from tests.support.product import install, table_items

pytestmark = [pytest.mark.devstack, pytest.mark.slow]
SWEEP = "ReconcileFunctionSweep"


@pytest.fixture(scope="module")
def connection(product: SandboxedProduct) -> dict[str, Any]:
    product.connect_webhooks()
    return install(product)[1]


def _links(product: SandboxedProduct) -> dict[str, str]:
    return {
        i["SK"]["S"].rsplit("#", 1)[1]: i["other_id"]["S"]
        for i in table_items(product)
        if i["SK"]["S"].startswith("LINK#contacts#hs#")
    }


def _writes(product: SandboxedProduct) -> tuple[int, int]:
    qbo = sum(1 for c in product.quickbooks_admin.calls() if c["method"] == "POST" and c["path"].endswith("/customer"))
    hubspot = sum(
        1
        for c in product.hubspot_admin.calls()
        if c["method"] in ("PATCH", "POST")
        and "/crm/v3/objects/contacts" in c["path"]
        and not c["path"].endswith("/search")
    )
    return qbo, hubspot


def _seen_and_now(product: SandboxedProduct) -> list[tuple[str, Any, Any]]:
    """Each linked contact's version as its link last saw it, beside HubSpot's now (a failure's evidence)."""
    now = {c["id"]: c["updatedAt"] for c in product.hubspot_admin.records("contacts")}
    return [
        (i["SK"]["S"], (i.get("seen") or {}).get("M", {}).get("hs"), now.get(i["SK"]["S"].rsplit("#", 1)[1]))
        for i in table_items(product)
        if i["SK"]["S"].startswith("LINK#contacts#hs#")
    ]


def test_changes_made_while_webhooks_were_lost_arrive_through_the_sweep(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    hubspot, quickbooks = product.hubspot_admin, product.quickbooks_admin
    contact = hubspot.create("contacts", {"email": "sweep@example.com", "firstname": "Swee"})
    product.settle()
    customer_id = _links(product)[contact["id"]]
    product.devstack.scheduler.fire(SWEEP)  # sets the watermarks
    product.settle()
    hubspot.configure_webhooks(enabled=False)
    quickbooks.configure_webhooks(enabled=False)
    try:
        hubspot.update("contacts", contact["id"], {"lastname": "Lost"})
        quickbooks.update("Customer", customer_id, {"CompanyName": "Lost Webhooks Inc"})
        fresh = hubspot.create("contacts", {"email": "sweep.new@example.com", "firstname": "New"})
        lonely = quickbooks.create("Customer", {"DisplayName": "Swept In", "GivenName": "Swept"})
        assert hubspot.webhooks()["dropped"] >= 2
        # The tick queues one request per active connection; a sweeper takes each from the queue.
        assert product.devstack.scheduler.fire(SWEEP) == {"queued": 1}
        product.settle()
        customer = next(c for c in quickbooks.records("Customer") if c["Id"] == customer_id)
        props = next(r["properties"] for r in hubspot.records("contacts") if r["id"] == contact["id"])
        assert (customer["FamilyName"], props["company"]) == ("Lost", "Lost Webhooks Inc")
        links = _links(product)
        assert fresh["id"] in links
        assert lonely["Id"] in links.values()
        before = _writes(product)
        cid = connection["connection_id"]
        # The overlap sees the same changes again (one connection swept at once, as a request would be)...
        again = product.devstack.invoke("ReconcileFunction", {"action": "sweep", "connection_id": cid})
        product.settle()
        assert _writes(product) == before
        # ...but every record is still at the version the last sync left, so none is even read again.
        assert again["swept"][cid]["signals"] == 0, _seen_and_now(product)
    finally:
        hubspot.configure_webhooks(enabled=True)
        quickbooks.configure_webhooks(enabled=True)


def test_a_watermark_older_than_cdc_allows_starts_resync_jobs(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    cid = connection["connection_id"]
    dynamodb, table = product.devstack.client("dynamodb"), product.devstack.physical["Table"]
    stale = (datetime.now(UTC) - timedelta(days=31)).isoformat()
    dynamodb.put_item(
        TableName=table,
        Item={"PK": {"S": f"CONN#{cid}"}, "SK": {"S": "CURSOR#quickbooks#cdc"}, "watermark": {"S": stale}},
    )
    dynamodb.update_item(  # a connection made long ago, whose sweeps stopped for a month
        TableName=table,
        Key={"PK": {"S": f"CONN#{cid}"}, "SK": {"S": META}},
        UpdateExpression="SET created_at = :c",
        ExpressionAttributeValues={":c": {"S": (datetime.now(UTC) - timedelta(days=90)).isoformat()}},
    )
    swept = product.devstack.invoke("ReconcileFunction", {"action": "sweep", "connection_id": cid})["swept"][cid]
    assert swept["resync_needed"] is True
    assert sorted(swept["resyncs"]) == ["contacts", "invoices", "payments", "products"]
    jobs = {i["SK"]["S"].split("#")[1] for i in table_items(product) if i["SK"]["S"].startswith("JOB#")}
    assert {"contacts", "invoices", "payments", "products"} <= jobs
    product.settle()
    again = product.devstack.invoke("ReconcileFunction", {"action": "sweep", "connection_id": cid})["swept"][cid]
    assert again["resync_needed"] is False
