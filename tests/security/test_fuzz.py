"""Fuzzing: the settings API from its own OpenAPI document (schemathesis, valid and invalid requests), and
correctly signed webhook and action deliveries with generated bodies (hypothesis). Nothing answers 5xx.
Seeded: a failure reproduces with the same examples."""

import json
import os
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

from devstack.browser import Browser
from devstack.sandboxed import SandboxedProduct
from tests.support.product import install
from tests.support.signatures import hubspot_v3_headers, intuit_headers

pytestmark = [pytest.mark.security, pytest.mark.devstack, pytest.mark.slow]
# Each generated case is an HTTP request through the gateway; `make soak` runs many more.
FUZZ = settings(
    max_examples=int(os.environ.get("HUBBOOKS_FUZZ_EXAMPLES", "30")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
ANY_VALUE = JSON | st.sampled_from(["contact.propertyChange", "contact.creation", "deal.deletion", "", "0", -1, 2**63])
HUBSPOT_EVENT = st.fixed_dictionaries(
    {
        "eventId": ANY_VALUE,
        "portalId": ANY_VALUE,
        "subscriptionType": ANY_VALUE,
        "objectId": ANY_VALUE,
        "occurredAt": ANY_VALUE,
    },
    optional={
        "propertyName": ANY_VALUE,
        "propertyValue": ANY_VALUE,
        "changeSource": ANY_VALUE,
        "attemptNumber": ANY_VALUE,
    },
)
QBO_EVENT = st.fixed_dictionaries(
    {"specversion": ANY_VALUE, "id": ANY_VALUE, "type": ANY_VALUE, "intuitentityid": ANY_VALUE},
    optional={"intuitaccountid": ANY_VALUE, "time": ANY_VALUE, "data": JSON},
)
ACTION = st.fixed_dictionaries(
    {"callbackId": ANY_VALUE, "origin": JSON | st.fixed_dictionaries({"portalId": ANY_VALUE}), "object": JSON},
    optional={"inputFields": JSON},
)


@pytest.fixture(scope="module")
def session(product: SandboxedProduct) -> tuple[Browser, dict[str, Any]]:
    return install(product)


def test_the_settings_api_never_answers_5xx(product: SandboxedProduct, session: tuple[Browser, dict[str, Any]]) -> None:
    browser, _ = session
    raw = browser.get(f"{product.devstack.gateway_url}/api/openapi.json").json()
    schema = schemathesis.openapi.from_dict(raw)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    strategy = st.one_of(
        [
            op.as_strategy(generation_mode=mode)
            for op in operations
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ]
    )
    cookies = browser.cookies[urlsplit(product.devstack.gateway_url).netloc]  # the session, as the page has it
    seen: list[tuple[str, int]] = []

    @FUZZ
    @given(case=strategy)
    def call(case: Any) -> None:
        response = case.call(base_url=product.devstack.gateway_url, cookies=cookies, timeout=30)
        seen.append((f"{case.method} {case.path}", response.status_code))
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} {case.query}: {response.status_code} {response.text[:300]}"
        )

    call()
    assert len({path for path, _ in seen}) >= 5  # the fuzzing reached many operations
    assert any(200 <= status < 300 for _, status in seen), seen


def _fuzz_signed(url: str, bodies: st.SearchStrategy[Any], headers: Callable[[bytes], dict[str, str]]) -> None:
    """POST each generated body, correctly signed, so it gets past the signature to the parsing."""

    @FUZZ
    @given(body=bodies)
    def deliver(body: Any) -> None:
        raw = json.dumps(body).encode()
        answer = requests.post(url, data=raw, headers=headers(raw), timeout=30)
        assert answer.status_code in (200, 400, 413, 415), answer.text

    deliver()


def test_signed_hubspot_webhooks_with_generated_bodies_never_answer_5xx(product: SandboxedProduct) -> None:
    url = f"{product.devstack.gateway_url}/webhooks/hubspot"
    secret = product.credentials.hubspot_client_secret
    _fuzz_signed(url, st.lists(HUBSPOT_EVENT, max_size=5) | JSON, lambda raw: hubspot_v3_headers(secret, url, raw))


def test_signed_quickbooks_webhooks_with_generated_bodies_never_answer_5xx(product: SandboxedProduct) -> None:
    url = f"{product.devstack.gateway_url}/webhooks/quickbooks"
    verifier = product.credentials.qbo_verifier_token
    _fuzz_signed(
        url,
        st.lists(QBO_EVENT, max_size=5) | JSON,
        lambda raw: intuit_headers(verifier, raw, "application/cloudevents+json"),
    )


def test_signed_workflow_actions_with_generated_bodies_never_answer_5xx(
    product: SandboxedProduct, session: tuple[Browser, dict[str, Any]]
) -> None:
    url = f"{product.devstack.gateway_url}/actions/create-invoice"
    secret = product.credentials.hubspot_client_secret
    _fuzz_signed(url, ACTION | JSON, lambda raw: hubspot_v3_headers(secret, url, raw))


TEXT = st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=0x10FFFF, exclude_categories=("Cs",)), max_size=40)


@FUZZ
@given(body=st.binary(max_size=200), signature=TEXT, cookie=TEXT, state=TEXT)
def test_any_bytes_and_any_characters_from_anyone_are_a_4xx(
    product: SandboxedProduct, body: bytes, signature: str, cookie: str, state: str
) -> None:
    """Bodies that are not UTF-8 and headers, cookies and states in any script: refused, never a 500."""
    gateway = product.devstack.gateway_url

    def wire(text: str) -> str:
        """Text as raw header bytes (what a client may send; HTTP itself has no room for control characters)."""
        return "".join(c for c in text if c.isprintable()).strip().encode("utf-8").decode("latin-1")

    sent = [
        requests.post(
            f"{gateway}/webhooks/hubspot",
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-HubSpot-Signature-v3": wire(signature),
                "X-HubSpot-Request-Timestamp": str(int(time.time() * 1000)),
            },
            timeout=30,
        ),
        requests.post(
            f"{gateway}/webhooks/quickbooks",
            data=body,
            headers={"Content-Type": "application/json", "intuit-signature": wire(signature)},
            timeout=30,
        ),
        requests.post(
            f"{gateway}/actions/create-invoice", data=body, headers={"Content-Type": "application/json"}, timeout=30
        ),
        requests.get(f"{gateway}/api/connection", headers={"Cookie": f"__Host-hb_session={wire(cookie)}"}, timeout=30),
        requests.get(f"{gateway}/oauth/hubspot/callback", params={"code": "x", "state": state}, timeout=30),
    ]
    assert [a.status_code // 100 for a in sent] == [4] * len(sent), [(a.url, a.status_code) for a in sent]
