"""Billing: a workflow bills a deal in QuickBooks through the action; a partial then a full payment in
QuickBooks show on the deal as invoice figures and timeline events."""

from datetime import date, timedelta
from typing import Any

from demo.report import Report
from devstack.runtime import function_environment
from devstack.sandboxed import SandboxedProduct
from hubbooks import wiring
from hubbooks.models.signals import Reason


def _deal(product: SandboxedProduct, deal_id: str) -> dict[str, str]:
    return next(r["properties"] for r in product.hubspot_admin.records("deals") if r["id"] == deal_id)


def _mirrored(product: SandboxedProduct, qbo_id: str) -> list[dict[str, Any]]:
    return [r for r in product.hubspot_admin.records("invoices") if r["properties"].get("qbo_invoice_id") == qbo_id]


def pay(product: SandboxedProduct, invoice: dict[str, Any], amount: float) -> None:
    """A payment on the invoice, as a person records it in QuickBooks."""
    product.quickbooks_admin.create(
        "Payment",
        {
            "CustomerRef": invoice["CustomerRef"],
            "TotalAmt": amount,
            "PaymentMethodRef": {"value": "2", "name": "Credit card"},
            "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
        },
    )


def _overdue_by_date(
    product: SandboxedProduct, report: Report, connection_id: str, invoice: dict[str, Any], deal_id: str
) -> None:
    """The day after the invoice falls due, nothing edited: the sweep's daily look at open invoices finds it
    and its mirror reads overdue. Played here as of that day (the sweep and mirror with that date)."""
    after_due = date.fromisoformat(invoice["DueDate"]) + timedelta(days=1)
    environment = product.devstack.runtimes["ReconcileFunction"].spec.environment
    with function_environment(environment):
        connection = wiring.connections().get(connection_id)
        billing = wiring.billing(connection_id)
        assert connection is not None
        assert billing is not None
        found = wiring.sweeper(connection).overdue(after_due) or []
        billing.invoices.today = lambda: after_due
        for signal in found:
            billing.invoices.handle(signal.record_id, Reason.SWEEP)
    mirrored = _mirrored(product, invoice["Id"])[0]["properties"]
    deal_status = _deal(product, deal_id).get("qbo_invoice_status")
    report.check(
        "an unpaid invoice turns overdue by the date alone",
        invoice["Id"] in {s.record_id for s in found}
        and mirrored.get("qbo_invoice_status") == "overdue"
        and deal_status == "overdue",
        f"as of {after_due} (due {invoice['DueDate']}, nothing edited in QuickBooks) the daily look at open invoices "
        f"past due found {len(found)}; invoice {invoice.get('DocNumber')} reads {mirrored.get('qbo_invoice_status')} "
        f"and the deal {deal_status}; the payments below turn it back",
    )


