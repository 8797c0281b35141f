"""A real account's first day: accounts that already hold data, nothing written before the person sets a pair
up, a preview whose counts are exact and which only reads, review decisions, and a first sync that does what
the preview said."""

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from devstack.browser import Browser
from devstack.sandboxed import SandboxedProduct
from tests.support.product import checked_product, install, table_items

pytestmark = [pytest.mark.devstack, pytest.mark.slow]

CONTACTS, SHARED, TWINS, SUBSCRIBERS = 300, 40, 3, 30  # contacts; of them matched 1:1, matched by 2, filtered
CUSTOMERS = 250
NAMELESS = 50  # a contact whose customer names are all taken
# What the providers' logs show for a read: HubSpot searches and batch reads are POSTs, QuickBooks queries too.
READS = re.compile(r"/search$|/batch/read$|/query$|/oauth|/token")


@pytest.fixture(scope="module")
def product() -> Iterator[SandboxedProduct]:
    with checked_product("fd") as running:
        yield running


def _twin(n: int) -> int:
    return SHARED + n


@pytest.fixture(scope="module")
def day(product: SandboxedProduct) -> tuple[Browser, dict[str, Any]]:
    """Both accounts hold data before hubbooks is installed: shared emails, pairs of customers sharing one
    contact's email, and contacts a lifecycle filter will leave out."""
    contacts = [
        {
            "email": f"p{n}@example.com",
            "firstname": f"P{n}",
            "lifecyclestage": "subscriber" if CONTACTS - SUBSCRIBERS - 10 <= n < CONTACTS - 10 else "lead",
        }
        for n in range(CONTACTS)
    ]
    customers = [
        {"DisplayName": f"Customer {n}", "PrimaryEmailAddr": {"Address": f"p{n}@example.com"}} for n in range(SHARED)
    ]
    customers += [
        {"DisplayName": f"Twin {_twin(t)}{half}", "PrimaryEmailAddr": {"Address": f"p{_twin(t)}@example.com"}}
        for t in range(TWINS)
        for half in "ab"
    ]
    customers += [
        {"DisplayName": f"Own {n}", "PrimaryEmailAddr": {"Address": f"q{n}@example.com"}}
        for n in range(CUSTOMERS - len(customers))
    ]
    product.hubspot_admin.seed({"contacts": contacts})
    product.quickbooks_admin.seed({"Customer": customers})
    # Vendors holding both names a customer for one contact could take: it would fail (names are unique across
    # customers, vendors and employees).
    product.quickbooks_admin.seed(
        {"Vendor": [{"DisplayName": f"P{NAMELESS}"}, {"DisplayName": f"P{NAMELESS} (p{NAMELESS}@example.com)"}]}
    )
    product.connect_webhooks()
    return install(product, set_up=False)


def _api(product: SandboxedProduct, browser: Browser, method: str, path: str, body: Any = None) -> requests.Response:
    return browser.request(method, f"{product.devstack.gateway_url}{path}", json=body)


def _writes(product: SandboxedProduct, since_ms: int) -> list[str]:
    """Calls hubbooks made to either account since `since_ms` that were not reads."""
    calls = product.hubspot_admin.calls(since_ms) + product.quickbooks_admin.calls(since_ms)
    return [f"{c['method']} {c['path']}" for c in calls if c["method"] != "GET" and not READS.search(c["path"])]


def _finished(product: SandboxedProduct, browser: Browser, path: str, key: str) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        job = _api(product, browser, "GET", path).json()[key]
        if job is not None and job["status"] == "finished":
            return dict(job)
        time.sleep(0.3)
    raise AssertionError(f"{path} did not finish: {job}")


def _preview(product: SandboxedProduct, browser: Browser) -> dict[str, int]:
    started = _api(product, browser, "POST", "/api/syncs/contacts/preview")
    assert started.status_code == 200, started.text
    job = _finished(product, browser, "/api/syncs/contacts/preview", "preview")
    assert job["job_id"] == started.json()["job_id"]
    return {kind: n for kind, n in job["rows"].items() if n}


