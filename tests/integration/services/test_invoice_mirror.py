"""QuickBooks invoices mirrored into HubSpot by the invoice mirror alone: lines, contact, moves and deletes."""

from decimal import Decimal
from typing import Any

from hubbooks.mapping.fields import Direction
from hubbooks.models.signals import Pair, Reason, Side
from hubbooks.models.sync_config import DealMapping, MappingSpec
from hubbooks.sync.engine import Outcome
from tests.integration.services.conftest import Wired, customer_with_contact, item, sales_line


def _hubspot_invoice(wired: Wired, qbo_id: str, archived: str | None = None) -> dict[str, Any]:
    found = [
        r for r in wired.hubspot.admin.records("invoices", archived) if r["properties"].get("qbo_invoice_id") == qbo_id
    ]
    assert len(found) == 1, found
    return found[0]


def test_an_invoice_becomes_a_hubspot_invoice_with_its_lines_on_its_customers_contact(wired: Wired) -> None:
    customer, contact = customer_with_contact(wired, "Ida")
    hours, setup = item(wired, "Hours"), item(wired, "Setup")
    body = {"CustomerRef": {"value": customer}, "Line": [sales_line(hours, 2), sales_line(setup, 1)]}
    invoice = wired.quickbooks.admin.create("Invoice", body)["Id"]
    assert wired.invoices().handle(invoice, Reason.WEBHOOK).outcome is Outcome.CREATED
    mirrored = _hubspot_invoice(wired, invoice)
    assert wired.hubspot.admin.associated("invoices", mirrored["id"], "contacts") == [contact]
    assert len(wired.hubspot.admin.associated("invoices", mirrored["id"], "line_items")) == 2
    assert wired.invoices().handle(invoice, Reason.WEBHOOK).outcome is Outcome.UPDATED  # the same one again


def test_a_line_removed_in_quickbooks_leaves_hubspot_with_the_lines_that_remain(wired: Wired) -> None:
    customer, _ = customer_with_contact(wired, "Lia")
    hours, setup = item(wired, "Hours"), item(wired, "Setup")
    body = {"CustomerRef": {"value": customer}, "Line": [sales_line(hours, 2), sales_line(setup, 1)]}
    invoice = wired.quickbooks.admin.create("Invoice", body)
    wired.invoices().handle(invoice["Id"], Reason.WEBHOOK)
    wired.quickbooks.admin.update("Invoice", invoice["Id"], {"Line": [sales_line(hours, 3)]})
    wired.invoices().handle(invoice["Id"], Reason.WEBHOOK)
    mirrored = _hubspot_invoice(wired, invoice["Id"])
    lines = wired.hubspot.admin.associated("invoices", mirrored["id"], "line_items")
    live = {r["id"]: r["properties"] for r in wired.hubspot.admin.records("line_items")}
    assert [live[i]["quantity"] for i in lines if i in live] == ["3"]


def test_an_invoice_moved_to_another_customer_moves_to_that_contact(wired: Wired) -> None:
    first, first_contact = customer_with_contact(wired, "Mo")
    second, second_contact = customer_with_contact(wired, "Noa")
    invoice = wired.quickbooks.admin.create(
        "Invoice", {"CustomerRef": {"value": first}, "Line": [sales_line(item(wired, "Hours"), 1)]}
    )
    wired.invoices().handle(invoice["Id"], Reason.WEBHOOK)
    wired.quickbooks.admin.update("Invoice", invoice["Id"], {"CustomerRef": {"value": second}})
    wired.invoices().handle(invoice["Id"], Reason.WEBHOOK)
    mirrored = _hubspot_invoice(wired, invoice["Id"])
    assert wired.hubspot.admin.associated("invoices", mirrored["id"], "contacts") == [second_contact]
    assert first_contact not in wired.hubspot.admin.associated("invoices", mirrored["id"], "contacts")


def test_a_deleted_invoice_is_archived_in_hubspot_and_unlinked(wired: Wired) -> None:
    customer, _ = customer_with_contact(wired, "Oli")
    invoice = wired.quickbooks.admin.create(
        "Invoice", {"CustomerRef": {"value": customer}, "Line": [sales_line(item(wired, "Hours"), 1)]}
    )
    wired.invoices().handle(invoice["Id"], Reason.WEBHOOK)
    wired.quickbooks.admin.delete("Invoice", invoice["Id"])
    assert wired.invoices().handle(invoice["Id"], Reason.WEBHOOK).outcome is Outcome.UNLINKED
    assert _hubspot_invoice(wired, invoice["Id"], archived="only")["archived"] is True
    assert wired.linked(Pair.INVOICES, Side.QUICKBOOKS, invoice["Id"]) is None


