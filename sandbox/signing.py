"""The signatures HubSpot and Intuit put on the requests they send (used for outgoing webhooks and
workflow-action calls), computed from their published algorithms."""

import base64
import hashlib
import hmac
from urllib.parse import unquote

# HubSpot v3 decodes only these escapes in the URI before signing.
_V3_DECODE = ("%3A", "%2F", "%3F", "%40", "%21", "%24", "%27", "%28", "%29", "%2A", "%2C", "%3B")


def hubspot_v1(secret: str, body: str) -> str:
    return hashlib.sha256((secret + body).encode("utf-8")).hexdigest()


def hubspot_v2(secret: str, method: str, uri: str, body: str) -> str:
    return hashlib.sha256((secret + method + uri + body).encode("utf-8")).hexdigest()


def hubspot_v3_uri(uri: str) -> str:
    for escape in _V3_DECODE:
        uri = uri.replace(escape, unquote(escape)).replace(escape.lower(), unquote(escape))
    return uri


def hubspot_v3(secret: str, method: str, uri: str, body: str, timestamp: str) -> str:
    message = (method + hubspot_v3_uri(uri) + body + timestamp).encode("utf-8")
    return base64.b64encode(hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()).decode()


def intuit(verifier_token: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(verifier_token.encode("utf-8"), body, hashlib.sha256).digest()).decode()
