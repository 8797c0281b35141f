"""HubSpot emulator: OAuth, webhooks, timeline, workflow actions, rate limits and injected faults."""

import base64
import hashlib
import hmac
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox import signing
from sandbox.client import HubSpotAdmin
from sandbox.http import serve
from sandbox.hubspot.app import HubSpotEmulator
from tests.conftest import CLIENT_ID, CLIENT_SECRET, DEV_TOKEN, PORTAL_ID, Sandbox
from tests.support.webhook_sink import Delivery, WebhookSink


def _expected_v3(secret: str, url: str, body: bytes, timestamp: str) -> str:
    """HubSpot's documented v3 algorithm, written out independently of the sandbox's code."""
    message = f"POST{url}{body.decode()}{timestamp}".encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def _events(deliveries: list[Delivery]) -> list[dict[str, Any]]:
    return [event for d in deliveries for event in json.loads(d.body)]


def _authorize(hubspot: Sandbox, **extra: str) -> dict[str, list[str]]:
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": "https://app.example/cb",
        "scope": "oauth crm.objects.contacts.read",
        "state": "s1",
        **extra,
    }
    response = requests.get(f"{hubspot.url}/oauth/authorize", params=params, allow_redirects=False, timeout=10)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.netloc == "app.example"
    return parse_qs(location.query)


def test_oauth_code_exchange_refresh_and_token_info(hubspot: Sandbox) -> None:
    query = _authorize(hubspot)
    assert query["state"] == ["s1"]
    form = {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": "https://app.example/cb",
        "code": query["code"][0],
    }
    token = requests.post(f"{hubspot.url}/oauth/v1/token", data=form, timeout=10)
    assert token.status_code == 200
    body = token.json()
    assert (body["expires_in"], body["hub_id"], body["token_type"]) == (1800, PORTAL_ID, "bearer")
    reused = requests.post(f"{hubspot.url}/oauth/v1/token", data=form, timeout=10)
    assert reused.status_code == 400
    assert reused.json()["status"] == "BAD_AUTH_CODE"
    info = requests.get(f"{hubspot.url}/oauth/v1/access-tokens/{body['access_token']}", timeout=10).json()
    assert info["hub_id"] == PORTAL_ID
    contacts = requests.get(
        f"{hubspot.url}/crm/v3/objects/contacts",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=10,
    )
    assert contacts.status_code == 200
    for method, path, needed in (
        ("PATCH", "/crm/v3/objects/contacts/1", "crm.objects.contacts.write"),
        ("GET", "/crm/v3/lists/1", "crm.lists.read"),
        ("POST", "/crm/v3/lists/search", "crm.lists.read"),
        ("GET", "/tax-rates/v1/tax-rates", "tax_rates.read"),
    ):
        refused = requests.request(
            method,
            f"{hubspot.url}{path}",
            headers={"Authorization": f"Bearer {body['access_token']}"},
            json={},
            timeout=10,
        )
        assert refused.status_code == 403, (method, path)  # granted contacts.read only: no writes, lists, rates
        assert refused.json()["category"] == "MISSING_SCOPES"
        assert refused.json()["errors"][0]["context"]["requiredGranularScopes"] == [needed]
    refreshed = requests.post(
        f"{hubspot.url}/oauth/v1/token",
        data={
            "grant_type": "refresh_token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": body["refresh_token"],
        },
        timeout=10,
    )
    assert refreshed.status_code == 200
    assert refreshed.json()["access_token"] != body["access_token"]
    hubspot.admin.expire_tokens()
    expired = requests.get(
        f"{hubspot.url}/crm/v3/objects/contacts",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=10,
    )
    assert expired.status_code == 401
    assert expired.json()["category"] == "EXPIRED_AUTHENTICATION"


