"""HubSpot invoices that open become QuickBooks invoices (when the invoices sync goes both ways): the same lines,
tax, discounts and currency as the workflow action bills, linked to the HubSpot invoice, so that from then on
the mirror keeps it in step with QuickBooks, the book of record for amounts, payments and voids."""

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from hubbooks.hubspot import app_properties
from hubbooks.mapping.invoices import epoch_ms, is_voided
from hubbooks.mapping.pairs import spec
from hubbooks.models.signals import Pair, Reason, Side
from hubbooks.sync.action_common import LINE_READ, CannotBillError, request_id
from hubbooks.sync.engine import Outcome, Result
from hubbooks.sync.invoice_action import CreateInvoiceAction
from hubbooks.sync.invoices import HUBSPOT_ORIGIN
from hubbooks.sync.models import Link, SyncFailure
from hubbooks.sync.ports import LinkConflictError

READ = [
    "hs_invoice_status",
    "hs_currency",
    "hs_invoice_date",
    "hs_due_date",
    "hs_number",
    "hs_comments",
    "qbo_invoice_id",
]


def _day(value: Any) -> date | None:
    """A HubSpot date or datetime property as a calendar day (UTC)."""
    moment = epoch_ms(str(value or ""))
    return datetime.fromtimestamp(int(moment) / 1000, UTC).date() if moment else None


def _fingerprint(lines: list[dict[str, Any]]) -> str:
    """What was billed of the line items: each one's product, name, quantity, price, discount and tax rate."""
    keys = ("hs_product_id", "name", "quantity", "price", "discount", "hs_discount_percentage", "hs_tax_rate_group_id")
    rows = sorted("|".join(str((line.get("properties") or {}).get(k) or "") for k in keys) for line in lines)
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()[:32]


