"""The settings API through devstack: sessions, versions, turning syncs off and on, custom mappings,
validation, sync health, history, resync, delete."""

from typing import Any

import pytest
import requests

from devstack.browser import Browser
from devstack.sandboxed import SandboxedProduct
from tests.support.product import connect_webhooks, customer_of, install, settle

pytestmark = [pytest.mark.devstack, pytest.mark.slow]


@pytest.fixture(scope="module")
def session(product: SandboxedProduct) -> tuple[Browser, dict[str, Any]]:
    connect_webhooks(product)
    return install(product)


def _api(product: SandboxedProduct, browser: Browser, method: str, path: str, body: Any = None) -> requests.Response:
    return browser.request(method, f"{product.devstack.gateway_url}{path}", json=body)


def test_every_route_needs_the_session_and_only_its_own_connection(
    product: SandboxedProduct, session: tuple[Browser, dict[str, Any]]
) -> None:
    browser, connection = session
    for method, path in (
        ("GET", "/api/syncs"),
        ("GET", "/api/syncs/contacts"),
        ("PUT", "/api/syncs/contacts"),
        ("GET", "/api/errors"),
        ("GET", "/api/history"),
        ("GET", "/api/fields/contacts"),
        ("POST", "/api/records/contacts/hs/1/resync"),
    ):
        answer = requests.request(method, f"{product.devstack.gateway_url}{path}", json={"version": 0}, timeout=10)
        assert answer.status_code == 401, (method, path, answer.text)
    assert _api(product, browser, "GET", "/api/syncs?connection_id=someone-else").status_code == 403
    assert _api(product, browser, "GET", f"/api/syncs?connection_id={connection['connection_id']}").status_code == 200
    assert _api(product, browser, "GET", "/api/syncs/deals").status_code == 404


def test_syncs_list_with_versions_and_a_stale_update_is_refused(
    product: SandboxedProduct, session: tuple[Browser, dict[str, Any]]
) -> None:
    browser, _ = session
    syncs = _api(product, browser, "GET", "/api/syncs").json()["syncs"]
    assert [s["pair"] for s in syncs] == ["contacts", "products", "invoices", "payments"]
    contacts = syncs[0]
    assert contacts["enabled"] is True
    assert {"hubspot": "email", "qbo": "PrimaryEmailAddr.Address", "direction": "both", "transform": "lower"} in (
        contacts["mappings"]
    )
    first = _api(product, browser, "PUT", "/api/syncs/contacts", {"version": contacts["version"], "policy": "qbo_wins"})
    assert first.status_code == 200, first.text
    assert first.json()["sync"]["version"] == contacts["version"] + 1
    stale = _api(
        product, browser, "PUT", "/api/syncs/contacts", {"version": contacts["version"], "policy": "hubspot_wins"}
    )
    assert stale.status_code == 409
    assert _api(product, browser, "GET", "/api/syncs/contacts").json()["policy"] == "qbo_wins"
    invalid = _api(product, browser, "PUT", "/api/syncs/contacts", {"version": "x", "policy": "loudest"})
    assert invalid.status_code == 422


def test_a_sync_turned_off_pauses_and_turned_on_catches_up_through_an_initial_sync(
    product: SandboxedProduct, session: tuple[Browser, dict[str, Any]]
) -> None:
    browser, _ = session
    version = _api(product, browser, "GET", "/api/syncs/contacts").json()["version"]
    off = _api(product, browser, "PUT", "/api/syncs/contacts", {"version": version, "enabled": False})
    assert off.json()["job_id"] is None
    contact = product.hubspot_admin.create("contacts", {"email": "paused@example.com", "firstname": "Paused"})
    settle(product)
    assert not [c for c in product.quickbooks_admin.records("Customer") if c.get("GivenName") == "Paused"]
    on = _api(product, browser, "PUT", "/api/syncs/contacts", {"version": version + 1, "enabled": True}).json()
    assert on["job_id"]
    settle(product)
    status = _api(product, browser, "GET", "/api/syncs/contacts/status").json()
    assert status["job"]["job_id"] == on["job_id"]
    assert status["job"]["status"] == "finished"
    assert status["job"]["done"] == status["job"]["total"]
    assert status["linked"] >= 1
    assert status["last_to_quickbooks"] is not None
    assert customer_of(product, contact["id"])["GivenName"] == "Paused"


