"""The initial sync over a company with overlapping data: everything linked or created once, counts exact,
progress monotonic, nothing lost."""

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.sandboxed import SandboxedProduct
from hubbooks import wiring
from hubbooks.models.signals import Pair
from hubbooks.store.jobs import JobRepository
from tests.support.product import as_function, checked_product, install, table_items

pytestmark = [pytest.mark.devstack, pytest.mark.slow]
# Contacts and customers each, half of them shared: the same paths as at any size (batches of 100, QuickBooks
# batch creates of 30, both sides, progress). `make soak` runs 3,000; `make bench` measures 10,000.
PEOPLE = int(os.environ.get("HUBBOOKS_INITIAL_SYNC_PEOPLE", "300"))


@pytest.fixture(scope="module")
def product() -> Iterator[SandboxedProduct]:
    with checked_product("is") as running:
        yield running


@pytest.fixture(scope="module")
def connection(product: SandboxedProduct) -> dict[str, Any]:
    contacts = [{"email": f"person{n}@example.com", "firstname": f"P{n}", "lastname": "Contact"} for n in range(PEOPLE)]
    customers = [
        {
            "DisplayName": f"Person {n}",
            "GivenName": f"P{n}",
            "FamilyName": "Customer",
            "PrimaryEmailAddr": {"Address": f"person{n}@example.com"},
        }
        for n in range(PEOPLE // 2, PEOPLE * 3 // 2)
    ]
    product.hubspot_admin.seed({"contacts": contacts})
    product.quickbooks_admin.seed({"Customer": customers})
    return install(product)[1]


def test_initial_sync_links_or_creates_everything_once(product: SandboxedProduct, connection: dict[str, Any]) -> None:
    cid = connection["connection_id"]
    answer = product.devstack.invoke(
        "ReconcileFunction", {"action": "initial_sync", "connection_id": cid, "pair": "contacts"}
    )
    job_id = answer["job_id"]
    seen: list[int] = []
    deadline = time.monotonic() + 600
    with as_function(product, "SyncWorkerFunction"):
        jobs = JobRepository(wiring.table(), cid)
        while time.monotonic() < deadline:
            progress = jobs.get(Pair.CONTACTS, job_id)
            assert progress is not None
            seen.append(progress.done)
            if progress.status == "finished":
                break
            time.sleep(0.5)
    assert progress.status == "finished", progress
    assert seen == sorted(seen)  # progress only moves forward
    assert progress.total == 2 * PEOPLE
    counts = progress.counts
    assert counts["done"] == 2 * PEOPLE
    assert counts["failed"] == 0
    assert counts["linked"] == PEOPLE // 2  # the shared half, matched by email
    assert counts["created"] == PEOPLE  # the other halves, created on the other side
    links = [i for i in table_items(product) if i["SK"]["S"].startswith("LINK#contacts#hs#")]
    assert len(links) == PEOPLE * 3 // 2
    customers = product.quickbooks_admin.records("Customer")
    contacts = product.hubspot_admin.records("contacts")
    emails = [str((c.get("PrimaryEmailAddr") or {}).get("Address", "")).lower() for c in customers]
    assert len(customers) == len(set(emails)) == PEOPLE * 3 // 2  # nobody twice, nobody lost
    assert len(contacts) == len({c["properties"]["email"] for c in contacts}) == PEOPLE * 3 // 2
    calls_made = product.quickbooks_admin.calls() + product.hubspot_admin.calls()
    assert [c for c in calls_made if c["status"] == 429] == []  # the rate budget waits instead
    calls = len(calls_made)
    print(f"initial sync of {2 * PEOPLE} records: {calls} API calls, {calls / (2 * PEOPLE):.2f} per record")
