"""HubSpot webhook deliveries: signature checks (v3, and v1/v2 when allowed) and events to signals."""

import base64
import hashlib
import hmac
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hubbooks.hubspot.app_properties import APP_PROPERTIES
from hubbooks.mapping.fields import COMPANY_FIELDS, person_property
from hubbooks.models.signals import Change, Pair, Reason, Side, SyncSignal

MAX_EVENTS = 100
MAX_AGE_MS = 5 * 60 * 1000
_V3_DECODE = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_OBJECT_PAIRS = {"contact": Pair.CONTACTS, "company": Pair.COMPANIES, "product": Pair.PRODUCTS, "deal": Pair.DEALS}
_OBJECT_TYPE_PAIRS = {"0-53": Pair.INVOICES}  # `object.*` subscriptions name the type by id
# What a company's association changes can move: its parent, and (business customers) its person.
_SYNCED_ASSOCIATIONS = ("CHILD_TO_PARENT_COMPANY", "PARENT_TO_CHILD_COMPANY", "COMPANY_TO_CONTACT")
# A business customer's person: the contact properties the default company mappings read.
_PERSON_PROPERTIES = frozenset(p for m in COMPANY_FIELDS if (p := person_property(m.hubspot)) is not None)
_CHANGES = {
    "creation": Change.UPSERT,
    "propertyChange": Change.UPSERT,
    "restore": Change.UPSERT,
    "deletion": Change.DELETE,
    "merge": Change.MERGE,
    "associationChange": Change.UPSERT,
}


# The app's own properties on the objects it syncs both ways: only hubbooks writes them, so the app's own
# change to one (the write-back of a new link's QuickBooks id, balance, active flag) is an echo, never read.
_OWN_PROPERTIES = frozenset(p["name"] for o in ("contacts", "companies", "products") for p in APP_PROPERTIES[o][1])


class SignatureError(ValueError):
    """Why a delivery is not HubSpot's: answered 401 and never queued."""


def _v3_uri(uri: str) -> str:
    for encoded, plain in _V3_DECODE.items():
        uri = uri.replace(encoded, plain).replace(encoded.lower(), plain)
    return uri


