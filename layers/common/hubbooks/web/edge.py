"""The HTTP edge the API functions share: raw bodies, JSON answers, the public URL, sessions, signatures.

Every HTTP handler reads its request through these helpers, so a rule (which URL HubSpot signed, which
cookie names a session) is written once.
"""

import base64
import functools
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from hubbooks.auth.sessions import Session
from hubbooks.config import get_settings
from hubbooks.hubspot import webhooks as hubspot_webhooks
from hubbooks.models.connection import Connection
from hubbooks.web.pages import STYLE_HASH
from hubbooks.wiring import connections, secrets, sessions


def raw_body(event: APIGatewayProxyEventV2) -> bytes:
    """The body exactly as the sender signed it (API Gateway base64-encodes what is not text)."""
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


def json_response(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


def public_base(event: APIGatewayProxyEventV2) -> str:
    """The URL the app is reached at: the configured one, else the host and scheme the request came to."""
    configured = get_settings().public_base_url
    if configured:
        return configured.rstrip("/")
    scheme = (event.headers.get("x-forwarded-proto") or "https").split(",")[0].strip()
    return f"{'http' if scheme == 'http' else 'https'}://{event.request_context.domain_name}"


def request_url(event: APIGatewayProxyEventV2) -> str:
    """The full URL a request was sent to, as its sender signed it (query string included)."""
    query = f"?{event.raw_query_string}" if event.raw_query_string else ""
    return f"{public_base(event)}{event.raw_path}{query}"


def signed_in(event: APIGatewayProxyEventV2) -> tuple[Connection, Session] | None:
    """The request's live session and the connection it is bound to, if any."""
    session = sessions().session_of(event.cookies)
    connection = connections().get(session.connection_id) if session else None
    return (connection, session) if connection and session else None


def session_connection(event: APIGatewayProxyEventV2) -> Connection | None:
    """The connection the request's session cookie is bound to, if the session is live."""
    found = signed_in(event)
    return found[0] if found else None


def verify_hubspot(event: APIGatewayProxyEventV2, raw: bytes, *, allow_legacy: bool) -> None:
    """Raise `SignatureError` unless HubSpot signed this request for the URL it arrived at."""
    hubspot_webhooks.verify(
        dict(event.headers),
        method=event.request_context.http.method,
        uri=request_url(event),
        body=raw,
        client_secret=secrets().hubspot_client_secret.get_secret_value(),
        allow_legacy=allow_legacy,
    )


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
# What a browser may do with our answers: our own scripts, styles and calls only, never framed, never sniffed.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; "
    f"style-src 'self' '{STYLE_HASH}'; img-src 'self' data:; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}


def same_origin(event: APIGatewayProxyEventV2) -> bool:
    """Whether a browser sent this request from our own pages (a sibling host of the same site is not)."""
    fetch_site = event.headers.get("sec-fetch-site")
    if fetch_site:
        return fetch_site == "same-origin"
    origin = event.headers.get("origin")
    return origin is not None and origin.rstrip("/") == public_base(event)


def secure_answers(handler: Handler) -> Handler:
    """Every answer of a function browsers reach, error pages included: the security headers, and nothing a
    cache may keep (but the static assets, which carry their own caching)."""

    @functools.wraps(handler)
    def answered(event: dict[str, Any], context: Any) -> dict[str, Any]:
        answer = handler(event, context)
        headers = answer.setdefault("headers", {})
        present = {name.lower() for name in headers}
        headers.update({k: v for k, v in SECURITY_HEADERS.items() if k.lower() not in present})
        if not str(event.get("rawPath", "")).startswith("/assets/"):
            headers = {k: v for k, v in headers.items() if k.lower() != "cache-control"}
            answer["headers"] = headers | {"Cache-Control": "no-store"}
        return answer

    return answered
