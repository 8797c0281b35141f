"""Bulk changes through the live path: webhooks that arrive together are reconciled together, with bulk reads
and writes, each record linked once."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from devstack.browser import Browser
from devstack.sandboxed import SandboxedProduct
from tests.support.product import connect_webhooks, install, settle, table_items

pytestmark = [pytest.mark.devstack, pytest.mark.slow]

BURST = 60  # an import's worth of webhooks for the suite; `make bench` sends thousands


@pytest.fixture(scope="module")
def signed_in(product: SandboxedProduct) -> tuple[Browser, dict[str, Any]]:
    connect_webhooks(product)
    return install(product)


@pytest.fixture(scope="module")
def connection(signed_in: tuple[Browser, dict[str, Any]]) -> dict[str, Any]:
    return signed_in[1]


def _links(product: SandboxedProduct) -> dict[str, str]:
    return {
        i["SK"]["S"].rsplit("#", 1)[1]: i["other_id"]["S"]
        for i in table_items(product)
        if i["SK"]["S"].startswith("LINK#contacts#hs#")
    }


def _posts(calls: list[dict[str, Any]], path_end: str) -> int:
    return sum(1 for c in calls if c["method"] == "POST" and c["path"].split("?")[0].endswith(path_end))


def test_an_import_of_contacts_arrives_in_bulk_each_linked_once(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    run = uuid.uuid4().hex[:6]
    product.quickbooks_admin.clear_calls()
    with ThreadPoolExecutor(max_workers=8) as pool:
        made = list(
            pool.map(
                lambda n: product.hubspot_admin.create(
                    "contacts", {"email": f"i{n}@{run}.example.com", "firstname": f"Imported{n}", "lastname": run}
                ),
                range(BURST),
            )
        )
    settle(product, timeout=300)
    links = _links(product)
    assert [c["id"] for c in made if c["id"] not in links] == []
    customers = [c for c in product.quickbooks_admin.records("Customer") if c.get("FamilyName") == run]
    assert len(customers) == BURST  # no duplicates
    assert {links[c["id"]] for c in made} == {c["Id"] for c in customers}
    calls = product.quickbooks_admin.calls()
    # Webhooks that arrived together travel as one message: matched in bulk and created in batch calls (each
    # record's batch noted first, so a retry whose answer was lost asks for that batch's answer again).
    print("bulk import calls:", {p: _posts(calls, p) for p in ("/query", "/customer", "/batch")})
    assert _posts(calls, "/query") < BURST / 3
    assert _posts(calls, "/batch") > 0
    assert _posts(calls, "/customer") < BURST / 2
    assert [c for c in calls if c["status"] == 429] == []


def test_an_import_of_customers_arrives_in_hubspot_in_batches(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    run = uuid.uuid4().hex[:6]
    product.hubspot_admin.clear_calls()
    with ThreadPoolExecutor(max_workers=8) as pool:
        made = list(
            pool.map(
                lambda n: product.quickbooks_admin.create(
                    "Customer",
                    {
                        "DisplayName": f"Q{n} {run}",
                        "FamilyName": run,
                        "PrimaryEmailAddr": {"Address": f"q{n}@{run}.example.com"},
                    },
                ),
                range(BURST),
            )
        )
    settle(product, timeout=300)
    linked = {qbo: hubspot for hubspot, qbo in _links(product).items()}
    assert [c["Id"] for c in made if c["Id"] not in linked] == []
    contacts = [c for c in product.hubspot_admin.records("contacts") if c["properties"].get("lastname") == run]
    assert len(contacts) == BURST == len({linked[c["Id"]] for c in made})  # each once
    calls = product.hubspot_admin.calls()
    # Created in batch upserts on the customer id (a retry upserts the same contact), read in batches.
    assert _posts(calls, "/batch/upsert") > 0
    assert _posts(calls, "/crm/v3/objects/contacts") == 0
    assert [c for c in calls if c["status"] == 429] == []


def test_a_bulk_edit_in_quickbooks_reaches_hubspot_with_bulk_reads_and_writes(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    links = _links(product)
    pairs = list(links.items())[:30]
    product.hubspot_admin.clear_calls()
    product.quickbooks_admin.clear_calls()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(
                lambda pair: product.quickbooks_admin.update("Customer", pair[1], {"BillAddr": {"City": "Leeds"}}),
                pairs,
            )
        )
    settle(product, timeout=300)
    contacts = {c["id"]: c["properties"] for c in product.hubspot_admin.records("contacts")}
    assert [h for h, _ in pairs if contacts[h].get("city") != "Leeds"] == []
    # Each customer is not read on its own: the delivery's records come in one query.
    reads = [c for c in product.quickbooks_admin.calls() if c["method"] == "GET" and "/customer/" in c["path"]]
    assert len(reads) < len(pairs) / 2
    # Nor is each contact written and read back on its own: batch updates, and the history in batch reads.
    hubspot = [c for c in product.hubspot_admin.calls() if c["path"].startswith("/crm/v3/objects/contacts/")]
    singles = [c for c in hubspot if c["method"] in ("GET", "PATCH") and "/batch/" not in c["path"]]
    assert len(singles) < len(pairs) / 2
    assert _posts(hubspot, "/batch/update") < len(pairs) / 2


def test_a_bulk_edit_in_hubspot_reaches_quickbooks_in_batch_updates(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    pairs = list(_links(product).items())[:30]
    product.quickbooks_admin.clear_calls()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda pair: product.hubspot_admin.update("contacts", pair[0], {"city": "York"}), pairs))
    settle(product, timeout=300)
    customers = {c["Id"]: c for c in product.quickbooks_admin.records("Customer")}
    assert [q for _, q in pairs if customers[q].get("BillAddr", {}).get("City") != "York"] == []
    calls = product.quickbooks_admin.calls()
    singles = [c for c in calls if c["method"] == "POST" and c["path"].split("?")[0].endswith("/customer")]
    assert len(singles) < len(pairs) / 2
    assert 0 < _posts(calls, "/batch") < len(pairs) / 2


def test_a_person_editing_a_contact_while_a_batch_writes_it_keeps_the_edit(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    """HubSpot's batch update has no condition either: an edit a person makes between the worker's read and its
    batch write is found in the property's history and put back, then agreed as the newer edit."""
    pairs = list(_links(product).items())[-3:]
    contact, customer = pairs[0]
    product.hubspot_admin.add_fault("hold", count=1, method="POST", path="^/crm/v3/objects/contacts/batch/update$")

    def edit_while_the_batch_is_held() -> None:
        product.hubspot_admin.wait_held(timeout=120)
        product.hubspot_admin.update("contacts", contact, {"firstname": "Person"})
        product.hubspot_admin.release_held()

    person = ThreadPoolExecutor(max_workers=1).submit(edit_while_the_batch_is_held)
    for _, other in pairs:
        product.quickbooks_admin.update("Customer", other, {"GivenName": "Bookkeeper"})
    person.result(timeout=150)
    settle(product, timeout=300)
    contacts = {c["id"]: c["properties"] for c in product.hubspot_admin.records("contacts")}
    assert contacts[contact]["firstname"] == "Person"
    assert next(c for c in product.quickbooks_admin.records("Customer") if c["Id"] == customer)["GivenName"] == "Person"
    assert [contacts[h]["firstname"] for h, _ in pairs[1:]] == ["Bookkeeper", "Bookkeeper"]


def test_a_burst_for_a_pair_that_is_off_reads_and_writes_nothing(
    product: SandboxedProduct, signed_in: tuple[Browser, dict[str, Any]]
) -> None:
    browser, _ = signed_in
    base = product.devstack.gateway_url
    version = next(s for s in browser.get(f"{base}/api/syncs").json()["syncs"] if s["pair"] == "contacts")["version"]
    off = browser.request("PUT", f"{base}/api/syncs/contacts", json={"version": version, "enabled": False})
    assert off.status_code == 200, off.text
    run = uuid.uuid4().hex[:6]
    for admin in (product.hubspot_admin, product.quickbooks_admin):
        admin.clear_calls()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(
                lambda n: product.quickbooks_admin.create(
                    "Customer",
                    {"DisplayName": f"Off{n} {run}", "PrimaryEmailAddr": {"Address": f"o{n}@{run}.example.com"}},
                ),
                range(12),
            )
        )
    settle(product, timeout=120)
    # Signals arrived together and met in bulk passes, which skipped every record without a single call.
    calls = product.hubspot_admin.calls() + product.quickbooks_admin.calls()
    assert [f"{c['method']} {c['path']}" for c in calls] == []
