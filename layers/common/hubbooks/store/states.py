"""OAuth `state` values: signed, good for ten minutes, usable once, and only in the browser that started the
flow (the state carries a hash of that browser's flow secret, which only its cookie holds). Nothing is written
when a flow starts: an anonymous visitor costs no write; the first use of a state is recorded, so a second
is refused."""

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from hubbooks.auth.signing import InvalidSignatureError, Signer
from hubbooks.store.keys import connection_pk, pending_sk, state_key
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
        payload = {"n": secrets.token_urlsafe(24), "p": provider, "flow": flow_digest(flow), **context}
        return self.signer.sign(payload, STATE_SECONDS)

    def consume(self, value: str | None, provider: str, flow: str | None) -> dict[str, Any]:
        """Verify the state and record its use, so it can never be used again; it must come back in the
        browser that started the flow (`flow`: that browser's flow cookie). Answers what it carries."""
        if not value:
            raise StateError("missing state")
        try:
            payload = self.signer.verify(value)
        except InvalidSignatureError as exc:
            raise StateError(f"state {'expired' if str(exc) == 'expired' else exc}") from exc
        if payload.get("p") != provider:
            raise StateError("state issued for another provider")
        try:
            self.table.resource.put_item(
                Item={**state_key(str(payload["n"])), "ttl": int(payload["exp"]) + 60},
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StateError("state already used") from exc
            raise
        _same_browser(payload, flow)
        return {k: str(v) for k, v in payload.items() if k not in ("n", "p", "flow", "exp")}


def _same_browser(item: dict[str, Any], flow: str | None) -> None:
    """Refuse an item brought back without the flow secret of the browser it was made for."""
    if not flow or not hmac.compare_digest(str(item.get("flow", "")).encode(), flow_digest(flow).encode()):
        raise OtherBrowserError("brought back by another browser")


def flow_digest(flow: str) -> str:
    return hashlib.sha256(flow.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True)
class PendingConsent:
    """A QuickBooks consent the person has not confirmed yet: the company it names and its sealed grant."""

    connection_id: str
    realm_id: str
    company_name: str
    warnings: list[dict[str, str]]
    sealed_grant: str
    expires_at: float
    flow: str  # the hash of the browser's flow secret


class PendingConsents:
    """One waiting consent per connection, kept ten minutes and taken once."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def put(self, pending: PendingConsent) -> None:
        self.table.resource.put_item(
            Item={
                "PK": connection_pk(pending.connection_id),
                "SK": pending_sk("quickbooks"),
                "realm_id": pending.realm_id,
                "company_name": pending.company_name,
                "warnings": json.dumps(pending.warnings),
                "sealed_grant": pending.sealed_grant,
                "expires_at": Decimal(str(round(pending.expires_at, 3))),
                "flow": pending.flow,
                "ttl": int(time.time()) + STATE_SECONDS,
            }
        )

    def take(self, connection_id: str, flow: str | None) -> PendingConsent:
        """The waiting consent, taken out so it is confirmed (or cancelled) once, in the browser it began in."""
        try:
            old = self.table.resource.delete_item(
                Key={"PK": connection_pk(connection_id), "SK": pending_sk("quickbooks")},
                ConditionExpression="attribute_exists(PK)",
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StateError("nothing is waiting to be confirmed") from exc
            raise
        item = old["Attributes"]
        if int(item.get("ttl", 0)) < time.time():
            raise StateError("the confirmation expired")
        _same_browser(item, flow)
        return PendingConsent(
            connection_id,
            str(item["realm_id"]),
            str(item["company_name"]),
            json.loads(str(item["warnings"])),
            str(item["sealed_grant"]),
            float(item["expires_at"]),
            str(item["flow"]),
        )