def test_the_first_day_from_install_to_the_first_sync(
    product: SandboxedProduct, day: tuple[Browser, dict[str, Any]]
) -> None:
    browser, _ = day
    installed_ms = int(time.time() * 1000)
    syncs = _api(product, browser, "GET", "/api/syncs").json()["syncs"]
    assert {s["pair"]: s["status"]["state"] for s in syncs} == dict.fromkeys(
        ("contacts", "products", "invoices", "payments"), "not_set_up"
    )

    # Nothing moves before set-up: not the data both accounts hold, not new records, not the sweep.
    newcomer = product.hubspot_admin.create("contacts", {"email": "new@example.com", "lifecyclestage": "subscriber"})
    product.quickbooks_admin.create("Customer", {"DisplayName": "New", "PrimaryEmailAddr": {"Address": "n@x.com"}})
    for _ in range(2):
        product.devstack.invoke("ReconcileFunction", {"action": "sweep"})
        product.settle(timeout=60)
    assert _writes(product, installed_ms) == []
    assert not [i for i in table_items(product) if i["SK"]["S"].startswith("LINK#")]
    on = _api(product, browser, "PUT", "/api/syncs/contacts", {"version": syncs[0]["version"], "enabled": True})
    assert on.status_code == 409, on.text
    early = _api(product, browser, "POST", "/api/syncs/contacts/start", {"version": syncs[0]["version"]})
    assert early.status_code == 409, early.text  # no preview yet
    for admin in (product.hubspot_admin, product.quickbooks_admin):  # what follows is about the job's own work
        admin.configure_webhooks(enabled=False)

    # Set up: a lifecycle filter, then a preview that only reads and counts every record once.
    filtered = _api(
        product,
        browser,
        "PUT",
        "/api/syncs/contacts",
        {"version": syncs[0]["version"], "filters": {"lifecycle_stages": ["lead"]}},
    )
    assert filtered.status_code == 200, filtered.text
    previewed_ms = int(time.time() * 1000)
    first = _preview(product, browser)
    assert first == {
        "link": SHARED,
        "ambiguous": TWINS * 3,  # each contact, and each of its two customers
        "excluded": SUBSCRIBERS + 1,  # the subscribers, and the newcomer
        "fail": 1,  # the contact whose names vendors hold
        "create_in_quickbooks": CONTACTS - SHARED - TWINS - SUBSCRIBERS - 1,
        "create_in_hubspot": CUSTOMERS - SHARED - 2 * TWINS + 1,
    }
    assert _writes(product, previewed_ms) == []
    rows = _api(product, browser, "GET", "/api/syncs/contacts/preview/rows?kind=ambiguous&limit=50").json()["items"]
    contact_rows = sorted((r for r in rows if r["side"] == "hs"), key=lambda r: r["name"])
    assert [r["name"] for r in contact_rows] == [f"P{_twin(t)} <p{_twin(t)}@example.com>" for t in range(TWINS)]
    assert all(len(r["candidates"]) == 2 for r in contact_rows)
    (nameless,) = _api(product, browser, "GET", "/api/syncs/contacts/preview/rows?kind=fail").json()["items"]
    assert (nameless["name"], nameless["reason"]) == (
        f"P{NAMELESS} <p{NAMELESS}@example.com>",
        f"Duplicate Name Exists Error: P{NAMELESS} and P{NAMELESS} (p{NAMELESS}@example.com) are taken",
    )
    assert "Rename" in nameless["fix"]
    links = _api(product, browser, "GET", "/api/syncs/contacts/preview/rows?kind=link&limit=5").json()["items"]
    assert {r["key"] for r in links} == {"email"}
    csv = _api(product, browser, "GET", "/api/syncs/contacts/preview.csv?kind=excluded")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert len(csv.text.strip().splitlines()) == 1 + SUBSCRIBERS + 1

    # Review: the first twin's contact goes with its first customer, the second is left out, the third waits.
    chosen, left_out = contact_rows[0], contact_rows[1]
    chosen_customer = chosen["candidates"][0].split("\t")[0]
    decisions = [
        {"side": "hs", "record_id": chosen["record_id"], "choice": "link", "other_id": chosen_customer},
        {"side": "hs", "record_id": left_out["record_id"], "choice": "skip"},
    ]
    decided = _api(product, browser, "POST", "/api/syncs/contacts/decisions", {"decisions": decisions})
    assert decided.status_code == 200, decided.text
    second = _preview(product, browser)
    assert second == {
        "link": SHARED + 1,
        "ambiguous": 2 + 3,  # the left-out contact's two customers, and the third twin
        "fail": 1 + 1,  # the chosen contact's other customer, and the contact whose names vendors hold
        "excluded": SUBSCRIBERS + 2,
        "create_in_quickbooks": first["create_in_quickbooks"],
        "create_in_hubspot": first["create_in_hubspot"],
    }
    assert _writes(product, previewed_ms) == []

    # A record edited after the preview: named before the sync starts, and started only when the person accepts.
    # (The one that would fail is edited: it fails whoever reaches it first, the sweep or the first sync.)
    product.hubspot_admin.update("contacts", nameless["record_id"], {"jobtitle": "Edited after the preview"})
    summary = _api(product, browser, "GET", "/api/syncs/contacts/preview").json()["preview"]
    assert summary["changed_since"] == {"hs": 1, "qbo": 0}
    version = decided.json()["version"]
    refused = _api(product, browser, "POST", "/api/syncs/contacts/start", {"version": version})
    assert refused.status_code == 409
    assert refused.json()["message"].startswith("1 record changed since the preview (1 in HubSpot, 0 in QuickBooks)")

    # Save and sync: the first sync does what the preview said, counted exactly.
    started = _api(product, browser, "POST", "/api/syncs/contacts/start", {"version": version, "accept_changes": True})
    assert started.status_code == 200, started.text
    again = _api(product, browser, "POST", "/api/syncs/contacts/preview")
    assert again.status_code == 409  # the pair is syncing
    job = _finished(product, browser, "/api/syncs/contacts/status", "job")
    assert job["job_id"] == started.json()["job_id"]
    assert job["estimated_finish"] == job["finished"]
    assert {k: job[k] for k in ("linked", "created", "failed", "skipped")} == {
        "linked": second["link"],
        "created": second["create_in_quickbooks"] + second["create_in_hubspot"],
        "failed": second["ambiguous"] + second["fail"],
        "skipped": second["excluded"],
    }
    customers = product.quickbooks_admin.records("Customer")
    assert len(customers) == CUSTOMERS + 1 + second["create_in_quickbooks"]
    links = {i["SK"]["S"]: i for i in table_items(product) if i["SK"]["S"].startswith("LINK#contacts#hs#")}
    assert links[f"LINK#contacts#hs#{chosen['record_id']}"]["other_id"]["S"] == chosen_customer
    assert f"LINK#contacts#hs#{left_out['record_id']}" not in links
    assert f"LINK#contacts#hs#{newcomer['id']}" not in links
    errors = _api(product, browser, "GET", "/api/errors?pair=contacts&limit=50").json()["items"]
    assert len(errors) == second["ambiguous"] + second["fail"]
    named = {e["name"] for e in errors}  # each failing record by its name, read from its app
    assert f"P{NAMELESS} <p{NAMELESS}@example.com>" in named
    assert f"Twin {_twin(2)}a <p{_twin(2)}@example.com>" in named
    story = _api(product, browser, "GET", f"/api/history?side=hs&record_id={chosen['record_id']}").json()["items"]
    assert [h["text"] for h in story] == [f"{chosen['name']}: matched with its existing counterpart and linked"]
    assert _api(product, browser, "GET", "/api/history?side=hs").status_code == 400

    # Sync health's "left out": each record with why; one included by a person is brought over.
    left = _api(product, browser, "GET", "/api/excluded/contacts?limit=200").json()["items"]
    assert len(left) == second["excluded"]
    assert {r["reason"] for r in left} == {
        "the pair's filters leave this record out",
        "left out by a person in the review of the preview",
    }
    subscriber = next(r for r in left if r["reason"].startswith("the pair's filters"))
    included = _api(product, browser, "POST", f"/api/records/contacts/hs/{subscriber['record_id']}/include")
    assert included.status_code == 200, included.text
    product.settle(timeout=60)
    assert f"LINK#contacts#hs#{subscriber['record_id']}" in {i["SK"]["S"] for i in table_items(product)}
    left_now = _api(product, browser, "GET", "/api/excluded/contacts?limit=200").json()["items"]
    assert len(left_now) == second["excluded"] - 1
