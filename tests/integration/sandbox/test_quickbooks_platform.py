"""QuickBooks emulator: OAuth with rotation, batch, CDC, webhooks in both formats, limits and auth."""

import base64
import hashlib
import hmac
import itertools
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from sandbox.client import QuickBooksAdmin
from sandbox.http import serve
from sandbox.quickbooks.app import QuickBooksEmulator
from tests.conftest import CLIENT_ID, CLIENT_SECRET, DEV_TOKEN, REALM_ID, VERIFIER_TOKEN, Sandbox
from tests.support.webhook_sink import WebhookSink

BASIC = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()


def _base(quickbooks: Sandbox) -> str:
    return f"{quickbooks.url}/v3/company/{REALM_ID}"


def _tokens(quickbooks: Sandbox) -> dict[str, Any]:
    authorize = requests.get(
        f"{quickbooks.url}/connect/oauth2",
        allow_redirects=False,
        timeout=10,
        params={
            "client_id": CLIENT_ID,
            "response_type": "code",
            "scope": "com.intuit.quickbooks.accounting",
            "redirect_uri": "https://app.example/qbo",
            "state": "st",
        },
    )
    assert authorize.status_code == 302
    query = parse_qs(urlsplit(authorize.headers["Location"]).query)
    assert (query["state"], query["realmId"]) == (["st"], [REALM_ID])
    token = requests.post(
        f"{quickbooks.url}/oauth2/v1/tokens/bearer",
        headers={"Authorization": BASIC},
        timeout=10,
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": "https://app.example/qbo",
        },
    )
    assert token.status_code == 200
    body: dict[str, Any] = token.json()
    return body


def _refresh(quickbooks: Sandbox, refresh_token: str) -> requests.Response:
    return requests.post(
        f"{quickbooks.url}/oauth2/v1/tokens/bearer",
        headers={"Authorization": BASIC},
        timeout=10,
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
    )


def test_oauth_rotation_makes_an_old_refresh_token_invalid(quickbooks: Sandbox) -> None:
    first = _tokens(quickbooks)
    assert (first["expires_in"], first["token_type"]) == (3600, "bearer")
    assert first["x_refresh_token_expires_in"] > 8_000_000
    headers = {"Authorization": f"Bearer {first['access_token']}", "Accept": "application/json"}
    assert requests.get(f"{_base(quickbooks)}/preferences", headers=headers, timeout=10).status_code == 200
    second = _refresh(quickbooks, first["refresh_token"])
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    loser = _refresh(quickbooks, first["refresh_token"])
    assert (loser.status_code, loser.json()) == (400, {"error": "invalid_grant"})
    third = _refresh(quickbooks, second.json()["refresh_token"])
    assert third.status_code == 200
    revoke = requests.post(
        f"{quickbooks.url}/v2/oauth2/tokens/revoke",
        headers={"Authorization": BASIC},
        json={"token": third.json()["refresh_token"]},
        timeout=10,
    )
    assert revoke.status_code == 200
    assert _refresh(quickbooks, third.json()["refresh_token"]).json() == {"error": "invalid_grant"}
    bad_client = requests.post(
        f"{quickbooks.url}/oauth2/v1/tokens/bearer",
        timeout=10,
        headers={"Authorization": "Basic bm9wZTpub3Bl"},
        data={"grant_type": "refresh_token", "refresh_token": "x"},
    )
    assert (bad_client.status_code, bad_client.json()) == (401, {"error": "invalid_client"})
    discovery = requests.get(f"{quickbooks.url}/.well-known/openid_configuration", timeout=10).json()
    assert discovery["token_endpoint"] == f"{quickbooks.url}/oauth2/v1/tokens/bearer"


def test_authentication_and_company_refusals(quickbooks: Sandbox) -> None:
    no_token = requests.get(f"{_base(quickbooks)}/customer/1", timeout=10)
    assert no_token.status_code == 401
    assert no_token.json()["fault"]["error"][0]["code"] == "3200"
    other_realm = quickbooks.api().get(f"{quickbooks.url}/v3/company/123/customer/1")
    assert other_realm.status_code == 403
    quickbooks.admin.set_company(sandbox=True)
    sandbox_company = quickbooks.api().get(f"{_base(quickbooks)}/companyinfo/{REALM_ID}")
    assert sandbox_company.status_code == 403
    assert "sandbox" in sandbox_company.json()["Fault"]["Error"][0]["Detail"]
    quickbooks.admin.set_company(sandbox=False)
    info = quickbooks.api().get(f"{_base(quickbooks)}/companyinfo/{REALM_ID}").json()["CompanyInfo"]
    assert info["CompanyName"]


