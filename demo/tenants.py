"""Several connections side by side: another user installs hubbooks for another HubSpot portal and
QuickBooks company; its records sync within that pair, and nothing crosses to the first connection."""

from typing import Any

from demo.first_day import Api, set_up
from demo.report import Report
from devstack.browser import Browser
from devstack.sandboxed import SandboxedProduct

PORTAL, REALM = 8_900_001, "8900000000001"


def _emails(customers: list[dict[str, Any]]) -> set[str]:
    return {str((c.get("PrimaryEmailAddr") or {}).get("Address", "")) for c in customers}


def run(product: SandboxedProduct, report: Report, first_connection_id: str) -> None:
    report.section("Several connections: a second portal and company, kept apart")
    hubspot, quickbooks = product.add_accounts(PORTAL, REALM)
    browser = Browser()
    product.sign_in(browser, PORTAL, REALM)
    _, final = product.connect(browser)
    connection = browser.get(f"{product.devstack.gateway_url}/api/connection").json()
    report.check(
        "a second user connects another portal and company",
        final.status_code == 200
        and (connection["portal_id"], connection["realm_id"]) == (PORTAL, REALM)
        and connection["connection_id"] != first_connection_id,
        f"connection {connection['connection_id'][:8]}… for portal {PORTAL} and company {REALM}, beside "
        f"{first_connection_id[:8]}…",
    )

    set_up(Api(product, browser), "contacts")
    product.settle()
    hubspot.create("contacts", {"email": "second.tenant@example.com", "firstname": "Sol", "lastname": "Second"})
    quickbooks.create(
        "Customer", {"DisplayName": "Tenant Two Books", "PrimaryEmailAddr": {"Address": "tenant.two@example.com"}}
    )
    product.settle()
    own_contacts = {str(r["properties"].get("email")) for r in hubspot.records("contacts")}
    own_customers = _emails(quickbooks.records("Customer"))
    report.check(
        "its records sync within its own portal and company",
        {"second.tenant@example.com", "tenant.two@example.com"} <= own_contacts & own_customers,
        f"portal {PORTAL}: {len(own_contacts)} contacts, company {REALM}: {len(own_customers)} customers, "
        "the same two people on both sides",
    )
    crossed = {"second.tenant@example.com", "tenant.two@example.com"} & (
        _emails(product.quickbooks_admin.records("Customer"))
        | {str(r["properties"].get("email")) for r in product.hubspot_admin.records("contacts")}
    )
    report.check(
        "nothing crosses to the first connection",
        not crossed,
        f"the first portal ({len(product.hubspot_admin.records('contacts'))} contacts) and the first company "
        f"({len(product.quickbooks_admin.records('Customer'))} customers) hold none of the second connection's "
        "people" + (f"; crossed: {sorted(crossed)}" if crossed else ""),
    )
