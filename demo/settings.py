"""Settings: the page's URL, and the API behind it — versions, turning a sync off and on, a custom mapping
applied to a record, a refused mapping, joined names, a list filter, the sync health table — and the operator
CLI."""

import time
from collections.abc import Callable
from typing import Any

import requests

from demo.report import Report
from devstack.browser import Browser
from devstack.sandboxed import SandboxedProduct
from hubbooks import cli


def _customer_of(product: SandboxedProduct, contact_id: str) -> dict[str, Any] | None:
    table = product.devstack.physical["Table"]
    items = product.devstack.client("dynamodb").scan(TableName=table)["Items"]
    link = next((i for i in items if i["SK"]["S"] == f"LINK#contacts#hs#{contact_id}"), None)
    if link is None:
        return None
    return next((c for c in product.quickbooks_admin.records("Customer") if c["Id"] == link["other_id"]["S"]), None)


def run(product: SandboxedProduct, report: Report, browser: Browser) -> None:
    report.section("Settings: the page, its API, and the operator CLI")
    gateway = product.devstack.gateway_url

    def api(method: str, path: str, body: Any = None) -> Any:
        return browser.request(method, f"{gateway}{path}", json=body)

    report.say(f"  settings page: {gateway}/  (this run's stack; `make up` keeps one running to click through)")
    page = browser.get(f"{gateway}/")
    syncs = api("GET", "/api/syncs").json()["syncs"]
    report.check(
        "settings page and API behind the session",
        page.status_code == 200
        and 'id="syncs"' in page.text
        and [s["pair"] for s in syncs] == ["contacts", "products", "invoices", "payments"]
        and api("GET", "/api/syncs").status_code == 200
        and browser.http.get(f"{gateway}/api/syncs", timeout=10).status_code == 401,
        "page served with its own CSS and JS; "
        + "; ".join(f"{s['pair']} {'on' if s['enabled'] else 'off'} (v{s['version']})" for s in syncs)
        + "; without the session: 401",
    )

    products = next(s for s in syncs if s["pair"] == "products")
    off = api("PUT", "/api/syncs/products", {"version": products["version"], "enabled": False}).json()["sync"]
    stale = api("PUT", "/api/syncs/products", {"version": products["version"], "enabled": True})
    started = time.monotonic()
    on = api("PUT", "/api/syncs/products", {"version": off["version"], "enabled": True}).json()
    job: dict[str, Any] = {}
    while time.monotonic() - started < 120:
        job = api("GET", "/api/syncs/products/status").json()["job"] or {}
        if job.get("job_id") == on["job_id"] and job.get("status") == "finished":
            break
        time.sleep(0.5)
    report.check(
        "a sync turned off and on again, with a version check",
        stale.status_code == 409 and job.get("status") == "finished" and job.get("done") == job.get("total"),
        f"an update over a stale version answered {stale.status_code}; turning products on started initial sync "
        f"{on['job_id']}: {job.get('done')}/{job.get('total')} in {time.monotonic() - started:.1f} s",
    )

    contacts = api("GET", "/api/syncs/contacts").json()
    refused = api(
        "PUT",
        "/api/syncs/contacts",
        {"version": contacts["version"], "mappings": [*contacts["mappings"], {"hubspot": "website", "qbo": "Balance"}]},
    )
    mappings = [*contacts["mappings"], {"hubspot": "jobtitle", "qbo": "Title", "direction": "hubspot_to_qbo"}]
    saved = api("PUT", "/api/syncs/contacts", {"version": contacts["version"], "mappings": mappings})
    contact = product.hubspot_admin.create(
        "contacts", {"email": "ines.mapped@example.com", "firstname": "Ines", "lastname": "Mapped", "jobtitle": "CFO"}
    )
    product.settle()
    customer = _customer_of(product, contact["id"]) or {}
    report.check(
        "a custom field mapping, validated and applied",
        refused.status_code == 422 and saved.status_code == 200 and customer.get("Title") == "CFO",
        f"website <-> Balance refused ({refused.json()['errors'][0]['message']}); jobtitle -> Title saved "
        f"(resync offered: {saved.json().get('resync_offered')}); a new contact's job title reached QuickBooks as "
        f"'{customer.get('Title')}'",
    )

    version = _joined_names(product, report, api, saved.json()["sync"])
    _list_filter(product, report, api, version)

    failing = product.hubspot_admin.create("contacts", {"email": "long.name@example.com", "firstname": "X" * 120})
    product.settle()
    errors = api("GET", "/api/errors?pair=contacts").json()["items"]
    mine: dict[str, Any] = next((e for e in errors if e["record_id"] == failing["id"]), {})
    report.check(
        "sync health: what failed, why, and the fix",
        mine.get("category") == "invalid_value" and "Shorten" in mine.get("fix", "") and "long.name@" in mine["name"],
        f"{mine['name'][:16]}… <long.name@example.com>: [{mine.get('category')}] {mine.get('message', '')[:70]}… "
        f"fix: {mine.get('fix')}",
    )

    lines: list[str] = []
    cli.main(["--stack", product.stack_name, "status"], out=lines.append)
    for line in lines:
        report.say(f"  $ python -m hubbooks.cli status | {line}")
    report.check(
        "operator CLI status",
        any(line.strip().startswith("contacts") for line in lines),
        f"{len(lines)} lines: the connection and each pair's links, errors and last job",
    )