def test_oauth_refusals(hubspot: Sandbox) -> None:
    denied = _authorize(hubspot, sandbox_reject="1")
    assert denied["error"] == ["access_denied"]
    assert "code" not in denied
    code = _authorize(hubspot)["code"][0]
    wrong_secret = requests.post(
        f"{hubspot.url}/oauth/v1/token",
        data={
            "grant_type": "authorization_code",
            "client_id": CLIENT_ID,
            "client_secret": "nope",
            "redirect_uri": "https://app.example/cb",
            "code": code,
        },
        timeout=10,
    )
    assert wrong_secret.status_code == 400
    bad_refresh = requests.post(
        f"{hubspot.url}/oauth/v1/token",
        data={
            "grant_type": "refresh_token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": "made-up",
        },
        timeout=10,
    )
    assert bad_refresh.json()["status"] == "BAD_REFRESH_TOKEN"
    assert requests.get(f"{hubspot.url}/crm/v3/objects/contacts", timeout=10).status_code == 401


def test_user_edits_become_signed_webhooks(hubspot: Sandbox, sink: WebhookSink) -> None:
    hubspot.admin.configure_webhooks(url=sink.url)
    created = hubspot.admin.create("contacts", {"email": "hook@example.com", "firstname": "H"})
    hubspot.admin.update("contacts", created["id"], {"firstname": "Hank", "lastname": "Hill"})
    hubspot.api().patch(f"{hubspot.url}/crm/v3/objects/contacts/{created['id']}", json={"properties": {"phone": "555"}})
    hubspot.admin.delete("contacts", created["id"])
    assert hubspot.admin.flush_webhooks()
    deliveries = sink.wait_for(1)
    events = _events(deliveries)
    kinds = [(e["subscriptionType"], e.get("propertyName"), e["changeSource"]) for e in events]
    assert kinds == [
        ("contact.creation", None, "CRM_UI"),
        ("contact.propertyChange", "firstname", "CRM_UI"),
        ("contact.propertyChange", "lastname", "CRM_UI"),
        ("contact.propertyChange", "phone", "INTEGRATION"),
        ("contact.deletion", None, "CRM_UI"),
    ]
    assert all(e["portalId"] == PORTAL_ID and e["objectId"] == int(created["id"]) for e in events)
    for delivery in deliveries:
        headers = {k.lower(): v for k, v in delivery.headers.items()}
        assert headers["x-hubspot-signature-v3"] == _expected_v3(
            CLIENT_SECRET, sink.url, delivery.body, headers["x-hubspot-request-timestamp"]
        )
        assert headers["x-hubspot-signature"] == hashlib.sha256(CLIENT_SECRET.encode() + delivery.body).hexdigest()
        assert abs(int(headers["x-hubspot-request-timestamp"]) - time.time() * 1000) < 60_000


def test_a_parent_company_set_and_removed_and_a_contact_added_are_told_from_both_records(
    hubspot: Sandbox, sink: WebhookSink
) -> None:
    acme, site = (hubspot.admin.create("companies", {"name": n})["id"] for n in ("Acme", "Site"))
    deal = hubspot.admin.create("deals", {"dealname": "Roof", "pipeline": "default", "dealstage": "closedwon"})["id"]
    hubspot.admin.configure_webhooks(url=sink.url)
    hubspot.admin.associate("companies", site, "companies", acme, type_id=14)  # a person: Acme is Site's parent
    hubspot.api().delete(f"{hubspot.url}/crm/v4/objects/companies/{acme}/associations/companies/{site}")
    contact = hubspot.admin.create("contacts", {"email": "a@acme.com"})["id"]
    hubspot.api().put(f"{hubspot.url}/crm/v4/objects/companies/{acme}/associations/default/contacts/{contact}")
    hubspot.api().put(f"{hubspot.url}/crm/v4/objects/companies/{acme}/associations/default/contacts/{contact}")
    hubspot.api().put(f"{hubspot.url}/crm/v4/objects/companies/{acme}/associations/default/deals/{deal}")
    assert hubspot.admin.flush_webhooks()
    kinds = ("company.associationChange", "contact.associationChange")
    events = [e for e in _events(sink.wait_for(1)) if e["subscriptionType"] in kinds]
    told = [
        (e["fromObjectId"], e["toObjectId"], e["associationType"], e["associationRemoved"], e["changeSource"])
        for e in events
    ]
    a, s, c = int(acme), int(site), int(contact)
    assert told == [
        (s, a, "CHILD_TO_PARENT_COMPANY", False, "CRM_UI"),
        (a, s, "PARENT_TO_CHILD_COMPANY", False, "CRM_UI"),
        (s, a, "CHILD_TO_PARENT_COMPANY", True, "INTEGRATION"),
        (a, s, "PARENT_TO_CHILD_COMPANY", True, "INTEGRATION"),
        # A company's contact is told from both records, once (associating again changes nothing); its deal is
        # not among what is subscribed to here.
        (a, c, "COMPANY_TO_CONTACT", False, "INTEGRATION"),
        (c, a, "CONTACT_TO_COMPANY", False, "INTEGRATION"),
    ]
    assert all("objectId" not in e for e in events)


