"""The first day: both accounts already hold data; nothing moves until a person sets each pair up; a preview
that only reads says what the first sync will do; a person chooses for a record with two matches; the first
sync then does what the preview said, with a progress bar."""

import re
import sys
import time
from typing import Any

from demo.report import Report
from devstack.browser import Browser
from devstack.sandboxed import SandboxedProduct

READS = re.compile(r"/search$|/batch/read$|/query$|/oauth|/token")
PAIRS = ("contacts", "products", "invoices", "payments")


class Api:
    def __init__(self, product: SandboxedProduct, browser: Browser) -> None:
        self.product, self.browser = product, browser

    def __call__(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.browser.request(method, f"{self.product.devstack.gateway_url}{path}", json=body)
        return answer.json() if answer.status_code == 200 else {"status": answer.status_code, **answer.json()}

    def finished(self, path: str, key: str, label: str) -> dict[str, Any]:
        """Poll a job until it finishes, drawing its progress bar."""
        started = time.monotonic()
        job: dict[str, Any] = {}
        while time.monotonic() - started < 600:
            job = self("GET", path).get(key) or {}
            total, done = int(job.get("total", 0)), int(job.get("done", 0))
            filled = int(40 * done / total) if total else 0
            sys.stdout.write(f"\r   {label:18} [{'#' * filled}{'.' * (40 - filled)}] {done}/{total}")
            sys.stdout.flush()
            if job.get("status") == "finished":
                break
            time.sleep(0.4)
        print(f" in {time.monotonic() - started:.1f} s", flush=True)
        return job


def _writes(product: SandboxedProduct, since_ms: int) -> list[str]:
    calls = product.hubspot_admin.calls(since_ms) + product.quickbooks_admin.calls(since_ms)
    return [f"{c['method']} {c['path']}" for c in calls if c["method"] != "GET" and not READS.search(c["path"])]


def _preview(api: Api, pair: str) -> dict[str, int]:
    api("POST", f"/api/syncs/{pair}/preview")
    job = api.finished(f"/api/syncs/{pair}/preview", "preview", f"{pair} preview")
    return {kind: n for kind, n in job.get("rows", {}).items() if n}


def set_up(api: Api, pair: str) -> dict[str, Any]:
    """Preview a pair (when it has records to match) and save and sync it; answers its first sync's job."""
    if pair in ("contacts", "companies", "products"):
        _preview(api, pair)
    api("POST", f"/api/syncs/{pair}/start", {"version": api("GET", f"/api/syncs/{pair}")["version"]})
    return api.finished(f"/api/syncs/{pair}/status", "job", f"{pair} first sync")


def _rows(api: Api, pair: str, kind: str) -> list[dict[str, Any]]:
    """Every row of one kind of the pair's latest preview."""
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = api(
            "GET", f"/api/syncs/{pair}/preview/rows?kind={kind}&limit=200" + (f"&cursor={cursor}" if cursor else "")
        )
        rows += page["items"]
        cursor = page.get("cursor")
        if not cursor:
            return rows


def _as_previewed(api: Api, product: SandboxedProduct) -> tuple[int, int]:
    """How many of the contacts preview's link, create and fail rows ended as it said, of how many: linked
    to the record it named, linked to a new record, or not linked."""
    pages = (
        product.devstack.client("dynamodb").get_paginator("scan").paginate(TableName=product.devstack.physical["Table"])
    )
    links = {
        i["SK"]["S"].removeprefix("LINK#contacts#"): i["other_id"]["S"]
        for page in pages
        for i in page["Items"]
        if i["SK"]["S"].startswith("LINK#contacts#")
    }
    held = 0
    rows = {
        kind: _rows(api, "contacts", kind) for kind in ("link", "create_in_quickbooks", "create_in_hubspot", "fail")
    }
    for kind, found in rows.items():
        for row in found:
            linked = links.get(f"{row['side']}#{row['record_id']}")
            held += (
                linked == row["other_id"]
                if kind == "link"
                else linked is None
                if kind == "fail"
                else linked is not None
            )
    return held, sum(len(found) for found in rows.values())


def _words(rows: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in sorted(rows.items()))


def run(product: SandboxedProduct, report: Report, browser: Browser) -> None:
    report.section("The first day: nothing moves until set up; preview, review, then the first sync")
    api = Api(product, browser)
    installed_ms = int(time.time() * 1000)
    states = {s["pair"]: s["status"]["state"] for s in api("GET", "/api/syncs")["syncs"]}
    # Records made in both apps after the install, with a sweep: still nothing may be written.
    product.hubspot_admin.create("contacts", {"email": "day.one@example.com", "firstname": "Dee"})
    twins = [
        product.quickbooks_admin.create(
            "Customer", {"DisplayName": f"Twin {h}", "PrimaryEmailAddr": {"Address": "twin@x.com"}}
        )
        for h in ("A", "B")
    ]
    contact = product.hubspot_admin.create("contacts", {"email": "twin@x.com", "firstname": "Twyla"})
    product.devstack.invoke("ReconcileFunction", {"action": "sweep"})
    product.settle(timeout=60)
    moved = _writes(product, installed_ms)
    report.check(
        "nothing moves before set-up",
        set(states.values()) == {"not_set_up"} and not moved,
        f"every pair not set up; {len(moved)} writes to either app after a new contact, two new customers and a sweep",
    )

    previewed_ms = int(time.time() * 1000)
    first = _preview(api, "contacts")
    report.facts["preview_contacts"] = first
    report.check(
        "the preview says what the first sync will do, and only reads",
        first.get("ambiguous", 0) >= 3 and not _writes(product, previewed_ms),
        _words(first),
    )
    rows = api("GET", "/api/syncs/contacts/preview/rows?kind=ambiguous&limit=20")["items"]
    mine = next(r for r in rows if r["record_id"] == contact["id"])
    chosen = next(c.split("\t") for c in mine["candidates"] if c.split("\t")[0] == twins[0]["Id"])
    decided = api(
        "POST",
        "/api/syncs/contacts/decisions",
        {"decisions": [{"side": "hs", "record_id": contact["id"], "choice": "link", "other_id": chosen[0]}]},
    )
    second = _preview(api, "contacts")
    report.check(
        "a person's choice between two matches is taken",
        second.get("link", 0) == first.get("link", 0) + 1,
        f"{mine['name']} linked with {chosen[1]}; the preview again: {_words(second)}",
    )

    # A record edited after the preview: the page names it, and the sync starts only when the person accepts.
    # (The one that would fail is edited: it fails whoever reaches it first, the sweep or the first sync.)
    failing = api("GET", "/api/syncs/contacts/preview/rows?kind=fail")["items"][0]
    if failing["side"] == "hs":
        product.hubspot_admin.update("contacts", failing["record_id"], {"jobtitle": "Edited after the preview"})
    else:
        product.quickbooks_admin.update("Customer", failing["record_id"], {"Notes": "Edited after the preview"})
    changed = api("GET", "/api/syncs/contacts/preview")["preview"].get("changed_since")
    refused = api("POST", "/api/syncs/contacts/start", {"version": decided["version"]})
    report.check(
        "a preview older than its data is flagged before the sync honours it",
        changed is not None and sum(changed.values()) == 1 and refused.get("status") == 409,
        f"after one contact was edited: {refused.get('message')}",
    )
    started = api("POST", "/api/syncs/contacts/start", {"version": decided["version"], "accept_changes": True})
    job = api.finished("/api/syncs/contacts/status", "job", "contacts first sync")
    got = {k: int(job.get(k, 0)) for k in ("linked", "created", "failed", "skipped")}
    report.facts["first_sync_contacts"] = job
    product.settle(timeout=120)
    held, rows = _as_previewed(api, product)
    # The job's own counts equal the preview's unless the sweep reached a record first (records made after the
    # install are swept once the pair is on): the job then finds that record in step. Each record's end is
    # what the preview promised either way.
    report.check(
        "the first sync does what the preview said",
        "job_id" in started and job.get("status") == "finished" and held == rows,
        f"{held} of {rows} records the preview would link, create or fail ended so; the job's counts: "
        f"{got['linked']} linked, {got['created']} created, {got['failed']} need a person, {got['skipped']} "
        f"left out of {job.get('total')} (the preview: {_words(second)})",
    )

    made = set_up(api, "products")
    products = {k: v for k, v in api("GET", "/api/syncs/products/preview")["preview"]["rows"].items() if v}
    for pair in ("invoices", "payments"):
        set_up(api, pair)
    product.settle(timeout=300)
    states = {s["pair"]: s["status"]["state"] for s in api("GET", "/api/syncs")["syncs"]}
    report.check(
        "every pair set up and syncing",
        set(states.values()) == {"on"} and made.get("done") == made.get("total"),
        f"products previewed ({_words(products)}) and synced: {made.get('linked')} linked, {made.get('created')} "
        "created; invoices and payments from QuickBooks brought over",
    )
