"""Invoices both ways: an invoice made open in HubSpot becomes one QuickBooks invoice, linked, whatever the
webhooks do; QuickBooks then keeps it (a payment there shows paid on the HubSpot invoice)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hubbooks.errors import UnavailableError
from hubbooks.models.signals import Pair, Reason, Side, SyncSignal
from hubbooks.models.sync_config import InvoiceDefaults
from hubbooks.sync.engine import Outcome
from hubbooks.sync.models import Link
from tests.integration.services.conftest import Wired, customer_with_contact, pay


def _both_ways(wired: Wired) -> None:
    wired.save_settings(Pair.INVOICES, hubspot_invoices=True)


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
    return wired.changed(Pair.INVOICES, Side.HUBSPOT, invoice)


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
    pay(wired, customer, made["Id"], 420)
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


def test_due_date_and_message_edits_follow_and_a_void_voids_while_nothing_is_paid(wired: Wired) -> None:
    _both_ways(wired)
    customer, contact = customer_with_contact(wired, "Rio")
    invoice = _hubspot_invoice(wired, contact)
    wired.billing().hubspot_invoice(_signal(wired, invoice))
    [made] = wired.quickbooks.admin.records("Invoice")
    wired.hubspot.admin.update("invoices", invoice, {"hs_due_date": "1801440000000", "hs_comments": "Net 30"})
    edited = wired.billing().hubspot_invoice(_signal(wired, invoice))
    assert (edited.outcome, edited.detail) == (Outcome.UPDATED, "CustomerMemo, DueDate to QuickBooks")
    [after] = wired.quickbooks.admin.records("Invoice")
    assert (after["DueDate"], after["CustomerMemo"]["value"], after["TotalAmt"]) == ("2027-02-01", "Net 30", 420.0)
    assert wired.billing().hubspot_invoice(_signal(wired, invoice)).outcome is Outcome.UNCHANGED
    pay(wired, customer, made["Id"], 20)
    wired.hubspot.admin.update("invoices", invoice, {"hs_invoice_status": "voided"})
    refused = wired.billing().hubspot_invoice(_signal(wired, invoice))
    assert refused.outcome is Outcome.FAILED
    failure = wired.store().failure(Pair.INVOICES, Side.HUBSPOT, invoice)
    assert failure is not None
    assert "has payments, so it cannot be voided from HubSpot" in failure.message
    assert wired.quickbooks.admin.records("Invoice")[0]["TotalAmt"] == 420.0  # nothing voided


def test_an_unpaid_invoice_voided_in_hubspot_is_voided_in_quickbooks(wired: Wired) -> None:
    _both_ways(wired)
    _, contact = customer_with_contact(wired, "Sam")
    invoice = _hubspot_invoice(wired, contact)
    wired.billing().hubspot_invoice(_signal(wired, invoice))
    wired.hubspot.admin.update("invoices", invoice, {"hs_invoice_status": "voided"})
    assert wired.billing().hubspot_invoice(_signal(wired, invoice)).outcome is Outcome.UPDATED
    [voided] = wired.quickbooks.admin.records("Invoice")
    assert voided["TotalAmt"] == 0
    assert _properties(wired, invoice)["qbo_invoice_status"] == "voided"


def test_a_lost_webhook_is_caught_by_the_sweep_and_makes_still_one_invoice(wired: Wired) -> None:
    _both_ways(wired)
    _, contact = customer_with_contact(wired, "Tia")
    started = datetime.now(UTC) - timedelta(minutes=1)
    invoice = _hubspot_invoice(wired, contact)  # its webhooks never came
    wired.sweeper(hubspot_invoices=True).run(first_since=started)
    signals = [s for s in wired.queued() if (s.pair, s.side) == (Pair.INVOICES, Side.HUBSPOT)]
    assert [s.record_id for s in signals] == [invoice]
    for signal in [*signals, *signals]:  # and its webhook after all, late
        wired.billing().hubspot_invoice(signal)
    assert len(wired.quickbooks.admin.records("Invoice")) == 1


def test_a_new_contact_rebills_the_customer_and_changed_lines_are_refused_in_words(wired: Wired) -> None:
    _both_ways(wired)
    _, first = customer_with_contact(wired, "Uma")
    other_customer, other = customer_with_contact(wired, "Vic")
    invoice = _hubspot_invoice(wired, first)
    wired.billing().hubspot_invoice(_signal(wired, invoice))
    wired.hubspot.admin.associate("invoices", invoice, "contacts", other)
    wired.hs.disassociate("invoices", invoice, "contacts", first)  # a person moved the invoice to Vic
    moved = wired.billing().hubspot_invoice(_signal(wired, invoice))
    assert (moved.outcome, moved.detail) == (Outcome.UPDATED, "BillEmail, CustomerRef to QuickBooks")
    [made] = wired.quickbooks.admin.records("Invoice")
    assert (made["CustomerRef"]["value"], made["BillEmail"]["Address"]) == (other_customer, "vic@example.com")
    [line] = wired.hubspot.admin.associated("invoices", invoice, "line_items")[:1]
    wired.hubspot.admin.update("line_items", line, {"quantity": "5"})
    refused = wired.billing().hubspot_invoice(_signal(wired, invoice))
    assert refused.outcome is Outcome.FAILED
    failure = wired.store().failure(Pair.INVOICES, Side.HUBSPOT, invoice)
    assert failure is not None
    assert "keeps its lines as first billed" in failure.message
    assert wired.quickbooks.admin.records("Invoice")[0]["TotalAmt"] == 420.0


def test_its_deal_shows_it_paid_and_a_company_numbering_its_invoices_takes_hubspots_number(wired: Wired) -> None:
    _both_ways(wired)
    wired.quickbooks.admin.set_company(CustomTxnNumbers=True)
    customer, contact = customer_with_contact(wired, "Wes")
    deal = wired.hubspot.admin.create("deals", {"dealname": "Wes's order", "dealstage": "closedwon"})
    invoice = _hubspot_invoice(wired, contact)
    wired.hubspot.admin.associate("invoices", invoice, "deals", deal["id"])
    number = _properties(wired, invoice)["hs_number"]  # HubSpot numbered it as it opened
    wired.billing().hubspot_invoice(_signal(wired, invoice))
    [made] = wired.quickbooks.admin.records("Invoice")
    assert made["DocNumber"] == number
    pay(wired, customer, made["Id"], 420)
    wired.invoices().handle(made["Id"], Reason.WEBHOOK)
    figures = next(r for r in wired.hubspot.admin.records("deals") if r["id"] == deal["id"])["properties"]
    assert (figures["qbo_invoice_status"], figures["qbo_invoice_number"]) == ("paid", number)


def test_a_uk_invoice_with_vat_and_a_discount_has_the_same_total_in_both(wired: Wired) -> None:
    wired.quickbooks.admin.set_company(Country="GB")
    _both_ways(wired)
    wired.save_settings(Pair.INVOICES, invoice_defaults=InvoiceDefaults(tax_code="2"))  # 20.0% S
    _, contact = customer_with_contact(wired, "Xan")
    invoice = _hubspot_invoice(wired, contact, status="draft")
    vat = wired.hubspot.admin.add_tax_rate("VAT", 20)
    for line in wired.hubspot.admin.associated("invoices", invoice, "line_items"):
        wired.hubspot.admin.update("line_items", line, {"hs_tax_rate_group_id": vat})
    wired.hubspot.admin.update("invoices", invoice, {"hs_invoice_status": "open", "hs_currency": "GBP"})
    result = wired.billing().hubspot_invoice(_signal(wired, invoice))
    [made] = wired.quickbooks.admin.records("Invoice")
    assert (made["TotalAmt"], made["TxnTaxDetail"]["TotalTax"]) == (504.0, 84.0)  # (240 + 180) and 20% VAT
    assert result.detail == f"QuickBooks invoice {made['DocNumber']}"  # no difference from HubSpot's 504