def test_webhooks_batch_at_most_100_and_retry_with_attempt_numbers(sink: WebhookSink) -> None:
    app = HubSpotEmulator(
        portal_id=PORTAL_ID,
        dev_token=DEV_TOKEN,
        client_secret=CLIENT_SECRET,
        webhook_url=sink.url,
        time_scale=0.01,
    )
    server = serve(app)
    try:
        admin = HubSpotAdmin(server.url)
        sink.statuses = [500]
        ids = admin.seed({"contacts": [{"email": f"b{n}@example.com"} for n in range(150)]})["contacts"]
        for object_id in ids:
            admin.update("contacts", object_id, {"firstname": "x"})
        assert admin.flush_webhooks(timeout=20)
        deliveries = sink.wait_for(3)
        assert max(len(json.loads(d.body)) for d in deliveries) <= 100
        first = json.loads(deliveries[0].body)
        retried = next(
            json.loads(d.body)
            for d in deliveries[1:]
            if [e["eventId"] for e in json.loads(d.body)] == [e["eventId"] for e in first]
        )
        assert {e["attemptNumber"] for e in first} == {0}
        assert {e["attemptNumber"] for e in retried} == {1}
        assert {e["objectId"] for e in _events(deliveries[1:])} == {int(i) for i in ids}
    finally:
        server.stop()


@pytest.mark.parametrize("kind", ["drop", "duplicate", "delay", "reorder"])
def test_webhook_delivery_faults(hubspot: Sandbox, sink: WebhookSink, kind: str) -> None:
    hubspot.admin.configure_webhooks(url=sink.url)
    first = hubspot.admin.create("contacts", {"email": "f1@example.com"})
    assert hubspot.admin.flush_webhooks()
    sink.wait_for(1)
    hubspot.admin.add_fault(kind, count=1, delay_ms=200)
    hubspot.admin.update("contacts", first["id"], {"firstname": "one"})
    hubspot.admin.update("contacts", first["id"], {"lastname": "two"})
    assert hubspot.admin.flush_webhooks()  # idle only once the last delivery has been answered
    changes = [e.get("propertyName") for e in _events(sink.deliveries) if e["subscriptionType"].endswith("Change")]
    expected = {
        "drop": ["lastname"],
        "duplicate": ["firstname", "firstname", "lastname"],
        "delay": ["lastname", "firstname"],
        "reorder": ["lastname", "firstname"],
    }[kind]
    assert changes == expected
    assert hubspot.admin.faults()["injected"] == {kind: 1}


