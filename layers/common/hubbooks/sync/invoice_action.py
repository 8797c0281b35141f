"""The "Create a QuickBooks invoice" workflow action: a deal's line items billed to the customer linked to
its contact. A retried action (same callbackId) never bills twice: QBO's requestid replays the first create."""

import math
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import Field

from hubbooks.errors import ValidationFaultError
from hubbooks.mapping.invoices import tax_included
from hubbooks.mapping.pairs import spec
from hubbooks.mapping.transforms import money
from hubbooks.models.signals import Pair, Reason, Side, SyncSignal
from hubbooks.models.sync_config import InvoiceDefaults, QboId
from hubbooks.sync.action_common import (
    SUCCESS,
    CannotBillError,
    Inputs,
    Outputs,
    Sale,
    after_made,
    invoice_outputs,
    read_sale,
    request_id,
)
from hubbooks.sync.invoices import InvoiceMirror
from hubbooks.sync.models import Link

CENT = Decimal("0.01")


class LineChoices(Inputs):
    """The dropdowns of an action that bills HubSpot line items, filled from QuickBooks; blank: the invoice
    settings' default tax code and item for custom lines."""

    tax_code: QboId | None = None
    custom_item: QboId | None = None


class InvoiceChoices(LineChoices):
    """And the terms of a form paid later (blank: the customer's)."""

    terms: QboId | None = None


class ActionInputs(InvoiceChoices):
    """The action's input fields as HubSpot sends them (all values may arrive as strings)."""

    due_in_days: int | None = Field(default=None, ge=0, le=3650)
    send_email: bool = False
    memo: str = Field(default="", max_length=1000)


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


class CreateInvoiceAction:
    """Bills deals through the same clients, store and engine as the invoice mirror it hands invoices to."""

    def __init__(self, invoices: InvoiceMirror) -> None:
        self.invoices = invoices
        self.hubspot, self.qbo, self.store = invoices.hubspot, invoices.qbo, invoices.store
        self.billing, self.engine = invoices.billing, invoices.engine
        self.customers = invoices.customers  # a customer is billed through its contact, or its company

    inputs = ActionInputs

    def sale(self, object_type: str, object_id: str, *, lines_needed: bool = True) -> Sale:
        """The HubSpot record an action bills, with its customer's record as the connection's customers are."""
        return read_sale(self.hubspot, object_type, object_id, lines_needed=lines_needed, customers=self.customers)

    def run(self, callback_id: str, object_type: str, deal_id: str, inputs: ActionInputs, today: date) -> Outputs:
        """Bill the deal; refusals raise CannotBillError, throttling and outages raise for a BLOCK."""
        sale = self.sale(object_type, deal_id)
        body = self.form_body(sale, inputs, inputs.memo, today)
        if inputs.due_in_days is not None:
            body["DueDate"] = (today + timedelta(days=inputs.due_in_days)).isoformat()
        invoice = self.qbo.write("Invoice", body, request_id(self.engine.connection_id, callback_id, "inv"))
        invoice_id = str(invoice["Id"])
        self.billing.set_invoice_deal(invoice_id, deal_id)
        note = ""
        if inputs.send_email:
            try:
                invoice = self.qbo.send_invoice(invoice_id, request_id(self.engine.connection_id, callback_id, "mail"))
            except ValidationFaultError as fault:
                note = f"Created, but not emailed: {fault.fault_message} {fault.detail}".strip()
        shown = after_made("showing it on the deal", lambda: self.invoices.mirror(invoice_id, Reason.ACTION))
        warning = " ".join(n for n in (self.difference(invoice, sale.lines), note, shown) if n)
        return Outputs(SUCCESS, invoice_outputs(invoice, today), warning)

    def form_body(self, sale: Sale, choices: LineChoices, memo: str, today: date) -> dict[str, Any]:
        """A QuickBooks sales form (invoice, estimate, sales receipt) of the record's line items to its customer,
        dated today, with the record named in its private note and the person's message."""
        note = f"HubSpot {sale.noun} {sale.object_id}: {sale.name}"
        body = self.invoice_body(
            sale.customer_id, sale.lines, sale.currency, note, what=sale.noun, choices=choices, email=sale.email
        )
        body["TxnDate"] = today.isoformat()
        if memo:
            body["CustomerMemo"] = {"value": memo}
        return body

    def invoice_body(
        self,
        customer_id: str,
        lines: list[dict[str, Any]],
        currency: str,
        note: str,
        *,
        what: str = "deal",
        number: str = "",
        choices: LineChoices | None = None,
        email: str = "",
    ) -> dict[str, Any]:
        """A QuickBooks invoice of HubSpot line items (read with LINE_READ) to the customer of a contact (or
        company, of business customers; synced first when not linked), in `currency` (blank: the customer's;
        `what` is billed, for a refusal's words), with a private note, `number` as its number where the company
        numbers invoices itself, the terms, tax code and custom-line item an action's inputs chose over the
        settings' defaults, and emailed to `email`, else the contact's."""
        customer = self.linked(self.customers, customer_id, spec(self.customers).nouns[0])
        body: dict[str, Any] = {
            "CustomerRef": {"value": customer.qbo_id},
            "CurrencyRef": {"value": self._currency(currency, customer, what)},
            "Line": self._lines(lines, choices or LineChoices()),
            "PrivateNote": note[:4000],
        }
        preferences = self.qbo.preferences()
        if not (preferences.get("TaxPrefs") or {}).get("PartnerTaxEnabled"):
            # Outside US automated sales tax: HubSpot's prices are before tax, whatever the company's default.
            body["GlobalTaxCalculation"] = "TaxExcluded"
        if number and (preferences.get("SalesFormsPrefs") or {}).get("CustomTxnNumbers"):
            body["DocNumber"] = number[:21]  # QuickBooks' longest
        if billed := email or spec(self.customers).email_of(customer.base):
            body["BillEmail"] = {"Address": billed}
        if isinstance(choices, InvoiceChoices) and choices.terms:
            body["SalesTermRef"] = {"value": choices.terms}
        return body

    def difference(
        self, form: dict[str, Any], lines: list[dict[str, Any]], *, kind: str = "invoice", source: str = "deal"
    ) -> str:
        """A word when the form's total is not what HubSpot makes of the record's line items (empty when it is)."""
        return _difference(form, lines, self._tax_rates(lines), form_name=kind, source=source)

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

    def _lines(self, lines: list[dict[str, Any]], choices: LineChoices) -> list[dict[str, Any]]:
        """The deal's line items as QuickBooks sales lines: each product's item (custom lines on the default item
        for them), the discount netted into the unit price, a tax code where the item has none."""
        settings = self.store.config(Pair.INVOICES).invoice_defaults
        defaults = InvoiceDefaults(
            tax_code=choices.tax_code or settings.tax_code, custom_item=choices.custom_item or settings.custom_item
        )
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


def _difference(
    invoice: dict[str, Any],
    lines: list[dict[str, Any]],
    rates: dict[str, float] | None,
    *,
    form_name: str,
    source: str,
) -> str:
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
        f"Made, but the {form_name} comes to {money(ours)} {stage} in QuickBooks and the {source}'s line items to "
        f"{money(hubspot)} in HubSpot: check the {form_name}'s tax codes and discounts."
    )