def test_batch_runs_items_independently(quickbooks: Sandbox) -> None:
    quickbooks.admin.seed({"Customer": [{"DisplayName": "Taken"}]})
    batch = (
        quickbooks.api()
        .post(
            f"{_base(quickbooks)}/batch",
            json={
                "BatchItemRequest": [
                    {"bId": "1", "operation": "create", "Customer": {"DisplayName": "Fresh"}},
                    {"bId": "2", "operation": "create", "Customer": {"DisplayName": "Taken"}},
                    {
                        "bId": "3",
                        "operation": "update",
                        "Customer": {"Id": "1", "SyncToken": "9", "sparse": True, "Notes": "x"},
                    },
                    {"bId": "4", "Query": "select * from Customer where DisplayName = 'Taken'"},
                ]
            },
        )
        .json()["BatchItemResponse"]
    )
    assert batch[0]["Customer"]["DisplayName"] == "Fresh"
    assert batch[1]["Fault"]["Error"][0]["code"] == "6240"
    assert batch[2]["Fault"]["Error"][0]["code"] == "5010"
    assert batch[3]["QueryResponse"]["Customer"][0]["Id"] == "1"
    too_big = quickbooks.api().post(
        f"{_base(quickbooks)}/batch",
        json={"BatchItemRequest": [{"bId": str(n), "Query": "select * from Customer"} for n in range(31)]},
    )
    assert too_big.status_code == 400


def test_change_data_capture(quickbooks: Sandbox) -> None:
    before = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    ids = quickbooks.admin.seed(
        {
            "Customer": [{"DisplayName": "CDC One"}],
            "Item": [{"Name": "CDC item", "Type": "Service", "IncomeAccountRef": {"value": "1"}}],
            "Invoice": [
                {
                    "CustomerRef": {"value": "1"},
                    "Line": [
                        {
                            "Amount": 5,
                            "DetailType": "SalesItemLineDetail",
                            "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
                        }
                    ],
                }
            ],
        }
    )
    quickbooks.admin.delete("Invoice", ids["Invoice"][0])
    cdc = (
        quickbooks.api()
        .get(
            f"{_base(quickbooks)}/cdc",
            params={"entities": "Customer,Item,Invoice,Payment", "changedSince": before},
        )
        .json()
    )
    parts = cdc["CDCResponse"][0]["QueryResponse"]
    assert [p["Customer"][0]["DisplayName"] for p in parts if "Customer" in p] == ["CDC One"]
    deleted = next(p["Invoice"] for p in parts if "Invoice" in p)
    assert deleted[0]["status"] == "Deleted"
    assert {} in parts  # no payments changed
    later = (datetime.now(UTC) + timedelta(seconds=5)).isoformat()
    empty = quickbooks.api().get(f"{_base(quickbooks)}/cdc", params={"entities": "Customer", "changedSince": later})
    assert empty.json()["CDCResponse"][0]["QueryResponse"] == [{}]
    old = (datetime.now(UTC) - timedelta(days=31)).isoformat()
    too_old = quickbooks.api().get(f"{_base(quickbooks)}/cdc", params={"entities": "Customer", "changedSince": old})
    assert too_old.status_code == 400


def _expected_signature(body: bytes) -> str:
    return base64.b64encode(hmac.new(VERIFIER_TOKEN.encode(), body, hashlib.sha256).digest()).decode()


def test_cloudevents_webhooks_are_signed_and_typed(quickbooks: Sandbox, sink: WebhookSink) -> None:
    quickbooks.admin.configure_webhooks(url=sink.url)
    customer = quickbooks.admin.create("Customer", {"DisplayName": "Hooked"})
    quickbooks.admin.update("Customer", customer["Id"], {"CompanyName": "Hooked Inc"})
    other = quickbooks.admin.create("Customer", {"DisplayName": "Dupe"})
    quickbooks.admin.merge("Customer", customer["Id"], other["Id"])
    assert quickbooks.admin.flush_webhooks()
    deliveries = sink.wait_for(1)
    events = [e for d in deliveries for e in json.loads(d.body)]
    assert [e["type"] for e in events] == [
        "qbo.customer.created.v1",
        "qbo.customer.updated.v1",
        "qbo.customer.created.v1",
        "qbo.customer.merged.v1",
    ]
    assert events[-1]["data"] == {"deletedid": other["Id"]}
    assert all(e["intuitaccountid"] == REALM_ID and e["specversion"] == "1.0" for e in events)
    for delivery in deliveries:
        headers = {k.lower(): v for k, v in delivery.headers.items()}
        assert headers["intuit-signature"] == _expected_signature(delivery.body)
        assert headers["content-type"] == "application/cloudevents+json"