def test_a_custom_mapping_is_validated_saved_and_applied(
    product: SandboxedProduct, session: tuple[Browser, dict[str, Any]]
) -> None:
    browser, _ = session
    fields = _api(product, browser, "GET", "/api/fields/contacts").json()
    assert "jobtitle" in {p["name"] for p in fields["hubspot"]}
    assert "Title" in {f["path"] for f in fields["qbo"]}
    assert "phone_e164" in fields["transforms"]
    current = _api(product, browser, "GET", "/api/syncs/contacts").json()
    bad = [
        *current["mappings"],
        {"hubspot": "no_such_property", "qbo": "Title"},
        {"hubspot": "website", "qbo": "Balance", "direction": "both"},
        {"hubspot": "jobtitle", "qbo": "GivenName"},
    ]
    refused = _api(product, browser, "PUT", "/api/syncs/contacts", {"version": current["version"], "mappings": bad})
    assert refused.status_code == 422
    problems = {e["field"]: e["message"] for e in refused.json()["errors"]}
    index = len(current["mappings"])
    assert "no contacts property 'no_such_property'" in problems[f"mappings[{index}].hubspot"]
    assert "QuickBooks computes" in problems[f"mappings[{index + 1}].direction"]
    assert any("written by 2 mappings" in m for m in problems.values())
    without_email = [m for m in current["mappings"] if m["hubspot"] != "email"]
    missing = _api(
        product, browser, "PUT", "/api/syncs/contacts", {"version": current["version"], "mappings": without_email}
    )
    assert "'email'" in missing.json()["errors"][0]["message"]

    mappings = [*current["mappings"], {"hubspot": "jobtitle", "qbo": "Title", "direction": "hubspot_to_qbo"}]
    saved = _api(product, browser, "PUT", "/api/syncs/contacts", {"version": current["version"], "mappings": mappings})
    assert saved.status_code == 200, saved.text
    assert saved.json()["resync_offered"] is True
    contact = product.hubspot_admin.create(
        "contacts", {"email": "titled@example.com", "firstname": "Tia", "lastname": "Titled", "jobtitle": "Dr"}
    )
    settle(product)
    assert customer_of(product, contact["id"])["Title"] == "Dr"


def test_invoice_settings_are_checked_against_what_quickbooks_and_hubspot_hold(
    product: SandboxedProduct, session: tuple[Browser, dict[str, Any]]
) -> None:
    browser, _ = session
    fields = _api(product, browser, "GET", "/api/fields/invoices").json()
    assert fields["directions"] == ["qbo_to_hubspot"]
    assert "CustomerMemo.value" in {f["path"] for f in fields["qbo"]}
    current = _api(product, browser, "GET", "/api/syncs/invoices").json()
    part = product.quickbooks_admin.create(
        "Item", {"Name": "Kit part", "UnitPrice": 5, "IncomeAccountRef": {"value": "1"}}
    )
    kit = {"ItemGroupLine": [{"ItemRef": {"value": part["Id"]}, "Qty": 1}]}
    bundle = product.quickbooks_admin.create("Item", {"Name": "Starter kit", "Type": "Group", "ItemGroupDetail": kit})
    changes = {
        "version": current["version"],
        "invoice_defaults": {"tax_code": "2", "custom_item": bundle["Id"]},  # a US company; a bundle
        "mappings": [{"hubspot": "qbo_invoice_total", "qbo": "Balance", "direction": "qbo_to_hubspot"}],
    }
    refused = _api(product, browser, "PUT", "/api/syncs/invoices", changes)
    assert refused.status_code == 422
    problems = {e["field"]: e["message"] for e in refused.json()["errors"]}
    assert "hubbooks writes 'qbo_invoice_total' itself" in problems["mappings[0].hubspot"]
    changes.pop("mappings")
    refused = _api(product, browser, "PUT", "/api/syncs/invoices", changes)
    problems = {e["field"]: e["message"] for e in refused.json()["errors"]}
    assert "a US company taxes a line by its item's Taxable" in problems["invoice_defaults.tax_code"]
    assert "that sells (not a bundle or a category)" in problems["invoice_defaults.custom_item"]
    deal = {"version": current["version"], "deal_mappings": [{"deal": "qbo_invoice_status", "invoice": "hs_currency"}]}
    refused = _api(product, browser, "PUT", "/api/syncs/invoices", deal)
    assert refused.json()["errors"][0]["message"] == "hubbooks fills 'qbo_invoice_status' itself; map another property."
    contacts = _api(product, browser, "GET", "/api/syncs/contacts").json()["version"]
    elsewhere = _api(product, browser, "PUT", "/api/syncs/contacts", {"version": contacts, "deal_mappings": []})
    assert elsewhere.status_code == 422


