"""More workflow actions: an estimate from a quote (its status back on the quote and deal), the accepted estimate
converted into an invoice, a sales receipt from a HubSpot payment on the deal's timeline, an invoice emailed and
another voided, each run from a workflow as HubSpot runs it."""

from typing import Any

from demo.billing import pay
from demo.report import Report
from devstack.sandboxed import SandboxedProduct


def _props(product: SandboxedProduct, object_type: str, object_id: str) -> dict[str, str]:
    return dict(next(r for r in product.hubspot_admin.records(object_type) if r["id"] == object_id)["properties"])


def _qbo(product: SandboxedProduct, entity: str, record_id: str) -> dict[str, Any]:
    return next(r for r in product.quickbooks_admin.records(entity) if r["Id"] == record_id)


def _sale(product: SandboxedProduct, name: str) -> tuple[str, str, dict[str, Any]]:
    """A contact, a product and a deal of two of it; answers (deal, contact, product)."""
    hubspot = product.hubspot_admin
    contact = hubspot.create("contacts", {"email": f"{name.lower()}@example.com", "firstname": name})
    made = hubspot.create("products", {"name": f"{name}'s kit", "price": "250"})
    product.settle()
    deal = hubspot.create("deals", {"dealname": f"{name} order", "dealstage": "closedwon", "amount": "500"})
    hubspot.associate("deals", deal["id"], "contacts", contact["id"])
    _line(product, "deals", deal["id"], made)
    return str(deal["id"]), str(contact["id"]), made


def _line(product: SandboxedProduct, to: str, to_id: str, made: dict[str, Any]) -> None:
    line = product.hubspot_admin.create(
        "line_items", {"name": made["properties"]["name"], "quantity": "2", "price": "250", "hs_product_id": made["id"]}
    )
    product.hubspot_admin.associate("line_items", line["id"], to, to_id)


class _Run:
    """Runs the registered actions from a workflow, as HubSpot does."""

    def __init__(self, product: SandboxedProduct) -> None:
        self.product = product
        self.ids = product.register_actions()

    def __call__(
        self, name: str, object_id: str, inputs: dict[str, str], callback: str, object_type: str = "DEAL"
    ) -> dict[str, str]:
        answer = self.product.hubspot_admin.run_action(
            self.ids[name], object_id, inputs, callback_id=callback, object_type=object_type
        )
        return dict(answer["response"]["outputFields"])