class HubSpotInvoices:
    def __init__(self, action: CreateInvoiceAction) -> None:
        self.action = action
        self.hubspot, self.qbo, self.store = action.hubspot, action.qbo, action.store
        self.invoices = action.invoices

    def handle(self, invoice_id: str) -> Result:
        """Bring an open HubSpot invoice into QuickBooks once; drafts wait, and QuickBooks keeps it from then."""
        config = self.store.config(Pair.INVOICES)
        if not (config.syncing and config.hubspot_invoices):
            return Result(Outcome.SKIPPED, "HubSpot invoices are not synced to QuickBooks")
        link = self.store.link_of(Pair.INVOICES, Side.HUBSPOT, invoice_id)
        if link is not None and link.base.get("origin") != HUBSPOT_ORIGIN:
            return Result(Outcome.UNCHANGED, "the mirror of a QuickBooks invoice: QuickBooks keeps it")
        invoice = self.hubspot.get("invoices", invoice_id, READ)
        if link is not None:
            return self._recording(invoice_id, lambda: self._follow(invoice_id, link, invoice))
        props = (invoice or {}).get("properties") or {}
        if invoice is None or props.get("qbo_invoice_id"):  # gone, or the mirror of a QuickBooks invoice
            return Result(Outcome.SKIPPED, "not an invoice made in HubSpot")
        if props.get("hs_invoice_status") != "open":
            return Result(Outcome.SKIPPED, f"a {props.get('hs_invoice_status') or 'draft'} invoice does not sync")
        return self._recording(invoice_id, lambda: self._create(invoice_id, props))

    def _recording(self, invoice_id: str, work: Callable[[], Result]) -> Result:
        """What cannot go to QuickBooks becomes the invoice's sync error, with its fix."""
        try:
            result = work()
        except CannotBillError as problem:
            failure = SyncFailure(
                "cannot_bill", str(problem), "Fix the invoice in HubSpot, or in QuickBooks as it says."
            )
            self.store.record_failure(Pair.INVOICES, Side.HUBSPOT, invoice_id, failure)
            return Result(Outcome.FAILED, f"cannot_bill: {problem}")
        self.store.clear_failure(Pair.INVOICES, Side.HUBSPOT, invoice_id)
        return result

    def _follow(self, invoice_id: str, link: Link, invoice: dict[str, Any] | None) -> Result:
        """What HubSpot may change once its invoice is in QuickBooks: its due date and message follow, and a void
        voids the QuickBooks invoice while nothing is paid on it; amounts and payments are QuickBooks' to keep."""
        props = (invoice or {}).get("properties") or {}
        if invoice is None:
            return Result(Outcome.UNCHANGED, "deleted in HubSpot: QuickBooks keeps its invoice")
        current = self.qbo.read("Invoice", link.qbo_id)
        edit = request_id(self.action.engine.connection_id, f"{invoice_id}-{current['SyncToken']}", "hsedit")
        if props.get("hs_invoice_status") == "voided":
            if is_voided(current):
                return Result(Outcome.UNCHANGED, "voided in both")
            if float(current.get("Balance") or 0) < float(current.get("TotalAmt") or 0):
                raise CannotBillError(
                    f"QuickBooks invoice {current.get('DocNumber')} has payments, so it cannot be voided from "
                    "HubSpot. Remove the payments in QuickBooks first, or void it there."
                )
            self.qbo.write("Invoice", {"Id": link.qbo_id, "SyncToken": current["SyncToken"]}, edit, operation="void")
            self.invoices.mirror(link.qbo_id, Reason.WEBHOOK)
            return Result(Outcome.UPDATED, f"QuickBooks invoice {current.get('DocNumber')} voided")
        contact, lines = self._parts(invoice_id)
        paid = float(current.get("Balance") or 0) < float(current.get("TotalAmt") or 0)
        changes: dict[str, Any] = {}
        key = "company" if self.action.customers is Pair.COMPANIES else "contact"
        if contact != link.base.get(key):  # billed to someone else now
            if paid:
                raise CannotBillError(
                    f"QuickBooks invoice {current.get('DocNumber')} has payments from its customer, so it cannot go "
                    "to another one. Move the payments in QuickBooks first, or bill the new contact anew."
                )
            customer = self.action.linked(self.action.customers, contact, spec(self.action.customers).nouns[0])
            changes["CustomerRef"] = {"value": customer.qbo_id}
            if billed := spec(self.action.customers).email_of(customer.base):
                changes["BillEmail"] = {"Address": billed}
        due = _day(props.get("hs_due_date"))
        if due is not None and due.isoformat() != current.get("DueDate"):
            changes["DueDate"] = due.isoformat()
        message = str(props.get("hs_comments") or "")[:1000]
        if message != str((current.get("CustomerMemo") or {}).get("value") or ""):
            changes["CustomerMemo"] = {"value": message}
        if changes:
            body = {"Id": link.qbo_id, "SyncToken": current["SyncToken"], "sparse": True, **changes}
            self.qbo.write("Invoice", body, edit)
            self.invoices.mirror(link.qbo_id, Reason.WEBHOOK)
        if _fingerprint(lines) != link.base.get("lines"):
            raise CannotBillError(
                f"The invoice's line items changed in HubSpot after it became QuickBooks invoice "
                f"{current.get('DocNumber')}, which keeps its lines as first billed. Change them in QuickBooks, or "
                "void this invoice and make a new one."
            )
        if not changes:
            return Result(Outcome.UNCHANGED, "nothing QuickBooks takes from HubSpot changed")
        return Result(Outcome.UPDATED, f"{', '.join(sorted(changes))} to QuickBooks")

    def _parts(self, invoice_id: str) -> tuple[str, list[dict[str, Any]]]:
        """The invoice's customer record (its contact, or company of business customers: the lowest id) and line
        items, as HubSpot holds them now."""
        wanted = spec(self.action.customers)
        contacts = sorted(self.hubspot.associated("invoices", invoice_id, wanted.hubspot_object), key=int)
        if not contacts:
            raise CannotBillError(f"The invoice has no {wanted.nouns[0]}, so there is no one to bill in QuickBooks.")
        line_ids = self.hubspot.associated("invoices", invoice_id, "line_items")
        lines = self.hubspot.batch_read("line_items", line_ids, LINE_READ) if line_ids else []
        if not lines:
            raise CannotBillError("The invoice has no line items.")
        return contacts[0], lines

    def _create(self, invoice_id: str, props: dict[str, Any]) -> Result:
        contact, lines = self._parts(invoice_id)
        number = str(props.get("hs_number") or "")
        note = f"HubSpot invoice {number or invoice_id}"
        currency = str(props.get("hs_currency") or "")
        body = self.action.invoice_body(contact, lines, currency, note, what="invoice", number=number)
        for field, value in (
            ("TxnDate", _day(props.get("hs_invoice_date"))),
            ("DueDate", _day(props.get("hs_due_date"))),
        ):
            if value is not None:
                body[field] = value.isoformat()
        if props.get("hs_comments"):
            body["CustomerMemo"] = {"value": str(props["hs_comments"])[:1000]}
        # One QuickBooks invoice per HubSpot invoice, whichever worker or retry gets here (QuickBooks answers a
        # repeated request id with its first answer).
        made = self.qbo.write("Invoice", body, request_id(self.action.engine.connection_id, invoice_id, "hsinv"))
        qbo_id = str(made["Id"])
        app_properties.ensure(self.hubspot, "invoices", self.invoices.schema_key)
        self.hubspot.update("invoices", invoice_id, {"qbo_invoice_id": qbo_id})
        deals = sorted(self.hubspot.associated("invoices", invoice_id, "deals"), key=int)
        if deals:  # its deal's figures follow it, as a deal billed by the action
            self.invoices.billing.set_invoice_deal(qbo_id, deals[0])
        base = {
            "origin": HUBSPOT_ORIGIN,
            "company" if self.action.customers is Pair.COMPANIES else "contact": contact,
            "deal": "",
            "hs_invoice_status": "open",
            "lines": _fingerprint(lines),
        }
        try:
            self.store.save_link(Link(Pair.INVOICES, invoice_id, qbo_id, base, 0, {}), None)
        except LinkConflictError:
            return Result(Outcome.UNCHANGED, f"QuickBooks invoice {made.get('DocNumber')} was linked meanwhile")
        self.invoices.mirror(qbo_id, Reason.WEBHOOK)  # its number, total and status as QuickBooks made them
        difference = self.action.difference(made, lines, source="invoice")
        return Result(Outcome.CREATED, f"QuickBooks invoice {made.get('DocNumber')}. {difference}".strip(". "))
