"""QuickBooks webhook deliveries: `intuit-signature`, CloudEvents and the legacy format, to signals."""

import base64
import hashlib
import hmac
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hubbooks.models.signals import Change, Pair, Reason, Side, SyncSignal

MAX_EVENTS = 1000
_PAIRS = {
    "item": Pair.PRODUCTS,
    "invoice": Pair.INVOICES,
    "payment": Pair.PAYMENTS,
    "estimate": Pair.ESTIMATES,
}
_CHANGES = {
    "created": Change.UPSERT,
    "create": Change.UPSERT,
    "updated": Change.UPSERT,
    "update": Change.UPSERT,
    "emailed": Change.UPSERT,
    "voided": Change.UPSERT,
    "void": Change.UPSERT,
    "deleted": Change.DELETE,
    "delete": Change.DELETE,
    "merged": Change.MERGE,
    "merge": Change.MERGE,
}


class SignatureError(ValueError):
    """Why a delivery is not Intuit's: answered 401 and never queued."""


def verify(signature: str | None, body: bytes, verifier_token: str) -> None:
    if not signature:
        raise SignatureError("missing intuit-signature")
    expected = base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected.encode(), signature.strip().encode("utf-8", "replace")):
        raise SignatureError("intuit-signature does not match")


QboId = Annotated[str, StringConstraints(pattern=r"^\d{1,19}$")]


class QboEvent(BaseModel):
    """One change, whichever format it came in."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    realm_id: QboId
    entity: str
    entity_id: QboId  # goes into an API path ({entity}/{id}): digits only, as QuickBooks' ids are
    operation: str
    time: str
    deleted_id: QboId | None = None


class _CloudEvent(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    type: str
    intuitentityid: str
    intuitaccountid: str
    time: str = ""
    data: dict[str, Any] | None = Field(default=None)


class _LegacyEntity(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    id: str
    operation: str
    lastUpdated: str = ""  # noqa: N815 - Intuit's field name
    deletedId: str | None = None  # noqa: N815


class _LegacyNotification(BaseModel):
    model_config = ConfigDict(extra="allow")

    realmId: str  # noqa: N815
    dataChangeEvent: dict[str, list[_LegacyEntity]]  # noqa: N815


def parse_batch(payload: Any) -> list[QboEvent]:
    """CloudEvents (a JSON array) or the legacy {"eventNotifications": [...]} object."""
    events: list[QboEvent] = []
    if isinstance(payload, list):
        for raw in payload:
            event = _CloudEvent.model_validate(raw)
            parts = event.type.split(".")
            if len(parts) < 3 or parts[0] != "qbo":
                raise ValueError(f"not a QuickBooks event type: {event.type}")
            deleted = (event.data or {}).get("deletedid") or (event.data or {}).get("deletedId")
            events.append(
                QboEvent(
                    event_id=event.id,
                    realm_id=event.intuitaccountid,
                    entity=parts[1].lower(),
                    entity_id=event.intuitentityid,
                    operation=parts[2].lower(),
                    time=event.time,
                    deleted_id=str(deleted) if deleted else None,
                )
            )
    elif isinstance(payload, dict) and isinstance(payload.get("eventNotifications"), list):
        for raw in payload["eventNotifications"]:
            notification = _LegacyNotification.model_validate(raw)
            for entity in notification.dataChangeEvent.get("entities", []):
                events.append(
                    QboEvent(
                        event_id=f"{notification.realmId}:{entity.name}:{entity.id}:{entity.operation}:{entity.lastUpdated}",
                        realm_id=notification.realmId,
                        entity=entity.name.lower(),
                        entity_id=entity.id,
                        operation=entity.operation.lower(),
                        time=entity.lastUpdated,
                        deleted_id=entity.deletedId,
                    )
                )
    else:
        raise ValueError("expected a CloudEvents array or an eventNotifications object")
    if not events:
        raise ValueError("the delivery holds no events")
    if len(events) > MAX_EVENTS:
        raise ValueError(f"a delivery holds at most {MAX_EVENTS} events")
    return events


def to_signal(event: QboEvent, connection_id: str, customers: Pair = Pair.CONTACTS) -> SyncSignal | None:
    """The signal an event means (a customer's: of the pair `customers`, the connection's mode), or None."""
    pair = customers if event.entity == "customer" else _PAIRS.get(event.entity)
    change = _CHANGES.get(event.operation)
    if pair is None or change is None:
        return None
    return SyncSignal(
        connection_id=connection_id,
        pair=pair,
        side=Side.QUICKBOOKS,
        record_id=event.entity_id,
        change=change,
        reason=Reason.WEBHOOK,
        source_version=event.time or event.event_id,
        event_id=event.event_id,
        merged_ids=[event.deleted_id] if event.deleted_id else [],
    )
