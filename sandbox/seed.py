"""A realistic small company on both sides, generated from a seed: the demo's and tests' starting data.

HubSpot: contacts, products, open and closed deals with line items. QuickBooks: customers (half of them
sharing an email with a contact, some with a differently cased email), products and services (most
sharing a SKU or a name with a product), invoices of every state, and partial and full payments.
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sandbox.client import HubSpotAdmin, QuickBooksAdmin

FIRST = [
    "Ava",
    "Ben",
    "Chloe",
    "Dan",
    "Ella",
    "Finn",
    "Grace",
    "Hugo",
    "Iris",
    "Jack",
    "Kate",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Paul",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Umar",
    "Vera",
    "Will",
    "Xena",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Adams",
    "Baker",
    "Clark",
    "Diaz",
    "Evans",
    "Fox",
    "Garcia",
    "Hill",
    "Ito",
    "Jones",
    "Khan",
    "Lopez",
    "Moore",
    "Nolan",
    "Ortiz",
    "Patel",
    "Quinn",
    "Reyes",
    "Smith",
    "Turner",
    "Usman",
    "Vance",
    "Wong",
    "Young",
]
COMPANIES = [
    "Acme Plumbing",
    "Birch & Co",
    "Cobalt Labs",
    "Delta Freight",
    "Evergreen Dental",
    "Falcon Print",
    "Granite Legal",
    "Harbor Cafe",
    "Indigo Studio",
    "Juniper Farms",
    "Kestrel Air",
    "Lumen Solar",
]
CITIES = [
    ("Austin", "TX", "78701"),
    ("Denver", "CO", "80202"),
    ("Portland", "OR", "97204"),
    ("Boston", "MA", "02108"),
    ("Madison", "WI", "53703"),
    ("Raleigh", "NC", "27601"),
]
PRODUCTS = [
    ("Website audit", "SVC-AUDIT", 450, "service"),
    ("Logo design", "SVC-LOGO", 800, "service"),
    ("Hosting (monthly)", "SVC-HOST", 35, "service"),
    ("Consulting hour", "SVC-HOUR", 150, "service"),
    ("Training day", "SVC-TRAIN", 1200, "service"),
    ("Support plan", "SVC-SUPPORT", 99, "service"),
    ("SEO package", "SVC-SEO", 650, "service"),
    ("Copywriting", "SVC-COPY", 300, "service"),
    ("Brand guide", "SVC-BRAND", 950, "service"),
    ("Photo shoot", "SVC-PHOTO", 700, "service"),
    ("USB keyboard", "HW-KBD", 49, "non_inventory"),
    ("Wireless mouse", "HW-MOUSE", 29, "non_inventory"),
    ("Monitor 27in", "HW-MON27", 329, "non_inventory"),
    ("Laptop stand", "HW-STAND", 59, "non_inventory"),
    ("Webcam HD", "HW-CAM", 89, "non_inventory"),
    ("Headset", "HW-HEAD", 119, "non_inventory"),
    ("Docking station", "HW-DOCK", 229, "non_inventory"),
    ("Cable kit", "HW-CABLE", 19, "non_inventory"),
    ("Printer paper", "SUP-PAPER", 12, "non_inventory"),
    ("Toner", "SUP-TONER", 79, "non_inventory"),
]


@dataclass
class SeededCompany:
    contacts: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    deals: list[str] = field(default_factory=list)
    line_items: list[str] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    invoices: list[str] = field(default_factory=list)
    payments: list[str] = field(default_factory=list)
    shared_emails: int = 0

    def summary(self) -> dict[str, int]:
        return {name: len(value) if isinstance(value, list) else value for name, value in vars(self).items()}


def _people(rng: random.Random, count: int) -> list[dict[str, str]]:
    people: list[dict[str, str]] = []
    used: set[str] = set()
    while len(people) < count:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        domain = rng.choice(["example.com", "mail.example", "corp.example"])
        email = f"{first}.{last}{len(people)}@{domain}".lower()
        if email in used:
            continue
        used.add(email)
        city, state, zip_code = rng.choice(CITIES)
        people.append(
            {
                "firstname": first,
                "lastname": last,
                "email": email,
                "phone": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                "company": rng.choice(COMPANIES),
                "address": f"{rng.randint(1, 999)} Main St",
                "city": city,
                "state": state,
                "zip": zip_code,
                "country": "United States",
            }
        )
    return people


def seed_small_company(
    hubspot: HubSpotAdmin,
    quickbooks: QuickBooksAdmin,
    seed: int = 7,
    contacts: int = 200,
    customers: int = 150,
) -> SeededCompany:
    rng = random.Random(seed)  # noqa: S311 - reproducible sample data
    result = SeededCompany()
    people = _people(rng, contacts + customers // 2)
    in_hubspot = people[:contacts]
    result.contacts = hubspot.seed({"contacts": in_hubspot})["contacts"]
    result.products = hubspot.seed(
        {
            "products": [
                {
                    "name": name,
                    "hs_sku": sku,
                    "price": str(price),
                    "hs_product_type": kind,
                    "description": f"{name} from the catalogue",
                    "hs_cost_of_goods_sold": str(round(price * 0.4, 2)),
                }
                for name, sku, price, kind in PRODUCTS
            ]
        }
    )["products"]
    deals = []
    for index in range(30):
        contact_id = rng.choice(result.contacts)
        stage = rng.choice(["appointmentscheduled", "qualifiedtobuy", "contractsent", "closedwon", "closedlost"])
        deals.append(
            {
                "properties": {
                    "dealname": f"Deal {index + 1}",
                    "dealstage": stage,
                    "pipeline": "default",
                    "amount": "0",
                },
                "associations": [{"type": "contacts", "id": contact_id}],
            }
        )
    result.deals = hubspot.seed({"deals": deals})["deals"]
    lines = []
    for deal_id in result.deals:
        for _ in range(rng.randint(1, 3)):
            product_index = rng.randrange(len(PRODUCTS))
            name, sku, price, _kind = PRODUCTS[product_index]
            lines.append(
                {
                    "properties": {
                        "name": name,
                        "hs_sku": sku,
                        "price": str(price),
                        "quantity": str(rng.randint(1, 4)),
                        "hs_product_id": result.products[product_index],
                    },
                    "associations": [{"type": "deals", "id": deal_id}],
                }
            )
    result.line_items = hubspot.seed({"line_items": lines})["line_items"]

    # QuickBooks: half the customers are people HubSpot knows (same email, sometimes cased differently).
    shared = in_hubspot[: customers // 2]
    only_qbo = people[contacts : contacts + customers - len(shared)]
    qbo_customers = []
    for index, person in enumerate(shared + only_qbo):
        email = person["email"].upper() if index % 10 == 0 else person["email"]
        qbo_customers.append(
            {
                "DisplayName": f"{person['firstname']} {person['lastname']} ({index + 1})",
                "GivenName": person["firstname"],
                "FamilyName": person["lastname"],
                "CompanyName": person["company"],
                "PrimaryEmailAddr": {"Address": email},
                "PrimaryPhone": {"FreeFormNumber": person["phone"]},
                "BillAddr": {
                    "Line1": person["address"],
                    "City": person["city"],
                    "CountrySubDivisionCode": person["state"],
                    "PostalCode": person["zip"],
                    "Country": "USA",
                },
            }
        )
    result.shared_emails = len(shared)
    # Some items differ from HubSpot's products in letter case, and some have no SKU: matched by name.
    qbo_items = [
        {
            "Name": name if index % 3 else name.lower(),
            "Sku": sku if index % 4 else None,
            "UnitPrice": price,
            "Type": "Service" if kind == "service" else "NonInventory",
            "IncomeAccountRef": {"value": "1" if kind == "service" else "79"},
            "Description": f"{name} from the catalogue",
        }
        for index, (name, sku, price, kind) in enumerate(PRODUCTS[:15])
    ]
    created = quickbooks.seed(
        {
            "Customer": qbo_customers,
            "Item": [{k: v for k, v in i.items() if v is not None} for i in qbo_items],
        }
    )
    result.customers, result.items = created["Customer"], created["Item"]
    invoices: list[dict[str, Any]] = []
    for number in range(60):
        customer = rng.choice(result.customers)
        invoice_lines = [
            {
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {
                    "ItemRef": {"value": rng.choice(result.items)},
                    "Qty": rng.randint(1, 3),
                },
            }
            for _ in range(rng.randint(1, 3))
        ]
        invoice: dict[str, Any] = {"CustomerRef": {"value": customer}, "Line": invoice_lines}
        if number % 6 == 0:  # issued two months ago: overdue unless paid
            invoice["TxnDate"] = (date.today() - timedelta(days=60)).isoformat()
        invoices.append(invoice)
    result.invoices = quickbooks.seed({"Invoice": invoices})["Invoice"]
    all_invoices = {i["Id"]: i for i in quickbooks.records("Invoice")}
    payments = []
    for invoice_id in rng.sample(result.invoices, 25):
        invoice = all_invoices[invoice_id]
        amount = invoice["TotalAmt"] if rng.random() < 0.6 else round(invoice["TotalAmt"] / 2, 2)
        payments.append(
            {
                "CustomerRef": {"value": invoice["CustomerRef"]["value"]},
                "TotalAmt": amount,
                "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}],
            }
        )
    result.payments = quickbooks.seed({"Payment": payments})["Payment"]
    paid = {p["Line"][0]["LinkedTxn"][0]["TxnId"] for p in payments}
    for invoice_id in [i for i in result.invoices if i not in paid][:2]:
        quickbooks.void("Invoice", invoice_id)
    return result
