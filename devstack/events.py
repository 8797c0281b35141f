"""Sample events (events/*.json) run through the deployed template: `python -m devstack invoke`.

HubSpot's v3 signature holds a timestamp that is good for five minutes, so a stored event is signed again,
with the app's secrets and the current time, before it is invoked (`--as-is` sends it unchanged).
"""

import base64
import json
import time
from pathlib import Path
from typing import Any

from devstack.sandboxed import AppCredentials, SandboxedProduct
from sandbox import signing

EVENTS = Path(__file__).resolve().parent.parent / "events"


def _body(event: dict[str, Any]) -> str:
    body = str(event.get("body") or "")
    return base64.b64decode(body).decode("utf-8") if event.get("isBase64Encoded") else body


def _url(event: dict[str, Any], headers: dict[str, str]) -> str:
    """The URL the sender signed: the host the request came to (PublicBaseUrl empty), path and query."""
    scheme = headers.get("x-forwarded-proto", "https")
    query = f"?{event['rawQueryString']}" if event.get("rawQueryString") else ""
    return f"{scheme}://{event['requestContext']['domainName']}{event['rawPath']}{query}"


def resign(event: dict[str, Any], credentials: AppCredentials, now_ms: int | None = None) -> dict[str, Any]:
    """The event with every signature it carries made again with these credentials (and now's timestamp)."""
    headers = dict(event.get("headers") or {})
    if "requestContext" not in event or not headers:
        return event
    body = _body(event)
    method = event["requestContext"]["http"]["method"]
    secret = credentials.hubspot_client_secret
    if "x-hubspot-signature-v3" in headers:
        timestamp = str(int(time.time() * 1000) if now_ms is None else now_ms)
        headers["x-hubspot-request-timestamp"] = timestamp
        headers["x-hubspot-signature-v3"] = signing.hubspot_v3(secret, method, _url(event, headers), body, timestamp)
    if "x-hubspot-signature" in headers:
        version = headers.get("x-hubspot-signature-version", "v1")
        headers["x-hubspot-signature"] = (
            signing.hubspot_v1(secret, body)
            if version == "v1"
            else signing.hubspot_v2(secret, method, _url(event, headers), body)
        )
    if "intuit-signature" in headers:
        headers["intuit-signature"] = signing.intuit(credentials.qbo_verifier_token, body.encode("utf-8"))
    return event | {"headers": headers}


def load(path: Path) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(path.read_text())
    return event


def invoke_product(stack_name: str = "devstack-invoke") -> SandboxedProduct:
    """The whole product as a default deployment leaves it (PublicBaseUrl empty), nothing running on its own."""
    return SandboxedProduct(
        stack_name=stack_name,
        run_pumps=False,
        run_schedules=False,
        stack_parameters={"PublicBaseUrl": ""},
    )


def invoke(product: SandboxedProduct, function: str, event: dict[str, Any], *, as_is: bool = False) -> Any:
    """Run one function of the deployed template on an event, as `sam local invoke` would."""
    return product.devstack.invoke(function, event if as_is else resign(event, product.credentials))
