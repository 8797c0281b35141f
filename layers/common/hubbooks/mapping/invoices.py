"""QuickBooks invoices and payments as HubSpot sees them: invoice and line item properties, the status, the
deal's invoice properties, and a payment's timeline tokens. Pure functions over QBO bodies."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hubbooks.mapping.transforms import money

DEAL_FIELDS = {  # deal property <- invoice property
    "qbo_invoice_amount_billed": "qbo_invoice_total",
    "qbo_invoice_currency": "hs_currency",
    "qbo_invoice_recipient": "qbo_customer_name",
    "qbo_invoice_number": "qbo_invoice_number",
    "qbo_invoice_status": "qbo_invoice_status",
    "qbo_invoice_due_date": "hs_due_date",
}
INVOICE_READ = [
    "qbo_invoice_id",
    "qbo_last_updated",
    "hs_lastmodifieddate",
    "hs_invoice_status",
    *sorted(set(DEAL_FIELDS.values())),
]
# What the mirror writes on every HubSpot invoice itself (a custom mapping may not write these).
MIRRORED = frozenset(
    {
        "qbo_invoice_id",
        "hs_currency",
        "hs_invoice_date",
        "hs_due_date",
        "hs_invoice_billable",
        "hs_invoice_status",
        "qbo_invoice_number",
        "qbo_invoice_total",
        "qbo_invoice_balance",
        "qbo_invoice_tax",
        "qbo_invoice_home_total",
        "qbo_invoice_status",
        "qbo_customer_name",
        "qbo_last_updated",
    }
)
LINE_READ = [
    "qbo_invoice_line",
    "name",
    "description",
    "quantity",
    "price",
    "hs_product_id",
    "hs_line_item_currency_code",
]


def is_voided(txn: dict[str, Any]) -> bool:
    """QBO keeps a voided invoice or payment with zero amounts and the note "Voided"."""
    return str(txn.get("PrivateNote") or "").startswith("Voided") and float(txn.get("TotalAmt") or 0) == 0


def status(invoice: dict[str, Any], today: date) -> str:
    """The richer status hubbooks shows: open, partially_paid, paid, overdue or voided."""
    if is_voided(invoice):
        return "voided"
    total, balance = float(invoice.get("TotalAmt") or 0), float(invoice.get("Balance") or 0)
    if balance <= 0 and total > 0:
        return "paid"
    due = invoice.get("DueDate")
    if balance > 0 and due and date.fromisoformat(due) < today:
        return "overdue"
    return "partially_paid" if 0 < balance < total else "open"


def hubspot_status(rich: str, ready_to_open: bool) -> str:
    """HubSpot's own status: paid cannot be set through the API, so a paid invoice stays open there (its
    QuickBooks status says paid); an invoice opens only once it has its contact and line items."""
    if rich == "voided":
        return "voided"
    return "open" if ready_to_open else "draft"


def day_ms(day: str | None) -> str:
    """A QuickBooks day (ISO) as HubSpot's date: midnight UTC in epoch ms."""
    if not day:
        return ""
    moment = datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC)
    return str(int(moment.timestamp() * 1000))


def epoch_ms(value: str | None) -> str:
    """A time as HubSpot may hold it (epoch ms, or ISO 8601 as it answers datetimes) as epoch ms."""
    if not value:
        return ""
    if value.isdigit():
        return value
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return str(int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000))  # a day: UTC


def day_of(value: str | None) -> str:
    """A HubSpot date or datetime (epoch ms or ISO 8601) as its day in UTC (ISO), as QuickBooks keeps dates."""
    moment = epoch_ms(value)
    return datetime.fromtimestamp(int(moment) / 1000, UTC).date().isoformat() if moment else ""


