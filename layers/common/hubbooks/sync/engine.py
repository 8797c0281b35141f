"""The sync engine: one signal in, both sides made to agree, the link saved. Pure: ports in, no AWS."""

import contextlib
import hashlib
import time
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import partial
from typing import Any

from hubbooks.errors import ValidationFaultError
from hubbooks.mapping.fields import FieldMapping
from hubbooks.mapping.pairs import DEFAULTS, nameless, spec
from hubbooks.models.signals import SEEN_AT, Change, Pair, Reason, Side, SyncSignal, is_echo_of
from hubbooks.sync import failures
from hubbooks.sync.hierarchy import ParentFirstError
from hubbooks.sync.merge import MergePlan, merge
from hubbooks.sync.models import (
    BatchCreate,
    Conflict,
    Decision,
    DeleteBehaviour,
    IntentNote,
    Link,
    PairSettings,
    Policy,
    Record,
    SyncFailure,
)
from hubbooks.sync.ports import (
    DuplicateNameError,
    HubSpotPort,
    LinkConflictError,
    MergedAwayError,
    QboPort,
    StaleObjectError,
    StorePort,
)
from hubbooks.sync.sentences import label

ATTEMPTS = 4  # fresh reads after a stale SyncToken or a link saved by another worker


class Outcome(StrEnum):
    UNCHANGED = "unchanged"
    UPDATED = "updated"
    CREATED = "created"
    LINKED = "linked"
    UNLINKED = "unlinked"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def tally(self) -> str:
        """How the outcome counts in a job's progress (a record unlinked counts as skipped)."""
        return "skipped" if self is Outcome.UNLINKED else self.value


@dataclass
class Result:
    outcome: Outcome
    detail: str = ""
    conflicts: int = 0
    writes: dict[str, list[str]] = field(default_factory=dict)


REPLAY_MARGIN = 5.0  # seconds: a create answered with an older record may be a replay of a gone one


ECHO = "the echo of a sync's own write"
CREATE_ECHO = "the echo of a create in flight: the HubSpot record's own sync links the two"


_APP = {Side.HUBSPOT.value: "hubspot", Side.QUICKBOOKS.value: "quickbooks"}  # a side as history names it


def intent_of(link: Link, plan: MergePlan, qbo: Record) -> IntentNote:
    """What a plan about to be written notes with its link (see SyncEngine.note_intent)."""
    writes_to = {Side.QUICKBOOKS.value: plan.to_qbo, Side.HUBSPOT.value: plan.to_hubspot}
    token = _next_token(qbo.version) if plan.to_qbo else ""
    return link, writes_to, token, [_as_entry(c) for c in plan.conflicts]


def _as_entry(conflict: Conflict) -> dict[str, str]:
    """A conflict as history (and a write's note) keeps it."""
    return vars(conflict) | {"winner": conflict.winner.value}


def _next_token(sync_token: str) -> str:
    """The SyncToken QuickBooks gives a record at its next update (it counts them up by one)."""
    return str(int(sync_token) + 1) if sync_token.isdigit() else ""


def request_id(connection_id: str, pair: Pair, hubspot_id: str, attempt: int, anew: int | None = None) -> str:
    """Stable per record: a retried create is answered with the first result instead of a second record.
    `anew` (a time) makes another one, for a record whose first counterpart is gone."""
    digest = hashlib.sha256(f"{connection_id}|{pair}|{hubspot_id}".encode()).hexdigest()
    return f"hb-{digest[:40]}-{attempt}" if anew is None else f"hb-{digest[:30]}-{attempt}-{anew}"


def made_by_our_create(store: StorePort, pair: Pair, hubspot: Record, qbo: Record) -> bool:
    """Whether two records not linked are a create of ours whose link is not saved yet: the HubSpot record noted
    a create, and both still hold the values it noted."""
    noted = store.intent(Link(pair, hubspot.id, "", {}, 0), "").get(Side.QUICKBOOKS.value)
    return noted is not None and all(qbo.values.get(k, "") == v == hubspot.values.get(k, "") for k, v in noted.items())


def note_made_in_hubspot(store: StorePort, pair: Pair, hubspot_id: str, qbo_id: str, values: dict[str, str]) -> None:
    """A HubSpot record a sync just made from a QuickBooks one holds values read from QuickBooks: noted as ours,
    so that if its link is never saved, the next first sight of the two does not take them for a person's
    HubSpot edits, newer than a QuickBooks edit made after that read (and write the old values back)."""
    store.save_intent(Link(pair, hubspot_id, qbo_id, {}, 0), {Side.HUBSPOT.value: values}, "")


