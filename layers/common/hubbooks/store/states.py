"""OAuth `state` nonces: signed, stored for ten minutes, usable once, and only in the browser that started the
flow (the state item holds a hash of that browser's flow secret, which only its cookie carries)."""

import hashlib
import hmac
import secrets
import time
from typing import Any

from botocore.exceptions import ClientError

from hubbooks.auth.signing import InvalidSignatureError, Signer
from hubbooks.store.keys import state_key
from hubbooks.store.table import Table

STATE_SECONDS = 600


class StateError(ValueError):
    """A state that is missing, forged, expired, already used or meant for another provider."""


class OtherBrowserError(StateError):
    """A state brought back by a browser other than the one that started the flow."""


class StateRepository:
    def __init__(self, table: Table, signing_key: str) -> None:
        self.table = table
        self.signer = Signer(signing_key, "oauth-state")

    def issue(self, provider: str, *, flow: str, **context: str) -> str:
        """A state for `provider`, good only with the browser flow secret `flow`."""
        nonce = secrets.token_urlsafe(24)
        expires = int(time.time()) + STATE_SECONDS
        item = {**state_key(nonce), "provider": provider, "ttl": expires, "flow": _digest(flow), **context}
        self.table.resource.put_item(Item=item)
        return self.signer.sign({"n": nonce, "p": provider}, STATE_SECONDS)

    def consume(self, value: str | None, provider: str, flow: str | None) -> dict[str, Any]:
        """Verify the signature and take the state out of the table, so it can never be used again; it must
        come back in the browser that started the flow (`flow`: that browser's flow cookie)."""
        if not value:
            raise StateError("missing state")
        try:
            payload = self.signer.verify(value)
        except InvalidSignatureError as exc:
            raise StateError(f"state {exc}") from exc
        if payload.get("p") != provider:
            raise StateError("state issued for another provider")
        try:
            old = self.table.resource.delete_item(
                Key=state_key(payload["n"]),
                ConditionExpression="attribute_exists(PK)",
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StateError("state already used") from exc
            raise
        item: dict[str, Any] = old["Attributes"]
        if int(item.get("ttl", 0)) < time.time():
            raise StateError("state expired")
        if not flow or not hmac.compare_digest(str(item.get("flow", "")).encode(), _digest(flow).encode()):
            raise OtherBrowserError("state started in another browser")
        return item


def _digest(flow: str) -> str:
    return hashlib.sha256(flow.encode("utf-8", "replace")).hexdigest()
