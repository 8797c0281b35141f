"""Business customers: a connection set up so that each HubSpot company is a QuickBooks customer. A company and its
child company arrive as a customer and its sub-customer; an invoice of the sub-customer lands on the child
company; two people of one company order, and both orders bill the company's one customer; the company's first
contact is the customer's person, both ways."""

from typing import Any

from demo.first_day import Api, set_up
from demo.report import Report
from devstack.browser import Browser
from devstack.sandboxed import SandboxedProduct
from hubbooks.sync.hierarchy import CHILD_TO_PARENT

PORTAL, REALM = 8_900_002, "8900000000002"


def run(product: SandboxedProduct, report: Report) -> None:
    report.section("Business customers: companies and sub-customers")
    hubspot, quickbooks = product.add_accounts(PORTAL, REALM)
    quickbooks.create("Customer", {"DisplayName": "Initech Ltd", "WebAddr": {"URI": "https://www.initech.com"}})
    initech = hubspot.create("companies", {"name": "Initech", "domain": "initech.com"})
    browser = Browser()
    product.sign_in(browser, PORTAL, REALM)
    product.connect(browser)
    api = Api(product, browser)
    chosen = api("PUT", "/api/connection/customer-mode", {"mode": "business"})
    cards = [s["pair"] for s in api("GET", "/api/syncs")["syncs"]]
    job = set_up(api, "companies")  # previewed first, as a person must
    links = api("GET", "/api/syncs/companies/preview/rows?kind=link&limit=10")["items"]
    for pair in ("products", "invoices"):
        set_up(api, pair)
    product.settle()
    report.check(
        "a connection set up for business customers, matched by domain",
        chosen.get("pair") == "companies"
        and "companies" in cards
        and "contacts" not in cards
        and [row["key"] for row in links if str(initech["id"]) in (row["record_id"], row["other_id"])] == ["domain"]
        and job.get("status") == "finished",
        f"customer mode {chosen.get('customer_mode')}: the page offers {', '.join(cards)}; the preview links "
        f"company Initech (initech.com) with customer Initech Ltd (www.initech.com) by its "
        f"{next((row['key'] for row in links), 'nothing')}",
    )

    acme = hubspot.create("companies", {"name": "Acme Roofing", "domain": "acme-roofing.com", "phone": "555 0100"})
    leeds = hubspot.create("companies", {"name": "Leeds site"})
    hubspot.associate("companies", leeds["id"], "companies", acme["id"], CHILD_TO_PARENT)
    product.settle()
    customers = {c["DisplayName"]: c for c in quickbooks.records("Customer")}
    site = customers.get("Leeds site", {})
    report.check(
        "a company and its child company arrive as a customer and its sub-customer",
        site.get("FullyQualifiedName") == "Acme Roofing:Leeds site"
        and site.get("Job") is True
        and (site.get("ParentRef") or {}).get("value") == customers.get("Acme Roofing", {}).get("Id"),
        f"HubSpot: Leeds site under Acme Roofing → QuickBooks: {site.get('FullyQualifiedName')} (level "
        f"{site.get('Level')}, parent {(site.get('ParentRef') or {}).get('name')})",
    )

    income = next(a for a in quickbooks.records("Account") if a.get("AccountType") == "Income")
    item = quickbooks.create(
        "Item",
        {"Name": "Roof survey", "Type": "Service", "UnitPrice": 400, "IncomeAccountRef": {"value": income["Id"]}},
    )
    line = {
        "DetailType": "SalesItemLineDetail",
        "Amount": 400,
        "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 1, "UnitPrice": 400},
    }
    bill = quickbooks.create("Invoice", {"CustomerRef": {"value": site.get("Id")}, "Line": [line]})
    product.settle()
    mirrored = next(
        (i for i in hubspot.records("invoices") if i["properties"].get("qbo_invoice_id") == str(bill["Id"])), None
    )
    on = hubspot.associated("invoices", mirrored["id"], "companies") if mirrored else []
    report.check(
        "an invoice of the sub-customer shows on the child company",
        on == [str(leeds["id"])],
        f"QuickBooks invoice {bill.get('DocNumber')} to {site.get('FullyQualifiedName')} → HubSpot invoice "
        f"{(mirrored or {}).get('id')} on company Leeds site",
    )

    _orders(product, report, (hubspot, quickbooks), acme, customers["Acme Roofing"]["Id"], api=api)


