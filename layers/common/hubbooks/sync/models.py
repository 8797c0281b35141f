"""Plain models the engine works with: records in canonical form, links, settings, sync errors."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hubbooks.mapping.fields import Direction
from hubbooks.models.signals import Pair, Side


class Policy(StrEnum):
    LATEST = "most_recent_wins"
    HUBSPOT = "hubspot_wins"
    QBO = "qbo_wins"


class DeleteBehaviour(StrEnum):
    UNLINK = "unlink"  # HubSpot deletion: forget the link, keep the QuickBooks record
    DEACTIVATE = "deactivate"  # HubSpot deletion: make the QuickBooks record inactive
    MARK_INACTIVE = "mark_inactive"  # QuickBooks inactive: qbo_active=false in HubSpot
    ARCHIVE = "archive"  # QuickBooks inactive: archive the HubSpot record


@dataclass(frozen=True)
class PairSettings:
    pair: Pair
    enabled: bool = True
    direction: Direction = Direction.BOTH
    policy: Policy = Policy.LATEST
    on_hubspot_delete: DeleteBehaviour = DeleteBehaviour.UNLINK
    on_qbo_inactive: DeleteBehaviour = DeleteBehaviour.MARK_INACTIVE
    associate_open_deal: bool = True  # invoices: fall back to the contact's single open or won deal
    lifecycle_stages: tuple[str, ...] = ()  # contacts: only these stages go to QuickBooks (empty: all)
    list_ids: tuple[str, ...] = ()  # contacts: only members of one of these HubSpot lists (empty: all)
    reviewed: bool = False  # a person made decisions in the preview's review: first sight reads them

    def admits(self, record: "Record") -> bool:
        """Whether the filters let a HubSpot record be brought into QuickBooks."""
        if record.side is Side.QUICKBOOKS:
            return True
        in_stage = not self.lifecycle_stages or record.lifecycle_stage in self.lifecycle_stages
        return in_stage and (not self.list_ids or not (record.lists or frozenset()).isdisjoint(self.list_ids))


@dataclass(frozen=True)
class Decision:
    """A person's choice in the preview's review for one record: link it with `other_id`, or leave it out."""

    choice: str  # "link" or "skip"
    other_id: str = ""


@dataclass
class Record:
    """One side's record: its mapped values in canonical form, and what writing back needs."""

    side: Side
    id: str
    values: dict[str, str]
    updated_at: float  # epoch seconds of its last change
    exists: bool = True  # False when deleted or archived
    active: bool = True
    version: str = ""  # QBO SyncToken; HubSpot updatedAt
    raw: Any = None
    lists: frozenset[str] | None = None  # HubSpot: the filtered-on lists it is in; None until read
    merged_into: str | None = None  # HubSpot: merged away into this record (then `exists` is False)
    lifecycle_stage: str = ""  # HubSpot contacts: what the lifecycle-stage filter reads
    product_type: str = ""  # HubSpot products: service or not, for a new QuickBooks item's type


@dataclass
class Link:
    pair: Pair
    hubspot_id: str
    qbo_id: str
    base: dict[str, str] = field(default_factory=dict)  # the values both sides last agreed on
    version: int = 0  # optimistic lock of the link items
    # Each side's record version as this sync left it (HubSpot updatedAt, QBO SyncToken): a sweep that
    # finds a record still at that version has nothing new to report about it.
    seen: dict[str, str] = field(default_factory=dict)

    def other(self, side: Side) -> str:
        return self.qbo_id if side is Side.HUBSPOT else self.hubspot_id

    def at(self, version: int) -> "Link":
        """This link as saved at `version`."""
        return Link(self.pair, self.hubspot_id, self.qbo_id, dict(self.base), version, dict(self.seen))


@dataclass(frozen=True)
class Conflict:
    field: str
    hubspot: str
    qbo: str
    winner: Side


@dataclass(frozen=True)
class SyncFailure:
    """What a person sees for a record that cannot sync: category, the provider's words, and the fix."""

    category: str
    message: str
    fix: str


@dataclass(frozen=True)
class BatchCreate:
    """Where a create towards QuickBooks goes: a batch request (its `requestid`) and the item's `bId` in it.
    Noted before the call, so any later sync of the record asks QuickBooks for that same answer."""

    request_id: str
    bid: str


# Conflicts as a write's note and the history keep them: field, hubspot, qbo, winner.
Conflicts = Sequence[dict[str, str]]
# What a sync is about to write (see StorePort.save_intent): the link, the writes by side, the QuickBooks token, the
# conflicts the write settles.
IntentNote = tuple[Link, dict[str, dict[str, str]], str, Conflicts]


@dataclass(frozen=True)
class Noted:
    """A linked pair's noted writes still ours, by side (see `StorePort.intent`), and the conflicts they settle."""

    writes: dict[str, dict[str, str]]
    conflicts: list[dict[str, str]]


def ours_noted(notes: dict[str, Any], link: Link, qbo_token: str) -> Noted:
    """Of a pair's notes by side (None: nothing noted there), what is still ours; each conflict once."""
    ours = {side: note for side, note in notes.items() if note is not None and still_ours(side, link, note, qbo_token)}
    conflicts: list[dict[str, str]] = []
    for note in ours.values():
        conflicts += [dict(c) for c in note.get("conflicts") or [] if dict(c) not in conflicts]
    writes = {side: {str(k): str(v) for k, v in note["values"].items()} for side, note in ours.items()}
    return Noted(writes, conflicts)


def hubspot_made(record_ids: list[str]) -> list[str]:
    """The ids HubSpot gave, of records a preview only pretends to make too (theirs are not HubSpot's)."""
    return [i for i in record_ids if i.isdigit()]


def still_ours(side: str, link: Link, note: dict[str, Any], qbo_token: str) -> bool:
    """Whether a noted write still says what is ours on that side of the link (see `StorePort.intent`)."""
    if str(note["qbo_id"]) not in (link.qbo_id, ""):
        return False  # noted for another pair of records ("": before a create, for the pair it makes)
    at_version = int(note["version"]) == link.version
    return at_version or (side == Side.QUICKBOOKS.value and bool(qbo_token) and str(note["token"]) == qbo_token)
