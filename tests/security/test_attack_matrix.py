"""The attack matrix beyond the webhook and connect suites: the workflow action endpoint, redirect
parameters, signals crafted for another tenant, and a scan of everything the product wrote for secrets."""

import base64
import hashlib
import json
import time
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from devstack.browser import Browser
from devstack.sandboxed import SandboxedProduct
from hubbooks.models.signals import Pair, Reason, Side, SyncSignal
from tests.support.product import billable_deal, connect_webhooks, install, settle, table_items
from tests.support.signatures import hubspot_v3_headers

pytestmark = [pytest.mark.security, pytest.mark.devstack, pytest.mark.slow]
JSON_TYPE = "application/json"


@pytest.fixture(scope="module")
def session(product: SandboxedProduct) -> tuple[Browser, dict[str, Any]]:
    connect_webhooks(product)
    return install(product)


def _action_url(product: SandboxedProduct) -> str:
    return f"{product.devstack.gateway_url}/actions/create-invoice"


def _action_body(product: SandboxedProduct, callback_id: str, portal_id: int | None = None) -> bytes:
    return json.dumps(
        {
            "callbackId": callback_id,
            "origin": {"portalId": portal_id or product.credentials.portal_id, "actionDefinitionId": 1},
            "object": {"objectId": 1, "objectType": "DEAL"},
            "inputFields": {},
        }
    ).encode()


def _v3(
    product: SandboxedProduct, body: bytes, timestamp_ms: int | None = None, secret: str | None = None
) -> dict[str, str]:
    key = secret or product.credentials.hubspot_client_secret
    return hubspot_v3_headers(key, _action_url(product), body, timestamp_ms)


@pytest.mark.parametrize("attack", ["forged", "replayed 6 minutes later", "altered body", "oversize", "unsigned"])
def test_the_action_endpoint_refuses_what_hubspot_did_not_sign(
    product: SandboxedProduct, session: tuple[Browser, dict[str, Any]], attack: str
) -> None:
    body = _action_body(product, f"cb-{attack}")
    headers = _v3(product, body)
    if attack == "forged":
        headers = _v3(product, body, secret="not-the-secret")
    elif attack == "replayed 6 minutes later":
        headers = _v3(product, body, timestamp_ms=int(time.time() * 1000) - 6 * 60_000)
    elif attack == "altered body":
        body = body.replace(b'"objectId": 1', b'"objectId": 2')
    elif attack == "oversize":
        body = body[:-1] + b', "pad": "' + b"x" * 1_100_000 + b'"}'
        headers = _v3(product, body)
    else:
        headers = {"Content-Type": "application/json"}
    product.quickbooks_admin.clear_calls()
    answer = requests.post(_action_url(product), data=body, headers=headers, timeout=30)
    assert answer.status_code == (413 if attack == "oversize" else 401), answer.text
    assert product.quickbooks_admin.calls() == []  # nothing billed, nothing read
    assert not [i for i in table_items(product) if i["SK"]["S"].startswith("ACTION#")]


def test_an_action_for_a_portal_without_a_connection_bills_nothing(
    product: SandboxedProduct, session: tuple[Browser, dict[str, Any]]
) -> None:
    body = _action_body(product, "cb-wrong-tenant", portal_id=777)
    product.quickbooks_admin.clear_calls()
    answer = requests.post(_action_url(product), data=body, headers=_v3(product, body), timeout=30)
    assert answer.status_code == 200
    assert answer.json()["outputFields"]["hs_execution_state"] == "FAIL_CONTINUE"
    assert product.quickbooks_admin.calls() == []


