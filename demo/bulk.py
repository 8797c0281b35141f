"""Bulk changes: an import of contacts into HubSpot arrives in QuickBooks through webhooks and the live path,
read, matched and created in bulk at QuickBooks' batch ceiling, each contact created and linked once."""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from demo.report import Report
from devstack.sandboxed import SandboxedProduct

IMPORTED = 300
QBO_CEILING_PER_MINUTE = 40 * 30  # QuickBooks' batch limit: 40 calls a minute of 30 operations
# A few hundred records are a few batch calls: the first waits for nothing, so a short import's rate carries
# its start and end; what is checked is that create calls are full and the rate near the ceiling.
FULL_ENOUGH = 25  # records a create call, of 30
AT_THE_CEILING = 0.8


def run(product: SandboxedProduct, report: Report) -> None:
    report.section("Bulk changes: an import of contacts through the live path, at QuickBooks' batch ceiling")
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
    queries = _posts(calls, "/query")
    batches = [c for c in calls if c["method"] == "POST" and c["path"].split("?")[0].endswith("/batch")]
    singles = _posts(calls, "/customer")
    throttled = sum(1 for c in calls if c["status"] == 429)
    per_minute = len(linked) / seconds * 60
    report.check(
        "an import arrives through the live path at QuickBooks' batch ceiling",
        len(linked) == IMPORTED == len(customers) == len(set(linked.values()))
        and {c["id"] for c in made} == set(linked)
        and throttled == 0
        and IMPORTED / max(len(batches) + singles, 1) >= FULL_ENOUGH
        and per_minute >= AT_THE_CEILING * QBO_CEILING_PER_MINUTE,
        f"{IMPORTED} contacts created in HubSpot with webhooks on: all in QuickBooks after {seconds:.0f} s "
        f"({per_minute:.0f} records/min, {per_minute / QBO_CEILING_PER_MINUTE:.0%} of the 1,200 a minute "
        f"QuickBooks' batch limit allows), each created and linked once; {len(batches)} batch calls and "
        f"{singles} single creates ({IMPORTED / max(len(batches) + singles, 1):.1f} records a create call), "
        f"{queries} queries, {throttled} answered 429",
    )


def _posts(calls: list[dict[str, Any]], path_end: str) -> int:
    return sum(1 for c in calls if c["method"] == "POST" and c["path"].split("?")[0].endswith(path_end))