def verify(
    headers: dict[str, str],
    *,
    method: str,
    uri: str,
    body: bytes,
    client_secret: str,
    allow_legacy: bool = False,
    now_ms: int | None = None,
) -> None:
    """Check a request's HubSpot signature over the exact raw body and the URL it was sent to."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SignatureError("the body is not UTF-8, so HubSpot did not sign it") from None
    signature_v3 = lowered.get("x-hubspot-signature-v3")
    if signature_v3:
        timestamp = lowered.get("x-hubspot-request-timestamp", "")
        if not timestamp.isdigit():
            raise SignatureError("missing or malformed X-HubSpot-Request-Timestamp")
        current = int(time.time() * 1000) if now_ms is None else now_ms
        if abs(current - int(timestamp)) > MAX_AGE_MS:
            raise SignatureError("timestamp outside the 5-minute window")
        message = (method + _v3_uri(uri) + text + timestamp).encode("utf-8")
        expected = base64.b64encode(hmac.new(client_secret.encode(), message, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected.encode(), signature_v3.encode("utf-8", "replace")):
            raise SignatureError("X-HubSpot-Signature-v3 does not match")
        return
    legacy = lowered.get("x-hubspot-signature")
    if not legacy:
        raise SignatureError("no HubSpot signature headers")
    if not allow_legacy:
        raise SignatureError("v1/v2 signatures are not accepted; HubSpot sends v3")
    version = lowered.get("x-hubspot-signature-version", "v1")
    source = client_secret + (text if version == "v1" else method + uri + text)
    if not hmac.compare_digest(hashlib.sha256(source.encode()).hexdigest().encode(), legacy.encode("utf-8", "replace")):
        raise SignatureError(f"X-HubSpot-Signature ({version}) does not match")


class HubSpotEvent(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    event_id: int = Field(alias="eventId")
    portal_id: int = Field(alias="portalId")
    occurred_at: int = Field(alias="occurredAt")
    subscription_type: str = Field(alias="subscriptionType")
    object_id: int = Field(alias="objectId")
    object_type_id: str | None = Field(default=None, alias="objectTypeId")
    property_name: str | None = Field(default=None, alias="propertyName")
    change_source: str | None = Field(default=None, alias="changeSource")
    merged_object_ids: list[int] = Field(default_factory=list, alias="mergedObjectIds")
    app_id: int | None = Field(default=None, alias="appId")
    source_id: str | None = Field(default=None, alias="sourceId")
    primary_object_id: int | None = Field(default=None, alias="primaryObjectId")
    association_type: str | None = Field(default=None, alias="associationType")

    @model_validator(mode="before")
    @classmethod
    def _association_subject(cls, raw: Any) -> Any:
        """An association change names its records `fromObjectId` and `toObjectId`: it is about the first."""
        if isinstance(raw, dict) and "objectId" not in raw and "fromObjectId" in raw:
            return {**raw, "objectId": raw["fromObjectId"]}
        return raw


def parse_batch(payload: Any) -> list[HubSpotEvent]:
    """A delivery: a JSON array of 1 to 100 events (`eventType` is read as `subscriptionType`)."""
    if not isinstance(payload, list):
        raise ValueError("a HubSpot delivery is a JSON array of events")
    if not payload:
        raise ValueError("the delivery holds no events")
    if len(payload) > MAX_EVENTS:
        raise ValueError(f"a delivery holds at most {MAX_EVENTS} events, this one {len(payload)}")
    events = []
    for raw in payload:
        legacy_name = isinstance(raw, dict) and "subscriptionType" not in raw and "eventType" in raw
        events.append(
            HubSpotEvent.model_validate({**raw, "subscriptionType": raw["eventType"]} if legacy_name else raw)
        )
    return events


def to_signal(event: HubSpotEvent, connection_id: str, customers: Pair = Pair.CONTACTS) -> SyncSignal | None:
    """The signal an event means, or None for objects and kinds hubbooks does not sync from HubSpot. `customers`:
    the pair QuickBooks customers sync with (a connection's customer mode)."""
    subject, _, kind = event.subscription_type.partition(".")
    pair = _OBJECT_TYPE_PAIRS.get(event.object_type_id or "") if subject == "object" else _OBJECT_PAIRS.get(subject)
    change = _CHANGES.get(kind)
    if pair is None or change is None:
        return None
    if pair is Pair.INVOICES and (change is not Change.UPSERT or _by_this_app(event)):
        return None  # what the mirror writes, and deletions (QuickBooks keeps an invoice once it has it)
    if kind == "associationChange" and pair is not Pair.DEALS:  # a deal's invoices move its figures
        if pair is not Pair.COMPANIES or event.association_type not in _SYNCED_ASSOCIATIONS or _by_this_app(event):
            return None  # a company's parent and people are synced; the app's own change is ours
    elif pair is Pair.DEALS and kind != "associationChange":
        return None
    if kind == "propertyChange" and _own_write(event):
        return None
    if pair is Pair.CONTACTS and customers is Pair.COMPANIES:
        return _person_signal(event, connection_id, kind)
    record = event.primary_object_id if change is Change.MERGE and event.primary_object_id else event.object_id
    merged = [str(i) for i in event.merged_object_ids if i != record]
    return SyncSignal(
        connection_id=connection_id,
        pair=pair,
        side=Side.HUBSPOT,
        record_id=str(record),
        change=change,
        reason=Reason.WEBHOOK,
        source_version=f"{event.occurred_at:015d}",
        event_id=str(event.event_id),
        merged_ids=merged,
    )


def _person_signal(event: HubSpotEvent, connection_id: str, kind: str) -> SyncSignal | None:
    """Business customers: a person's change to a contact's name or email, for the companies it is the person of
    (a new contact has no company yet: its association tells; a deleted one leaves it to the sweep)."""
    if kind != "propertyChange" or event.property_name not in _PERSON_PROPERTIES or _by_this_app(event):
        return None
    return SyncSignal(
        connection_id=connection_id,
        pair=Pair.COMPANIES,
        side=Side.HUBSPOT,
        record_id=str(event.object_id),
        change=Change.PERSON,
        reason=Reason.WEBHOOK,
        source_version=f"{event.occurred_at:015d}",
        event_id=str(event.event_id),
    )


def _own_write(event: HubSpotEvent) -> bool:
    """The app's change to one of its own properties."""
    return event.property_name in _OWN_PROPERTIES and _by_this_app(event)


def _by_this_app(event: HubSpotEvent) -> bool:
    """HubSpot names an integration, this app, as the change's source."""
    return event.change_source == "INTEGRATION" and event.app_id is not None and event.source_id == str(event.app_id)
