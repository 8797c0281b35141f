"""Connect: the install flow through devstack's gateway against both sandboxes, and what it refuses."""

import json
import threading
from decimal import Decimal
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests

from devstack.browser import Browser
from devstack.sandboxed import SandboxedProduct
from hubbooks import wiring
from hubbooks.auth.signing import Signer
from hubbooks.auth.tokens import NeedsReauthError
from hubbooks.models.connection import Connection
from tests.support.product import as_function, install, signing_key, table_items

pytestmark = [pytest.mark.devstack, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _fresh(product: SandboxedProduct) -> None:
    """Each test starts with no connection and ordinary sandbox companies."""
    with as_function(product):
        for item in table_items(product):
            product.devstack.client("dynamodb").delete_item(
                TableName=product.devstack.physical["Table"], Key={"PK": item["PK"], "SK": item["SK"]}
            )
    product.quickbooks_admin.set_company(sandbox=False, CustomTxnNumbers=False)


def _connections(product: SandboxedProduct) -> list[dict[str, object]]:
    return [i for i in table_items(product) if i["SK"]["S"] == "META" and i["PK"]["S"].startswith("CONN#")]


def test_install_flow_ends_active_with_a_session(product: SandboxedProduct) -> None:
    browser, connection = install(product)
    assert connection["status"] == "active"
    assert connection["portal_id"] == product.credentials.portal_id
    assert connection["realm_id"] == product.credentials.realm_id
    assert connection["company_name"] == "Sandbox Company US"
    hops = [urlsplit(r.url).path for r in browser.history]
    assert hops[:8] == [
        "/connect/hubspot",
        "/oauth/authorize",
        "/oauth/hubspot/callback",
        "/connect/quickbooks",
        "/connect/oauth2",
        "/oauth/quickbooks/callback",  # asks "connect QuickBooks company X to HubSpot account Y?"
        "/connect/quickbooks/confirm",
        "/",
    ]
    for response in browser.history:
        for header in response.raw.headers.getlist("Set-Cookie"):
            assert header.startswith("__Host-"), header
            assert {"HttpOnly", "Secure", "SameSite=Lax", "Path=/"} <= {p.strip() for p in header.split(";")}
    settings_page = browser.history[7]
    assert settings_page.status_code == 200
    assert 'id="syncs"' in settings_page.text  # the page, which loads the connection through /api


def _callback_url(product: SandboxedProduct, browser: Browser) -> str:
    """Start the install in `browser` and stop where HubSpot sends it back (code and state in hand)."""
    start = browser.step(f"{product.devstack.gateway_url}/connect/hubspot")
    authorize = browser.step(start.headers["Location"])
    return str(authorize.headers["Location"])


def test_state_missing_forged_expired_or_reused_is_refused(product: SandboxedProduct) -> None:
    base = f"{product.devstack.gateway_url}/oauth/hubspot/callback"
    assert requests.get(f"{base}?code=abc", timeout=10).status_code == 400
    browser = Browser()
    good = _callback_url(product, browser)
    parts = urlsplit(good)
    query = parse_qs(parts.query)
    forged = query["state"][0][:-2] + ("AA" if not query["state"][0].endswith("AA") else "BB")
    assert (
        requests.get(f"{base}?{urlencode({'code': query['code'][0], 'state': forged})}", timeout=10).status_code == 400
    )
    expired = Signer(signing_key(product), "oauth-state").sign({"n": "x", "p": "hubspot"}, -1)
    answer = requests.get(f"{base}?{urlencode({'code': query['code'][0], 'state': expired})}", timeout=10)
    assert answer.status_code == 400
    assert "expired" in answer.text
    assert _connections(product) == []
    first = browser.step(good)
    assert first.status_code == 302
    again = browser.step(good)
    assert again.status_code == 400
    assert "already used" in again.text


def test_user_denying_access_gets_a_clear_page(product: SandboxedProduct) -> None:
    browser = Browser()
    start = browser.step(f"{product.devstack.gateway_url}/connect/hubspot")
    denied = browser.get(start.headers["Location"] + "&sandbox_reject=1")
    assert denied.status_code == 400
    assert "did not grant access" in denied.text
    assert _connections(product) == []


def test_a_code_cannot_be_used_twice(product: SandboxedProduct) -> None:
    browser = Browser()
    first = _callback_url(product, browser)
    assert browser.step(first).status_code == 302
    code = parse_qs(urlsplit(first).query)["code"][0]
    second = urlsplit(_callback_url(product, browser))
    state = parse_qs(second.query)["state"][0]
    replay = urlunsplit(second._replace(query=urlencode({"code": code, "state": state})))
    answer = browser.step(replay)
    assert answer.status_code == 400
    assert "refused the authorization code" in answer.text


def test_a_session_for_one_connection_cannot_act_on_another(product: SandboxedProduct) -> None:
    browser, mine = install(product)
    with as_function(product):
        other = wiring.connections().create(Connection(connection_id="other", portal_id=999))
    for method in ("GET", "POST"):
        answer = browser.request(
            method,
            f"{product.devstack.gateway_url}/connections/{other.connection_id}/disconnect",
            data={"confirm": "x"} if method == "POST" else None,
        )
        assert answer.status_code == 403
    assert (
        browser.get(f"{product.devstack.gateway_url}/api/connection").json()["connection_id"] == mine["connection_id"]
    )
    assert requests.get(f"{product.devstack.gateway_url}/api/connection", timeout=10).status_code == 401


def test_sandbox_companies_are_refused(product: SandboxedProduct) -> None:
    product.quickbooks_admin.set_company(sandbox=True)
    final = Browser().get(f"{product.devstack.gateway_url}/connect/hubspot")
    assert final.status_code == 400
    assert "sandbox companies cannot be connected" in final.text
    (connection,) = _connections(product)
    assert connection["status"]["S"] == "pending_quickbooks"
    assert not any(i["SK"]["S"] == "TOKEN#quickbooks" for i in table_items(product))


def test_custom_transaction_numbers_leave_a_warning_that_is_checked_again_each_day(product: SandboxedProduct) -> None:
    product.quickbooks_admin.set_company(CustomTxnNumbers=True)
    browser, connection = install(product)
    assert [w["code"] for w in connection["warnings"]] == ["custom_transaction_numbers"]

    def a_day_later() -> list[str]:
        """The sweep a day after the last look at the company: the warnings it leaves on the page's API."""
        product.devstack.client("dynamodb").update_item(
            TableName=product.devstack.physical["Table"],
            Key={"PK": {"S": f"CONN#{connection['connection_id']}"}, "SK": {"S": "META"}},
            UpdateExpression="SET company_checked_at = :then",
            ExpressionAttributeValues={":then": {"S": "2026-01-01T00:00:00Z"}},
        )
        product.devstack.invoke("ReconcileFunction", {"action": "sweep"})
        product.settle()  # the tick queues the connection's sweep, which rechecks the company
        answer = browser.get(f"{product.devstack.gateway_url}/api/connection").json()
        return [w["code"] for w in answer["warnings"]]

    product.quickbooks_admin.set_company(CustomTxnNumbers=False)
    product.devstack.invoke("ReconcileFunction", {"action": "sweep"})  # checked at install: not yet again
    product.settle()
    assert [w["code"] for w in browser.get(f"{product.devstack.gateway_url}/api/connection").json()["warnings"]] == [
        "custom_transaction_numbers"
    ]
    assert a_day_later() == []
    product.quickbooks_admin.set_company(CustomTxnNumbers=True)
    assert a_day_later() == ["custom_transaction_numbers"]


def test_a_realm_bound_to_another_portal_is_refused(product: SandboxedProduct) -> None:
    with as_function(product):
        repository = wiring.connections()
        owner = repository.create(Connection(connection_id="owner", portal_id=777))
        repository.bind_realm(owner, product.credentials.realm_id)
    final = Browser().get(f"{product.devstack.gateway_url}/connect/hubspot")
    assert final.status_code == 409
    assert "already connected" in final.text
    assert "777" in final.text


def _expire_stored(product: SandboxedProduct, connection_id: str, provider: str) -> None:
    product.devstack.client("dynamodb").update_item(
        TableName=product.devstack.physical["Table"],
        Key={"PK": {"S": f"CONN#{connection_id}"}, "SK": {"S": f"TOKEN#{provider}"}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": "0"}},
    )


def test_concurrent_refreshes_make_one_call_and_both_tokens_work(product: SandboxedProduct) -> None:
    _, connection = install(product)
    cid = connection["connection_id"]
    _expire_stored(product, cid, "quickbooks")
    product.quickbooks_admin.expire_tokens()
    product.quickbooks_admin.clear_calls()
    tokens: list[str] = []
    with as_function(product):
        from hubbooks.auth import tokens as token_module

        token_module.forget_cached(cid)
        providers = [wiring.token_provider(), wiring.token_provider()]
        barrier = threading.Barrier(2)

        def refresh(index: int) -> None:
            barrier.wait()
            tokens.append(providers[index].access_token(cid, "quickbooks"))

        threads = [threading.Thread(target=refresh, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    calls = [c for c in product.quickbooks_admin.calls() if c["path"] == "/oauth2/v1/tokens/bearer"]
    assert len(calls) == 1
    assert len(tokens) == 2
    assert tokens[0] == tokens[1]
    answer = requests.get(
        f"{product.quickbooks.url}/v3/company/{product.credentials.realm_id}/preferences",
        headers={"Authorization": f"Bearer {tokens[0]}", "Accept": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200


def test_a_revoked_refresh_token_pauses_the_connection(product: SandboxedProduct) -> None:
    _, connection = install(product)
    cid = connection["connection_id"]
    with as_function(product):
        provider = wiring.token_provider()
        refresh = provider.refresh_token(cid, "quickbooks")
        assert refresh is not None
        c = product.credentials
        requests.post(
            f"{product.quickbooks.url}/v2/oauth2/tokens/revoke",
            json={"token": refresh},
            auth=(c.qbo_client_id, c.qbo_client_secret),
            timeout=10,
        ).raise_for_status()
        _expire_stored(product, cid, "quickbooks")
        from hubbooks.auth import tokens as token_module

        token_module.forget_cached(cid)
        with pytest.raises(NeedsReauthError):
            provider.access_token(cid, "quickbooks")
        stored = wiring.connections().get(cid)
    assert stored is not None
    assert stored.status == "needs_reauth"
    assert stored.syncs_paused
    assert "reconnect QuickBooks" in (stored.status_reason or "")


def test_no_token_is_stored_or_logged_in_plaintext(
    product: SandboxedProduct, capfd: pytest.CaptureFixture[str]
) -> None:
    install(product)
    hubspot, quickbooks = product.hubspot_app.oauth, product.quickbooks_app.oauth
    secrets = {*hubspot.access, *hubspot.refresh, *quickbooks.access, *quickbooks.refresh}
    assert len(secrets) >= 4
    stored = json.dumps(table_items(product), default=lambda v: str(v) if isinstance(v, Decimal | bytes) else v)
    logged = capfd.readouterr()
    for secret in secrets:
        assert secret not in stored
        assert secret not in logged.out + logged.err
    token_items = [i for i in table_items(product) if i["SK"]["S"].startswith("TOKEN#")]
    assert {i["SK"]["S"] for i in token_items} == {"TOKEN#hubspot", "TOKEN#quickbooks"}
    assert all("ciphertext" in i for i in token_items)


def test_disconnect_confirms_revokes_and_deletes(product: SandboxedProduct) -> None:
    browser, connection = install(product)
    cid = connection["connection_id"]
    with as_function(product):
        provider = wiring.token_provider()
        qbo_refresh = provider.refresh_token(cid, "quickbooks")
        hubspot_refresh = provider.refresh_token(cid, "hubspot")
    base = f"{product.devstack.gateway_url}/connections/{cid}/disconnect"
    unconfirmed = browser.post(base, {})
    assert unconfirmed.status_code == 400
    confirmation = browser.get(base)
    assert confirmation.status_code == 200
    token = confirmation.text.split('name="confirm" value="')[1].split('"')[0]
    done = browser.post(base, {"confirm": token})
    assert done.status_code == 200
    assert "Disconnected" in done.text
    assert [
        i
        for i in table_items(product)
        if i["PK"]["S"]
        in (f"CONN#{cid}", f"PORTAL#{product.credentials.portal_id}", f"REALM#{product.credentials.realm_id}")
    ] == []
    assert browser.get(f"{product.devstack.gateway_url}/api/connection").status_code == 401
    c = product.credentials
    refused = requests.post(
        f"{product.quickbooks.url}/oauth2/v1/tokens/bearer",
        auth=(c.qbo_client_id, c.qbo_client_secret),
        data={"grant_type": "refresh_token", "refresh_token": qbo_refresh},
        timeout=10,
    )
    assert refused.json() == {"error": "invalid_grant"}
    assert hubspot_refresh not in product.hubspot_app.oauth.refresh
    landing = requests.get(
        f"{product.devstack.gateway_url}/oauth/quickbooks/disconnect?realmId={c.realm_id}", timeout=10
    )
    assert landing.status_code == 200
    assert "was disconnected" in landing.text


def test_a_hubspot_install_finished_in_another_browser_is_refused_with_nothing_bound(
    product: SandboxedProduct,
) -> None:
    """The classic OAuth CSRF (RFC 6749 10.12): a flow started in one browser, its callback sent to another."""
    attacker, victim = Browser(), Browser()
    callback = _callback_url(product, attacker)
    answer = victim.step(callback)
    assert answer.status_code == 400
    assert "Finish in the browser you started in" in answer.text
    assert _connections(product) == []


def test_a_quickbooks_consent_finished_in_another_browser_binds_nothing(product: SandboxedProduct) -> None:
    """An attacker installs on their own portal, stops at the QuickBooks step and sends the Intuit link to a
    QuickBooks admin: the admin's consent cannot bind the admin's company to the attacker's portal."""
    attacker, admin = Browser(), Browser()
    product.add_accounts(4_455_777, "9130355577777")
    product.sign_in(admin, 4_455_777, "9130355577777")
    gateway = product.devstack.gateway_url
    assert attacker.step(_callback_url(product, attacker)).status_code == 302  # HubSpot done, hand-off kept
    to_intuit = attacker.step(f"{gateway}/connect/quickbooks")
    assert to_intuit.status_code == 302
    consent = admin.step(to_intuit.headers["Location"])
    answer = admin.step(consent.headers["Location"])
    assert answer.status_code == 400
    assert "Finish in the browser you started in" in answer.text
    [connection] = _connections(product)
    assert "realm_id" not in connection or connection["realm_id"].get("NULL")
    install_token = attacker.cookie(gateway, "__Host-hb_install")
    assert install_token
    handed = Browser().step(f"{gateway}/connect/quickbooks?install={install_token}")  # the old hand-off link
    assert handed.status_code == 401


def _asked(product: SandboxedProduct, browser: Browser) -> requests.Response:
    """Run the install up to the question "connect company X to account Y?"."""
    asked = browser.get(f"{product.devstack.gateway_url}/connect/hubspot")
    assert asked.status_code == 200, asked.text
    assert "Connect QuickBooks company Sandbox Company US" in asked.text
    assert f"HubSpot account {product.credentials.portal_id}" in asked.text
    return asked


def test_nothing_is_bound_or_stored_before_the_person_confirms_and_cancel_gives_the_grant_back(
    product: SandboxedProduct,
) -> None:
    browser = Browser()
    asked = _asked(product, browser)
    [connection] = _connections(product)
    assert connection["status"]["S"] == "pending_quickbooks"
    assert not [i for i in table_items(product) if i["SK"]["S"] == "TOKEN#quickbooks"]
    revoked_before = set(product.quickbooks_app.oauth.revoked)
    cancelled = browser.submit(asked, decision="cancel")
    assert cancelled.status_code == 200
    assert "Nothing was connected" in cancelled.text
    assert len(product.quickbooks_app.oauth.revoked - revoked_before) == 1  # the grant was given back
    assert [c["status"]["S"] for c in _connections(product)] == ["pending_quickbooks"]
    assert browser.get(f"{product.devstack.gateway_url}/api/connection").status_code == 401
    again = browser.submit(asked, decision="connect")  # the same confirmation, sent again
    assert again.status_code == 400
    assert [c["status"]["S"] for c in _connections(product)] == ["pending_quickbooks"]


def test_a_confirmation_sent_from_another_browser_binds_nothing(product: SandboxedProduct) -> None:
    asked = _asked(product, Browser())
    answer = Browser().submit(asked, decision="connect")
    assert answer.status_code == 400
    assert "Finish in the browser you started in" in answer.text
    assert [c["status"]["S"] for c in _connections(product)] == ["pending_quickbooks"]


def test_a_session_ends_at_logout_and_at_a_reinstall(product: SandboxedProduct) -> None:
    gateway = product.devstack.gateway_url
    first, _ = install(product)
    copied = dict(first.cookies)  # what a thief of the cookie would hold
    assert first.post(f"{gateway}/api/logout", {}).status_code == 200
    assert first.get(f"{gateway}/api/connection").status_code == 401
    stolen = Browser(cookies={host: dict(jar) for host, jar in copied.items()})
    assert stolen.get(f"{gateway}/api/connection").status_code == 401  # ended on the server, not just cleared
    second, _ = install(product)
    third, _ = install(product)  # installing again ends the sessions before it
    assert second.get(f"{gateway}/api/connection").status_code == 401
    assert third.get(f"{gateway}/api/connection").status_code == 200


def test_a_settings_change_is_recorded_with_the_session_that_made_it(product: SandboxedProduct) -> None:
    gateway = product.devstack.gateway_url
    browser, _ = install(product)
    version = browser.get(f"{gateway}/api/syncs/products").json()["version"]
    saved = browser.request("PUT", f"{gateway}/api/syncs/products", json={"version": version, "policy": "qbo_wins"})
    assert saved.status_code == 200, saved.text
    [entry] = [h for h in browser.get(f"{gateway}/api/history").json()["items"] if h["action"] == "settings_changed"]
    assert (entry["pair"], entry["fields"]) == ("products", ["policy"])
    sessions = [
        i["SK"]["S"].removeprefix("SESSION#") for i in table_items(product) if i["SK"]["S"].startswith("SESSION#")
    ]
    assert entry["session"] in sessions
