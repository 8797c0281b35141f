"""The "Create a QuickBooks sales receipt" workflow action: a sale paid on the spot, from a deal or a HubSpot
payment, recorded in QuickBooks and shown on the deal's and contact's timelines as payments are."""

from datetime import date
from functools import partial

from pydantic import Field

from hubbooks.mapping.invoices import day_ms, day_of
from hubbooks.mapping.transforms import money
from hubbooks.models.signals import Pair
from hubbooks.quickbooks.client import quoted
from hubbooks.sync.action_common import SUCCESS, Outputs, after_made, request_id
from hubbooks.sync.invoice_action import CreateInvoiceAction, LineChoices
from hubbooks.sync.payments import PaymentTimeline


class ReceiptInputs(LineChoices):
    """Inputs of "Create a QuickBooks sales receipt" (all values may arrive as strings)."""

    payment_method: str = Field(default="", max_length=100)
    memo: str = Field(default="", max_length=1000)


class CreateSalesReceiptAction:
    inputs = ReceiptInputs

    def __init__(self, action: CreateInvoiceAction, timeline: PaymentTimeline) -> None:
        self.action, self.timeline = action, timeline

    def run(self, callback_id: str, object_type: str, object_id: str, inputs: ReceiptInputs, today: date) -> Outputs:
        sale = self.action.sale(object_type, object_id)
        body = self.action.form_body(sale, inputs, inputs.memo, today)
        paid = object_type == "commerce_payments"
        if paid:
            body["TxnDate"] = day_of(sale.properties.get("hs_initiated_date")) or body["TxnDate"]
            body["PaymentRefNum"] = f"HubSpot {object_id}"[:21]
        method = inputs.payment_method or sale.properties.get("hs_payment_method", "")
        if method:
            named = self.action.qbo.query(f"select * from PaymentMethod where Name = '{quoted(method)}'")  # noqa: S608
            if named:  # else the method is named on the timeline only
                body["PaymentMethodRef"] = {"value": str(named[0]["Id"])}
        connection = self.action.engine.connection_id
        receipt = self.action.qbo.write("SalesReceipt", body, request_id(connection, callback_id, "rcpt"))
        number = str(receipt.get("DocNumber") or receipt["Id"])
        tokens = {
            "number": number,
            "amount": money(receipt.get("TotalAmt", 0)),
            "currency": str((receipt.get("CurrencyRef") or {}).get("value") or ""),
            "receipt_date": day_ms(str(receipt.get("TxnDate") or body["TxnDate"])),
            "method": method or "unspecified method",
        }
        event = f"qbo-salesreceipt-{receipt['Id']}"
        targets = {"deals": sale.deal_id, "contacts": sale.contact_id}
        if self.action.customers is Pair.COMPANIES:
            targets["companies"] = sale.customer_id
        warnings = [
            after_made(
                f"showing it on the {kind[:-1]}'s timeline",
                partial(self.timeline.post, kind, target, event, tokens, kind="sales_receipt"),
            )
            for kind, target in targets.items()
            if target
        ]
        warnings.append(self.action.difference(receipt, sale.lines, kind="sales receipt", source=sale.noun))
        amount = sale.properties.get("hs_initial_amount")
        if paid and amount and money(amount) != tokens["amount"]:
            warnings.append(
                f"The payment was {money(amount)}, the receipt of its line items comes to {tokens['amount']}."
            )
        outputs = {
            "qbo_sales_receipt_id": str(receipt["Id"]),
            "qbo_sales_receipt_number": number,
            "qbo_sales_receipt_total": tokens["amount"],
        }
        return Outputs(SUCCESS, outputs, " ".join(w for w in warnings if w))