def run(product: SandboxedProduct, report: Report) -> None:
    report.section("More workflow actions: estimates, sales receipts, sending and voiding invoices")
    hubspot, quickbooks = product.hubspot_admin, product.quickbooks_admin
    action = _Run(product)
    terms = hubspot.action_options(action.ids["create-estimate"], "terms")["response"]["options"]
    report.check(
        "every workflow action registered, dropdowns from QuickBooks",
        len(action.ids) == 6 and [t["label"] for t in terms][:2] == ["Due on receipt", "Net 15"],
        f"{', '.join(action.ids)} (python -m hubbooks.cli register-action); the terms dropdown, asked through the "
        f"actions' signed options URL, offers {', '.join(t['label'] for t in terms)}",
    )

    deal, contact, made = _sale(product, "Quinn")
    quote = hubspot.create("quotes", {"hs_title": "Quinn fit-out", "hs_expiration_date": "2027-01-31"})
    hubspot.associate("quotes", quote["id"], "deals", deal)
    hubspot.associate("quotes", quote["id"], "contacts", contact)
    _line(product, "quotes", quote["id"], made)
    estimated = action("create-estimate", quote["id"], {"memo": "Valid until the end of January"}, "demo-est", "QUOTE")
    estimate_id = estimated.get("qbo_estimate_id", "")
    pending = _props(product, "quotes", quote["id"]).get("qbo_estimate_status")
    quickbooks.update("Estimate", estimate_id, {"TxnStatus": "Accepted"})  # the customer accepts in QuickBooks
    product.settle()
    on_deal, on_quote = _props(product, "deals", deal), _props(product, "quotes", quote["id"])
    report.check(
        "an estimate from a quote, its acceptance back on quote and deal",
        estimated.get("hs_execution_state") == "SUCCESS"
        and pending == "pending"
        and on_deal.get("qbo_estimate_status") == on_quote.get("qbo_estimate_status") == "accepted",
        f"estimate {estimated.get('qbo_estimate_number')} for {estimated.get('qbo_estimate_total')} USD, expiring "
        f"{estimated.get('qbo_estimate_expires')} (the quote's date); {pending} on the quote, then accepted in "
        f"QuickBooks: the quote and the deal read {on_quote.get('qbo_estimate_status')}",
    )

    converted = action("convert-estimate", deal, {"due_in_days": "30"}, "demo-convert")
    invoice = _qbo(product, "Invoice", converted.get("qbo_invoice_id", "")) if converted.get("qbo_invoice_id") else {}
    again = action("convert-estimate", deal, {}, "demo-convert-again")
    product.settle()
    report.check(
        "the accepted estimate becomes one invoice, and only one",
        invoice.get("LinkedTxn") == [{"TxnId": estimate_id, "TxnType": "Estimate"}]
        and _qbo(product, "Estimate", estimate_id)["TxnStatus"] == "Closed"
        and _props(product, "deals", deal).get("qbo_estimate_status") == "closed"
        and again.get("hs_execution_state") == "FAIL_CONTINUE",
        f"invoice {converted.get('qbo_invoice_number')} for {converted.get('qbo_invoice_total')} USD links estimate "
        f"{converted.get('qbo_estimate_number')}, which QuickBooks closed (the deal says so); converting it again: "
        f"{again.get('error_message')}",
    )

    payment = hubspot.create(
        "commerce_payments",
        {"hs_initial_amount": "500", "hs_currency_code": "USD", "hs_payment_method": "Card"},
    )
    hubspot.associate("commerce_payments", payment["id"], "deals", deal)
    receipt = action("create-sales-receipt", payment["id"], {}, "demo-receipt", "COMMERCE_PAYMENT")
    receipt_id = receipt.get("qbo_sales_receipt_id", "")
    events = [e for e in hubspot.timeline("deals", deal) if "number" in e["tokens"]]
    report.check(
        "a sales receipt from a HubSpot payment, on the deal's timeline",
        bool(receipt_id)
        and _qbo(product, "SalesReceipt", receipt_id)["Balance"] == 0
        and [e["tokens"]["number"] for e in events] == [receipt.get("qbo_sales_receipt_number")],
        f"sales receipt {receipt.get('qbo_sales_receipt_number')}: {receipt.get('qbo_sales_receipt_total')} USD paid "
        "by card, into Undeposited Funds; the deal's timeline shows it beside its payments",
    )

    sent = action("send-invoice", deal, {"send_to": "accounts@quinn.example"}, "demo-send")
    emailed = _qbo(product, "Invoice", sent.get("qbo_invoice_id", "0")) if sent.get("qbo_invoice_id") else {}
    report.check(
        "an invoice emailed from QuickBooks",
        emailed.get("EmailStatus") == "EmailSent"
        and emailed.get("BillEmail", {}).get("Address") == sent.get("sent_to"),
        f"invoice {sent.get('qbo_invoice_number')} sent to {sent.get('sent_to')} (the deal's latest invoice)",
    )

    pay(product, invoice, 100.0)
    product.settle()
    refused = action("void-invoice", deal, {}, "demo-void-paid")
    other, _, _ = _sale(product, "Rory")
    billed = product.hubspot_admin.run_action(action.ids["create-invoice"], other, {}, callback_id="demo-void-bill")[
        "response"
    ]["outputFields"]
    voided = action("void-invoice", other, {}, "demo-void")
    product.settle()
    report.check(
        "void an unpaid invoice; a paid one refused in plain words",
        voided.get("qbo_invoice_status") == "voided"
        and _props(product, "deals", other).get("qbo_invoice_status") == "voided"
        and refused.get("hs_execution_state") == "FAIL_CONTINUE",
        f"invoice {billed.get('qbo_invoice_number')} voided, its deal reads voided; invoice "
        f"{converted.get('qbo_invoice_number')}: {refused.get('error_message')}",
    )

    # HubSpot unavailable while the action reads the deal (the client's two retries too): the run BLOCKs and the
    # worker finishes it. (QuickBooks' 429 does the same, after the minute QuickBooks asks: the tests show it.)
    hubspot.add_fault("503", count=3, method="GET", path=f"/crm/v3/objects/deals/{other}$")
    blocked = action("create-estimate", other, {}, "demo-est-blocked")
    product.settle()
    completed = [c for c in hubspot.callbacks() if c["callbackId"] == "demo-est-blocked"]
    report.check(
        "an action that meets an outage waits and completes through its callback",
        blocked.get("hs_execution_state") == "BLOCK"
        and [c["outputFields"]["hs_execution_state"] for c in completed] == ["SUCCESS"],
        "HubSpot answered 503 three times: the action said BLOCK, the worker made estimate "
        f"{completed[0]['outputFields'].get('qbo_estimate_number') if completed else '?'} and completed the callback",
    )