def invoice_properties(invoice: dict[str, Any], today: date) -> dict[str, str]:
    """The HubSpot invoice's properties, except hs_invoice_status (set once the invoice may open)."""
    return {
        "qbo_invoice_id": str(invoice["Id"]),
        "hs_currency": str((invoice.get("CurrencyRef") or {}).get("value") or "USD"),
        "hs_invoice_date": day_ms(invoice.get("TxnDate")),
        "hs_due_date": day_ms(invoice.get("DueDate")),
        "hs_invoice_billable": "false",  # mirrored from the book of record: HubSpot renders and sends nothing
        "qbo_invoice_number": str(invoice.get("DocNumber") or ""),
        "qbo_invoice_total": money(invoice.get("TotalAmt", 0)),
        "qbo_invoice_balance": money(invoice.get("Balance", 0)),
        "qbo_invoice_tax": money((invoice.get("TxnTaxDetail") or {}).get("TotalTax") or 0),
        "qbo_invoice_home_total": money(invoice.get("HomeTotalAmt") or invoice.get("TotalAmt", 0)),
        "qbo_invoice_status": status(invoice, today),
        "qbo_customer_name": str((invoice.get("CustomerRef") or {}).get("name") or ""),
        "qbo_last_updated": epoch_ms((invoice.get("MetaData") or {}).get("LastUpdatedTime")),
    }


def item_ids(invoice: dict[str, Any]) -> list[str]:
    """The QuickBooks items an invoice bills: its sales lines' and bundles' (and the bundles' parts)."""
    found: list[str] = []
    for line in invoice.get("Line") or []:
        group = line.get("GroupLineDetail") or {}
        for part in [line, *(group.get("Line") or [])]:
            ref = (part.get("SalesItemLineDetail") or {}).get("ItemRef") or group.get("GroupItemRef") or {}
            if ref.get("value"):
                found.append(str(ref["value"]))
    return list(dict.fromkeys(found))


def tax_included(invoice: dict[str, Any]) -> bool:
    return invoice.get("GlobalTaxCalculation") == "TaxInclusive"


def _priced(amount: Decimal, quantity: Decimal, unit_price: Any) -> tuple[str, str]:
    """Quantity and unit price whose product is the line's amount exactly: the line's own when they multiply
    to it, else one of the whole amount (a rounded or tax-included price would not add up)."""
    if unit_price is not None and quantity:
        shown = money(quantity), money(unit_price)
        if Decimal(shown[0]) * Decimal(shown[1]) == amount:
            return shown
    return "1", money(amount)


def _gross(line: dict[str, Any], included: bool) -> Decimal:
    """A sales line's amount as the invoice totals it (with its tax when tax is included in prices)."""
    detail = line.get("SalesItemLineDetail") or {}
    value = (
        detail.get("TaxInclusiveAmt") if included and detail.get("TaxInclusiveAmt") is not None else line.get("Amount")
    )
    return Decimal(str(value or 0))


def line_item_properties(invoice: dict[str, Any], products: dict[str, str]) -> dict[str, dict[str, str]]:
    """Every line as a HubSpot line item, keyed by `invoiceId:lineId` (`:discount`, `:tax-<rate>`), so that
    their amounts add up to the invoice's total in its currency: items and bundles (one line each), a discount
    as a negative line, and each tax rate as a line of its own unless prices include tax. `products` maps
    QuickBooks item ids to linked HubSpot product ids."""
    included = tax_included(invoice)
    currency = str((invoice.get("CurrencyRef") or {}).get("value") or "USD")
    lines: dict[str, dict[str, str]] = {}

    def add(key: str, name: str, description: str, priced: tuple[str, str], item_id: str = "") -> None:
        props = {"qbo_invoice_line": f"{invoice['Id']}:{key}", "name": name, "description": description}
        props |= {"quantity": priced[0], "price": priced[1], "hs_line_item_currency_code": currency}
        if item_id in products:
            props["hs_product_id"] = products[item_id]
        lines[props["qbo_invoice_line"]] = props

    for line in invoice.get("Line") or []:
        kind, key = line.get("DetailType"), str(line.get("Id") or line.get("LineNum") or "")
        description = str(line.get("Description") or "")
        if kind == "SalesItemLineDetail":
            detail = line.get("SalesItemLineDetail") or {}
            item = detail.get("ItemRef") or {}
            quantity = Decimal(str(detail.get("Qty") or 1))
            price = None if included else detail.get("UnitPrice")
            name = str(item.get("name") or description or "Item")
            add(key, name, description, _priced(_gross(line, included), quantity, price), str(item.get("value")))
        elif kind == "GroupLineDetail":
            group = line.get("GroupLineDetail") or {}
            item = group.get("GroupItemRef") or {}
            amount = sum((_gross(part, included) for part in group.get("Line") or []), Decimal(0))
            quantity = Decimal(str(group.get("Quantity") or 1))
            add(
                key,
                str(item.get("name") or "Bundle"),
                description,
                _priced(amount, quantity, None),
                str(item.get("value")),
            )
        elif kind == "DiscountLineDetail":
            detail = line.get("DiscountLineDetail") or {}
            percent = detail.get("DiscountPercent") if detail.get("PercentBased") in (True, "true") else None
            name = f"Discount {format(Decimal(str(percent)).normalize(), 'f')}%" if percent is not None else "Discount"
            add("discount", name, description, ("1", money(-Decimal(str(line.get("Amount") or 0)))))
    if not included:
        tax = invoice.get("TxnTaxDetail") or {}
        by_rate: dict[str, tuple[str, Decimal]] = {}  # one line a rate, though several codes may apply it
        for tax_line in tax.get("TaxLine") or []:
            rate = (tax_line.get("TaxLineDetail") or {}).get("TaxRateRef") or {}
            name, amount = by_rate.get(str(rate.get("value", "")), (str(rate.get("name") or "Tax"), Decimal(0)))
            by_rate[str(rate.get("value", ""))] = (name, amount + Decimal(str(tax_line.get("Amount") or 0)))
        for rate_id, (name, amount) in by_rate.items():
            add(f"tax-{rate_id}", name, "Tax", ("1", money(amount)))
        if not tax.get("TaxLine") and float(tax.get("TotalTax") or 0):
            add("tax", "Tax", "Tax", ("1", money(tax.get("TotalTax"))))
    return lines