class SyncEngine:
    def __init__(
        self,
        connection_id: str,
        hubspot: HubSpotPort,
        qbo: QboPort,
        store: StorePort,
        mappings: dict[Pair, tuple[FieldMapping, ...]] | None = None,
        *,
        created_in_bulk: dict[str, str] | None = None,
    ) -> None:
        self.connection_id = connection_id
        self.hubspot = hubspot
        self.qbo = qbo
        self.store = store
        self.mappings = mappings or DEFAULTS
        # Records whose counterpart a batch create just made (id -> "quickbooks" or "hubspot"): linking them
        # is their creation.
        self.created_in_bulk = created_in_bulk or {}
        # Records whose noted batch create answered without them (a bulk pass sent it): created alone.
        self.unbatched: set[str] = set()
        self._waiting: set[tuple[Side, str]] = set()  # records waiting for their parent's sync, innermost last

    # -- entry point -------------------------------------------------------------------------------

    def handle(self, signal: SyncSignal) -> Result:
        if signal.pair not in self.mappings:
            return Result(Outcome.SKIPPED, f"{signal.pair} is not a two-way pair")
        settings = self.store.settings(signal.pair)
        if not settings.enabled:
            return Result(Outcome.SKIPPED, f"the {signal.pair} sync is off")
        if signal.change is Change.PERSON:
            return self._person_changed(signal)
        if self.is_echo(signal):
            return Result(Outcome.UNCHANGED, ECHO)
        last: Exception | None = None
        for _attempt in range(ATTEMPTS):
            try:
                if signal.change is Change.MERGE:  # again on a retry: a link already moved is not found twice
                    self._follow_merge(signal.pair, signal.side, signal.record_id, signal.merged_ids)
                result = self._reconcile(signal, settings)
            except (StaleObjectError, LinkConflictError) as race:
                if isinstance(race, MergedAwayError):
                    self._taken_back(signal.pair, race)
                last = race
                continue
            except ParentFirstError as first:
                refused = self._parent_first(signal, first)
                if refused is not None:
                    return refused
                last = first
                continue
            except ValidationFaultError as fault:
                failure = failures.from_fault(fault)
                self.store.record_failure(signal.pair, signal.side, signal.record_id, failure)
                return Result(Outcome.FAILED, f"{failure.category}: {failure.message}")
            if result.outcome is not Outcome.FAILED:
                self.store.clear_failure(signal.pair, signal.side, signal.record_id)
            return result
        raise LinkConflictError(
            f"{signal.pair} {signal.side} {signal.record_id}: still racing after {ATTEMPTS} tries, last: {last!r}"
        ) from last

    def _person_changed(self, signal: SyncSignal) -> Result:
        """A contact changed that may be a business customer's person: each company it is the person of is
        reconciled (its values are read afresh, the contact's among them)."""
        companies = self.hubspot.companies_of_person(signal.record_id)
        results = [
            self.handle(signal.model_copy(update={"record_id": c, "change": Change.UPSERT, "source_version": ""}))
            for c in companies
        ]
        if not results:
            return Result(Outcome.SKIPPED, f"contact {signal.record_id} is no synced company's first contact")
        return next((r for r in results if r.outcome is not Outcome.UNCHANGED), results[0])

    def _parent_first(self, signal: SyncSignal, first: ParentFirstError) -> Result | None:
        """Sync a record's parent before the record (the caller then tries the record again); a parent that does
        not sync, or one the record is itself a parent of, makes the record's sync error."""
        pair, parent = signal.pair, (first.side, first.parent_id)
        noun = spec(pair).nouns[0 if first.side is Side.HUBSPOT else 1]
        app = "HubSpot" if first.side is Side.HUBSPOT else "QuickBooks"
        if parent in self._waiting:
            failure = failures.parent_cycle(app, noun, first.parent_id)
            self.store.record_failure(pair, signal.side, signal.record_id, failure)
            return Result(Outcome.FAILED, f"{failure.category}: {failure.message}")
        self._waiting.add((signal.side, signal.record_id))
        try:
            result = self.handle(
                SyncSignal(
                    connection_id=self.connection_id,
                    pair=pair,
                    side=first.side,
                    record_id=first.parent_id,
                    reason=Reason.RETRY,
                    source_version=f"parent-of-{signal.record_id}",
                )
            )
        finally:
            self._waiting.discard((signal.side, signal.record_id))
        if self.store.link_of(pair, first.side, first.parent_id) is not None:
            return None
        failure = failures.parent_not_synced(app, noun, first.parent_id, result.detail)
        self.store.record_failure(pair, signal.side, signal.record_id, failure)
        return Result(Outcome.FAILED, f"{failure.category}: {failure.message}")

    def seen_as_is(self, signal: SyncSignal, record: Record, link: Link) -> bool:
        """A QuickBooks webhook for a record as its link last agreed on it (its SyncToken, and every mapped value:
        a balance moves without a new SyncToken): the echo of a sync's own write, told after one read of the
        record and none of its partner's (a change on the partner's side has its own signal)."""
        agreed = link.base
        return (
            signal.reason is Reason.WEBHOOK
            and signal.change is Change.UPSERT
            and signal.side is Side.QUICKBOOKS
            and bool(record.version)
            and link.seen.get(Side.QUICKBOOKS.value) == record.version
            and all(record.values.get(m.hubspot, "") == agreed.get(m.hubspot, "") for m in self.mappings[signal.pair])
        )

    def is_echo(self, signal: SyncSignal) -> bool:
        """A HubSpot webhook for the change a sync of its link last wrote or read (see `is_echo_of`)."""
        if signal.reason is not Reason.WEBHOOK or signal.side is not Side.HUBSPOT:
            return False
        link = self.store.link_of(signal.pair, signal.side, signal.record_id)
        return link is not None and is_echo_of(signal, link.seen)

    # -- reading -----------------------------------------------------------------------------------

    def _read(self, pair: Pair, side: Side, record_id: str) -> Record | None:
        return self.hubspot.get(pair, record_id) if side is Side.HUBSPOT else self.qbo.get(pair, record_id)

    def _reconcile(self, signal: SyncSignal, settings: PairSettings) -> Result:
        pair, side = signal.pair, signal.side
        record = self._read(pair, side, signal.record_id)
        if record is not None and record.merged_into:  # its merge event may come later, or not at all
            self._follow_merge(pair, side, record.merged_into, [signal.record_id])
            return Result(Outcome.UNLINKED, f"{side} {signal.record_id} was merged into {record.merged_into}")
        link = self.store.link_of(pair, side, signal.record_id)
        if record is None or not record.exists:
            return self._gone(pair, side, signal.record_id, link, settings)
        if link is None:
            return self._first_sight(pair, record, settings, reason=signal.reason)
        if self.seen_as_is(signal, record, link):
            return Result(Outcome.UNCHANGED, ECHO)
        other = self._read(pair, side.other, link.other(side))
        if other is not None and other.merged_into:  # the partner was merged away: follow it, then agree again
            self._follow_merge(pair, side.other, other.merged_into, [other.id])
            raise StaleObjectError(f"{pair} {side.other} {other.id} was merged into {other.merged_into}")
        if other is None or not other.exists:
            return self._gone(pair, side.other, link.other(side), link, settings)
        hubspot, qbo = (record, other) if side is Side.HUBSPOT else (other, record)
        return self._agree(pair, hubspot, qbo, link, settings)

    # -- two linked records ------------------------------------------------------------------------

    def _agree(
        self,
        pair: Pair,
        hubspot: Record,
        qbo: Record,
        link: Link | None,
        settings: PairSettings,
        *,
        outcome: Outcome = Outcome.UPDATED,
        created_in: str | None = None,
    ) -> Result:
        """Bring two records (linked, or about to be) into agreement: plan, write, then save the link."""
        if link is None and (taken := self._linked_elsewhere(pair, hubspot, qbo)) is not None:
            return taken
        if link is not None and not qbo.active and settings.on_qbo_inactive is DeleteBehaviour.ARCHIVE:
            return self._archive_inactive(pair, hubspot, qbo, link)
        plan = self.plan(pair, hubspot, qbo, link, settings)
        hubspot, qbo, writes = self._write(pair, plan, hubspot, qbo, link=link, settings=settings)
        if link is not None and not writes and link.base == plan.agreed:
            return Result(Outcome.UNCHANGED)  # the echo of our own write ends here: the loop guard
        seen = {
            Side.HUBSPOT.value: hubspot.version,
            Side.QUICKBOOKS.value: qbo.version,
            f"{Side.HUBSPOT}{SEEN_AT}": str(int(hubspot.updated_at * 1000)),
        }
        self.store.save_link(Link(pair, hubspot.id, qbo.id, plan.agreed, link.version if link else 0, seen), link)
        if link is not None:
            outcome = Outcome.UPDATED if writes else Outcome.UNCHANGED
        if writes or plan.conflicts or link is None:
            self._record_change(pair, plan, hubspot, qbo.id, writes=writes, outcome=outcome, created_in=created_in)
        elif link is not None:
            self._record_written_before(pair, link, plan, hubspot, qbo)
        return Result(outcome, conflicts=len(plan.conflicts), writes=writes)

    def _record_written_before(self, pair: Pair, link: Link, plan: MergePlan, hubspot: Record, qbo: Record) -> None:
        """Values both sides came to agree on without this sync writing: a sync that wrote them and stopped
        before it saved the link (and its history) noted its write, and the conflicts it settled. That history
        is written now; a person's same edit on both sides is nothing of ours to tell."""
        held = {Side.HUBSPOT.value: hubspot.values, Side.QUICKBOOKS.value: qbo.values}
        written = self.store.noted(link, qbo.version)
        sides = [
            side
            for side, values in written.writes.items()
            if values and all(held[side].get(k, "") == v for k, v in values.items())
        ]
        if not sides:
            return
        self._history(
            pair,
            Outcome.UPDATED.value,
            hubspot.id,
            qbo.id,
            name=label(pair, hubspot),
            fields=sorted(k for k, v in plan.agreed.items() if link.base.get(k, "") != v),
            direction=",".join(f"->{_APP[side]}" for side in sorted(sides)),
            conflicts=written.conflicts,
            note="written by a sync that stopped before it could record it",
        )

    def _archive_inactive(self, pair: Pair, hubspot: Record, qbo: Record, link: Link) -> Result:
        """The "archive when inactive in QuickBooks" setting: the HubSpot record goes, and so does the link."""
        self.hubspot.archive(pair, hubspot.id)
        self.store.delete_link(link)
        self._history(pair, "archived", hubspot.id, qbo.id, direction="->hubspot")
        return Result(Outcome.UNLINKED, "QuickBooks record is inactive: HubSpot record archived")

    def plan(self, pair: Pair, hubspot: Record, qbo: Record, link: Link | None, settings: PairSettings) -> MergePlan:
        """The field-by-field merge against the link's base, with contested fields judged by their own time."""
        plan_with = partial(
            merge,
            self.mappings[pair],
            hubspot=hubspot,
            qbo=qbo,
            policy=settings.policy,
            pair_direction=settings.direction,
        )
        base = link.base if link else None
        plan = plan_with(base)
        noted = link or Link(pair, hubspot.id, qbo.id, {}, 0)  # a pair seen together first: a create's note
        if plan.conflicts and (ours := self._ours(noted, hubspot, qbo, plan)):
            # A sync wrote these values and stopped before saving the link: they are ours, not a person's edits.
            base = {**noted.base, **ours}
            plan = plan_with(base)
        if plan.conflicts and settings.policy is Policy.LATEST:
            # HubSpot's record time counts every change, our own writes of other fields included: judge each
            # contested field by when its HubSpot value was set (one read, and only for a conflict), as read: a
            # value set since (another sync's write) has its own signal, and its time is not the read value's.
            contested = [c.field for c in plan.conflicts]
            plan = plan_with(
                base, hubspot_times=self.hubspot.changed_at(pair, hubspot.id, contested, as_of=hubspot.updated_at)
            )
        return plan

    def one_sided(
        self, pair: Pair, hubspot: Record, qbo: Record, link: Link, settings: PairSettings
    ) -> MergePlan | None:
        """The plan of two linked records, as read, whose agreement writes one side alone and settles no
        conflict: one a batch can write ahead of the engine (`_write` then finds it written). None otherwise."""
        if hubspot.merged_into or qbo.merged_into or not hubspot.exists or not qbo.exists:
            return None
        if not qbo.active and settings.on_qbo_inactive is DeleteBehaviour.ARCHIVE:
            return None
        plan = self.plan(pair, hubspot, qbo, link, settings)
        return plan if bool(plan.to_hubspot) != bool(plan.to_qbo) and not plan.conflicts else None

    def note_intent(self, link: Link, plan: MergePlan, qbo: Record) -> None:
        """What the plan is about to write, noted with the link before writing: a write whose link is never saved
        is then known as ours, not as a person's edit."""
        self.store.save_intent(*intent_of(link, plan, qbo))

    def _ours(self, link: Link, hubspot: Record, qbo: Record, plan: MergePlan) -> dict[str, str]:
        """Contested fields whose value one side holds because a sync wrote it there (its noted intent)."""
        intent = self.store.intent(link, qbo.version)
        held = {Side.HUBSPOT.value: hubspot.values, Side.QUICKBOOKS.value: qbo.values}
        return {
            c.field: written[c.field]
            for c in plan.conflicts
            for side, written in intent.items()
            if c.field in written and held[side].get(c.field, "") == written[c.field]
        }

    def _write(
        self, pair: Pair, plan: MergePlan, hubspot: Record, qbo: Record, *, link: Link | None, settings: PairSettings
    ) -> tuple[Record, Record, dict[str, list[str]]]:
        """Each side's changed fields, QuickBooks first; answers both records as written, and what was."""
        writes: dict[str, list[str]] = {}
        if link is not None and not plan.empty:
            self.note_intent(link, plan, qbo)
        # A HubSpot edit newer than this is newer than what we read on both sides (under "most recent wins").
        read_at = hubspot.updated_at if settings.policy is Policy.HUBSPOT else max(hubspot.updated_at, qbo.updated_at)
        if plan.to_qbo:
            qbo = self.qbo.update(pair, qbo, plan.to_qbo)
            writes["quickbooks"] = sorted(plan.to_qbo)
        if plan.to_hubspot:
            try:
                hubspot = self.hubspot.update(pair, hubspot.id, plan.to_hubspot)
            except MergedAwayError:
                if link is None:  # the pair as it was meant to be, so that the merge is followed from it
                    with contextlib.suppress(LinkConflictError):  # linked meanwhile: followed from that link
                        self.store.save_link(Link(pair, hubspot.id, qbo.id, plan.agreed), None)
                raise
            writes["hubspot"] = sorted(plan.to_hubspot)
            self._keep_newer_edits(pair, hubspot, qbo.id, plan.to_hubspot, read_at=read_at, settings=settings)
        return hubspot, qbo, writes

    def _record_change(
        self,
        pair: Pair,
        plan: MergePlan,
        hubspot: Record,
        qbo_id: str,
        *,
        writes: dict[str, list[str]],
        outcome: Outcome,
        created_in: str | None,
    ) -> None:
        """The history entry of an agreement that wrote, settled a conflict or made a link."""
        directions = ",".join(f"->{side}" for side in sorted({*writes, *([created_in] if created_in else [])}))
        self._history(
            pair,
            outcome.value,
            hubspot.id,
            qbo_id,
            name=label(pair, hubspot),
            fields=sorted({*plan.to_qbo, *plan.to_hubspot}),
            direction=directions or "none",
            conflicts=[_as_entry(c) for c in plan.conflicts],
        )

    def _keep_newer_edits(
        self, pair: Pair, wrote: Record, qbo_id: str, written: dict[str, str], *, read_at: float, settings: PairSettings
    ) -> None:
        """A person's HubSpot edit made after our reads was written over by our write: put it back and agree
        again, where a HubSpot edit may win (HubSpot has no conditional write to prevent it)."""
        contested = self.contestable(pair, written, settings)
        kept = contested and self.hubspot.restore_overwritten(pair, wrote.id, contested, read_at, wrote.updated_at)
        if kept:
            note = "edited in HubSpot while this sync was writing: the edit was put back"
            self._history(pair, "edit_kept", wrote.id, qbo_id, fields=kept, direction="->hubspot", note=note)
            raise StaleObjectError(f"{pair} hubspot {wrote.id}: {', '.join(kept)} edited during the sync")

    def contestable(self, pair: Pair, written: dict[str, str], settings: PairSettings) -> dict[str, str]:
        """The values written to HubSpot where a person's edit there may win: those a write may have overwritten."""
        if settings.policy is Policy.QBO or not settings.direction.allows(True):
            return {}
        flows_to_qbo = {m.hubspot for m in self.mappings[pair] if m.direction.allows(True)}
        return {key: value for key, value in written.items() if key in flows_to_qbo}

    def _linked_elsewhere(self, pair: Pair, hubspot: Record, qbo: Record) -> Result | None:
        """Two records about to be linked where one already has a partner: a duplicate for a person to resolve."""
        for record, other in ((hubspot, qbo), (qbo, hubspot)):
            existing = self.store.link_of(pair, record.side, record.id)
            if existing is not None and existing.other(record.side) != other.id:
                failure = failures.already_linked(pair, record, existing.other(record.side), other)
                self.store.record_failure(pair, other.side, other.id, failure)
                return Result(Outcome.FAILED, f"{failure.category}: {failure.message}")
        return None

    # -- a record seen for the first time -----------------------------------------------------------

    def _first_sight(
        self, pair: Pair, record: Record, settings: PairSettings, *, reason: Reason = Reason.BACKFILL
    ) -> Result:
        """A record with no link: left out, as a person decided, matched on the other side, refused as ambiguous
        or a duplicate, or created there. A retry is a person asking to sync it (from the settings page).
        A record left out is recorded as such, with why, for the sync health's "left out" list."""
        asked = reason is Reason.RETRY
        if settings.list_ids and record.side is Side.HUBSPOT and record.lists is None:
            record = replace(record, lists=self.hubspot.lists_of(pair, record.id, settings.list_ids))
        decision = self.store.decision(pair, record.side, record.id) if settings.reviewed else None
        included = decision is not None and decision.choice == "include"
        result = self._left_out(pair, record, settings, asked=asked, included=included)
        if result is None and decision is not None and not included:
            result = self._as_decided(pair, record, decision, settings)
        result = result or self._match_or_create(pair, record, settings, webhook=reason is Reason.WEBHOOK)
        if result.outcome is Outcome.SKIPPED:
            self.store.record_exclusion(pair, record.side, record.id, result.detail, label(pair, record))
        return result

    def _match_or_create(self, pair: Pair, record: Record, settings: PairSettings, *, webhook: bool = False) -> Result:
        """Link the record with its one free match, refuse it as ambiguous or a duplicate, or create it there.
        A QuickBooks webhook for a create still in flight (its HubSpot record noted that create, with these
        values) is left to the HubSpot record's sync, which links it; the sweep's look at it is not."""
        towards_qbo = record.side is Side.HUBSPOT
        candidates = self.qbo.find(pair, record) if towards_qbo else self.hubspot.find(pair, record)
        free = [c for c in candidates if self.store.link_of(pair, c.side, c.id) is None]
        if settings.reviewed and free:
            chosen = {c.id: self.store.decision(pair, c.side, c.id) for c in free}
            taken = [
                c for c in free if (d := chosen[c.id]) is not None and d.choice == "link" and d.other_id != record.id
            ]
            if taken and len(taken) == len(free):
                choice = chosen[taken[0].id]
                assert choice is not None
                return self._fail(pair, record, failures.chosen_elsewhere(pair, record, taken[0], choice.other_id))
            free = [c for c in free if c not in taken]
        value = spec(pair).match_value(record.values)
        if len(free) > 1:
            return self._fail(pair, record, failures.ambiguous_match(pair, record.side.other, value, len(free)))
        if len(free) == 1 and record.id not in self.created_in_bulk and (rivals := self._rivals(pair, record, free[0])):
            # The match is ambiguous from its side too: which of them pairs with it must not depend on which
            # record happened to be seen first.
            return self._fail(pair, record, failures.ambiguous_match(pair, record.side, value, rivals + 1))
        if candidates and not free:  # its match already syncs with another record: a duplicate, not a new one
            return self._duplicate_of_linked(pair, record, candidates[0])
        if free and webhook and not towards_qbo and made_by_our_create(self.store, pair, free[0], record):
            return Result(Outcome.UNCHANGED, CREATE_ECHO)
        if free:
            hubspot, qbo = (record, free[0]) if towards_qbo else (free[0], record)
            made_in = self.created_in_bulk.get(record.id)
            outcome = Outcome.CREATED if made_in else Outcome.LINKED
            return self._agree(pair, hubspot, qbo, None, settings, outcome=outcome, created_in=made_in)
        if not settings.direction.allows(towards_qbo):
            return Result(Outcome.SKIPPED, "the pair's direction does not create records on that side")
        return self._create_counterpart(pair, record, settings)

    def _as_decided(self, pair: Pair, record: Record, decision: Decision, settings: PairSettings) -> Result | None:
        """What a person decided for the record in the preview's review: left out, or linked with the record they
        chose. A choice naming a record that is gone (or taken) meanwhile is set aside: the record is matched as
        if none was made, and the history says so."""
        if decision.choice == "skip":
            return Result(Outcome.SKIPPED, "left out by a person in the review of the preview")
        chosen = self._read(pair, record.side.other, decision.other_id)
        taken = chosen is not None and self.store.link_of(pair, chosen.side, chosen.id) is not None
        if chosen is None or not chosen.exists or taken:
            hubspot_id, qbo_id = (
                (record.id, decision.other_id) if record.side is Side.HUBSPOT else (decision.other_id, record.id)
            )
            note = f"the record chosen in the review is {'linked with another' if taken else 'gone'}; matched as usual"
            self._history(pair, "decision_set_aside", hubspot_id, qbo_id, note=note)
            return None
        hubspot, qbo = (record, chosen) if record.side is Side.HUBSPOT else (chosen, record)
        return self._agree(pair, hubspot, qbo, None, settings, outcome=Outcome.LINKED)

    def _rivals(self, pair: Pair, record: Record, match: Record) -> int:
        """How many other free records on the record's own side the match matches too."""
        found = self.hubspot.find(pair, match) if match.side is Side.QUICKBOOKS else self.qbo.find(pair, match)
        return sum(
            1 for r in found if r.id != record.id and r.exists and self.store.link_of(pair, r.side, r.id) is None
        )

    def _left_out(
        self, pair: Pair, record: Record, settings: PairSettings, *, asked: bool, included: bool
    ) -> Result | None:
        """Why a record is not brought over: a filter (unless a person included it), inactive in QuickBooks, or
        waiting for a person."""
        if not included and not settings.admits(record):
            return Result(Outcome.SKIPPED, "the pair's filters leave this record out")
        if record.side is Side.QUICKBOOKS and not record.active:
            return Result(Outcome.SKIPPED, "inactive QuickBooks records are not brought into HubSpot")
        waiting = self.store.failure(pair, record.side, record.id)
        if waiting is not None and waiting.category == failures.MERGED_ELSEWHERE and not asked:
            return Result(Outcome.FAILED, f"{waiting.category}: {waiting.message}")
        return None

    def _duplicate_of_linked(self, pair: Pair, record: Record, partner: Record) -> Result:
        """The record's match already syncs with another record: a duplicate for a person to resolve."""
        existing = self.store.link_of(pair, partner.side, partner.id)
        assert existing is not None
        if existing.other(partner.side) == record.id:  # linked to this very record since we looked: look again
            raise LinkConflictError(f"{pair} {record.side} {record.id} was linked meanwhile")
        return self._fail(pair, record, failures.already_linked(pair, partner, existing.other(partner.side), record))

    def _fail(self, pair: Pair, record: Record, failure: SyncFailure) -> Result:
        self.store.record_failure(pair, record.side, record.id, failure)
        return Result(Outcome.FAILED, f"{failure.category}: {failure.message}")

    def _create_counterpart(self, pair: Pair, record: Record, settings: PairSettings) -> Result:
        """Make the record's counterpart on the other side, then agree the two (a new link)."""
        towards_qbo = record.side is Side.HUBSPOT
        if towards_qbo and nameless(pair, record.values):
            return self._fail(pair, record, failures.missing_name(pair))
        values = {
            m.hubspot: record.values.get(m.hubspot, "") for m in self.mappings[pair] if m.direction.allows(towards_qbo)
        }
        if towards_qbo:
            # Noted before the create: a sync that stops before the link is saved leaves it, and the pair's
            # next sync knows the new customer's values as ours, not as a person's edits made after it. A
            # record a batch create was noted for takes that batch's answer.
            batch = None if record.id in self.unbatched else self.store.note_creation(pair, record.id, values)
            hubspot, qbo, created_in = record, self._create_in_qbo(pair, record, values, batch), "quickbooks"
        else:
            hubspot, qbo, created_in = self.hubspot.create(pair, values, record.id), record, "hubspot"
            note_made_in_hubspot(self.store, pair, hubspot.id, qbo.id, values)
        return self._agree(pair, hubspot, qbo, None, settings, outcome=Outcome.CREATED, created_in=created_in)

    def _create_in_qbo(self, pair: Pair, record: Record, values: dict[str, str], batch: BatchCreate | None) -> Record:
        """A new QuickBooks record, under the first of its names not taken (a person's name may be)."""
        names = spec(pair).new_names(record.values) or [""]
        for attempt, name in enumerate(names):
            try:
                created = self._create_once(pair, record, values, attempt, name or None, batch=batch)
            except DuplicateNameError:
                continue
            if attempt:
                note = f"'{names[0]}' was taken; created as '{name}'"
                self._history(
                    pair, "display_name_disambiguated", record.id, created.id, direction="->quickbooks", note=note
                )
            return created
        raise ValidationFaultError(
            "quickbooks", 400, "6240", "Duplicate Name Exists Error", detail=f"{' and '.join(names)} are taken"
        )

    def _create_once(
        self,
        pair: Pair,
        record: Record,
        values: dict[str, str],
        attempt: int,
        name: str | None,
        *,
        batch: BatchCreate | None,
    ) -> Record:
        """One create, idempotent by its request id (or, for the first name, the batch's it was noted in when
        that batch held it); a replayed answer naming a record since gone is made anew."""
        started = time.time()
        created = None
        if batch is not None and not attempt:
            # A refusal other than a taken name is the batch's first answer, kept by QuickBooks: the record (fixed
            # since, perhaps) is tried alone under its own request id instead.
            with contextlib.suppress(ValidationFaultError):
                created = self.qbo.replay_create(pair, record, values, name, batch)
        if created is None:
            rid = request_id(self.connection_id, pair, record.id, attempt)
            created = self.qbo.create(pair, record, values, rid, name)
        if created.updated_at < started - REPLAY_MARGIN and self.qbo.get(pair, created.id) is None:
            # QuickBooks answered the request id with its first answer: a record since merged away.
            rid = request_id(self.connection_id, pair, record.id, attempt, int(started))
            created = self.qbo.create(pair, record, values, rid, name)
        return created

    # -- deletes and merges ------------------------------------------------------------------------

    def _gone(self, pair: Pair, side: Side, record_id: str, link: Link | None, settings: PairSettings) -> Result:
        if link is None:
            return Result(Outcome.SKIPPED, f"{side} {record_id} is gone and was never linked")
        if side is Side.HUBSPOT and settings.on_hubspot_delete is DeleteBehaviour.DEACTIVATE:
            counterpart = self.qbo.get(pair, link.qbo_id)
            if counterpart is not None and counterpart.exists and counterpart.active:
                self.qbo.deactivate(pair, counterpart)
        self.store.delete_link(link)
        self._history(
            pair,
            "unlinked",
            link.hubspot_id,
            link.qbo_id,
            note=f"{'HubSpot' if side is Side.HUBSPOT else 'QuickBooks'} record {record_id} was deleted",
        )
        return Result(Outcome.UNLINKED, f"{side} {record_id} was deleted")

    def _follow_merge(self, pair: Pair, side: Side, survivor_id: str, merged_ids: list[str]) -> None:
        """The link of a merged-away record moves to the survivor, unless the survivor has a link or a match of
        its own on the other side (that one is its counterpart: first sight links them). A partner left behind
        waits for a person: bringing it over again would undo the merge."""
        survivor = self.store.link_of(pair, side, survivor_id)
        for merged_id in merged_ids:
            self.store.clear_failure(pair, side, merged_id)  # gone: nothing of it is left to fix
            old = self.store.link_of(pair, side, merged_id)
            if old is None:
                continue
            self.store.delete_link(old)
            partner = old.other(side)
            if survivor is None and not self._matched_elsewhere(pair, side, survivor_id, partner):
                moved = Link(
                    pair,
                    survivor_id if side is Side.HUBSPOT else partner,
                    survivor_id if side is Side.QUICKBOOKS else partner,
                    dict(old.base),
                )
                survivor = self.store.save_link(moved, None)
            note = f"{side} {merged_id} merged into {survivor_id}"
            if survivor is None or survivor.other(side) != partner:
                note += f"; {partner} is left unlinked, for a person to merge on its side"
                failure = failures.merged_elsewhere(pair, side.other, merged_id, survivor_id)
                self.store.record_failure(pair, side.other, partner, failure)
            shown = survivor or old
            self._history(pair, "merge_followed", shown.hubspot_id, shown.qbo_id, note=note)

    def _matched_elsewhere(self, pair: Pair, side: Side, survivor_id: str, partner: str) -> bool:
        """Whether the survivor matches a free record on the other side besides the merged one's partner."""
        record = self._read(pair, side, survivor_id)
        if record is None or not record.exists:
            return False
        candidates = self.qbo.find(pair, record) if side is Side.HUBSPOT else self.hubspot.find(pair, record)
        return any(c.id != partner and self.store.link_of(pair, c.side, c.id) is None for c in candidates if c.exists)

    def _taken_back(self, pair: Pair, merged: MergedAwayError) -> None:
        """The history entry of a write HubSpot put on a survivor (or refused there): what was given back."""
        note = f"merged into {merged.survivor_id} while this sync wrote to it; "
        if merged.refused:
            note += f"HubSpot refused the write there ({merged.refused})"
        else:
            note += f"given back there: {', '.join(merged.given_back) or 'nothing (no value changed)'}"
        self._history(pair, "write_taken_back", merged.record_id, "", note=note)

    def _history(self, pair: Pair, action: str, hubspot_id: str, qbo_id: str, **details: Any) -> None:
        """One history entry: `fields` and `direction` of the change, and whatever explains it."""
        self.store.add_history(
            {
                "pair": pair.value,
                "action": action,
                "hubspot_id": hubspot_id,
                "qbo_id": qbo_id,
                "fields": [],
                "direction": "none",
                "at": time.time(),
                **details,
            }
        )
