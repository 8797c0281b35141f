"""Both emulators serve many accounts at once, as the providers do for one app: HubSpot portals and
QuickBooks companies, each with its own records, tokens, limits and webhooks."""

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox.client import SandboxError
from tests.conftest import CLIENT_ID, CLIENT_SECRET, PORTAL_ID, REALM_ID, Sandbox
from tests.support.webhook_sink import WebhookSink

OTHER_PORTAL = 7_100_001
OTHER_REALM = "9341455000000777"


def _hubspot_token(hubspot: Sandbox, portal: int) -> dict[str, Any]:
    """Install the app as a user signed in to `portal`."""
    authorize = requests.get(
        f"{hubspot.url}/oauth/authorize",
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": "https://app.example/cb",
            "scope": "oauth crm.objects.contacts.read",
        },
        cookies={"hubspot_portal": str(portal)},
        allow_redirects=False,
        timeout=10,
    )
    code = parse_qs(urlsplit(authorize.headers["Location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": "https://app.example/cb",
        "code": code,
    }
    body: dict[str, Any] = requests.post(f"{hubspot.url}/oauth/v1/token", data=form, timeout=10).json()
    return body


def _qbo_token(quickbooks: Sandbox, realm: str) -> tuple[str, str]:
    """Connect the company `realm` as the user choosing it; answers the realm the redirect names and a token."""
    authorize = requests.get(
        f"{quickbooks.url}/connect/oauth2",
        params={
            "client_id": CLIENT_ID,
            "response_type": "code",
            "scope": "com.intuit.quickbooks.accounting",
            "redirect_uri": "https://app.example/qbo",
        },
        cookies={"qbo_realm": realm},
        allow_redirects=False,
        timeout=10,
    )
    query = parse_qs(urlsplit(authorize.headers["Location"]).query)
    token = requests.post(
        f"{quickbooks.url}/oauth2/v1/tokens/bearer",
        headers={"Authorization": "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()},
        data={"grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": "https://app.example/qbo"},
        timeout=10,
    )
    return query["realmId"][0], str(token.json()["access_token"])


def test_hubspot_portals_keep_their_records_tokens_and_webhooks_apart(hubspot: Sandbox, sink: WebhookSink) -> None:
    other = hubspot.admin.add_account(str(OTHER_PORTAL))
    hubspot.admin.configure_webhooks(url=sink.url)
    mine = hubspot.admin.create("contacts", {"email": "mine@example.com"})
    theirs = other.create("contacts", {"email": "theirs@example.com"})
    assert [r["properties"]["email"] for r in other.records("contacts")] == ["theirs@example.com"]
    assert "theirs@example.com" not in [r["properties"]["email"] for r in hubspot.admin.records("contacts")]

    token = _hubspot_token(hubspot, OTHER_PORTAL)
    assert token["hub_id"] == OTHER_PORTAL
    info = requests.get(f"{hubspot.url}/oauth/v1/access-tokens/{token['access_token']}", timeout=10).json()
    assert info["hub_id"] == OTHER_PORTAL
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    seen = requests.get(f"{hubspot.url}/crm/v3/objects/contacts", headers=headers, timeout=10).json()
    assert [r["id"] for r in seen["results"]] == [theirs["id"]]
    elsewhere = requests.get(f"{hubspot.url}/crm/v3/objects/contacts/{mine['id']}", headers=headers, timeout=10)
    assert elsewhere.status_code == 404  # record ids are unique across portals; another portal's is not found
    assert _hubspot_token(hubspot, PORTAL_ID)["hub_id"] == PORTAL_ID  # no cookie choice: the primary portal

    assert hubspot.admin.flush_webhooks()
    events = [e for d in sink.wait_for(1) for e in json.loads(d.body)]
    assert sorted((e["portalId"], e["objectId"]) for e in events) == sorted(
        [(PORTAL_ID, int(mine["id"])), (OTHER_PORTAL, int(theirs["id"]))]
    )


@pytest.mark.parametrize("kind", ["contacts", "Customer"])
def test_an_unknown_account_is_refused_by_the_admin_api(hubspot: Sandbox, quickbooks: Sandbox, kind: str) -> None:
    admin = hubspot.admin if kind == "contacts" else quickbooks.admin
    with pytest.raises(SandboxError, match="-> 404"):
        admin.on("123").records(kind)


def test_quickbooks_companies_keep_their_records_tokens_and_webhooks_apart(
    quickbooks: Sandbox, sink: WebhookSink
) -> None:
    other = quickbooks.admin.add_account(OTHER_REALM)
    quickbooks.admin.configure_webhooks(url=sink.url)
    quickbooks.admin.create("Customer", {"DisplayName": "Mine"})
    other.create("Customer", {"DisplayName": "Theirs"})
    assert [c["DisplayName"] for c in other.records("Customer")] == ["Theirs"]
    assert [c["DisplayName"] for c in quickbooks.admin.records("Customer")] == ["Mine"]

    realm, token = _qbo_token(quickbooks, OTHER_REALM)
    assert realm == OTHER_REALM
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    query = {"query": "select * from Customer"}
    answer = requests.get(f"{quickbooks.url}/v3/company/{OTHER_REALM}/query", params=query, headers=headers, timeout=10)
    assert [c["DisplayName"] for c in answer.json()["QueryResponse"]["Customer"]] == ["Theirs"]
    across = requests.get(f"{quickbooks.url}/v3/company/{REALM_ID}/query", params=query, headers=headers, timeout=10)
    assert across.status_code == 403

    assert quickbooks.admin.flush_webhooks()
    events = [e for d in sink.wait_for(1) for e in json.loads(d.body)]
    assert sorted(e["intuitaccountid"] for e in events) == sorted([REALM_ID, OTHER_REALM])