def test_a_replayed_action_request_bills_once(
    product: SandboxedProduct, session: tuple[Browser, dict[str, Any]]
) -> None:
    """A copy of a genuine request sent again within v3's five minutes is the same callbackId: answered from
    what was done, billed once."""
    deal_id, _ = billable_deal(product, "Replay")
    body = json.dumps(
        {
            "callbackId": "cb-replayed",
            "origin": {"portalId": product.credentials.portal_id, "actionDefinitionId": 1},
            "object": {"objectId": int(deal_id), "objectType": "DEAL"},
            "inputFields": {},
        }
    ).encode()
    headers = _v3(product, body)
    product.quickbooks_admin.clear_calls()
    first = requests.post(_action_url(product), data=body, headers=headers, timeout=30)
    again = requests.post(_action_url(product), data=body, headers=headers, timeout=30)
    assert first.status_code == again.status_code == 200
    assert first.json()["outputFields"]["hs_execution_state"] == "SUCCESS", first.json()
    assert first.json() == again.json()
    posts = [c for c in product.quickbooks_admin.calls() if c["method"] == "POST" and c["path"].endswith("/invoice")]
    assert len(posts) == 1


@pytest.mark.parametrize(
    "path",
    [
        "/connect/hubspot?redirect_uri=https://evil.example/steal&next=https://evil.example&return_to=//evil.example",
        "/connect/quickbooks?redirect_uri=https://evil.example/steal&next=https://evil.example",
        "/oauth/hubspot/callback?code=x&state=y&redirect_uri=https://evil.example&next=https://evil.example",
        "/oauth/quickbooks/disconnect?next=https://evil.example&redirect_uri=//evil.example",
    ],
)
def test_redirect_parameters_never_send_the_browser_elsewhere(
    product: SandboxedProduct, session: tuple[Browser, dict[str, Any]], path: str
) -> None:
    browser, _ = session
    answer = browser.http.get(f"{product.devstack.gateway_url}{path}", allow_redirects=False, timeout=10)
    assert answer.status_code < 500
    location = answer.headers.get("Location", "")
    assert "evil.example" not in location
    assert "evil.example" not in answer.text
    if location:
        allowed = (product.devstack.gateway_url, product.hubspot_admin.base_url, product.quickbooks_admin.base_url)
        assert location.startswith(allowed), location
        redirect_uri = parse_qs(urlsplit(location).query).get("redirect_uri", [product.devstack.gateway_url])[0]
        assert redirect_uri.startswith(product.devstack.gateway_url)


def _send(product: SandboxedProduct, signal: SyncSignal) -> None:
    sqs = product.devstack.client("sqs")
    sqs.send_message(
        QueueUrl=product.devstack.physical["SyncQueue"],
        MessageBody=signal.model_dump_json(),
        MessageGroupId=signal.default_group(),
        MessageDeduplicationId=hashlib.sha256(signal.model_dump_json().encode()).hexdigest(),
    )


def test_signals_crafted_for_another_tenant_read_and_write_nothing(
    product: SandboxedProduct, session: tuple[Browser, dict[str, Any]]
) -> None:
    _, mine = session
    crafted = ("someone-else", mine["connection_id"] + "x", "../" + mine["connection_id"])
    contact = product.hubspot_admin.create("contacts", {"email": "tenant@example.com", "firstname": "Ten"})
    settle(product)
    product.hubspot_admin.clear_calls()
    product.quickbooks_admin.clear_calls()
    for connection_id in crafted:
        for side in Side:
            _send(
                product,
                SyncSignal(
                    connection_id=connection_id,
                    pair=Pair.CONTACTS,
                    side=side,
                    record_id=contact["id"],
                    reason=Reason.RETRY,
                    source_version="crafted",
                ),
            )
    settle(product)
    assert product.hubspot_admin.calls() == []
    assert product.quickbooks_admin.calls() == []
    assert not [i for i in table_items(product) if any(cid in i["PK"]["S"] for cid in crafted)]