def test_names_join_into_one_quickbooks_field_and_split_back(
    product: SandboxedProduct, session: tuple[Browser, dict[str, Any]]
) -> None:
    browser, _ = session
    fields = _api(product, browser, "GET", "/api/fields/contacts").json()
    assert "firstname+lastname" in {p["name"] for p in fields["hubspot"]}
    assert "GivenName+FamilyName" in {f["path"] for f in fields["qbo"]}
    assert "join_split_name" in fields["transforms"]
    current = _api(product, browser, "GET", "/api/syncs/contacts").json()
    joined = {"hubspot": "firstname+lastname", "qbo": "PrintOnCheckName", "transform": "join_split_name"}
    clash = _api(
        product,
        browser,
        "PUT",
        "/api/syncs/contacts",
        {"version": current["version"], "mappings": [*current["mappings"], joined]},
    )
    assert clash.status_code == 422  # firstname would be written back from GivenName and from the check name
    assert any("'firstname' is written by 2 mappings" in e["message"] for e in clash.json()["errors"])
    names_apart = [m for m in current["mappings"] if m["hubspot"] not in ("firstname", "lastname")]
    saved = _api(
        product,
        browser,
        "PUT",
        "/api/syncs/contacts",
        {"version": current["version"], "mappings": [*names_apart, joined]},
    )
    assert saved.status_code == 200, saved.text
    try:
        contact = product.hubspot_admin.create(
            "contacts", {"email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace"}
        )
        settle(product)
        customer = customer_of(product, contact["id"])
        assert customer["PrintOnCheckName"] == "Ada Lovelace"
        product.quickbooks_admin.update("Customer", customer["Id"], {"PrintOnCheckName": "Augusta Ada King"})
        settle(product)
        props = next(c for c in product.hubspot_admin.records("contacts") if c["id"] == contact["id"])["properties"]
        assert (props["firstname"], props["lastname"]) == ("Augusta", "Ada King")
    finally:
        version = saved.json()["sync"]["version"]
        _api(product, browser, "PUT", "/api/syncs/contacts", {"version": version, "mappings": current["mappings"]})


