"""The "Create a QuickBooks sales receipt" workflow action: a sale paid on the spot, from a deal or a HubSpot
payment, recorded in QuickBooks and shown on the deal's and contact's timelines as payments are."""

from datetime import date

from pydantic import Field

from hubbooks.mapping.invoices import day_ms, day_of
from hubbooks.mapping.transforms import money
from hubbooks.sync.action_common import SUCCESS, Outputs, read_sale, request_id
from hubbooks.sync.invoice_action import CreateInvoiceAction, InvoiceChoices
from hubbooks.sync.payments import PaymentTimeline


class ReceiptInputs(InvoiceChoices):
    """Inputs of "Create a QuickBooks sales receipt" (all values may arrive as strings)."""

    payment_method: str = Field(default="", max_length=100)
    memo: str = Field(default="", max_length=1000)


class CreateSalesReceiptAction:
    inputs = ReceiptInputs

    def __init__(self, action: CreateInvoiceAction, timeline: PaymentTimeline) -> None:
        self.action, self.timeline = action, timeline

    def run(self, callback_id: str, object_type: str, object_id: str, inputs: ReceiptInputs, today: date) -> Outputs:
        sale = read_sale(self.action.hubspot, object_type, object_id)
        note = f"HubSpot {sale.noun} {object_id}: {sale.name}"
        body = self.action.invoice_body(
            sale.contact_id, sale.lines, sale.currency, note, what=sale.noun, choices=inputs
        )
        body.pop("SalesTermRef", None)  # paid on the spot: no terms
        paid_on = day_of(sale.properties.get("hs_initiated_date")) if object_type == "commerce_payments" else ""
        body["TxnDate"] = paid_on or today.isoformat()
        method = inputs.payment_method or sale.properties.get("hs_payment_method", "")
        if object_type == "commerce_payments":
            body["PaymentRefNum"] = f"HubSpot {object_id}"[:21]
        if inputs.memo:
            body["CustomerMemo"] = {"value": inputs.memo}
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
        for kind, target in targets.items():
            if target:
                self.timeline.post(kind, target, event, tokens, kind="sales_receipt")
        outputs = {
            "qbo_sales_receipt_id": str(receipt["Id"]),
            "qbo_sales_receipt_number": number,
            "qbo_sales_receipt_total": tokens["amount"],
        }
        return Outputs(SUCCESS, outputs, self.action.difference(receipt, sale.lines))