def test_no_secret_is_written_to_the_table_logs_or_api_answers(
    product: SandboxedProduct, session: tuple[Browser, dict[str, Any]], capfd: pytest.CaptureFixture[str]
) -> None:
    browser, _ = session
    product.hubspot_admin.create("contacts", {"email": "scan@example.com", "firstname": "Scan"})
    failing = product.hubspot_admin.create("contacts", {"email": "scan.fail@example.com", "firstname": "Y" * 120})
    product.quickbooks_admin.create(
        "Customer", {"DisplayName": "Scan Customer", "PrimaryEmailAddr": {"Address": "sc@example.com"}}
    )
    settle(product)
    product.hubspot_admin.expire_tokens()
    product.quickbooks_admin.expire_tokens()
    product.hubspot_admin.create("contacts", {"email": "after.refresh@example.com", "firstname": "Refreshed"})
    settle(product)
    c = product.credentials
    hubspot, quickbooks = product.hubspot_app.oauth, product.quickbooks_app.oauth
    secrets = {*hubspot.access, *hubspot.refresh, *quickbooks.access, *quickbooks.refresh}
    secrets |= {c.hubspot_client_secret, c.qbo_client_secret, c.qbo_verifier_token, c.dev_token}
    assert len(secrets) >= 8
    dynamo = product.devstack.client("dynamodb")
    stored = [dynamo.scan(TableName=name)["Items"] for name in dynamo.list_tables()["TableNames"]]
    answers = [
        browser.get(f"{product.devstack.gateway_url}{path}").text
        for path in (
            "/api/connection",
            "/api/errors",
            "/api/history?limit=200",
            "/api/syncs",
            "/api/syncs/contacts/status",
        )
    ]
    logged = capfd.readouterr()
    haystack = json.dumps(stored, default=lambda v: str(v) if isinstance(v, Decimal | bytes) else v)
    haystack += "".join(answers) + logged.out + logged.err
    errors = json.loads(answers[1])["items"]
    assert failing["id"] in {e["record_id"] for e in errors}  # the scan covers what the flows wrote
    leaked = sorted(s[:6] + "…" for s in secrets if s in haystack)
    assert leaked == []


def test_a_paging_cursor_cannot_reach_into_another_connection(
    product: SandboxedProduct, session: tuple[Browser, dict[str, Any]]
) -> None:
    browser, mine = session
    for key in (
        {"PK": "CONN#someone-else", "SK": "ERR#contacts#hs#1"},
        {"PK": f"CONN#{mine['connection_id']}", "SK": "TOKEN#hubspot"},
    ):
        cursor = base64.urlsafe_b64encode(json.dumps(key).encode()).decode()
        for path in ("/api/errors", "/api/history"):
            answer = browser.get(f"{product.devstack.gateway_url}{path}?cursor={cursor}")
            assert answer.status_code == 400, answer.text
            assert "cursor" in answer.json()["message"]


@pytest.mark.parametrize(
    "path", ["/", "/api/connection", "/api/syncs", "/connections/x/disconnect", "/connect/quickbooks"]
)
def test_every_page_and_api_answer_carries_the_security_headers_and_is_not_cached(
    product: SandboxedProduct, session: tuple[Browser, dict[str, Any]], path: str
) -> None:
    browser, _ = session
    answer = browser.http.get(
        f"{product.devstack.gateway_url}{path}",
        headers=browser._cookie_header(product.devstack.gateway_url),
        allow_redirects=False,
        timeout=10,
    )
    headers = {k.lower(): v for k, v in answer.headers.items()}
    policy = headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "sent_from",
    [{"Sec-Fetch-Site": "same-site"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}, {}],
    ids=["sibling-site", "cross-site", "foreign-origin", "no-origin"],
)
def test_a_session_cannot_be_used_from_another_site(
    product: SandboxedProduct, session: tuple[Browser, dict[str, Any]], sent_from: dict[str, str]
) -> None:
    """SameSite=Lax lets a sibling host of a custom domain send the cookie; the origin check does not."""
    browser, connection = session
    gateway = product.devstack.gateway_url
    cookies = browser._cookie_header(gateway)
    jobs_before = [i for i in table_items(product) if i["SK"]["S"].startswith("JOB#")]
    for method, path in (
        ("POST", "/api/syncs/contacts/resync"),
        ("PUT", "/api/syncs/contacts"),
        ("POST", f"/connections/{connection['connection_id']}/disconnect"),
    ):
        answer = requests.request(
            method, f"{gateway}{path}", headers=cookies | sent_from, json={"version": 1}, timeout=10
        )
        assert answer.status_code == 403, (method, path, answer.text)
    assert [i for i in table_items(product) if i["SK"]["S"].startswith("JOB#")] == jobs_before
    assert browser.get(f"{gateway}/api/connection").status_code == 200  # still connected


