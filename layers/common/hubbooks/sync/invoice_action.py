"""The "Create a QuickBooks invoice" workflow action: a deal's line items billed to the customer linked to
its contact. A retried action (same callbackId) never bills twice: QBO's requestid replays the first create."""

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel, Field, field_validator

from hubbooks.errors import ValidationFaultError
from hubbooks.mapping.invoices import status, tax_included
from hubbooks.mapping.transforms import money
from hubbooks.models.signals import Pair, Reason, Side, SyncSignal
from hubbooks.sync import failures
from hubbooks.sync.invoices import InvoiceMirror
from hubbooks.sync.models import Link

SUCCESS, FAIL = "SUCCESS", "FAIL_CONTINUE"
CENT = Decimal("0.01")
LINE_READ = [
    "name",
    "description",
    "quantity",
    "price",
    "hs_product_id",
    "discount",
    "hs_discount_percentage",
    "amount",
    "hs_tax_rate_group_id",
]


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
        deal = self.hubspot.get("deals", deal_id, ["dealname", "deal_currency_code"])
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
        props = deal.get("properties") or {}
        note = f"HubSpot deal {deal_id}: {props.get('dealname', '')}"
        body = self.invoice_body(contact_ids[0], lines, str(props.get("deal_currency_code") or ""), note)
        body["TxnDate"] = today.isoformat()
        if inputs.due_in_days is not None:
            body["DueDate"] = (today + timedelta(days=inputs.due_in_days)).isoformat()
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
            error=" ".join(n for n in (self.difference(invoice, lines), note) if n),
        )

    def invoice_body(
        self,
        contact_id: str,
        lines: list[dict[str, Any]],
        currency: str,
        note: str,
        *,
        what: str = "deal",
        number: str = "",
    ) -> dict[str, Any]:
        """A QuickBooks invoice of HubSpot line items (read with LINE_READ) to the contact's customer (synced
        first when not linked), in `currency` (blank: the customer's; `what` is billed, for a refusal's words),
        with a private note, and `number` as its number where the company numbers invoices itself."""
        customer = self.linked(Pair.CONTACTS, contact_id, "contact")
        body: dict[str, Any] = {
            "CustomerRef": {"value": customer.qbo_id},
            "CurrencyRef": {"value": self._currency(currency, customer, what)},
            "Line": self._lines(lines),
            "PrivateNote": note[:4000],
        }
        preferences = self.qbo.preferences()
        if not (preferences.get("TaxPrefs") or {}).get("PartnerTaxEnabled"):
            # Outside US automated sales tax: HubSpot's prices are before tax, whatever the company's default.
            body["GlobalTaxCalculation"] = "TaxExcluded"
        if number and (preferences.get("SalesFormsPrefs") or {}).get("CustomTxnNumbers"):
            body["DocNumber"] = number[:21]  # QuickBooks' longest
        if customer.base.get("email"):
            body["BillEmail"] = {"Address": customer.base["email"]}
        return body

    def difference(self, invoice: dict[str, Any], lines: list[dict[str, Any]]) -> str:
        """A word when the invoice's total is not what HubSpot makes of the line items (empty when it is)."""
        return _difference(invoice, lines, self._tax_rates(lines))

    def _tax_rates(self, lines: list[dict[str, Any]]) -> dict[str, float] | None:
        """HubSpot's tax rates, when a line has one and the install may read them (None: compare before tax)."""
        if not any((line.get("properties") or {}).get("hs_tax_rate_group_id") for line in lines):
            return None
        try:
            return self.hubspot.tax_rates()
        except ValidationFaultError:  # installed before hubbooks asked for tax_rates.read
            return None

    def _currency(self, wanted: str, customer: Link, what: str) -> str:
        """The customer's currency, which QuickBooks bills it in; another asked for is refused, never converted."""
        record = self.qbo.read("Customer", customer.qbo_id)
        kept = str((record.get("CurrencyRef") or {}).get("value") or "")
        if wanted and wanted != kept:
            raise CannotBillError(
                f"The {what} is in {wanted}, but QuickBooks bills {record.get('DisplayName', 'the customer')} in "
                f"{kept} and a customer's currency cannot change. Set the {what}'s currency to "
                f"{kept}, or bill it to a customer kept in {wanted}."
            )
        return kept

    def linked(self, pair: Pair, hubspot_id: str, noun: str) -> Link:
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

    def _lines(self, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The deal's line items as QuickBooks sales lines: each product's item (custom lines on the default item
        for them), the discount netted into the unit price, a tax code where the item has none."""
        defaults = self.store.config(Pair.INVOICES).invoice_defaults
        products = [str(p) for line in lines if (p := (line.get("properties") or {}).get("hs_product_id"))]
        known = self.store.links_of(Pair.PRODUCTS, Side.HUBSPOT, products)  # one batch read; the rest synced
        items = [self._item_of(line, defaults.custom_item, known) for line in lines]
        codes = {}
        if defaults.tax_code:
            quoted = ", ".join(f"'{i}'" for i in dict.fromkeys(items))
            found = self.qbo.query(f"select * from Item where Id in ({quoted})")  # noqa: S608 - ids are digits
            codes = {str(i["Id"]): defaults.tax_code for i in found if not i.get("SalesTaxCodeRef")}
        return [self._line(line, item, codes.get(item)) for line, item in zip(lines, items, strict=True)]

    def _item_of(self, line: dict[str, Any], custom_item: str | None, known: dict[str, Link | None]) -> str:
        props = line.get("properties") or {}
        product_id = props.get("hs_product_id")
        if product_id:
            link = known.get(str(product_id)) or self.linked(Pair.PRODUCTS, str(product_id), "product")
            return link.qbo_id
        if custom_item:
            return custom_item
        raise CannotBillError(
            f"Line item '{props.get('name') or line['id']}' is not from the product library. Choose the QuickBooks "
            "item that bills such lines in hubbooks' invoice settings, or replace it with a product, then run again."
        )

    @staticmethod
    def _line(line: dict[str, Any], item_id: str, tax_code: str | None) -> dict[str, Any]:
        props = line.get("properties") or {}
        quantity, price = _number(props, "quantity", 1.0), _number(props, "price", 0.0)
        off, percent = _number(props, "discount", 0.0), _number(props, "hs_discount_percentage", 0.0)
        name = props.get("name") or line["id"]
        if not 0 <= percent <= 100 or off < 0 or off > abs(price):
            raise CannotBillError(f"Line item '{name}' has a discount of more than its price (or below nothing).")
        exact = (
            Decimal(str(price)) - Decimal(str(off))
            if off
            else Decimal(str(price)) * (100 - Decimal(str(percent))) / 100
        )
        amount = (Decimal(str(quantity)) * exact).quantize(CENT, rounding=ROUND_HALF_UP)
        net = float(exact.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP))  # QuickBooks keeps six decimals
        description = str(props.get("description") or props.get("name") or "")
        if off or percent:
            given = f"{money(percent)}% off" if not off else f"{money(off)} off each"
            description = f"{description} ({given} {money(price)})".strip()
        detail: dict[str, Any] = {"ItemRef": {"value": item_id}, "Qty": quantity, "UnitPrice": net}
        if tax_code:
            detail["TaxCodeRef"] = {"value": tax_code}
        return {
            "DetailType": "SalesItemLineDetail",
            "Amount": float(amount),
            "Description": description[:4000],
            "SalesItemLineDetail": detail,
        }


def _difference(invoice: dict[str, Any], lines: list[dict[str, Any]], rates: dict[str, float] | None) -> str:
    """A word when the invoice's total does not come to the deal's line items as HubSpot computes them: after
    tax when HubSpot's tax rates are known, else before tax."""
    tax = Decimal(str((invoice.get("TxnTaxDetail") or {}).get("TotalTax") or 0))
    included = tax_included(invoice)
    total = Decimal(str(invoice.get("TotalAmt") or 0))
    hubspot = Decimal(0)
    for line in lines:
        props = line.get("properties") or {}
        amount = Decimal(str(props.get("amount") or 0))
        percent = Decimal(str((rates or {}).get(str(props.get("hs_tax_rate_group_id") or ""), 0)))
        hubspot += (
            (amount * (1 + percent / 100)).quantize(CENT, rounding=ROUND_HALF_UP) if rates is not None else amount
        )
    ours, stage = (total, "after tax") if rates is not None else (total - (0 if included else tax), "before tax")
    if ours == hubspot:
        return ""
    return (
        f"Billed, but the invoice comes to {money(ours)} {stage} in QuickBooks and the deal's line items to "
        f"{money(hubspot)} in HubSpot: check the invoice's tax codes and discounts."
    )
