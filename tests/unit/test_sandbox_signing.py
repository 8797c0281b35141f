"""The sandbox signs as HubSpot and Intuit do: checked against HubSpot's published test vectors."""

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from sandbox import signing

VECTORS = json.loads(
    (Path(__file__).resolve().parents[3] / "shared" / "specs" / "hubspot" / "signature-test-vectors.json").read_text()
)


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


def test_intuit_signature_is_base64_hmac_of_the_raw_body() -> None:
    body = b'[{"id":"1"}]'
    expected = base64.b64encode(hmac.new(b"verifier", body, hashlib.sha256).digest()).decode()
    assert signing.intuit("verifier", body) == expected
