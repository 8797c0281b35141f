"""Signed, expiring values for OAuth state, install hand-offs and sessions (HMAC-SHA256)."""

import base64
import hashlib
import hmac
import json
import time
from typing import Any


class InvalidSignatureError(ValueError):
    """The value was forged, altered, expired or meant for another purpose."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signs small JSON payloads for one purpose; a value signed for one purpose fails for another."""

    def __init__(self, key: str, purpose: str) -> None:
        self._key = hashlib.sha256(f"{purpose}:{key}".encode()).digest()
        self._purpose = purpose

    def sign(self, payload: dict[str, Any], ttl_seconds: int) -> str:
        body = _b64(json.dumps({**payload, "exp": int(time.time()) + ttl_seconds}, separators=(",", ":")).encode())
        mac = _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())
        return f"{body}.{mac}"

    def verify(self, value: str) -> dict[str, Any]:
        body, _, mac = value.partition(".")
        if not body or not mac:
            raise InvalidSignatureError("malformed")
        # Bytes, not text: a value from a URL or a cookie may hold any character (never a crash, a refusal).
        raw = body.encode("utf-8", "replace")
        expected = _b64(hmac.new(self._key, raw, hashlib.sha256).digest())
        if not hmac.compare_digest(expected.encode(), mac.encode("utf-8", "replace")):
            raise InvalidSignatureError("bad signature")
        try:
            payload: dict[str, Any] = json.loads(_unb64(body))
        except ValueError as exc:
            raise InvalidSignatureError("malformed") from exc
        if int(payload.get("exp", 0)) < time.time():
            raise InvalidSignatureError("expired")
        return payload
