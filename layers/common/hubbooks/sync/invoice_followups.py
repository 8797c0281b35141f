"""Workflow actions on a deal's QuickBooks invoice once it exists: "Send a QuickBooks invoice" (QuickBooks
emails it) and "Void a QuickBooks invoice" (refused in words while it has payments)."""

from datetime import date
from functools import partial
from typing import Any

from pydantic import Field

from hubbooks.mapping.invoices import is_voided
from hubbooks.mapping.transforms import money
from hubbooks.models.signals import Reason
from hubbooks.models.sync_config import QboId
from hubbooks.sync.action_common import (
    SUCCESS,
    CannotBillError,
    Inputs,
    Outputs,
    after_made,
    check_belongs,
    invoice_outputs,
    request_id,
)
from hubbooks.sync.invoice_action import CreateInvoiceAction


class InvoiceInputs(Inputs):
    """Which invoice: given (a previous action's output), else the deal's invoice made last in QuickBooks."""

    invoice_id: QboId | None = None


class SendInputs(InvoiceInputs):
    send_to: str = Field(default="", max_length=100, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")


def deal_invoice(action: CreateInvoiceAction, deal_id: str, given: str | None) -> dict[str, Any]:
    """The invoice an action works on: the one given, else the newest of the deal's invoices in QuickBooks."""
    invoice_id = given
    if invoice_id is None:
        mirrored = action.hubspot.associated("deals", deal_id, "invoices")
        read = action.hubspot.batch_read("invoices", mirrored, ["qbo_invoice_id"]) if mirrored else []
        ids = [str(p["qbo_invoice_id"]) for r in read if (p := r.get("properties") or {}).get("qbo_invoice_id")]
        if not ids:
            raise CannotBillError(
                'The deal has no QuickBooks invoice yet. Bill it first ("Create a QuickBooks invoice"), or give '
                "the invoice's ID."
            )
        invoice_id = max(ids, key=int)
    invoice = action.qbo.read_or_none("Invoice", invoice_id)
    if invoice is None:
        raise CannotBillError(f"QuickBooks has no invoice {invoice_id} (deleted?).")
    if given is not None:
        made_for = action.billing.invoice_deal(given)
        check_belongs(
            action.hubspot,
            action.store,
            deal_id,
            invoice,
            made_for=made_for,
            noun="invoice",
            customers=action.customers,
        )
    return invoice


def _number(invoice: dict[str, Any]) -> str:
    return str(invoice.get("DocNumber") or invoice["Id"])


class SendInvoiceAction:
    """QuickBooks emails the invoice to its billing address, or to the address given."""

    inputs = SendInputs

    def __init__(self, action: CreateInvoiceAction) -> None:
        self.action = action

    def run(self, callback_id: str, object_type: str, deal_id: str, inputs: SendInputs, today: date) -> Outputs:
        invoice = deal_invoice(self.action, deal_id, inputs.invoice_id)
        if is_voided(invoice):
            raise CannotBillError(f"Invoice {_number(invoice)} is voided; QuickBooks sends only invoices that stand.")
        address = inputs.send_to or str((invoice.get("BillEmail") or {}).get("Address") or "")
        if not address:
            raise CannotBillError(
                f"Invoice {_number(invoice)} has no billing email. Give an address to send it to, or add an email "
                "to the customer in QuickBooks."
            )
        connection = self.action.engine.connection_id
        sent = self.action.qbo.send_invoice(
            str(invoice["Id"]), request_id(connection, callback_id, "send"), send_to=inputs.send_to or None
        )
        shown = after_made(
            "showing it on the deal", partial(self.action.invoices.mirror, str(sent["Id"]), Reason.ACTION)
        )
        return Outputs(SUCCESS, {**invoice_outputs(sent, today), "sent_to": address}, shown)


class VoidInvoiceAction:
    """The invoice voided in QuickBooks while nothing is paid on it; a voided one stays voided."""

    inputs = InvoiceInputs

    def __init__(self, action: CreateInvoiceAction) -> None:
        self.action = action

    def run(self, callback_id: str, object_type: str, deal_id: str, inputs: InvoiceInputs, today: date) -> Outputs:
        invoice = deal_invoice(self.action, deal_id, inputs.invoice_id)
        if not is_voided(invoice):
            paid = float(invoice.get("TotalAmt") or 0) - float(invoice.get("Balance") or 0)
            if any(t.get("TxnType") == "Payment" for t in invoice.get("LinkedTxn") or []) or paid > 0:
                raise CannotBillError(
                    f"Invoice {_number(invoice)} has payments of {money(paid)} applied, and QuickBooks voids only "
                    "invoices without payments. Remove or move the payments in QuickBooks first (or issue a credit "
                    "memo instead)."
                )
            body = {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}
            connection = self.action.engine.connection_id
            invoice = self.action.qbo.write("Invoice", body, request_id(connection, callback_id, "void"), "void")
        shown = after_made(
            "showing it on the deal", partial(self.action.invoices.mirror, str(invoice["Id"]), Reason.ACTION)
        )
        return Outputs(SUCCESS, invoice_outputs(invoice, today), shown)
