"""Initial sync, HubSpot → QuickBooks, against QuickBooks' limits as published (sandbox at real time):
records created per minute beside the ceiling of 40 batch calls x 30 records, API calls per record, and
the share of calls the sandbox answered 429."""

import time
import uuid

from bench.results import Metric
from devstack.browser import Browser
from devstack.sandboxed import SandboxedProduct

QBO_CEILING_PER_MINUTE = 40 * 30  # batch requests a minute x operations a batch


def _install(product: SandboxedProduct) -> str:
    browser = Browser()
    browser.get(f"{product.devstack.gateway_url}/connect/hubspot")
    return str(browser.get(f"{product.devstack.gateway_url}/api/connection").json()["connection_id"])


def measure(people: int) -> list[Metric]:
    with SandboxedProduct(
        stack_name=f"bench-is-{uuid.uuid4().hex[:6]}",
        run_schedules=False,
        log_level="WARNING",
        function_environment={"POWERTOOLS_METRICS_DISABLED": "true"},
    ) as product:
        contacts = [
            {"email": f"bench{n}@example.com", "firstname": f"B{n}", "lastname": "Bench"} for n in range(people)
        ]
        product.hubspot_admin.seed({"contacts": contacts})
        connection_id = _install(product)
        product.hubspot_admin.clear_calls()
        product.quickbooks_admin.clear_calls()
        started = time.monotonic()
        job_id = product.devstack.invoke(
            "ReconcileFunction", {"action": "initial_sync", "connection_id": connection_id, "pair": "contacts"}
        )["job_id"]
        while len(product.quickbooks_admin.records("Customer")) < people and time.monotonic() - started < 600:
            time.sleep(0.25)
        product.devstack.wait_idle(timeout=120)
        elapsed = time.monotonic() - started
        created = len(product.quickbooks_admin.records("Customer"))
        calls = product.quickbooks_admin.calls() + product.hubspot_admin.calls()
        throttled = sum(1 for c in calls if c.get("status") == 429)
    per_minute = created / elapsed * 60
    share = per_minute / QBO_CEILING_PER_MINUTE
    return [
        Metric(
            "initial sync HubSpot -> QBO throughput",
            round(per_minute),
            "records/min",
            ceiling=QBO_CEILING_PER_MINUTE,
            note=f"{created} contacts created as customers in {elapsed:.1f} s (job {job_id}): {share:.0%} of the "
            "ceiling of QBO's batch limits (40 x 30 a minute); sandbox at real limits; target ≥ 90%",
        ),
        Metric(
            "initial sync API calls per record",
            round(len(calls) / max(created, 1), 3),
            "calls",
            note="HubSpot and QBO calls together, from the job's start",
        ),
        Metric(
            "initial sync calls answered 429",
            round(100 * throttled / max(len(calls), 1), 2),
            "%",
            note=f"{throttled} of {len(calls)}; target < 1%",
        ),
    ]
