"""The sandbox signs as HubSpot and Intuit do: checked against HubSpot's published test vectors."""

import json
from pathlib import Path
from typing import Any

import pytest

from hubbooks.hubspot import webhooks as hubspot_webhooks
from hubbooks.quickbooks import webhooks as qbo_webhooks
from sandbox import signing

SHARED = Path(__file__).resolve().parents[3] / "shared" / "specs"
VECTORS = json.loads((SHARED / "hubspot" / "signature-test-vectors.json").read_text())


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_hubspot_signatures_match_published_vectors(vector: dict[str, Any]) -> None:
    if vector["version"] == "v1":
        assert signing.hubspot_v1(vector["client_secret"], vector["body"]) == vector["signature"]
    elif vector["version"] == "v2":
        got = signing.hubspot_v2(vector["client_secret"], vector["method"], vector["uri"], vector["body"])
        assert got == vector["signature"]
    else:
        got = signing.hubspot_v3(
            vector["client_secret"], vector["method"], vector["uri"], vector["body"], vector["timestamp"]
        )
        assert got == vector["signature"]


def test_v3_decodes_only_the_documented_escapes() -> None:
    decoded = signing.hubspot_v3_uri("https://x.example/a%3Ab%2Fc%20d?e%3Df%40g")
    assert decoded == "https://x.example/a:b/c%20d?e%3Df@g"
    assert set(VECTORS["v3_uri_decode_map"]) == set(signing._V3_DECODE)


def test_intuit_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    """Intuit publishes the algorithm (base64 of HMAC-SHA256 with the verifier token over the raw body) but no
    signed sample, so the known answer is RFC 4231's HMAC-SHA256 test case 2, its hex digest in base64."""
    assert signing.intuit("Jefe", b"what do ya want for nothing?") == "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="


def test_the_product_accepts_intuits_published_samples_signed_and_refuses_them_altered() -> None:
    samples = json.loads((SHARED / "quickbooks" / "webhooks" / "samples.json").read_text())
    for name in ("legacy", "cloudevents_created", "cloudevents_merged", "cloudevents_minimal"):
        body = json.dumps(samples[name]).encode()
        qbo_webhooks.verify(signing.intuit("verifier", body), body, "verifier")
        with pytest.raises(qbo_webhooks.SignatureError):
            qbo_webhooks.verify(signing.intuit("verifier", body), body + b" ", "verifier")


@pytest.mark.parametrize("signature", ["é" * 44, "\udcff", ""])
def test_a_signature_header_that_is_not_ascii_is_refused_not_crashed_on(signature: str) -> None:
    with pytest.raises(qbo_webhooks.SignatureError):
        qbo_webhooks.verify(signature, b"[]", "verifier")


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"X-HubSpot-Signature-v3": "é", "X-HubSpot-Request-Timestamp": "1"}, b"[]"),
        ({"X-HubSpot-Signature": "\udcff"}, b"[]"),
        ({"X-HubSpot-Signature-v3": "x", "X-HubSpot-Request-Timestamp": "1"}, b"\xff\xfe"),
    ],
    ids=["non-ascii-v3", "surrogate-v1", "body-not-utf8"],
)
def test_hubspot_signatures_over_odd_bytes_are_refused_not_crashed_on(headers: dict[str, str], body: bytes) -> None:
    with pytest.raises(hubspot_webhooks.SignatureError):
        hubspot_webhooks.verify(
            headers, method="POST", uri="https://x.example/w", body=body, client_secret="s", allow_legacy=True, now_ms=1
        )


@pytest.mark.parametrize("entity_id", ["1/../customer/2", "12?x=1", "", "abc"])
def test_a_quickbooks_event_naming_a_record_by_anything_but_digits_is_refused(entity_id: str) -> None:
    """A record id from a webhook goes into an API path: a signed delivery with another id is refused whole."""
    event = {"specversion": "1.0", "id": "e1", "type": "qbo.customer.updated.v1", "intuitentityid": entity_id}
    with pytest.raises(ValueError, match="entity_id"):
        qbo_webhooks.parse_batch([event | {"intuitaccountid": "9130355512345"}])