def test_only_contacts_in_a_chosen_list_go_to_quickbooks(
    product: SandboxedProduct, session: tuple[Browser, dict[str, Any]]
) -> None:
    browser, _ = session
    current = _api(product, browser, "GET", "/api/syncs/contacts").json()
    change = {"version": current["version"], "filters": {"list_ids": ["999999"]}}
    refused = _api(product, browser, "PUT", "/api/syncs/contacts", change)
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "filters.list_ids[0]", "message": "HubSpot has no list 999999."}]
    members = product.hubspot_admin.create("contacts", {"email": "member@example.com", "firstname": "Mem"})
    list_id = product.hubspot_admin.create_list("Billable contacts", [members["id"]])
    change["filters"] = {"list_ids": [list_id]}
    saved = _api(product, browser, "PUT", "/api/syncs/contacts", change)
    assert saved.status_code == 200, (saved.text, saved.request.headers, [r.status_code for r in browser.history[-3:]])
    try:
        outsider = product.hubspot_admin.create("contacts", {"email": "outsider@example.com", "firstname": "Out"})
        joiner = product.hubspot_admin.create("contacts", {"email": "joiner@example.com", "firstname": "Jo"})
        product.hubspot_admin.update("contacts", members["id"], {"firstname": "Member"})
        settle(product)
        assert customer_of(product, members["id"])["GivenName"] == "Member"
        emails = {
            (c.get("PrimaryEmailAddr") or {}).get("Address") for c in product.quickbooks_admin.records("Customer")
        }
        assert not emails & {"outsider@example.com", "joiner@example.com"}  # not in the list: left out
        product.hubspot_admin.change_list(list_id, add=[joiner["id"]])
        resynced = _api(product, browser, "POST", f"/api/records/contacts/hs/{joiner['id']}/resync")
        assert resynced.status_code == 200, resynced.text
        settle(product)
        assert customer_of(product, joiner["id"])["GivenName"] == "Jo"
        emails = {
            (c.get("PrimaryEmailAddr") or {}).get("Address") for c in product.quickbooks_admin.records("Customer")
        }
        assert "outsider@example.com" not in emails
        assert outsider["id"] not in {
            c["id"] for c in product.hubspot_admin.records("contacts") if c["properties"].get("qbo_customer_id")
        }
    finally:
        version = saved.json()["sync"]["version"]
        _api(product, browser, "PUT", "/api/syncs/contacts", {"version": version, "filters": {"list_ids": []}})


def test_sync_health_lists_the_failing_record_with_its_fix_and_resyncs_it(
    product: SandboxedProduct, session: tuple[Browser, dict[str, Any]]
) -> None:
    browser, _ = session
    contact = product.hubspot_admin.create("contacts", {"firstname": "N" * 120, "email": "long@example.com"})
    settle(product)
    page = _api(product, browser, "GET", "/api/errors?pair=contacts&side=hs&limit=10").json()
    error = next(e for e in page["items"] if e["record_id"] == contact["id"])
    assert error["category"] == "invalid_value"
    assert "Shorten" in error["fix"]
    assert error["attempts"] >= 1

    def ids_in(category: str) -> list[str]:
        listed = _api(product, browser, "GET", f"/api/errors?category={category}").json()["items"]
        return [e["record_id"] for e in listed]

    by_category = {category: ids_in(category) for category in ("invalid_value", "duplicate")}
    assert contact["id"] in by_category["invalid_value"]
    assert contact["id"] not in by_category["duplicate"]
    product.hubspot_admin.configure_webhooks(enabled=False)
    product.hubspot_admin.update("contacts", contact["id"], {"firstname": "Nora"})
    product.hubspot_admin.configure_webhooks(enabled=True)
    queued = _api(product, browser, "POST", f"/api/records/contacts/hs/{contact['id']}/resync")
    assert queued.json() == {"queued": 1}
    settle(product)
    assert not [
        e for e in _api(product, browser, "GET", "/api/errors").json()["items"] if e["record_id"] == contact["id"]
    ]
    history = _api(product, browser, "GET", "/api/history?limit=2").json()
    assert history["items"]
    assert history["cursor"]
    older = _api(product, browser, "GET", f"/api/history?limit=2&cursor={history['cursor']}").json()["items"]
    assert older[0]["at"] <= history["items"][-1]["at"]


def test_deleting_a_sync_needs_confirmation_and_forgets_its_links(
    product: SandboxedProduct, session: tuple[Browser, dict[str, Any]]
) -> None:
    browser, _ = session
    product.hubspot_admin.create("products", {"name": "Deletable", "price": "5"})
    settle(product)
    assert _api(product, browser, "GET", "/api/syncs/products/status").json()["linked"] >= 1
    assert _api(product, browser, "DELETE", "/api/syncs/products").status_code == 400
    deleted = _api(product, browser, "DELETE", "/api/syncs/products?confirm=products").json()["deleted"]
    assert deleted["links"] >= 1
    assert _api(product, browser, "GET", "/api/syncs/products/status").json()["linked"] == 0
    assert _api(product, browser, "GET", "/api/syncs/products").json()["enabled"] is False
    spec = _api(product, browser, "GET", "/api/openapi.json").json()
    assert {"/api/syncs/{pair}", "/api/errors", "/api/fields/{pair}"} <= set(spec["paths"])