def deal_properties(invoices: list[dict[str, str]], more: dict[str, str] | None = None) -> dict[str, str]:
    """The deal's invoice properties (the five, the currency billed in, and `more`: deal property -> invoice
    property, a person's deal mappings), from its invoice updated last in QuickBooks; empty without one."""
    fields = (more or {}) | DEAL_FIELDS
    mirrored = [i for i in invoices if i.get("qbo_invoice_id")]
    if not mirrored:
        return dict.fromkeys(fields, "")
    latest = max(mirrored, key=_recency)
    values = {deal_prop: latest.get(invoice_prop) or "" for deal_prop, invoice_prop in fields.items()}
    values["qbo_invoice_due_date"] = _midnight(values["qbo_invoice_due_date"])
    return values


def _recency(invoice: dict[str, str]) -> tuple[int, int, int]:
    """QBO's LastUpdatedTime has whole seconds: ties go to the invoice mirrored last, then the higher id."""
    return (
        int(epoch_ms(invoice.get("qbo_last_updated")) or 0),
        int(epoch_ms(invoice.get("hs_lastmodifieddate")) or 0),
        int(invoice.get("qbo_invoice_id") or 0),
    )


def _midnight(value: str) -> str:
    """A date property takes midnight UTC in epoch ms."""
    if not value:
        return ""
    moment = datetime.fromtimestamp(int(epoch_ms(value)) / 1000, tz=UTC).date()
    return day_ms(moment.isoformat())


def payment_tokens(payment: dict[str, Any], amount: float, invoice: dict[str, str], state: str) -> dict[str, str]:
    """The timeline event's tokens for one invoice a payment applies to."""
    return {
        "amount": money(amount),
        "currency": str((payment.get("CurrencyRef") or {}).get("value") or invoice.get("hs_currency") or "USD"),
        "payment_date": day_ms(payment.get("TxnDate")),
        "method": str((payment.get("PaymentMethodRef") or {}).get("name") or "unspecified method"),
        "invoice_number": invoice.get("qbo_invoice_number") or invoice.get("qbo_invoice_id", ""),
        "balance": invoice.get("qbo_invoice_balance") or "0",
        "status": state,
    }


def applied(payment: dict[str, Any]) -> dict[str, float]:
    """Invoice id -> amount of the payment applied to it."""
    amounts: dict[str, float] = {}
    for line in payment.get("Line") or []:
        for linked in line.get("LinkedTxn") or []:
            if linked.get("TxnType") == "Invoice":
                key = str(linked["TxnId"])
                amounts[key] = amounts.get(key, 0.0) + float(line.get("Amount") or 0)
    return amounts