def run(product: SandboxedProduct, report: Report, connection_id: str) -> None:
    report.section("Billing: the Create-invoice workflow action, invoices and payments in HubSpot")
    hubspot, quickbooks = product.hubspot_admin, product.quickbooks_admin
    definition = product.register_invoice_action()
    report.say(f"  workflow action registered as definition {definition} (python -m hubbooks.cli register-action)")

    contact = hubspot.create(
        "contacts", {"email": "grace.buyer@example.com", "firstname": "Grace", "lastname": "Buyer"}
    )
    products = [
        hubspot.create("products", {"name": "Onboarding package", "price": "1200", "hs_sku": "ONB-1"}),
        hubspot.create("products", {"name": "Support hours", "price": "90", "hs_sku": "SUP-H"}),
    ]
    product.settle()
    deal = hubspot.create("deals", {"dealname": "Grace Buyer onboarding", "dealstage": "closedwon", "amount": "1650"})
    hubspot.associate("deals", deal["id"], "contacts", contact["id"])
    for record, quantity in zip(products, ("1", "5"), strict=True):
        line = hubspot.create(
            "line_items",
            {
                "name": record["properties"]["name"],
                "quantity": quantity,
                "price": record["properties"]["price"],
                "hs_product_id": record["id"],
            },
        )
        hubspot.associate("line_items", line["id"], "deals", deal["id"])

    before = len(quickbooks.records("Invoice"))
    inputs = {"due_in_days": "30", "send_email": "true", "memo": "Thank you for choosing us"}
    first = hubspot.run_action(definition, deal["id"], inputs, callback_id="demo-bill-grace")
    retried = hubspot.run_action(definition, deal["id"], inputs, callback_id="demo-bill-grace")
    outputs = first["response"]["outputFields"]
    invoices = [i for i in quickbooks.records("Invoice") if i["Id"] == outputs.get("qbo_invoice_id")]
    report.check(
        "workflow action bills the deal once",
        outputs.get("hs_execution_state") == "SUCCESS"
        and retried["response"]["outputFields"] == outputs
        and len(quickbooks.records("Invoice")) == before + 1
        and len(invoices) == 1,
        f"invoice {outputs.get('qbo_invoice_number')} for {outputs.get('qbo_invoice_total')} USD in {first['ms']} ms "
        f"(customer and both items synced first, emailed); the same callbackId again answered the same invoice",
    )
    product.settle()
    mirrored = _mirrored(product, outputs.get("qbo_invoice_id", ""))
    deal_props = _deal(product, deal["id"])
    report.check(
        "HubSpot invoice and deal properties",
        len(mirrored) == 1
        and deal_props.get("qbo_invoice_number") == outputs.get("qbo_invoice_number")
        and deal_props.get("qbo_invoice_amount_billed") == "1650",
        f"HubSpot invoice {mirrored[0]['id']} ({mirrored[0]['properties'].get('hs_invoice_status')} in HubSpot) on "
        f"the deal and contact; deal shows number {deal_props.get('qbo_invoice_number')}, billed "
        f"{deal_props.get('qbo_invoice_amount_billed')}, recipient {deal_props.get('qbo_invoice_recipient')}, status "
        f"{deal_props.get('qbo_invoice_status')}"
        if mirrored
        else "no HubSpot invoice",
    )

    if not invoices:
        return
    _overdue_by_date(product, report, connection_id, invoices[0], deal["id"])
    pay(product, invoices[0], 650.0)
    product.settle()
    partial = _deal(product, deal["id"]).get("qbo_invoice_status")
    pay(product, invoices[0], 1000.0)
    product.settle()
    final = _mirrored(product, invoices[0]["Id"])[0]["properties"]
    events = hubspot.timeline("deals", deal["id"])
    report.check(
        "payments on the deal timeline",
        partial == "partially_paid"
        and final.get("qbo_invoice_status") == "paid"
        and _deal(product, deal["id"]).get("qbo_invoice_status") == "paid"
        and len(events) == 2,
        "after 650.00: deal status "
        f"{partial}; after 1000.00: {final.get('qbo_invoice_status')}, balance {final.get('qbo_invoice_balance')}; "
        "timeline: "
        + "; ".join(
            f"{e['tokens']['amount']} {e['tokens']['currency']} {e['tokens']['status']} ({e['tokens']['method']}), "
            f"balance {e['tokens']['balance']}"
            for e in sorted(events, key=lambda e: e["createdAt"])
        ),
    )

    empty = hubspot.create("deals", {"dealname": "A deal with no contact", "dealstage": "closedwon"})
    refused = hubspot.run_action(definition, empty["id"], {}, callback_id="demo-bill-nobody")["response"][
        "outputFields"
    ]
    report.check(
        "a deal without a contact fails in plain words",
        refused.get("hs_execution_state") == "FAIL_CONTINUE" and not refused.get("qbo_invoice_id"),
        f"FAIL_CONTINUE: {refused.get('error_message')}",
    )

    # A contact deleted in HubSpot while its customer still pays: the next payment makes the contact again.
    customer = quickbooks.create(
        "Customer",
        {"DisplayName": "Dora Gone", "GivenName": "Dora", "PrimaryEmailAddr": {"Address": "dora.gone@example.com"}},
    )
    item = next(i for i in quickbooks.records("Item") if i.get("Type") == "Service" and i.get("Active", True))
    line = {"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 2}}
    bill = quickbooks.create("Invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line]})
    product.settle()
    made = [r["id"] for r in hubspot.records("contacts") if r["properties"].get("email") == "dora.gone@example.com"]
    for contact_id in made:
        hubspot.delete("contacts", contact_id)
    pay(product, bill, float(bill["TotalAmt"]))
    product.settle()
    again = [r["id"] for r in hubspot.records("contacts") if r["properties"].get("email") == "dora.gone@example.com"]
    shown = [e["tokens"]["status"] for contact_id in again for e in hubspot.timeline("contacts", contact_id)]
    report.check(
        "a payment for a deleted contact makes it again",
        len(made) == 1 and len(again) == 1 and again != made and shown == ["received"],
        f"contact {made[0] if made else '?'} deleted in HubSpot, then its customer paid "
        f"{float(bill['TotalAmt']):.2f}: contact {again[0] if again else '?'} made again, the invoice and the "
        "payment on it",
    )
