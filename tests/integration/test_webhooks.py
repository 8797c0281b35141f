"""Webhooks: signed deliveries from both sandboxes become signals on the moto FIFO queue, and nothing else."""

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from devstack.sandboxed import SandboxedProduct
from tests.support.product import checked_product, install
from tests.support.signatures import hubspot_v3_headers, intuit_headers

pytestmark = [pytest.mark.devstack, pytest.mark.slow]


@pytest.fixture(scope="module")
def product() -> Iterator[SandboxedProduct]:
    """No queue consumer here: the tests read what the webhook function queued."""
    with checked_product("wh", run_pumps=False) as running:
        yield running


@pytest.fixture(scope="module")
def connection(product: SandboxedProduct) -> dict[str, Any]:
    return install(product)[1]


@pytest.fixture(autouse=True)
def _empty_queue(product: SandboxedProduct, connection: dict[str, Any]) -> None:
    drain(product)


def drain(product: SandboxedProduct) -> list[tuple[str, dict[str, Any]]]:
    """Every message on the sync queue (group id, body), removed from it."""
    sqs = product.devstack.client("sqs")
    url = product.devstack.physical["SyncQueue"]
    found: list[tuple[str, dict[str, Any]]] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"], VisibilityTimeout=0
        ).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append((message["Attributes"]["MessageGroupId"], json.loads(message["Body"])))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _hubspot_url(product: SandboxedProduct) -> str:
    return f"{product.devstack.gateway_url}/webhooks/hubspot"


def _qbo_url(product: SandboxedProduct) -> str:
    return f"{product.devstack.gateway_url}/webhooks/quickbooks"


def _event(
    product: SandboxedProduct, object_id: int, kind: str = "contact.propertyChange", **extra: Any
) -> dict[str, Any]:
    return {
        "eventId": int(time.time() * 1000) % 10**9 + object_id,
        "subscriptionId": 1,
        "portalId": product.credentials.portal_id,
        "appId": 1,
        "occurredAt": int(time.time() * 1000),
        "subscriptionType": kind,
        "attemptNumber": 0,
        "objectId": object_id,
        "propertyName": "firstname",
        "propertyValue": "x",
        "changeSource": "CRM_UI",
        **extra,
    }


def _post_hubspot(
    product: SandboxedProduct,
    events: Any,
    *,
    secret: str | None = None,
    timestamp_ms: int | None = None,
    tamper: bool = False,
) -> requests.Response:
    body = json.dumps(events).encode()
    headers = hubspot_v3_headers(
        secret or product.credentials.hubspot_client_secret, _hubspot_url(product), body, timestamp_ms
    )
    if tamper:
        body = body.replace(b'"x"', b'"y"', 1)
    return requests.post(_hubspot_url(product), data=body, headers=headers, timeout=10)


def test_sandbox_edits_arrive_as_signals_with_group_ids(product: SandboxedProduct, connection: dict[str, Any]) -> None:
    cid = connection["connection_id"]
    hubspot, quickbooks = product.hubspot_admin, product.quickbooks_admin
    hubspot.configure_webhooks(url=_hubspot_url(product))
    quickbooks.configure_webhooks(url=_qbo_url(product))
    contact = hubspot.create("contacts", {"email": "signal@example.com", "firstname": "Sig"})
    hubspot.update("contacts", contact["id"], {"lastname": "Nal"})
    customer = quickbooks.create("Customer", {"DisplayName": "Signal Co"})
    assert hubspot.flush_webhooks()
    assert quickbooks.flush_webhooks()
    queued = drain(product)
    # The lane its link will put it in, before the link exists.
    assert (f"{cid}:contacts:live", "hs", contact["id"]) in [(g, b["side"], b["record_id"]) for g, b in queued]
    assert (f"{cid}:contacts:qbo:{customer['Id']}", "qbo", customer["Id"]) in [
        (g, b["side"], b["record_id"]) for g, b in queued
    ]
    assert all(b["reason"] == "webhook" and b["connection_id"] == cid for _, b in queued)
    assert [d["status"] for d in hubspot.webhooks()["deliveries"]] == [200] * len(hubspot.webhooks()["deliveries"])
    hubspot.configure_webhooks(url="")
    quickbooks.configure_webhooks(url="")