@pytest.mark.parametrize(
    ("method", "path", "headers", "body"),
    [
        ("GET", "/oauth/hubspot/callback?code=x&state=x.%C3%A9%FF", {}, b""),
        ("GET", "/oauth/quickbooks/callback?code=x&state=%E2%82%AC.%E2%82%AC&realmId=1", {}, b""),
        ("GET", "/api/connection", {"Cookie": "__Host-hb_session=\u00e9t\u00e9.\u00e9"}, b""),
        ("POST", "/connect/quickbooks/confirm", {"Sec-Fetch-Site": "same-origin"}, b"confirm=%C3%A9.%C3%A9"),
        (
            "POST",
            "/webhooks/hubspot",
            {"Content-Type": "application/json", "X-HubSpot-Signature-v3": "\u00e9"},
            b"\xff",
        ),
        (
            "POST",
            "/webhooks/quickbooks",
            {"Content-Type": "application/json", "intuit-signature": "\u00e9"},
            b"\xff\xfe",
        ),
        ("POST", "/actions/create-invoice", {"Content-Type": JSON_TYPE}, b"\xff"),
    ],
    ids=["state", "qbo-state", "cookie", "confirm", "hubspot-body", "intuit-body", "action-body"],
)
def test_odd_bytes_from_an_unknown_sender_are_a_clean_refusal_never_a_500(
    product: SandboxedProduct, method: str, path: str, headers: dict[str, str], body: bytes
) -> None:
    encoded = {k: v.encode("utf-8").decode("latin-1") for k, v in headers.items()}  # raw bytes on the wire
    answer = requests.request(method, f"{product.devstack.gateway_url}{path}", headers=encoded, data=body, timeout=10)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])


def test_a_providers_error_text_is_never_shown(product: SandboxedProduct) -> None:
    browser = Browser()
    start = browser.step(f"{product.devstack.gateway_url}/connect/hubspot")
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    lure = "Your account is suspended, call +1 555 0100"
    answer = browser.step(f"{product.devstack.gateway_url}/oauth/hubspot/callback?state={state}&error={lure}")
    assert answer.status_code == 400
    assert "suspended" not in answer.text
    assert "access was not granted" in answer.text


@pytest.mark.parametrize(
    "change",
    [
        {"filters": {"list_ids": ["12/../../v3/objects"]}},
        {"filters": {"lifecycle_stages": ["lead"] * 21}},
        {"mappings": [{"hubspot": "firstname", "qbo": "GivenName"}] * 101},
    ],
    ids=["list-id-not-digits", "too-many-stages", "too-many-mappings"],
)
def test_settings_that_would_reach_a_path_or_outgrow_an_item_are_refused(
    product: SandboxedProduct, session: tuple[Browser, dict[str, Any]], change: dict[str, Any]
) -> None:
    browser, _ = session
    url = f"{product.devstack.gateway_url}/api/syncs/contacts"
    version = browser.get(url).json()["version"]
    answer = browser.request("PUT", url, json={"version": version, **change})
    assert answer.status_code == 422, answer.text
    assert browser.get(url).json()["version"] == version  # nothing saved


def test_starting_an_install_writes_nothing_so_a_flood_costs_no_writes(product: SandboxedProduct) -> None:
    before = len(table_items(product))
    for _ in range(5):
        start = requests.get(f"{product.devstack.gateway_url}/connect/hubspot", allow_redirects=False, timeout=10)
        assert start.status_code == 302
    assert len(table_items(product)) == before
