"""Bulk changes: an import of contacts into HubSpot arrives in QuickBooks through webhooks and the live path,
read and matched in bulk, each contact created and linked once."""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from demo.report import Report
from devstack.sandboxed import SandboxedProduct

IMPORTED = 300
QBO_CEILING_PER_MINUTE = 40 * 30  # QuickBooks' batch limit: 40 calls a minute of 30 operations


def run(product: SandboxedProduct, report: Report) -> None:
    report.section("Bulk changes: an import of contacts through the live path, read and matched in bulk")
    hubspot, quickbooks = product.hubspot_admin, product.quickbooks_admin
    product.settle()
    run_id = uuid.uuid4().hex[:6]
    quickbooks.clear_calls()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        made = list(
            pool.map(
                lambda n: hubspot.create(
                    "contacts", {"email": f"import{n}@{run_id}.example.com", "firstname": f"Imp{n}", "lastname": run_id}
                ),
                range(IMPORTED),
            )
        )
    linked: dict[str, str] = {}
    while len(linked) < IMPORTED and time.monotonic() - started < 600:
        time.sleep(0.5)
        linked = {
            c["id"]: c["properties"]["qbo_customer_id"]
            for c in hubspot.records("contacts")
            if c["properties"].get("lastname") == run_id and c["properties"].get("qbo_customer_id")
        }
    seconds = time.monotonic() - started
    product.settle(timeout=300)
    customers = [c for c in quickbooks.records("Customer") if c.get("FamilyName") == run_id]
    calls = quickbooks.calls()
    queries = sum(1 for c in calls if c["method"] == "POST" and c["path"].split("?")[0].endswith("/query"))
    creates = sum(1 for c in calls if c["method"] == "POST" and c["path"].split("?")[0].endswith("/customer"))
    throttled = sum(1 for c in calls if c["status"] == 429)
    per_minute = len(linked) / seconds * 60
    report.check(
        "an import arrives through the live path, read in bulk",
        len(linked) == IMPORTED == len(customers) == len(set(linked.values())) == creates
        and {c["id"] for c in made} == set(linked)
        and throttled == 0
        and queries < IMPORTED / 2,  # matched a delivery at a time, not one record at a time
        f"{IMPORTED} contacts created in HubSpot with webhooks on: all in QuickBooks after {seconds:.0f} s "
        f"({per_minute:.0f} records/min, {per_minute / QBO_CEILING_PER_MINUTE:.0%} of QuickBooks' batch ceiling), "
        f"each created and linked once; {len(calls)} QuickBooks calls: {queries} queries matched what each "
        f"delivery held ({IMPORTED / max(queries, 1):.1f} records a query), {creates} creates (one each, so a "
        f"lost answer is replayed), {throttled} answered 429",
    )
