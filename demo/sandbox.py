"""The two emulators the product runs against, seeded with a small company."""

import requests

from demo.report import Report
from devstack.sandboxed import SandboxedProduct
from sandbox.seed import seed_small_company


def run(product: SandboxedProduct, report: Report) -> None:
    report.section("Sandbox: HubSpot and QuickBooks Online emulators, seeded with a small company")
    assert product.hubspot is not None
    assert product.quickbooks is not None
    hubspot_url, qbo_url, realm = product.hubspot.url, product.quickbooks.url, product.credentials.realm_id
    report.say(f"HubSpot     {hubspot_url}  (portal {product.credentials.portal_id})")
    report.say(f"QuickBooks  {qbo_url}  (realm {realm})")
    seeded = seed_small_company(product.hubspot_admin, product.quickbooks_admin)
    summary = seeded.summary()
    report.facts["seeded"] = summary
    report.say(", ".join(f"{name} {count}" for name, count in summary.items()))
    report.check(
        "HubSpot seeded",
        summary["contacts"] >= 200
        and summary["products"] == 20
        and summary["deals"] >= 30
        and summary["line_items"] > 0,
        f"{summary['contacts']} contacts, {summary['products']} products, {summary['deals']} deals with "
        f"{summary['line_items']} line items",
    )
    report.check(
        "QuickBooks seeded",
        summary["customers"] >= 150 and summary["invoices"] > 0 and summary["payments"] > 0,
        f"{summary['customers']} customers ({summary['shared_emails']} share an email with a contact), "
        f"{summary['items']} items, {summary['invoices']} invoices, {summary['payments']} payments",
    )

    headers = {"Authorization": f"Bearer {product.credentials.dev_token}"}
    search = requests.post(
        f"{hubspot_url}/crm/v3/objects/contacts/search",
        headers=headers,
        timeout=10,
        json={
            "filterGroups": [
                {"filters": [{"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "*@example.com"}]}
            ],
            "limit": 1,
        },
    )
    query = requests.get(
        f"{qbo_url}/v3/company/{realm}/query",
        headers=headers,
        timeout=10,
        params={"query": "select COUNT(*) from Invoice where Balance > '0'"},
    )
    report.check(
        "APIs answer in the providers' shapes",
        search.status_code == 200 and query.status_code == 200,
        f"HubSpot search total {search.json().get('total')}; QBO open invoices "
        f"{query.json()['QueryResponse'].get('totalCount')}",
    )
    limited = [
        requests.get(f"{qbo_url}/v3/company/{realm}/preferences", headers=headers, timeout=10).status_code
        for _ in range(12)
    ]
    report.check(
        "QBO rate limit enforced",
        429 in limited,
        f"12 calls in a burst: {limited.count(200)} answered, {limited.count(429)} throttled (10/s)",
    )
