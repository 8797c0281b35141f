"""The two emulators the product runs against: seeded with a small company, signing their webhooks."""

from dataclasses import dataclass

import requests

from demo.report import Report
from sandbox.client import HubSpotAdmin, QuickBooksAdmin
from sandbox.http import RunningServer, serve
from sandbox.hubspot.app import HubSpotEmulator
from sandbox.quickbooks.app import QuickBooksEmulator
from sandbox.seed import seed_small_company

PORTAL_ID = 4_455_001
REALM_ID = "9341455900001"
DEV_TOKEN = "demo-dev-token"  # noqa: S105 - the emulators' test token
CLIENT_ID = "hubbooks-demo"
CLIENT_SECRET = "hubbooks-demo-secret"  # noqa: S105
VERIFIER_TOKEN = "hubbooks-demo-verifier"  # noqa: S105


@dataclass
class Sandboxes:
    hubspot: RunningServer
    quickbooks: RunningServer

    @property
    def hubspot_admin(self) -> HubSpotAdmin:
        return HubSpotAdmin(self.hubspot.url)

    @property
    def quickbooks_admin(self) -> QuickBooksAdmin:
        return QuickBooksAdmin(self.quickbooks.url)

    def stop(self) -> None:
        self.hubspot.stop()
        self.quickbooks.stop()


def start(time_scale: float = 1.0) -> Sandboxes:
    hubspot = serve(
        HubSpotEmulator(
            portal_id=PORTAL_ID,
            dev_token=DEV_TOKEN,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            time_scale=time_scale,
        )
    )
    quickbooks = serve(
        QuickBooksEmulator(
            realm_id=REALM_ID,
            dev_token=DEV_TOKEN,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            verifier_token=VERIFIER_TOKEN,
            time_scale=time_scale,
        )
    )
    return Sandboxes(hubspot, quickbooks)


def run(sandboxes: Sandboxes, report: Report) -> None:
    report.section("Sandbox: HubSpot and QuickBooks Online emulators, seeded with a small company")
    report.say(f"HubSpot     {sandboxes.hubspot.url}  (portal {PORTAL_ID})")
    report.say(f"QuickBooks  {sandboxes.quickbooks.url}  (realm {REALM_ID})")
    seeded = seed_small_company(sandboxes.hubspot_admin, sandboxes.quickbooks_admin)
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

    headers = {"Authorization": f"Bearer {DEV_TOKEN}"}
    search = requests.post(
        f"{sandboxes.hubspot.url}/crm/v3/objects/contacts/search",
        headers=headers,
        timeout=10,
        json={
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "*@example.com"}
                    ]
                }
            ],
            "limit": 1,
        },
    )
    query = requests.get(
        f"{sandboxes.quickbooks.url}/v3/company/{REALM_ID}/query",
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
        requests.get(
            f"{sandboxes.quickbooks.url}/v3/company/{REALM_ID}/preferences", headers=headers, timeout=10
        ).status_code
        for _ in range(12)
    ]
    report.check(
        "QBO rate limit enforced",
        429 in limited,
        f"12 calls in a burst: {limited.count(200)} answered, {limited.count(429)} throttled (10/s)",
    )
