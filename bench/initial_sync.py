"""Initial sync both ways against the APIs' limits (the sandbox's, at a time scale), beside the ceiling those
limits allow and a naive peer on the same data: records per minute in sandbox time, API calls per record,
and the share of calls answered 429."""

import time
import uuid
from dataclasses import dataclass
from typing import Any

from bench.naive import NaivePeer
from bench.results import Metric
from devstack.runtime import function_environment
from devstack.sandboxed import SandboxedProduct
from hubbooks import wiring
from hubbooks.models.signals import Pair
from hubbooks.store.jobs import JobRepository
from tests.support.product import install

# QBO: 40 batch requests a minute x 30 operations each. HubSpot: 110 requests per 10 s x 100 records a batch.
QBO_CEILING_PER_MINUTE = 40 * 30
HUBSPOT_CEILING_PER_MINUTE = 110 * 6 * 100


@dataclass(frozen=True)
class Direction:
    name: str  # "HubSpot -> QBO"
    source: str  # where the records are seeded
    ceiling: float

    def seed(self, product: SandboxedProduct, people: int) -> None:
        if self.source == "hubspot":
            contacts = [
                {"email": f"p{n}@example.com", "firstname": f"P{n}", "lastname": "Bench"} for n in range(people)
            ]
            product.hubspot_admin.seed({"contacts": contacts})
        else:
            customers = [
                {
                    "DisplayName": f"Person {n}",
                    "GivenName": f"P{n}",
                    "FamilyName": "Bench",
                    "PrimaryEmailAddr": {"Address": f"p{n}@example.com"},
                }
                for n in range(people)
            ]
            product.quickbooks_admin.seed({"Customer": customers})

    def created(self, product: SandboxedProduct) -> int:
        if self.source == "hubspot":
            return len(product.quickbooks_admin.records("Customer"))
        return len(product.hubspot_admin.records("contacts"))


DIRECTIONS = (
    Direction("HubSpot -> QBO", "hubspot", QBO_CEILING_PER_MINUTE),
    Direction("QBO -> HubSpot", "quickbooks", HUBSPOT_CEILING_PER_MINUTE),
)


def _install(product: SandboxedProduct) -> str:
    return str(install(product)[1]["connection_id"])


def _calls(product: SandboxedProduct) -> list[dict[str, Any]]:
    return product.quickbooks_admin.calls() + product.hubspot_admin.calls()


def _hubbooks(product: SandboxedProduct, direction: Direction, people: int) -> tuple[float, int, list[dict[str, Any]]]:
    """Wall seconds of the job, records created, calls made."""
    direction.seed(product, people)
    connection_id = _install(product)
    product.hubspot_admin.clear_calls()
    product.quickbooks_admin.clear_calls()
    started = time.monotonic()
    job_id = product.devstack.invoke(
        "ReconcileFunction", {"action": "initial_sync", "connection_id": connection_id, "pair": "contacts"}
    )["job_id"]
    with function_environment(product.devstack.runtimes["SyncWorkerFunction"].spec.environment):
        jobs = JobRepository(wiring.table(), connection_id)
        while time.monotonic() - started < 1800:
            progress = jobs.get(Pair.CONTACTS, job_id)
            if progress is not None and progress.status == "finished":
                break
            time.sleep(0.25)
    elapsed = time.monotonic() - started
    return elapsed, direction.created(product), _calls(product)


def _naive(product: SandboxedProduct, direction: Direction, people: int, seconds: float) -> tuple[float, int, int, int]:
    """The naive peer on the same data in fresh sandboxes, for a bounded time: wall seconds, records created,
    calls made, calls answered 429."""
    for admin in (product.hubspot_admin, product.quickbooks_admin):
        admin.reset()
        admin.configure_webhooks(enabled=False)
    direction.seed(product, people)
    assert product.hubspot is not None
    assert product.quickbooks is not None
    c = product.credentials
    peer = NaivePeer(product.hubspot.url, product.quickbooks.url, c.realm_id, c.dev_token, product.sandbox_time_scale)
    started = time.monotonic()
    copy = peer.contacts_to_customers if direction.source == "hubspot" else peer.customers_to_contacts
    created = copy(started + seconds)
    return time.monotonic() - started, created, peer.calls, peer.throttled


def measure(people: int, time_scale: float, naive_seconds: float) -> list[Metric]:
    metrics: list[Metric] = []
    for direction in DIRECTIONS:
        with SandboxedProduct(
            stack_name=f"bench-is-{uuid.uuid4().hex[:6]}",
            run_schedules=False,
            log_level="WARNING",
            sandbox_time_scale=time_scale,
            function_environment={"POWERTOOLS_METRICS_DISABLED": "true"},
        ) as product:
            elapsed, created, calls = _hubbooks(product, direction, people)
            naive_elapsed, naive_created, naive_calls, naive_throttled = _naive(
                product, direction, people, naive_seconds
            )
        minutes = elapsed / time_scale / 60  # sandbox time
        per_minute = created / minutes
        naive_per_minute = naive_created / (naive_elapsed / time_scale / 60)
        throttled = sum(1 for c in calls if c.get("status") == 429)
        scale = f"sandbox limits at time scale {time_scale:g}, rates in sandbox time"
        metrics += [
            Metric(
                f"initial sync {direction.name} throughput",
                round(per_minute),
                "records/min",
                naive=round(naive_per_minute),
                ceiling=direction.ceiling,
                higher_is_better=True,
                note=f"{created} records created in {elapsed:.1f} s wall: {per_minute / direction.ceiling:.0%} of "
                f"the ceiling; the naive peer created {naive_created} in {naive_elapsed:.0f} s wall; {scale}",
            ),
            Metric(
                f"initial sync {direction.name} API calls per record",
                round(len(calls) / max(created, 1), 3),
                "calls",
                naive=round(naive_calls / max(naive_created, 1), 3),
                note="HubSpot and QBO calls together, from the job's start",
            ),
            Metric(
                f"initial sync {direction.name} calls answered 429",
                round(100 * throttled / max(len(calls), 1), 2),
                "%",
                naive=round(100 * naive_throttled / max(naive_calls, 1), 2),
                note=f"{throttled} of {len(calls)} (naive: {naive_throttled} of {naive_calls}); target < 1%",
            ),
        ]
    return metrics
