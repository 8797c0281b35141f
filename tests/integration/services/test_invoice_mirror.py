"""QuickBooks invoices mirrored into HubSpot by the invoice mirror alone: lines, contact, moves and deletes."""

from typing import Any

from hubbooks.models.signals import Pair, Reason, Side
from hubbooks.store.sync_settings import SyncSettingsRepository
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
    settings = SyncSettingsRepository(wired.table, wired.cid)
    config = settings.get(Pair.INVOICES)
    settings.save(config.model_copy(update={"enabled": False}), config.version)
    wired.hubspot.admin.clear_calls()
    result = wired.invoices().handle(invoice["Id"], Reason.WEBHOOK)
    assert (result.outcome, result.detail) == (Outcome.SKIPPED, "the invoices sync is off")
    assert wired.hubspot.admin.calls() == []