Api = Callable[..., requests.Response]


def _joined_names(product: SandboxedProduct, report: Report, api: Api, sync: dict[str, Any]) -> int:
    """Map HubSpot's first and last name, joined, to QuickBooks' name on checks, then put the mappings back;
    answers the settings' version."""
    joined = [
        *(m for m in sync["mappings"] if m["hubspot"] not in ("firstname", "lastname")),
        {"hubspot": "firstname+lastname", "qbo": "PrintOnCheckName", "transform": "join_split_name"},
    ]
    names = api("PUT", "/api/syncs/contacts", {"version": sync["version"], "mappings": joined}).json()["sync"]
    ada = product.hubspot_admin.create("contacts", {"email": "ada.l@example.com", "firstname": "Ada", "lastname": "L"})
    product.settle()
    customer = _customer_of(product, ada["id"]) or {}
    check_name = customer.get("PrintOnCheckName")
    product.quickbooks_admin.update("Customer", customer["Id"], {"PrintOnCheckName": "Augusta Ada King"})
    product.settle()
    split_back = next(c for c in product.hubspot_admin.records("contacts") if c["id"] == ada["id"])["properties"]
    report.check(
        "names joined into one QuickBooks field and split back",
        check_name == "Ada L" and (split_back.get("firstname"), split_back.get("lastname")) == ("Augusta", "Ada King"),
        f"firstname+lastname <-> PrintOnCheckName: HubSpot 'Ada' 'L' -> '{check_name}'; QuickBooks 'Augusta Ada King' "
        f"-> firstname '{split_back.get('firstname')}', lastname '{split_back.get('lastname')}'",
    )
    restored = api("PUT", "/api/syncs/contacts", {"version": names["version"], "mappings": sync["mappings"]})
    return int(restored.json()["sync"]["version"])


def _list_filter(product: SandboxedProduct, report: Report, api: Api, version: int) -> None:
    """Sync only the contacts of one HubSpot list, then lift the filter again."""
    listed = product.hubspot_admin.create("contacts", {"email": "in.list@example.com", "firstname": "Listed"})
    product.hubspot_admin.create_list("Send to QuickBooks", [listed["id"]])
    offered = api("GET", "/api/choices/contacts").json()
    list_id = next(found["id"] for found in offered["lists"] if found["name"] == "Send to QuickBooks")
    filtered = api("PUT", "/api/syncs/contacts", {"version": version, "filters": {"list_ids": [list_id]}})
    outside = product.hubspot_admin.create("contacts", {"email": "not.listed@example.com", "firstname": "Unlisted"})
    product.hubspot_admin.update("contacts", listed["id"], {"firstname": "Listed Now"})
    product.settle()
    listed_customer = _customer_of(product, listed["id"]) or {}
    outside_customer = _customer_of(product, outside["id"])
    api("PUT", "/api/syncs/contacts", {"version": filtered.json()["sync"]["version"], "filters": {"list_ids": []}})
    left_out = api("GET", "/api/excluded/contacts?limit=200").json()["items"]
    why = next((e["reason"] for e in left_out if e["record_id"] == outside["id"]), None)
    report.check(
        "only contacts in a chosen HubSpot list",
        listed_customer.get("GivenName") == "Listed Now" and outside_customer is None and why is not None,
        f"list 'Send to QuickBooks' picked by name from {len(offered['lists'])} lists and "
        f"{len(offered['lifecycle_stages'])} lifecycle stages: its member reached QuickBooks as "
        f"'{listed_customer.get('GivenName')}', a contact outside it "
        f"{'stayed in HubSpot only' if outside_customer is None else 'was synced anyway'}; sync health "
        f"lists it as left out: '{why}'",
    )
    story = api("GET", f"/api/history?side=hs&record_id={listed['id']}").json()["items"]
    report.check(
        "what happened to one record, in sentences",
        bool(story) and all(h["text"].startswith("Listed Now <in.list@example.com>: ") for h in story),
        " / ".join(h["text"] for h in reversed(story)),
    )
