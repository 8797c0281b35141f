"""Invoices both ways: an invoice made open in HubSpot becomes one QuickBooks invoice, linked, whatever the
webhooks do; QuickBooks then keeps it (a payment there shows paid on the HubSpot invoice)."""

from typing import Any

import pytest

from hubbooks.errors import UnavailableError
from hubbooks.models.signals import Pair, Reason, Side, SyncSignal
from hubbooks.store.sync_settings import SyncSettingsRepository
from hubbooks.sync.engine import Outcome
from hubbooks.sync.models import Link
from tests.integration.services.conftest import Wired, customer_with_contact


def _both_ways(wired: Wired, on: bool = True) -> None:
    repository = SyncSettingsRepository(wired.table, wired.cid)
    config = repository.get(Pair.INVOICES)
    repository.save(config.model_copy(update={"hubspot_invoices": on}), config.version)


def _hubspot_invoice(wired: Wired, contact: str, status: str = "open") -> str:
    """An invoice a person makes in HubSpot: two line items of linked products, 10% off one; then `status`."""
    hubspot = wired.hubspot.admin
    tag = len(hubspot.records("invoices"))  # items' names are unique in QuickBooks
    invoice = hubspot.create("invoices", {"hs_currency": "USD", "hs_due_date": "1798761600000"})  # 2027-01-01
    hubspot.associate("invoices", invoice["id"], "contacts", contact)
    for name, quantity, price, extra in (
        ("Hours", "3", "80", {}),
        ("Setup", "1", "200", {"hs_discount_percentage": "10"}),
    ):
        item = wired.quickbooks.admin.create(
            "Item",
            {"Name": f"{name} {tag}", "Type": "Service", "UnitPrice": float(price), "IncomeAccountRef": {"value": "1"}},
        )
        product = hubspot.create("products", {"name": name, "price": price})
        wired.store().save_link(Link(Pair.PRODUCTS, product["id"], item["Id"], {"name": name}), None)
        line = hubspot.create(
            "line_items", {"name": name, "quantity": quantity, "price": price, "hs_product_id": product["id"], **extra}
        )
        hubspot.associate("line_items", line["id"], "invoices", invoice["id"])
    if status != "draft":
        hubspot.update("invoices", invoice["id"], {"hs_invoice_status": status})
    return str(invoice["id"])


def _signal(wired: Wired, invoice: str) -> SyncSignal:
    return SyncSignal(
        connection_id=wired.cid,
        pair=Pair.INVOICES,
        side=Side.HUBSPOT,
        record_id=invoice,
        reason=Reason.WEBHOOK,
        source_version="1",
    )


def _properties(wired: Wired, invoice: str) -> dict[str, Any]:
    return next(r for r in wired.hubspot.admin.records("invoices") if r["id"] == invoice)["properties"]


def test_an_open_hubspot_invoice_becomes_one_quickbooks_invoice_and_shows_its_payment(wired: Wired) -> None:
    _both_ways(wired)
    customer, contact = customer_with_contact(wired, "Ona")
    invoice = _hubspot_invoice(wired, contact)
    result = wired.billing().hubspot_invoice(_signal(wired, invoice))
    assert result.outcome is Outcome.CREATED, result
    [made] = wired.quickbooks.admin.records("Invoice")
    assert (made["CustomerRef"]["value"], made["TotalAmt"], made["DueDate"]) == (customer, 420.0, "2027-01-01")
    props = _properties(wired, invoice)
    assert (props["qbo_invoice_id"], props["qbo_invoice_number"]) == (made["Id"], made["DocNumber"])
    # The mirror of QuickBooks' own webhook meets the same HubSpot invoice and leaves its lines as HubSpot made them.
    wired.invoices().handle(made["Id"], Reason.WEBHOOK)
    assert [r["id"] for r in wired.hubspot.admin.records("invoices")] == [invoice]
    assert len(wired.hubspot.admin.associated("invoices", invoice, "line_items")) == 2
    # Webhooks again, late or twice: still one QuickBooks invoice.
    assert wired.billing().hubspot_invoice(_signal(wired, invoice)).outcome is Outcome.UNCHANGED
    wired.quickbooks.admin.create(
        "Payment",
        {
            "CustomerRef": {"value": customer},
            "TotalAmt": 420,
            "Line": [{"Amount": 420, "LinkedTxn": [{"TxnId": made["Id"], "TxnType": "Invoice"}]}],
        },
    )
    wired.invoices().handle(made["Id"], Reason.WEBHOOK)
    assert _properties(wired, invoice)["qbo_invoice_status"] == "paid"
    assert len(wired.quickbooks.admin.records("Invoice")) == 1


def test_a_crash_between_the_quickbooks_create_and_the_link_makes_one_invoice_after_the_retry(wired: Wired) -> None:
    _both_ways(wired)
    _, contact = customer_with_contact(wired, "Pat")
    invoice = _hubspot_invoice(wired, contact)
    wired.hubspot.admin.add_fault("503", count=3, method="PATCH", path=f"/crm/v3/objects/invoices/{invoice}$")
    with pytest.raises(UnavailableError):  # the worker's message comes back later
        wired.billing().hubspot_invoice(_signal(wired, invoice))
    assert len(wired.quickbooks.admin.records("Invoice")) == 1
    assert wired.billing().hubspot_invoice(_signal(wired, invoice)).outcome is Outcome.CREATED
    assert len(wired.quickbooks.admin.records("Invoice")) == 1


def test_drafts_and_invoices_while_the_setting_is_off_stay_in_hubspot(wired: Wired) -> None:
    _, contact = customer_with_contact(wired, "Quin")
    draft = _hubspot_invoice(wired, contact, status="draft")
    opened = _hubspot_invoice(wired, contact)
    assert wired.billing().hubspot_invoice(_signal(wired, opened)).outcome is Outcome.SKIPPED  # the setting is off
    _both_ways(wired)
    skipped = wired.billing().hubspot_invoice(_signal(wired, draft))
    assert (skipped.outcome, skipped.detail) == (Outcome.SKIPPED, "a draft invoice does not sync")
    assert wired.quickbooks.admin.records("Invoice") == []
