"""What the engine needs from HubSpot, QuickBooks and the store; adapters implement these."""

from typing import Any, Protocol

from hubbooks.models.signals import Pair, Side
from hubbooks.sync.models import BatchCreate, Conflicts, Decision, Link, Noted, PairSettings, Record, SyncFailure


class StaleObjectError(Exception):
    """QuickBooks refused a write made with an old SyncToken: read again and merge again."""


class MergedAwayError(StaleObjectError):
    """HubSpot applied a write meant for a record merged away since it was read to the survivor; the values it
    replaced there were given back."""

    def __init__(self, record_id: str, survivor_id: str, given_back: list[str], refused: str = "") -> None:
        super().__init__(f"hubspot {record_id} was merged into {survivor_id}")
        self.record_id, self.survivor_id, self.given_back = record_id, survivor_id, given_back
        self.refused = refused  # HubSpot's words when it refused the write on the survivor


class DuplicateNameError(Exception):
    """QuickBooks refused a name another customer, vendor, employee or item already has (Fault 6240)."""


class LinkConflictError(Exception):
    """Another worker saved this link first: start over from fresh reads."""


class HubSpotPort(Protocol):
    def get(self, pair: Pair, record_id: str) -> Record | None: ...

    def find(self, pair: Pair, qbo: Record) -> list[Record]: ...

    def create(self, pair: Pair, values: dict[str, str], qbo_id: str) -> Record: ...

    def update(self, pair: Pair, record_id: str, values: dict[str, str]) -> Record: ...

    def archive(self, pair: Pair, record_id: str) -> None: ...

    def restore_overwritten(
        self, pair: Pair, record_id: str, written: dict[str, str], since: float, until: float
    ) -> list[str]:
        """Put back values people set on `written` fields after `since` that our write at `until` replaced;
        the fields put back (HubSpot has no conditional write, so this is found after the fact)."""
        ...

    def changed_at(self, pair: Pair, record_id: str, fields: list[str], *, as_of: float) -> dict[str, float]:
        """When each field got the value it held at `as_of` (epoch seconds; the record's time as read), from
        HubSpot's property history."""
        ...

    def lists_of(self, pair: Pair, record_id: str, wanted: tuple[str, ...]) -> frozenset[str]:
        """Which of `wanted` (list ids) hold the record."""
        ...

    def companies_of_person(self, contact_id: str) -> list[str]:
        """The companies a contact is the person of (their first contact): business customers it names."""
        ...


class QboPort(Protocol):
    def get(self, pair: Pair, record_id: str) -> Record | None: ...

    def find(self, pair: Pair, hubspot: Record) -> list[Record]: ...

    def create(
        self, pair: Pair, source: Record, values: dict[str, str], request_id: str, display_name: str | None
    ) -> Record: ...

    def replay_create(
        self, pair: Pair, source: Record, values: dict[str, str], display_name: str | None, batch: BatchCreate
    ) -> Record | None:
        """The record a batch create made for `source` (the batch sent again under its request id: QuickBooks
        answers a repeat with its first answer), or None when that batch never held it."""
        ...

    def update(self, pair: Pair, current: Record, values: dict[str, str]) -> Record: ...

    def deactivate(self, pair: Pair, current: Record) -> Record: ...


class StorePort(Protocol):
    def settings(self, pair: Pair) -> PairSettings: ...

    def link_of(self, pair: Pair, side: Side, record_id: str) -> Link | None: ...

    def save_link(self, link: Link, previous: Link | None) -> Link: ...

    def decision(self, pair: Pair, side: Side, record_id: str) -> Decision | None:
        """A person's review decision for a record seen for the first time (read only when the pair is reviewed)."""
        ...

    def record_exclusion(self, pair: Pair, side: Side, record_id: str, reason: str, name: str) -> None:
        """A record first sight left out (a filter, a person's choice, inactive, the direction), and why."""
        ...

    def save_intent(
        self, link: Link, writes: dict[str, dict[str, str]], qbo_token: str, conflicts: Conflicts = ()
    ) -> None:
        """What a sync is about to write to sides ("hubspot", "quickbooks") of a linked pair, noted before it
        writes, with the SyncToken QuickBooks' record will have once written, and the conflicts the write
        settles: a sync that stops after writing and before saving the link (and its history) leaves it behind.
        A side not in `writes` keeps what was noted for it."""
        ...

    def note_creation(self, pair: Pair, hubspot_id: str, values: dict[str, str]) -> BatchCreate | None:
        """Note the values a QuickBooks record is about to be created with for a HubSpot record (an intent at
        link version 0), unless a batch create was noted for it first: then answer that batch, whose answer
        the create must take (creating it again would make a second customer)."""
        ...

    def claim_creations(
        self, pair: Pair, creations: dict[str, tuple[dict[str, str], BatchCreate]]
    ) -> dict[str, BatchCreate]:
        """Note each record's values with the batch its create is proposed for. A record already noted under a
        batch keeps that one; a record whose single create was noted is left out (its sync makes it). Answers
        the batch each record's create belongs to."""
        ...

    def intent(self, link: Link, qbo_token: str) -> dict[str, dict[str, str]]:
        """The writes still ours, by side: HubSpot's when noted at the link's version as read; QuickBooks' too,
        or when its record is still at the SyncToken our write gave it (another sync may have saved the link
        meanwhile, from a read before our write landed)."""
        ...

    def noted(self, link: Link, qbo_token: str) -> Noted:
        """The writes still ours (as `intent`) with the conflicts they settle, in one read."""
        ...

    def delete_link(self, link: Link) -> None: ...

    def record_failure(self, pair: Pair, side: Side, record_id: str, failure: SyncFailure) -> None: ...

    def failure(self, pair: Pair, side: Side, record_id: str) -> SyncFailure | None: ...

    def clear_failure(self, pair: Pair, side: Side, record_id: str) -> None: ...

    def add_history(self, entry: dict[str, Any]) -> None: ...