def test_timeline_templates_and_events(hubspot: Sandbox) -> None:
    api = hubspot.api()
    app_id = hubspot.app.app_id
    deal = api.post(f"{hubspot.url}/crm/v3/objects/deals", json={"properties": {"dealname": "D"}}).json()
    template = api.post(
        f"{hubspot.url}/crm/v3/timeline/{app_id}/event-templates",
        json={
            "name": "Payment received",
            "objectType": "deals",
            "headerTemplate": "Payment of {{amount}}",
            "tokens": [{"name": "amount", "label": "Amount", "type": "number"}],
        },
    )
    assert template.status_code == 201
    template_id = template.json()["id"]
    event = {"eventTemplateId": template_id, "objectId": deal["id"], "id": "pay-1", "tokens": {"amount": 250}}
    created = api.post(f"{hubspot.url}/integrators/timeline/v3/events", json=event)
    assert created.status_code == 201
    assert created.json()["tokens"] == {"amount": "250"}
    assert api.post(f"{hubspot.url}/crm/v3/timeline/events", json=event).status_code == 409
    unknown = api.post(f"{hubspot.url}/crm/v3/timeline/events", json={**event, "id": "x", "tokens": {"nope": 1}})
    assert unknown.status_code == 400
    read = api.get(f"{hubspot.url}/integrators/timeline/v3/events/{template_id}/pay-1")
    assert read.json()["objectId"] == deal["id"]
    assert [e["id"] for e in hubspot.admin.timeline("deals", deal["id"])] == ["pay-1"]
    other_app = api.post(
        f"{hubspot.url}/crm/v3/timeline/{app_id + 1}/event-templates",
        json={"name": "x", "objectType": "deals"},
    )
    assert other_app.status_code == 403


def test_workflow_action_runs_signed_and_completes(hubspot: Sandbox, sink: WebhookSink) -> None:
    api = hubspot.api()
    app_id = hubspot.app.app_id
    definition = api.post(
        f"{hubspot.url}/automation/v4/actions/{app_id}",
        json={
            "actionUrl": sink.url,
            "objectTypes": ["DEAL"],
            "published": True,
            "inputFields": [
                {
                    "typeDefinition": {"name": "memo", "type": "string", "fieldType": "text"},
                    "isRequired": False,
                }
            ],
            "labels": {"en": {"actionName": "Create a QuickBooks invoice"}},
        },
    )
    assert definition.status_code == 201
    sink.reply_body = json.dumps({"outputFields": {"hs_execution_state": "BLOCK"}}).encode()
    run = hubspot.admin.run_action(definition.json()["id"], "123", {"memo": "thanks"}, callback_id="cb-1")
    assert run["status"] == 200
    assert run["response"]["outputFields"]["hs_execution_state"] == "BLOCK"
    (delivery,) = sink.wait_for(1)
    request = json.loads(delivery.body)
    assert request["callbackId"] == "cb-1"
    assert request["object"] == {"objectId": 123, "objectType": "DEAL"}
    assert request["inputFields"] == {"memo": "thanks"}
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    expected = hashlib.sha256((CLIENT_SECRET + "POST" + sink.url + delivery.body.decode()).encode()).hexdigest()
    assert headers["x-hubspot-signature"] == expected
    assert headers["x-hubspot-signature-version"] == "v2"
    done = api.post(
        f"{hubspot.url}/automation/v4/actions/callbacks/cb-1/complete",
        json={"outputFields": {"hs_execution_state": "SUCCESS", "qbo_invoice_id": "7"}},
    )
    assert done.status_code == 204
    assert hubspot.admin.callbacks()[0]["outputFields"]["qbo_invoice_id"] == "7"


def test_rate_limits_answer_429_in_hubspot_shape() -> None:
    emulator = HubSpotEmulator(portal_id=PORTAL_ID, dev_token=DEV_TOKEN)
    emulator.limits_clock = lambda: 1000.0  # every call in the same instant: the windows alone decide
    server = serve(emulator)
    try:
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {DEV_TOKEN}"
        statuses = [api.get(f"{server.url}/crm/v3/objects/contacts").status_code for _ in range(111)]
        assert statuses[:110] == [200] * 110
        assert statuses[110] == 429
        limited = api.get(f"{server.url}/crm/v3/objects/contacts")
        assert limited.json()["policyName"] == "TEN_SECONDLY_ROLLING"
        assert limited.json()["errorType"] == "RATE_LIMIT"
        assert limited.headers["X-HubSpot-RateLimit-Max"] == "110"
        admin = HubSpotAdmin(server.url)
        admin.reset()
        searches = [api.post(f"{server.url}/crm/v3/objects/contacts/search", json={}).status_code for _ in range(6)]
        assert searches == [200] * 5 + [429]
        assert admin.stats()["rate_limited"]["SECONDLY"] == 1
    finally:
        server.stop()


