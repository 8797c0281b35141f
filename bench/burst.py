"""Bulk changes through the live path: contacts created in HubSpot with webhooks on after the connection is
set up (an import), then customers edited in QuickBooks; records per minute in sandbox time beside the
ceiling the APIs' limits allow, calls per record and the share answered 429."""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench import cost
from bench.initial_sync import QBO_CEILING_PER_MINUTE
from bench.results import Metric
from devstack.meter import metering
from devstack.sandboxed import SandboxedProduct
from tests.support.product import install


def _linked(product: SandboxedProduct, run: str) -> dict[str, str]:
    """Contact id -> customer id, for the burst's contacts that are linked."""
    return {
        c["id"]: c["properties"]["qbo_customer_id"]
        for c in product.hubspot_admin.records("contacts")
        if c["properties"].get("lastname") == run and c["properties"].get("qbo_customer_id")
    }


def _wait(done: Any, timeout: float) -> float:
    """Look every 2 s: each look reads every contact of the run from the sandbox, in the product's own process
    (every 0.5 s, at 5,000 records, the looks took a third of that process); 2 s is under 1% of the run."""
    started = time.monotonic()
    while not done() and time.monotonic() - started < timeout:
        time.sleep(2.0)
    return time.monotonic() - started


def _calls(product: SandboxedProduct) -> list[dict[str, Any]]:
    return product.quickbooks_admin.calls() + product.hubspot_admin.calls()


def _figures(name: str, records: int, seconds: float, calls: list[dict[str, Any]], time_scale: float) -> list[Metric]:
    per_minute = records / (seconds / time_scale / 60)
    throttled = sum(1 for c in calls if c.get("status") == 429)
    batches = [c for c in calls if c["method"] == "POST" and c["path"].split("?")[0].endswith("/batch")]
    singles = sum(1 for c in calls if c["method"] == "POST" and c["path"].split("?")[0].endswith("/customer"))
    scale = f"sandbox limits at time scale {time_scale:g}, rates in sandbox time"
    metrics = [
        Metric(
            f"burst {name} throughput",
            round(per_minute),
            "records/min",
            ceiling=QBO_CEILING_PER_MINUTE,
            higher_is_better=True,
            note=f"{records} records in {seconds:.1f} s wall through webhooks and the live path: "
            f"{per_minute / QBO_CEILING_PER_MINUTE:.0%} of QuickBooks' batch ceiling; {scale}",
        ),
        Metric(
            f"burst {name} API calls per record",
            round(len(calls) / max(records, 1), 3),
            "calls",
            note="HubSpot and QBO calls together, from the first change",
        ),
        Metric(
            f"burst {name} calls answered 429",
            round(100 * throttled / max(len(calls), 1), 2),
            "%",
            note=f"{throttled} of {len(calls)}; target < 1%",
        ),
    ]
    if batches:  # creates towards QuickBooks
        metrics.append(
            Metric(
                f"burst {name} QBO batch calls a minute",
                round(len(batches) / (seconds / time_scale / 60), 1),
                "calls/min",
                ceiling=40,
                higher_is_better=True,
                note=f"{len(batches)} batch calls of {(records - singles) / len(batches):.1f} records, and {singles} "
                "records created alone (a pass's records past its last full call, while other passes spend the "
                "batch calls); the rate budget spends 38 of the 40 QuickBooks allows: an import at the ceiling "
                "spends them all",
            )
        )
    return metrics


def measure(records: int, time_scale: float = 1.0) -> list[Metric]:
    """At real limits by default: the ceiling is QuickBooks' batch limit in real time, and the import runs at
    it, so devstack must keep up in wall time (at half scale it would have to run twice as fast)."""
    with SandboxedProduct(
        stack_name=f"bench-burst-{uuid.uuid4().hex[:6]}",
        run_schedules=False,
        log_level="WARNING",
        sandbox_time_scale=time_scale,
        function_environment={"POWERTOOLS_METRICS_DISABLED": "true"},
    ) as product:
        product.connect_webhooks()
        install(product)
        run = uuid.uuid4().hex[:6]
        for admin in (product.hubspot_admin, product.quickbooks_admin):
            admin.clear_calls()
        marks = {name: len(runtime.invocations) for name, runtime in product.devstack.runtimes.items()}
        with metering(product.devstack.endpoint) as meter:
            metrics, synced = _both_ways(product, records, run, time_scale)
        metrics += cost.metrics(
            meter,
            cost.invocations_since(product.devstack.runtimes, marks),
            synced,
            "contacts imported into QuickBooks, then edited there and brought back",
        )
    return metrics


def _both_ways(product: SandboxedProduct, records: int, run: str, time_scale: float) -> tuple[list[Metric], int]:
    """The import, then the edits; answers their figures and how many records were synced."""
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(
                lambda n: product.hubspot_admin.create(
                    "contacts", {"email": f"b{n}@{run}.example.com", "firstname": f"B{n}", "lastname": run}
                ),
                range(records),
            )
        )
    _wait(lambda: len(_linked(product, run)) >= records, 3600)
    created_in = time.monotonic() - started
    linked = _linked(product, run)
    metrics = _figures("HubSpot -> QBO (new contacts)", len(linked), created_in, _calls(product), time_scale)
    product.settle(timeout=600)  # the creates' own echoes
    for admin in (product.hubspot_admin, product.quickbooks_admin):
        admin.clear_calls()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(
                lambda customer: product.quickbooks_admin.update("Customer", customer, {"GivenName": f"E{run}"}),
                linked.values(),
            )
        )

    def edited() -> int:
        return sum(
            1 for c in product.hubspot_admin.records("contacts") if c["properties"].get("firstname") == f"E{run}"
        )

    _wait(lambda: edited() >= len(linked), 3600)
    metrics += _figures("QBO -> HubSpot (edits)", edited(), time.monotonic() - started, _calls(product), time_scale)
    return metrics, len(linked) + edited()