def _orders(
    product: SandboxedProduct,
    report: Report,
    accounts: tuple[Any, Any],
    acme: dict[str, Any],
    acme_id: str,
    *,
    api: Api,
) -> None:
    """Ann and Bob of one company each order; then Ann, its first contact, is its customer's person."""
    hubspot, quickbooks = accounts
    kit = hubspot.create("products", {"name": "Gutter kit", "price": "120"})
    product.settle()
    actions = product.register_actions()
    people, outputs = [], []
    for name in ("ann", "bob"):  # each orders: a deal of the company and the person, billed by the workflow action
        person = hubspot.create("contacts", {"email": f"{name}@acme-roofing.com", "firstname": name.title()})
        hubspot.associate("contacts", person["id"], "companies", acme["id"])
        deal = hubspot.create("deals", {"dealname": f"{name.title()}'s gutters", "dealstage": "closedwon"})
        hubspot.associate("deals", deal["id"], "companies", acme["id"])
        hubspot.associate("deals", deal["id"], "contacts", person["id"])
        item_line = hubspot.create(
            "line_items", {"name": "Gutter kit", "quantity": "1", "price": "120", "hs_product_id": kit["id"]}
        )
        hubspot.associate("line_items", item_line["id"], "deals", deal["id"])
        answer = hubspot.run_action(actions["create-invoice"], deal["id"], {}, callback_id=f"business-{name}")
        people.append(person)
        outputs.append(dict(answer["response"]["outputFields"]))
    product.settle()
    made = [_invoice(quickbooks, o.get("qbo_invoice_id", "")) for o in outputs]
    acme_named = [c["DisplayName"] for c in quickbooks.records("Customer") if str(c["DisplayName"]).startswith("Acme")]
    errors = api("GET", "/api/errors?limit=50")["items"]
    report.check(
        "two people of one company: both orders bill its one customer, no name collision",
        [o.get("hs_execution_state") for o in outputs] == ["SUCCESS", "SUCCESS"]
        and [(m.get("CustomerRef") or {}).get("value") for m in made] == [acme_id, acme_id]
        and [(m.get("BillEmail") or {}).get("Address") for m in made] == [p["properties"]["email"] for p in people]
        and acme_named == ["Acme Roofing"]
        and not errors,
        f"Ann's and Bob's deals with Acme Roofing → invoices {', '.join(str(m.get('DocNumber')) for m in made)} "
        f"to the one customer {', '.join(acme_named)}, each emailed to the person who ordered; "
        f"{len(errors)} sync errors",
    )

    _person_both_ways(product, report, accounts, people[0], acme_id)


def _person_both_ways(
    product: SandboxedProduct, report: Report, accounts: tuple[Any, Any], ann: dict[str, Any], customer_id: str
) -> None:
    """The company's first contact (Ann, added before Bob) is its customer's person: her name and email."""
    hubspot, quickbooks = accounts
    hubspot.update("contacts", ann["id"], {"lastname": "Hill"})
    product.settle()
    named: dict[str, Any] = next((c for c in quickbooks.records("Customer") if c["Id"] == customer_id), {})
    quickbooks.update("Customer", customer_id, {"PrimaryEmailAddr": {"Address": "ann.hill@acme-roofing.com"}})
    product.settle()
    contact: dict[str, Any] = next((c for c in hubspot.records("contacts") if c["id"] == ann["id"]), {"properties": {}})
    person = (named.get("GivenName"), named.get("FamilyName"), (named.get("PrimaryEmailAddr") or {}).get("Address"))
    report.check(
        "the company's first contact is its customer's person, both ways",
        person == ("Ann", "Hill", "ann@acme-roofing.com")
        and contact["properties"].get("email") == "ann.hill@acme-roofing.com",
        f"Ann (Acme Roofing's first contact) renamed Hill in HubSpot → customer Acme Roofing's person "
        f"{' '.join(str(p) for p in person)}; its email changed in QuickBooks → Ann's contact "
        f"{contact['properties'].get('email')}",
    )


def _invoice(quickbooks: Any, invoice_id: str) -> dict[str, Any]:
    return next((i for i in quickbooks.records("Invoice") if i["Id"] == invoice_id), {})