def test_injected_http_faults(hubspot: Sandbox) -> None:
    api = hubspot.api()
    contacts = f"{hubspot.url}/crm/v3/objects/contacts"
    hubspot.admin.add_fault("503", count=1, method="GET")
    assert api.get(contacts).status_code == 503
    assert api.get(contacts).status_code == 200
    hubspot.admin.add_fault("applied_500", count=1, method="POST")
    answer = api.post(contacts, json={"properties": {"email": "applied@example.com"}})
    assert answer.status_code == 500
    assert [r["properties"]["email"] for r in hubspot.admin.records("contacts")] == ["applied@example.com"]
    hubspot.admin.add_fault("reset", count=1)
    with pytest.raises(requests.ConnectionError):
        api.get(contacts)
    hubspot.admin.add_fault("slow", count=1, delay_ms=300)
    assert api.get(contacts).status_code == 200
    hubspot.admin.add_fault("429", count=1)
    assert api.get(contacts).status_code == 429
    assert hubspot.admin.faults()["injected"] == {"503": 1, "applied_500": 1, "reset": 1, "slow": 1, "429": 1}
    logged = [(c["method"], c["status"], c["fault"]) for c in hubspot.admin.calls()]
    assert ("POST", 500, "applied_500") in logged
    assert ("GET", 200, "slow") in logged


def test_merge_restore_and_invoice_events(hubspot: Sandbox, sink: WebhookSink) -> None:
    ids = hubspot.admin.seed({"contacts": [{"email": "m1@example.com"}, {"email": "m2@example.com"}]})["contacts"]
    hubspot.admin.configure_webhooks(url=sink.url)
    hubspot.admin.merge("contacts", ids[0], ids[1])
    hubspot.admin.delete("contacts", ids[0])
    hubspot.admin.restore("contacts", ids[0])
    invoice = hubspot.api().post(f"{hubspot.url}/crm/v3/objects/invoices", json={"properties": {"hs_currency": "USD"}})
    assert hubspot.admin.flush_webhooks()
    events = _events(sink.wait_for(1))
    merge = events[0]
    assert merge["subscriptionType"] == "contact.merge"
    assert (merge["primaryObjectId"], merge["mergedObjectIds"]) == (int(ids[0]), [int(ids[0]), int(ids[1])])
    assert [e["subscriptionType"] for e in events[1:3]] == ["contact.deletion", "contact.restore"]
    created = events[3]
    assert (created["subscriptionType"], created["objectTypeId"]) == ("object.creation", "0-53")
    assert created["objectId"] == int(invoice.json()["id"])


def test_labelled_associations(hubspot: Sandbox) -> None:
    api = hubspot.api()
    contact = api.post(f"{hubspot.url}/crm/v3/objects/contacts", json={"properties": {"email": "l@example.com"}})
    deal = api.post(f"{hubspot.url}/crm/v3/objects/deals", json={"properties": {"dealname": "L"}})
    url = f"{hubspot.url}/crm/v4/objects/deals/{deal.json()['id']}/associations/contacts/{contact.json()['id']}"
    labelled = api.put(url, json=[{"associationCategory": "USER_DEFINED", "associationTypeId": 77}])
    assert labelled.status_code == 201
    assert labelled.json()["labels"] == ["label-77"]
    wrong = api.put(url, json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 19}])
    assert wrong.status_code == 400


def test_a_held_call_waits_until_released(hubspot: Sandbox) -> None:
    api = hubspot.api()
    contacts = f"{hubspot.url}/crm/v3/objects/contacts"
    hubspot.admin.add_fault("hold", count=1, method="POST")
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(api.post, contacts, json={"properties": {"email": "held@example.com"}})
        hubspot.admin.wait_held()
        assert hubspot.admin.records("contacts") == []  # not applied while held
        assert hubspot.admin.release_held() == 1
        assert answer.result(timeout=10).status_code == 201
    assert [r["properties"]["email"] for r in hubspot.admin.records("contacts")] == ["held@example.com"]
    assert hubspot.admin.faults()["holding"] == 0


