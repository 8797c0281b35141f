"""The "Create a QuickBooks invoice" workflow action: a deal's line items billed to the customer linked to
its contact. A retried action (same callbackId) never bills twice: QBO's requestid replays the first create."""

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field, field_validator

from hubbooks.errors import ValidationFaultError
from hubbooks.mapping.invoices import status
from hubbooks.mapping.transforms import money
from hubbooks.models.signals import Pair, Reason, Side, SyncSignal
from hubbooks.sync import failures
from hubbooks.sync.invoices import InvoiceMirror
from hubbooks.sync.models import Link

SUCCESS, FAIL = "SUCCESS", "FAIL_CONTINUE"
LINE_READ = ["name", "description", "quantity", "price", "hs_product_id"]


class ActionInputs(BaseModel):
    """The action's input fields as HubSpot sends them (all values may arrive as strings)."""

    due_in_days: int | None = Field(default=None, ge=0, le=3650)
    send_email: bool = False
    memo: str = Field(default="", max_length=1000)

    @field_validator("due_in_days", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value in ("", None) else value


class CannotBillError(Exception):
    """Why a deal cannot be billed, in words for the person who built the workflow."""


def _number(props: dict[str, Any], name: str, blank: float) -> float:
    """A line item's quantity or price as a finite number, or a refusal that says which line and why."""
    text = props.get(name)
    try:
        value = float(text) if text not in (None, "") else blank
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        raise CannotBillError(f"Line item '{props.get('name', '')}' has {name} '{text}', which is not a number.")
    return value


@dataclass(frozen=True)
class Outputs:
    state: str
    invoice_id: str = ""
    number: str = ""
    status: str = ""
    total: str = ""
    error: str = ""

    def as_fields(self) -> dict[str, str]:
        return {
            "hs_execution_state": self.state,
            "qbo_invoice_id": self.invoice_id,
            "qbo_invoice_number": self.number,
            "qbo_invoice_status": self.status,
            "qbo_invoice_total": self.total,
            "error_message": self.error,
        }


def request_id(connection_id: str, callback_id: str, purpose: str) -> str:
    return f"act-{purpose}-" + hashlib.sha256(f"{connection_id}|{callback_id}".encode()).hexdigest()[:36]


class CreateInvoiceAction:
    """Bills deals through the same clients, store and engine as the invoice mirror it hands invoices to."""

    def __init__(self, invoices: InvoiceMirror) -> None:
        self.invoices = invoices
        self.hubspot, self.qbo, self.store = invoices.hubspot, invoices.qbo, invoices.store
        self.billing, self.engine = invoices.billing, invoices.engine

    def run(self, callback_id: str, deal_id: str, inputs: ActionInputs, today: date | None = None) -> Outputs:
        """Bill the deal; throttling and outages raise (the caller answers BLOCK and finishes later)."""
        try:
            return self._bill(callback_id, deal_id, inputs, today or datetime.now(UTC).date())
        except CannotBillError as problem:
            return Outputs(FAIL, error=str(problem))
        except ValidationFaultError as fault:
            failure = failures.from_fault(fault)
            return Outputs(FAIL, error=f"{failure.message}. {failure.fix}")

    def _bill(self, callback_id: str, deal_id: str, inputs: ActionInputs, today: date) -> Outputs:
        deal = self.hubspot.get("deals", deal_id, ["dealname"])
        if deal is None:
            raise CannotBillError(f"Deal {deal_id} no longer exists in HubSpot.")
        contact_ids = sorted(self.hubspot.associated("deals", deal_id, "contacts"), key=int)
        if not contact_ids:
            raise CannotBillError(
                "The deal has no contact, so there is no one to bill. Associate the customer's contact with the deal "
                "and run the action again."
            )
        line_ids = self.hubspot.associated("deals", deal_id, "line_items")
        lines = self.hubspot.batch_read("line_items", line_ids, LINE_READ) if line_ids else []
        if not lines:
            raise CannotBillError(
                "The deal has no line items. Add the products being sold to the deal, then run again."
            )
        customer = self._linked(Pair.CONTACTS, contact_ids[0], "contact")
        body: dict[str, Any] = {
            "CustomerRef": {"value": customer.qbo_id},
            "TxnDate": today.isoformat(),
            "Line": [self._line(line) for line in lines],
            "PrivateNote": f"HubSpot deal {deal_id}: {(deal.get('properties') or {}).get('dealname', '')}"[:4000],
        }
        if inputs.due_in_days is not None:
            body["DueDate"] = (today + timedelta(days=inputs.due_in_days)).isoformat()
        if customer.base.get("email"):
            body["BillEmail"] = {"Address": customer.base["email"]}
        if inputs.memo:
            body["CustomerMemo"] = {"value": inputs.memo}
        invoice = self.qbo.write("Invoice", body, request_id(self.engine.connection_id, callback_id, "inv"))
        invoice_id = str(invoice["Id"])
        self.billing.set_invoice_deal(invoice_id, deal_id)
        note = ""
        if inputs.send_email:
            try:
                invoice = self.qbo.send_invoice(invoice_id, request_id(self.engine.connection_id, callback_id, "mail"))
            except ValidationFaultError as fault:
                note = f"Created, but not emailed: {fault.fault_message} {fault.detail}".strip()
        self.invoices.mirror(invoice_id, Reason.ACTION)
        return Outputs(
            SUCCESS,
            invoice_id=invoice_id,
            number=str(invoice.get("DocNumber") or ""),
            status=status(invoice, today),
            total=money(invoice.get("TotalAmt", 0)),
            error=note,
        )

    def _linked(self, pair: Pair, hubspot_id: str, noun: str) -> Link:
        """The link of a HubSpot record to QuickBooks, synced through the engine first when not linked yet."""
        link = self.store.link_of(pair, Side.HUBSPOT, hubspot_id)
        if link is None:
            self.engine.handle(
                SyncSignal(
                    connection_id=self.engine.connection_id,
                    pair=pair,
                    side=Side.HUBSPOT,
                    record_id=hubspot_id,
                    reason=Reason.ACTION,
                    source_version="action",
                )
            )
            link = self.store.link_of(pair, Side.HUBSPOT, hubspot_id)
        if link is None:
            error = self.store.failure(pair, Side.HUBSPOT, hubspot_id)
            why = f" {error.message}. {error.fix}" if error else f" Turn the {pair} sync on."
            raise CannotBillError(f"The {noun} {hubspot_id} could not be brought into QuickBooks.{why}")
        return link

    def _line(self, line: dict[str, Any]) -> dict[str, Any]:
        props = line.get("properties") or {}
        product_id = props.get("hs_product_id")
        if not product_id:
            raise CannotBillError(
                f"Line item '{props.get('name') or line['id']}' is not from the product library, and QuickBooks "
                "bills products and services only. Replace it with a product, then run again."
            )
        item_id = self._linked(Pair.PRODUCTS, str(product_id), "product").qbo_id
        quantity, price = _number(props, "quantity", 1.0), _number(props, "price", 0.0)
        return {
            "DetailType": "SalesItemLineDetail",
            "Amount": round(quantity * price, 2),
            "Description": props.get("description") or props.get("name") or "",
            "SalesItemLineDetail": {"ItemRef": {"value": item_id}, "Qty": quantity, "UnitPrice": price},
        }