def test_with_the_invoices_sync_off_nothing_is_read_or_written(wired: Wired) -> None:
    customer, _ = customer_with_contact(wired, "Pia")
    invoice = wired.quickbooks.admin.create(
        "Invoice", {"CustomerRef": {"value": customer}, "Line": [sales_line(item(wired, "Hours"), 1)]}
    )
    wired.save_settings(Pair.INVOICES, enabled=False)
    wired.hubspot.admin.clear_calls()
    result = wired.invoices().handle(invoice["Id"], Reason.WEBHOOK)
    assert (result.outcome, result.detail) == (Outcome.SKIPPED, "the invoices sync is off")
    assert wired.hubspot.admin.calls() == []


def _line_total(wired: Wired, hubspot_invoice: str) -> Decimal:
    lines = set(wired.hubspot.admin.associated("invoices", hubspot_invoice, "line_items"))
    return sum(
        (Decimal(r["properties"]["amount"]) for r in wired.hubspot.admin.records("line_items") if r["id"] in lines),
        Decimal(0),
    )


def test_a_uk_invoice_with_vat_a_discount_and_a_foreign_currency_adds_up_in_hubspot(wired: Wired) -> None:
    wired.quickbooks.admin.set_company(Country="GB", Currencies=["EUR"])
    customer, _ = customer_with_contact(wired, "Eurostar", currency="EUR")
    vat, zero = sales_line(item(wired, "Consulting"), 3), sales_line(item(wired, "Books"), 1)
    vat["SalesItemLineDetail"]["TaxCodeRef"] = {"value": "2"}  # 20.0% S
    zero["SalesItemLineDetail"]["TaxCodeRef"] = {"value": "4"}  # 0.0% Z
    discount = {
        "DetailType": "DiscountLineDetail",
        "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 12.5},
    }
    body = {"CustomerRef": {"value": customer}, "Line": [vat, zero, discount]}
    invoice = wired.quickbooks.admin.create("Invoice", body)
    wired.invoices().handle(invoice["Id"], Reason.WEBHOOK)
    mirrored = _hubspot_invoice(wired, invoice["Id"])["properties"]
    assert invoice["TotalAmt"] == 201.25  # 150 + 50, 12.5% off (25), VAT 20% of 131.25 (26.25), 0% of 43.75
    assert _line_total(wired, _hubspot_invoice(wired, invoice["Id"])["id"]) == Decimal("201.25")
    figures = (mirrored["hs_currency"], mirrored["qbo_invoice_total"], mirrored["qbo_invoice_tax"])
    assert figures == ("EUR", "201.25", "26.25")
    assert mirrored["qbo_invoice_home_total"] == "171.14"  # at 0.850394 pounds a euro
    names = {r["properties"]["name"] for r in wired.hubspot.admin.records("line_items")}
    assert {"Discount 12.5%", "20.0% S", "0.0% Z"} <= names


def test_custom_invoice_and_deal_mappings_fill_the_persons_own_properties(wired: Wired) -> None:
    for object_type, name, group in (
        ("invoices", "invoice_message", "invoiceinformation"),
        ("deals", "last_invoice_message", "dealinformation"),
    ):
        label = name.replace("_", " ").capitalize()
        definition = {"name": name, "label": label, "type": "string", "fieldType": "text", "groupName": group}
        wired.hs.create_property(object_type, definition)
    message = MappingSpec(hubspot="invoice_message", qbo="CustomerMemo.value", direction=Direction.TO_HUBSPOT)
    to_deal = DealMapping(deal="last_invoice_message", invoice="invoice_message")
    wired.save_settings(Pair.INVOICES, mappings=[message], deal_mappings=[to_deal])
    customer, contact = customer_with_contact(wired, "Pia")
    deal = wired.hubspot.admin.create("deals", {"dealname": "Pia's order", "dealstage": "closedwon"})
    wired.hubspot.admin.associate("deals", deal["id"], "contacts", contact)  # her only deal: the invoice's
    body = {
        "CustomerRef": {"value": customer},
        "Line": [sales_line(item(wired, "Hours"), 1)],
        "CustomerMemo": {"value": "Thank you for your business"},
    }
    invoice = wired.quickbooks.admin.create("Invoice", body)
    wired.invoices().handle(invoice["Id"], Reason.WEBHOOK)
    assert _hubspot_invoice(wired, invoice["Id"])["properties"]["invoice_message"] == "Thank you for your business"
    filled = next(r for r in wired.hubspot.admin.records("deals") if r["id"] == deal["id"])["properties"]
    assert (filled["last_invoice_message"], filled["qbo_invoice_number"]) == (
        "Thank you for your business",
        invoice["DocNumber"],
    )
