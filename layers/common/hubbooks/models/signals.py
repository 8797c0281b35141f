"""A SyncSignal says "this record may have changed": the worker reads the record itself, never the signal."""

import hashlib
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class Side(StrEnum):
    HUBSPOT = "hs"
    QUICKBOOKS = "qbo"

    @property
    def other(self) -> "Side":
        return Side.QUICKBOOKS if self is Side.HUBSPOT else Side.HUBSPOT


class Pair(StrEnum):
    """Object pairs: the HubSpot object and the QuickBooks entity kept in step."""

    CONTACTS = "contacts"  # contact <-> Customer (a connection in people mode)
    COMPANIES = "companies"  # company <-> Customer (a connection in business mode)
    PRODUCTS = "products"  # product <-> Item
    INVOICES = "invoices"  # QuickBooks Invoice -> HubSpot invoice
    PAYMENTS = "payments"  # QuickBooks Payment -> HubSpot (invoice balance, deal timeline)
    DEALS = "deals"  # HubSpot deal (invoice properties, the workflow actions)
    ESTIMATES = "estimates"  # QuickBooks Estimate made by an action -> its deal's and quote's status


class Reason(StrEnum):
    WEBHOOK = "webhook"
    SWEEP = "sweep"
    BACKFILL = "backfill"
    ACTION = "action"
    RETRY = "retry"
    PREVIEW = "preview"  # a dry run of a pair's first sync: reads only, every write kept back


class Change(StrEnum):
    UPSERT = "upsert"  # created, changed or restored: read it and reconcile
    DELETE = "delete"
    MERGE = "merge"  # the record absorbed `merged_ids`
    PERSON = "person"  # a business customer's person changed: `record_id` is the contact, its companies are read


class SyncSignal(BaseModel):
    connection_id: str
    pair: Pair
    side: Side
    record_id: str
    change: Change = Change.UPSERT
    reason: Reason
    source_version: str = Field(description="The source's version or timestamp of the change")
    event_id: str = ""
    merged_ids: list[str] = Field(default_factory=list)
    record_ids: list[str] = Field(
        default_factory=list, description="A batch of records of one side (an initial sync's, or live changes)"
    )
    record_versions: list[str] = Field(
        default_factory=list, description="A batch of live changes: each record's version, as `source_version`"
    )
    job_id: str | None = None
    in_lane: bool = Field(
        default=False,
        description="Noted in its lane when queued: a record no longer noted there was taken by an earlier pass",
    )

    def single(self, record_id: str, reason: Reason, version: str | None = None) -> "SyncSignal":
        """The signal of one record of this batch (or of this signal's pair and side)."""
        return SyncSignal(
            connection_id=self.connection_id,
            pair=self.pair,
            side=self.side,
            record_id=record_id,
            reason=reason,
            source_version=self.source_version if version is None else version,
        )

    def default_group(self) -> str:
        """The FIFO group of a record not yet linked: its side and id (a batch: its job, or live, and first id)."""
        if self.record_ids:
            batch = f"job:{self.job_id}" if self.job_id else "live"
            return f"{self.connection_id}:{self.pair}:{batch}:{self.side}:{self.record_id}"
        return f"{self.connection_id}:{self.pair}:{self.side}:{self.record_id}"

    def deduplication_id(self) -> str:
        """The same change of the same record, however often it is reported, is one message."""
        key = f"{self.connection_id}|{self.pair}|{self.side}|{self.record_id}|{self.change}|{self.source_version}"
        if self.record_ids:  # each record's own version too: a later change of one is another message
            key += "|" + ",".join(self.record_ids) + "|" + ",".join(self.record_versions) + f"|{self.job_id}"
        return hashlib.sha256(key.encode()).hexdigest()


def records_of(signal: SyncSignal) -> list[SyncSignal]:
    """A live signal's records: itself, or each record of a batch message of live changes, with the version its
    change stated (none, read afresh, in a message that did not keep them)."""
    if not signal.record_ids:
        return [signal]
    ids = signal.record_ids
    versions = signal.record_versions if len(signal.record_versions) == len(ids) else [""] * len(ids)
    return [signal.single(i, signal.reason, version=v) for i, v in zip(ids, versions, strict=True)]


SEEN_AT = "_at"  # Link.seen: beside HubSpot's version, its record's time as a webhook states it


def signal_moment(signal: SyncSignal) -> str | None:
    """The time of the change a HubSpot webhook's signal reports (its occurredAt, in milliseconds)."""
    return str(int(signal.source_version)) if signal.source_version.isdigit() else None


def is_echo_of(signal: SyncSignal, seen: Mapping[str, Any]) -> bool:
    """A HubSpot webhook for the very change a sync of the record's link last wrote or read (the record's time,
    to the millisecond, as the link's `seen` holds it): nothing to read or do. QuickBooks' webhooks state whole
    seconds and no SyncToken, and a person's edit in the second of our write is no rarity (a bookkeeper
    answering what just arrived): those are read."""
    if signal.reason is not Reason.WEBHOOK or signal.change is not Change.UPSERT or signal.side is not Side.HUBSPOT:
        return False
    moment = signal_moment(signal)
    return moment is not None and str(seen.get(f"{signal.side}{SEEN_AT}", "")) == moment


def collapse(signals: list[SyncSignal]) -> list[SyncSignal]:
    """One signal per record and kind of change, keeping the latest version (a batch repeats records)."""
    latest: dict[tuple[str, str, str, str, str], SyncSignal] = {}
    for signal in signals:
        key = (signal.connection_id, signal.pair, signal.side, signal.record_id, signal.change)
        current = latest.get(key)
        if current is None or signal.source_version > current.source_version:
            latest[key] = signal
    return list(latest.values())