def test_the_tax_rate_library_is_listed_in_pages_and_read_by_id(hubspot: Sandbox) -> None:
    vat = hubspot.admin.add_tax_rate("VAT", 20)
    hubspot.admin.add_tax_rate("Reduced VAT", 5)
    api = hubspot.api()
    first = api.get(f"{hubspot.url}/tax-rates/v1/tax-rates", params={"limit": 1}).json()
    assert [(r["name"], r["percentageRate"], r["active"]) for r in first["results"]] == [("VAT", 20.0, True)]
    after = first["paging"]["next"]["after"]
    rest = api.get(f"{hubspot.url}/tax-rates/v1/tax-rates", params={"limit": 1, "after": after}).json()
    assert [r["name"] for r in rest["results"]] == ["Reduced VAT"]
    assert "paging" not in rest
    assert api.get(f"{hubspot.url}/tax-rates/v1/tax-rates/{vat}").json()["label"] == "VAT (20%)"
    assert api.get(f"{hubspot.url}/tax-rates/v1/tax-rates/999").status_code == 404


def test_an_action_fields_options_are_fetched_signed_from_its_options_url(hubspot: Sandbox, sink: WebhookSink) -> None:
    api = hubspot.api()
    field = {"name": "terms", "type": "enumeration", "fieldType": "select", "optionsUrl": sink.url}
    definition = api.post(
        f"{hubspot.url}/automation/v4/actions/{hubspot.app.app_id}",
        json={
            "actionUrl": sink.url,
            "objectTypes": ["DEAL"],
            "inputFields": [{"typeDefinition": field, "isRequired": False}],
            "labels": {"en": {"actionName": "Create a QuickBooks invoice"}},
        },
    ).json()
    sink.reply_body = json.dumps({"options": [{"label": "Net 30", "value": "3"}], "searchable": True}).encode()
    answer = hubspot.admin.action_options(definition["id"], "terms", q="net")
    assert (answer["status"], answer["response"]["options"]) == (200, [{"label": "Net 30", "value": "3"}])
    (delivery,) = sink.wait_for(1)
    request = json.loads(delivery.body)
    assert (request["inputFieldName"], request["fetchOptions"]["q"]) == ("terms", "net")
    assert request["origin"]["actionDefinitionId"] == int(definition["id"])
    headers = {k.lower(): v for k, v in delivery.headers.items()}
    signed = signing.hubspot_v3(
        CLIENT_SECRET, "POST", sink.url, delivery.body.decode(), headers["x-hubspot-request-timestamp"]
    )
    assert headers["x-hubspot-signature-v3"] == signed


def test_quotes_and_hubspot_payments_associate_with_deals_contacts_and_line_items(hubspot: Sandbox) -> None:
    deal = hubspot.admin.create("deals", {"dealname": "Fit-out"})
    contact = hubspot.admin.create("contacts", {"email": "q@example.com"})
    line = hubspot.admin.create("line_items", {"name": "Desk", "quantity": "1", "price": "300"})
    quote = hubspot.admin.create("quotes", {"hs_title": "Fit-out", "hs_expiration_date": "2027-03-31"})
    payment = hubspot.admin.create("commerce_payments", {"hs_initial_amount": "300", "hs_currency_code": "USD"})
    for kind, record in (("quotes", quote), ("commerce_payments", payment)):
        for other, other_id in (("deals", deal["id"]), ("contacts", contact["id"]), ("line_items", line["id"])):
            hubspot.admin.associate(kind, record["id"], other, other_id)
        read = hubspot.api().get(
            f"{hubspot.url}/crm/v3/objects/{kind}/{record['id']}", params={"associations": "deals,contacts"}
        )
        assert read.status_code == 200, read.text
    listed = hubspot.api().get(f"{hubspot.url}/crm/v4/objects/deals/{deal['id']}/associations/quotes")
    assert [str(r["toObjectId"]) for r in listed.json()["results"]] == [quote["id"]]
    paid = hubspot.api().get(f"{hubspot.url}/crm/v3/objects/commerce_payments/{payment['id']}").json()
    assert paid["properties"]["hs_initial_amount"] == "300"
