"""Provider signatures computed in the tests from the documented algorithms, independent of the code."""

import base64
import hashlib
import hmac
import time


def hubspot_v3_headers(secret: str, url: str, body: bytes, timestamp_ms: int | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
    message = b"POST" + url.encode() + body + timestamp.encode()
    signature = base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()
    return {
        "X-HubSpot-Signature-v3": signature,
        "X-HubSpot-Request-Timestamp": timestamp,
        "Content-Type": "application/json",
    }


def intuit_headers(verifier: str, body: bytes, content_type: str = "application/json") -> dict[str, str]:
    signature = base64.b64encode(hmac.new(verifier.encode(), body, hashlib.sha256).digest()).decode()
    return {"intuit-signature": signature, "Content-Type": content_type}
