"""Books: the company turned into a UK one (VAT, and euros beside pounds). A taxed, discounted invoice made in
QuickBooks reaches HubSpot with line items that add up to its total; a deal with a discounted product and a
custom line is billed with VAT through the workflow action, after the invoice settings name a default tax code
and an item for custom lines."""

from decimal import Decimal
from typing import Any

from demo.billing import pay
from demo.report import Report
from devstack.browser import Browser
from devstack.sandboxed import SandboxedProduct


def _sales(item: dict[str, Any], qty: float, code: str) -> dict[str, Any]:
    detail = {"ItemRef": {"value": item["Id"]}, "Qty": qty, "TaxCodeRef": {"value": code}}
    return {"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": detail}


def _lines_of(product: SandboxedProduct, qbo_id: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The HubSpot invoice mirrored from a QuickBooks one, and its line items."""
    hubspot = product.hubspot_admin
    mirrored = next(r for r in hubspot.records("invoices") if r["properties"].get("qbo_invoice_id") == qbo_id)
    ids = set(hubspot.associated("invoices", mirrored["id"], "line_items"))
    return mirrored["properties"], [r["properties"] for r in hubspot.records("line_items") if r["id"] in ids]


def run(product: SandboxedProduct, report: Report, browser: Browser) -> None:
    report.section("Books: a UK company with VAT, discounts and two currencies")
    hubspot, quickbooks = product.hubspot_admin, product.quickbooks_admin
    quickbooks.set_company(Country="GB", Currencies=["EUR"])
    codes = {c["Id"]: c["Name"] for c in quickbooks.records("TaxCode")}
    report.say(f"  company now keeps pounds and euros; VAT codes: {', '.join(sorted(codes.values()))}")

    income = {"IncomeAccountRef": {"value": "1"}, "Type": "Service"}
    course = quickbooks.create("Item", {"Name": "Training course", "UnitPrice": 400, **income})
    books = quickbooks.create("Item", {"Name": "Course book", "UnitPrice": 30, **income})
    customer = quickbooks.create(
        "Customer",
        {"DisplayName": "Brighton Bakes Ltd", "PrimaryEmailAddr": {"Address": "accounts@brightonbakes.example"}},
    )
    discount = {"DetailType": "DiscountLineDetail", "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10}}
    invoice = quickbooks.create(
        "Invoice",
        {"CustomerRef": {"value": customer["Id"]}, "Line": [_sales(course, 2, "2"), _sales(books, 4, "3"), discount]},
    )
    product.settle()
    mirrored, lines = _lines_of(product, invoice["Id"])
    added = sum((Decimal(line["amount"]) for line in lines), Decimal(0))
    report.check(
        "a taxed, discounted UK invoice adds up in HubSpot",
        added == Decimal(str(invoice["TotalAmt"]))
        and Decimal(mirrored.get("qbo_invoice_tax") or "0") == Decimal(str(invoice["TxnTaxDetail"]["TotalTax"])) > 0,
        f"invoice {invoice['DocNumber']} for {invoice['TotalAmt']:.2f} GBP (VAT {mirrored.get('qbo_invoice_tax')}): "
        + "; ".join(f"{line['name']} {line['amount']}" for line in sorted(lines, key=lambda x: x["qbo_invoice_line"]))
        + f" = {added}",
    )

    gateway = product.devstack.gateway_url
    other = quickbooks.create("Item", {"Name": "Other charges", "UnitPrice": 0, **income})
    settings = browser.get(f"{gateway}/api/syncs/invoices").json()
    changes = {"version": settings["version"], "invoice_defaults": {"tax_code": "2", "custom_item": other["Id"]}}
    saved = browser.request("PUT", f"{gateway}/api/syncs/invoices", json=changes)
    report.say(
        f"  invoice settings: default tax code {codes['2']}, custom lines billed as '{other['Name']}' "
        f"(PUT /api/syncs/invoices → {saved.status_code})"
    )
    hubspot.create_property("invoices", "invoice_message", "Message on invoice", "invoiceinformation")
    hubspot.create_property("deals", "last_invoice_message", "Last invoice message", "dealinformation")
    settings = browser.get(f"{gateway}/api/syncs/invoices").json()
    mapped = {
        "version": settings["version"],
        "mappings": [{"hubspot": "invoice_message", "qbo": "CustomerMemo.value", "direction": "qbo_to_hubspot"}],
        "deal_mappings": [{"deal": "last_invoice_message", "invoice": "invoice_message"}],
    }
    answer = browser.request("PUT", f"{gateway}/api/syncs/invoices", json=mapped)
    report.say(
        "  invoice mapping: QuickBooks' message on invoice -> HubSpot invoice 'Message on invoice', and on to the "
        f"deal's 'Last invoice message' (PUT /api/syncs/invoices -> {answer.status_code})"
    )
    contact = hubspot.create("contacts", {"email": "orders@hovehats.example", "firstname": "Hove", "lastname": "Hats"})
    workshop = hubspot.create("products", {"name": "Hat-making workshop", "price": "250"})
    product.settle()
    deal = hubspot.create("deals", {"dealname": "Hove Hats workshop", "dealstage": "closedwon", "amount": "485"})
    hubspot.associate("deals", deal["id"], "contacts", contact["id"])
    for values in (
        {
            "name": "Hat-making workshop",
            "quantity": "2",
            "price": "250",
            "hs_product_id": workshop["id"],
            "discount": "20",
        },
        {"name": "Materials", "quantity": "1", "price": "25"},
    ):
        line = hubspot.create("line_items", values)
        hubspot.associate("line_items", line["id"], "deals", deal["id"])
    definition = product.register_invoice_action()
    inputs = {"due_in_days": "14", "memo": "Thank you for booking with Hove Hats"}
    outputs = hubspot.run_action(definition, deal["id"], inputs, callback_id="demo-uk-bill")["response"]["outputFields"]
    billed = next((i for i in quickbooks.records("Invoice") if i["Id"] == outputs.get("qbo_invoice_id")), None)
    tax = (billed or {}).get("TxnTaxDetail", {}).get("TotalTax")
    report.check(
        "a deal billed with VAT through the action",
        billed is not None and billed["TotalAmt"] == 582.0 and tax == 97.0 and outputs.get("error_message") == "",
        f"invoice {outputs.get('qbo_invoice_number')}: 2 workshops at 250 less 20 each = 460, materials 25 on "
        f"'Other charges', VAT 20% {tax}, total {outputs.get('qbo_invoice_total')} GBP"
        if billed
        else f"not billed: {outputs.get('error_message')}",
    )
    product.settle()
    message = next(r for r in hubspot.records("deals") if r["id"] == deal["id"])["properties"].get(
        "last_invoice_message"
    )
    mirrored_message = (
        _lines_of(product, outputs.get("qbo_invoice_id", ""))[0].get("invoice_message") if billed else None
    )
    report.check(
        "custom invoice and deal mappings fill the person's own properties",
        message == mirrored_message == inputs["memo"],
        f"the invoice's message reached the HubSpot invoice ('{mirrored_message}') and the deal ('{message}')",
    )

    _invoice_from_hubspot(product, report, browser, contact["id"], workshop["id"])


def _invoice_from_hubspot(
    product: SandboxedProduct, report: Report, browser: Browser, contact_id: str, product_id: str
) -> None:
    """Invoices both ways: one made in HubSpot (VAT from HubSpot's tax rate library) reaches QuickBooks with the
    same total, is paid there, and reads paid in HubSpot."""
    hubspot, quickbooks, gateway = product.hubspot_admin, product.quickbooks_admin, product.devstack.gateway_url
    settings = browser.get(f"{gateway}/api/syncs/invoices").json()
    turned = browser.request(
        "PUT", f"{gateway}/api/syncs/invoices", json={"version": settings["version"], "hubspot_invoices": True}
    )
    report.say(f"  invoices both ways: on (PUT /api/syncs/invoices -> {turned.status_code})")
    vat = hubspot.add_tax_rate("VAT", 20)
    invoice = hubspot.create("invoices", {"hs_currency": "GBP", "hs_comments": "Spring workshop"})
    hubspot.associate("invoices", invoice["id"], "contacts", contact_id)
    line = hubspot.create(
        "line_items",
        {
            "name": "Hat-making workshop",
            "quantity": "1",
            "price": "250",
            "hs_product_id": product_id,
            "hs_tax_rate_group_id": vat,
        },
    )
    hubspot.associate("line_items", line["id"], "invoices", invoice["id"])
    hubspot.update("invoices", invoice["id"], {"hs_invoice_status": "open"})
    product.settle()

    def mirrored() -> dict[str, str]:
        found = next(r for r in hubspot.records("invoices") if r["id"] == invoice["id"])
        return {str(k): str(v) for k, v in found["properties"].items()}

    made = next((i for i in quickbooks.records("Invoice") if i["Id"] == mirrored().get("qbo_invoice_id")), None)
    report.check(
        "an invoice made in HubSpot appears in QuickBooks with the same total",
        made is not None and made["TotalAmt"] == 300.0,
        f"HubSpot invoice {invoice['id']}: 250 and 20% VAT in HubSpot; QuickBooks invoice {made['DocNumber']} for "
        f"{made['TotalAmt']:.2f} GBP (VAT {made['TxnTaxDetail']['TotalTax']:.2f})"
        if made
        else "not in QuickBooks",
    )
    if made is None:
        return
    pay(product, made, made["TotalAmt"])
    product.settle()
    shown = mirrored()
    report.check(
        "paid in QuickBooks, shown paid in HubSpot",
        shown.get("qbo_invoice_status") == "paid" and shown.get("qbo_invoice_balance") == "0",
        f"the HubSpot invoice reads {shown.get('qbo_invoice_status')}, balance {shown.get('qbo_invoice_balance')}",
    )