def test_a_linked_quickbooks_record_joins_its_hubspot_records_lane(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    cid = connection["connection_id"]
    product.devstack.client("dynamodb").put_item(
        TableName=product.devstack.physical["Table"],
        Item={"PK": {"S": f"CONN#{cid}"}, "SK": {"S": "LINK#contacts#qbo#55"}, "other_id": {"S": "777"}},
    )
    body = json.dumps(
        [
            {
                "specversion": "1.0",
                "id": "e-55",
                "source": "intuit.x",
                "type": "qbo.customer.updated.v1",
                "time": "2026-11-29T00:00:00Z",
                "intuitentityid": "55",
                "intuitaccountid": product.credentials.realm_id,
                "data": {},
            }
        ]
    ).encode()
    answer = requests.post(
        _qbo_url(product),
        data=body,
        timeout=10,
        headers=intuit_headers(product.credentials.qbo_verifier_token, body, "application/cloudevents+json"),
    )
    assert answer.status_code == 200
    assert [g for g, _ in drain(product)] == [f"{cid}:contacts:live"]


@pytest.mark.parametrize(
    "variant",
    ["wrong secret", "body changed", "no headers", "6 minutes old", "6 minutes ahead", "v1 only"],
)
def test_bad_hubspot_signatures_are_refused_and_nothing_queued(product: SandboxedProduct, variant: str) -> None:
    events = [_event(product, 101)]
    now = int(time.time() * 1000)
    if variant == "wrong secret":
        answer = _post_hubspot(product, events, secret="not-the-secret")
    elif variant == "body changed":
        answer = _post_hubspot(product, events, tamper=True)
    elif variant == "no headers":
        answer = requests.post(_hubspot_url(product), json=events, timeout=10)
    elif variant == "6 minutes old":
        answer = _post_hubspot(product, events, timestamp_ms=now - 6 * 60_000)
    elif variant == "6 minutes ahead":
        answer = _post_hubspot(product, events, timestamp_ms=now + 6 * 60_000)
    else:
        import hashlib

        body = json.dumps(events)
        signature = hashlib.sha256((product.credentials.hubspot_client_secret + body).encode()).hexdigest()
        answer = requests.post(
            _hubspot_url(product),
            data=body,
            timeout=10,
            headers={
                "X-HubSpot-Signature": signature,
                "X-HubSpot-Signature-Version": "v1",
                "Content-Type": "application/json",
            },
        )
    assert answer.status_code == 401
    assert "Signature" in answer.json()["message"]
    assert drain(product) == []


@pytest.mark.parametrize("variant", ["wrong verifier", "body changed", "no header"])
def test_bad_intuit_signatures_are_refused(product: SandboxedProduct, variant: str) -> None:
    body = json.dumps(
        [
            {
                "specversion": "1.0",
                "id": "1",
                "type": "qbo.customer.created.v1",
                "intuitentityid": "1",
                "intuitaccountid": product.credentials.realm_id,
            }
        ]
    ).encode()
    headers = intuit_headers("wrong" if variant == "wrong verifier" else product.credentials.qbo_verifier_token, body)
    if variant == "no header":
        headers.pop("intuit-signature")
    sent = body.replace(b'"1"', b'"2"', 1) if variant == "body changed" else body
    assert requests.post(_qbo_url(product), data=sent, headers=headers, timeout=10).status_code == 401
    assert drain(product) == []


def _signed_raw(product: SandboxedProduct, body: bytes, content_type: str = "application/json") -> requests.Response:
    headers = hubspot_v3_headers(product.credentials.hubspot_client_secret, _hubspot_url(product), body)
    headers["Content-Type"] = content_type
    return requests.post(_hubspot_url(product), data=body, headers=headers, timeout=10)


def test_bad_input_gets_a_clear_4xx(product: SandboxedProduct) -> None:
    malformed = _signed_raw(product, b"[{not json")
    assert (malformed.status_code, malformed.json()["message"]) == (400, "The body is not valid JSON.")
    wrong_type = _signed_raw(product, b"[]", "text/plain")
    assert wrong_type.status_code == 415
    empty = _signed_raw(product, b"[]")
    assert empty.status_code == 400
    assert "no events" in empty.json()["message"]
    too_many = _signed_raw(product, json.dumps([_event(product, n) for n in range(101)]).encode())
    assert too_many.status_code == 400
    oversize = _signed_raw(product, b"[" + b" " * 1_100_000 + b"]")
    assert oversize.status_code == 413
    not_events = _signed_raw(product, b'[{"hello": "world"}]')
    assert not_events.status_code == 400
    assert drain(product) == []


def test_duplicates_and_repeats_become_one_signal(product: SandboxedProduct, connection: dict[str, Any]) -> None:
    repeated = [_event(product, 202, propertyName=name) for name in ("firstname", "lastname", "phone")]
    repeated[1]["occurredAt"] = repeated[0]["occurredAt"]
    repeated[2]["occurredAt"] = repeated[0]["occurredAt"]
    first = _post_hubspot(product, repeated)
    assert first.json() == {"received": 3, "queued": 1, "dropped": {}}
    again = _post_hubspot(product, [{**e, "attemptNumber": 1} for e in repeated])
    assert again.status_code == 200
    assert [b["record_id"] for _, b in drain(product)] == ["202"]


def test_both_quickbooks_formats_and_merges(product: SandboxedProduct, connection: dict[str, Any]) -> None:
    realm = product.credentials.realm_id
    legacy = json.dumps(
        {
            "eventNotifications": [
                {
                    "realmId": realm,
                    "dataChangeEvent": {
                        "entities": [
                            {
                                "name": "Customer",
                                "id": "31",
                                "operation": "Update",
                                "lastUpdated": "2026-11-29T01:00:00.000Z",
                            },
                            {
                                "name": "Customer",
                                "id": "32",
                                "operation": "Merge",
                                "lastUpdated": "2026-11-29T01:00:01.000Z",
                                "deletedId": "33",
                            },
                            {
                                "name": "Account",
                                "id": "1",
                                "operation": "Create",
                                "lastUpdated": "2026-11-29T01:00:02.000Z",
                            },
                        ]
                    },
                }
            ]
        }
    ).encode()
    answer = requests.post(
        _qbo_url(product),
        data=legacy,
        timeout=10,
        headers=intuit_headers(product.credentials.qbo_verifier_token, legacy),
    )
    assert answer.json() == {"received": 3, "queued": 2, "dropped": {"not_synced": 1}}
    cloud = json.dumps(
        [
            {
                "specversion": "1.0",
                "id": "c1",
                "type": "qbo.item.created.v1",
                "intuitentityid": "8",
                "intuitaccountid": realm,
            },
            {
                "specversion": "1.0",
                "id": "c2",
                "type": "qbo.invoice.voided.v1",
                "intuitentityid": "9",
                "intuitaccountid": realm,
            },
            {
                "specversion": "1.0",
                "id": "c3",
                "type": "qbo.payment.deleted.v1",
                "intuitentityid": "10",
                "intuitaccountid": realm,
            },
            {
                "specversion": "1.0",
                "id": "c4",
                "type": "qbo.customer.merged.v1",
                "intuitentityid": "40",
                "intuitaccountid": realm,
                "data": {"deletedid": "41"},
            },
            {
                "specversion": "1.0",
                "id": "c5",
                "type": "qbo.customer.updated.v1",
                "intuitentityid": "1",
                "intuitaccountid": "999",
            },
        ]
    ).encode()
    answer = requests.post(
        _qbo_url(product),
        data=cloud,
        timeout=10,
        headers=intuit_headers(product.credentials.qbo_verifier_token, cloud, "application/cloudevents+json"),
    )
    assert answer.json() == {"received": 5, "queued": 4, "dropped": {"unknown_or_disconnected_tenant": 1}}
    queued = {(b["pair"], b["record_id"], b["change"], tuple(b["merged_ids"])) for _, b in drain(product)}
    assert queued == {
        ("contacts", "31", "upsert", ()),
        ("contacts", "32", "merge", ("33",)),
        ("products", "8", "upsert", ()),
        ("invoices", "9", "upsert", ()),
        ("payments", "10", "delete", ()),
        ("contacts", "40", "merge", ("41",)),
    }


def test_unknown_portals_are_dropped(product: SandboxedProduct) -> None:
    stranger = _event(product, 5, portalId=1)
    answer = _post_hubspot(product, [stranger])
    assert answer.json() == {"received": 1, "queued": 0, "dropped": {"unknown_or_disconnected_tenant": 1}}
    assert drain(product) == []


def test_a_queue_failure_answers_503_and_a_redelivery_succeeds(product: SandboxedProduct) -> None:
    sqs = product.devstack.client("sqs")
    url = product.devstack.physical["SyncQueue"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    keep = {
        k: attributes[k]
        for k in ("FifoQueue", "VisibilityTimeout", "RedrivePolicy", "DeduplicationScope", "FifoThroughputLimit")
    }
    sqs.delete_queue(QueueUrl=url)
    try:
        events = [_event(product, 303)]
        assert _post_hubspot(product, events).status_code == 503
    finally:
        sqs.create_queue(QueueName=url.rsplit("/", 1)[1], Attributes=keep)
    assert _post_hubspot(product, events).status_code == 200
    assert [b["record_id"] for _, b in drain(product)] == ["303"]