def test_legacy_webhooks_by_flag(quickbooks: Sandbox, sink: WebhookSink) -> None:
    quickbooks.admin.configure_webhooks(url=sink.url)
    quickbooks.admin.set_company(legacy_webhooks=True)
    customer = quickbooks.admin.create("Customer", {"DisplayName": "Legacy"})
    quickbooks.admin.delete("Customer", customer["Id"])
    assert quickbooks.admin.flush_webhooks()
    (delivery,) = sink.wait_for(1)
    body = json.loads(delivery.body)
    entities = body["eventNotifications"][0]["dataChangeEvent"]["entities"]
    assert body["eventNotifications"][0]["realmId"] == REALM_ID
    assert [(e["name"], e["id"], e["operation"]) for e in entities] == [
        ("Customer", customer["Id"], "Create"),
        ("Customer", customer["Id"], "Update"),
    ]
    assert {k.lower(): v for k, v in delivery.headers.items()}["intuit-signature"] == _expected_signature(delivery.body)


def test_payments_emit_invoice_updates(quickbooks: Sandbox, sink: WebhookSink) -> None:
    created = quickbooks.admin.seed(
        {
            "Customer": [{"DisplayName": "P"}],
            "Item": [{"Name": "I", "Type": "Service", "IncomeAccountRef": {"value": "1"}}],
        }
    )
    invoice = quickbooks.admin.create(
        "Invoice",
        {
            "CustomerRef": {"value": created["Customer"][0]},
            "Line": [
                {
                    "Amount": 100,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
                }
            ],
        },
    )
    quickbooks.admin.configure_webhooks(url=sink.url)
    quickbooks.admin.create(
        "Payment",
        {
            "CustomerRef": {"value": created["Customer"][0]},
            "TotalAmt": 100,
            "Line": [{"Amount": 100, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
        },
    )
    assert quickbooks.admin.flush_webhooks()
    types = [e["type"] for d in sink.wait_for(1) for e in json.loads(d.body)]
    assert types == ["qbo.payment.created.v1", "qbo.invoice.updated.v1"]


def test_limits_per_second_batch_and_concurrency() -> None:
    emulator = QuickBooksEmulator(realm_id=REALM_ID, dev_token=DEV_TOKEN, time_scale=0.1)
    now = [1000.0]
    emulator.limits_clock = lambda: now[0]  # the limits' time moves only when the test moves it
    server = serve(emulator)
    admin = QuickBooksAdmin(server.url)
    try:
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {DEV_TOKEN}"
        base = f"{server.url}/v3/company/{REALM_ID}"
        burst = [api.get(f"{base}/preferences").status_code for _ in range(11)]
        assert burst[:10] == [200] * 10
        assert burst[10] == 429
        admin.reset()
        statuses = []
        for _ in range(41):  # 40 batches per minute (6 s at this scale), each in a second of its own
            now[0] += 0.12
            statuses.append(
                api.post(
                    f"{base}/batch",
                    json={"BatchItemRequest": [{"bId": "1", "Query": "select * from Customer"}]},
                ).status_code
            )
        assert statuses[:40] == [200] * 40
        assert statuses[40] == 429
        assert admin.stats()["rate_limited"]["batch"] == 1
        admin.reset()
        ticks = itertools.count(2000.0, 1.0)
        emulator.limits_clock = lambda: next(ticks)  # a second apart each: only the concurrency cap can refuse
        admin.add_fault("slow", rate=1.0, delay_ms=1000)
        with ThreadPoolExecutor(12) as pool:
            codes = list(
                pool.map(
                    lambda _: (
                        requests.get(
                            f"{base}/preferences",
                            timeout=10,
                            headers={"Authorization": f"Bearer {DEV_TOKEN}"},
                        ).status_code
                    ),
                    range(12),
                )
            )
        assert codes.count(429) >= 2
        assert admin.stats()["concurrency_rejected"] >= 2  # at most 10 run at once
    finally:
        server.stop()
