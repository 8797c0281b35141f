"""A batch of records of one side (an initial sync's, or live signals that arrived together): read and match
in bulk, then reconcile each record with the engine against ports that answer from what the bulk reads
fetched."""

import hashlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from hubbooks.errors import ValidationFaultError
from hubbooks.mapping.fields import PARENT, person_property
from hubbooks.mapping.pairs import has_parent, nameless, spec
from hubbooks.models.signals import Pair, Reason, Side, SyncSignal
from hubbooks.store.sync_store import DynamoSyncStore
from hubbooks.sync.adapters import QBO_BATCH, HubSpotAdapter, QboAdapter, WithHistory, bid_of
from hubbooks.sync.engine import (
    REPLAY_MARGIN,
    Outcome,
    Result,
    SyncEngine,
    intent_of,
    made_by_our_create,
    note_made_in_hubspot,
)
from hubbooks.sync.merge import MergePlan, merge
from hubbooks.sync.models import (
    BatchCreate,
    Conflicts,
    Decision,
    IntentNote,
    Link,
    Noted,
    PairSettings,
    Record,
    SyncFailure,
)
from hubbooks.sync.ports import HubSpotPort, LinkConflictError, QboPort


@dataclass
class _Prefetched:
    records: dict[tuple[Side, str], Record | None] = field(default_factory=dict)
    matches: dict[tuple[Side, str], list[Record]] = field(default_factory=dict)
    # A write a batch made ahead of the engine: (side, id) -> the values, the version written over, the answer.
    written: dict[tuple[Side, str], tuple[dict[str, str], str, Record]] = field(default_factory=dict)
    histories: dict[str, WithHistory] = field(default_factory=dict)  # HubSpot id -> read after the write


@dataclass(frozen=True)
class Seen:
    """What a batch knew of one record before reconciling it: the record, what matching found for it on the
    other side (or what the batch created for it), and the counterpart it was linked to."""

    record: Record | None
    candidates: list[Record]
    linked: Record | None


OnResult = Callable[[str, Result, Seen], None]


class _Cached:
    """One side's port as one batch sees it: reads and matches come first from what the bulk reads fetched
    (each used once, so a second look goes to the API); everything else goes to the adapter."""

    def __init__(self, inner: Any, side: Side, cache: _Prefetched) -> None:
        self._inner, self._side, self._cache = inner, side, cache

    def get(self, pair: Pair, record_id: str) -> Record | None:
        key = (self._side, record_id)
        return self._cache.records.pop(key) if key in self._cache.records else self._inner.get(pair, record_id)

    def find(self, pair: Pair, other: Record) -> list[Record]:
        key = (other.side, other.id)
        return self._cache.matches.pop(key) if key in self._cache.matches else self._inner.find(pair, other)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _ahead(self, record_id: str, values: dict[str, str], version: str | None) -> Record | None:
        """The answer of the batch's write of these values over this version, made ahead of the engine."""
        ahead = self._cache.written.pop((self._side, record_id), None)
        if ahead is None or ahead[0] != values or (version is not None and ahead[1] != version):
            return None
        return ahead[2]


class _CachedHubSpot(_Cached):
    """HubSpot as one batch sees it: a write the batch made ahead (in a batch update) is answered as made, and
    the check that it overwrote no person's edit starts from the batch's read of the record's history."""

    def update(self, pair: Pair, record_id: str, values: dict[str, str]) -> Record:
        return self._ahead(record_id, values, None) or cast(Record, self._inner.update(pair, record_id, values))

    def restore_overwritten(
        self, pair: Pair, record_id: str, written: dict[str, str], since: float, until: float
    ) -> list[str]:
        read = self._cache.histories.pop(record_id, None)
        return cast(list[str], self._inner.restore_overwritten(pair, record_id, written, since, until, read=read))


class _CachedQbo(_Cached):
    """QuickBooks as one batch sees it: an update the batch made ahead over the same SyncToken is answered as
    made."""

    def update(self, pair: Pair, current: Record, values: dict[str, str]) -> Record:
        made = self._ahead(current.id, values, current.version)
        return made or cast(Record, self._inner.update(pair, current, values))


class _BatchStore:
    """The store as one batch sees it: settings read once, links prefetched in bulk (and kept current as the
    batch saves them), links saved together after the batch, intents noted together before its writes, sync
    errors cleared only where they exist, history written in bulk at the end."""

    def __init__(self, inner: DynamoSyncStore, pair: Pair) -> None:
        self._inner = inner
        # A company's parent is looked up in the table when its children are written: its link is saved at once.
        self._together = pair is not Pair.COMPANIES
        # A link not saved yet: the link, the version its items hold (None: none), and the record that made it.
        self._pending: dict[tuple[str, str], tuple[Link, int | None, str]] = {}
        self.handling = ""  # the record the engine is reconciling
        self.unsettled: set[str] = set()  # records whose new link is not saved: no result of theirs is told
        self._settings = inner.settings(pair)
        self._links: dict[tuple[Side, str], Link | None] = {}
        self._decisions: dict[tuple[Side, str], Decision | None] = {}  # a reviewed pair's, read with the links
        self._failing = inner.failing(pair)
        self._history: list[tuple[str, dict[str, Any]]] = []  # each entry with the record that wrote it
        self._intents: dict[tuple[str, str], tuple[dict[str, dict[str, str]], str]] = {}

    def prefetch(self, pair: Pair, side: Side, record_ids: list[str]) -> None:
        wanted = [i for i in dict.fromkeys(record_ids) if (side, i) not in self._links]
        for record_id, link in self._inner.links_of(pair, side, wanted).items():
            self._links[(side, record_id)] = link
            if link is not None:  # saved since the other side was read (another batch, a live signal): both know
                self._links[(side.other, link.other(side))] = link
        if self._settings.reviewed:
            unread = [i for i in dict.fromkeys(record_ids) if (side, i) not in self._decisions]
            for record_id, decision in self._inner.decisions_of(pair, side, unread).items():
                self._decisions[(side, record_id)] = decision

    def settings(self, pair: Pair) -> PairSettings:
        return self._settings

    def link_of(self, pair: Pair, side: Side, record_id: str) -> Link | None:
        key = (side, record_id)
        if key in self._links:
            return self._links[key]
        link = self._inner.link_of(pair, side, record_id)
        if link is not None:  # a link saved meanwhile by a live signal: both of its records know it now
            self._links[(Side.HUBSPOT, link.hubspot_id)] = self._links[(Side.QUICKBOOKS, link.qbo_id)] = link
        return link

    def save_link(self, link: Link, previous: Link | None) -> Link:
        key = (link.hubspot_id, link.qbo_id)
        if self._together:  # saved with the batch's other links
            held = self._pending[key][1] if key in self._pending else previous.version if previous else None
            saved = link.at((previous.version if previous else 0) + 1)
            self._pending[key] = (saved, held, self.handling)
            self._links[(Side.HUBSPOT, link.hubspot_id)] = self._links[(Side.QUICKBOOKS, link.qbo_id)] = saved
            return saved
        try:
            saved = self._inner.save_link(link, previous)
        except LinkConflictError:  # a live signal linked it meanwhile: read these links afresh from now on
            self._forget(link)
            raise
        self._links[(Side.HUBSPOT, link.hubspot_id)] = self._links[(Side.QUICKBOOKS, link.qbo_id)] = saved
        return saved

    def decision(self, pair: Pair, side: Side, record_id: str) -> Decision | None:
        if (side, record_id) in self._decisions:
            return self._decisions[(side, record_id)]
        return self._inner.decision(pair, side, record_id)

    def save_intent(
        self, link: Link, writes: dict[str, dict[str, str]], qbo_token: str, conflicts: Conflicts = ()
    ) -> None:
        self.save_intents([(link, writes, qbo_token, conflicts)])

    def save_intents(self, intents: list[IntentNote]) -> None:
        """Noted once: the engine notes again what the batch noted before writing ahead."""
        fresh = [one for one in intents if self._intents.get((one[0].hubspot_id, one[0].qbo_id)) != one[1:3]]
        self._inner.save_intents(fresh)
        for link, writes, qbo_token, _ in fresh:
            self._intents[(link.hubspot_id, link.qbo_id)] = (writes, qbo_token)

    def note_creation(self, pair: Pair, hubspot_id: str, values: dict[str, str]) -> BatchCreate | None:
        return self._inner.note_creation(pair, hubspot_id, values)

    def claim_creations(
        self, pair: Pair, creations: dict[str, tuple[dict[str, str], BatchCreate]]
    ) -> dict[str, BatchCreate]:
        return self._inner.claim_creations(pair, creations)

    def record_exclusion(self, pair: Pair, side: Side, record_id: str, reason: str, name: str) -> None:
        self._inner.record_exclusion(pair, side, record_id, reason, name)

    def intent(self, link: Link, qbo_token: str) -> dict[str, dict[str, str]]:
        return self._inner.intent(link, qbo_token)

    def noted(self, link: Link, qbo_token: str) -> Noted:
        return self._inner.noted(link, qbo_token)

    def save_links(self) -> set[str]:
        """Save the links the batch made or changed (from now on, links are saved at once); answers the records
        whose link could not be saved, because another worker saved a link of one of its records meanwhile.
        Those records are unsettled, and their history dropped, until they are reconciled again; if the save
        fails, every record with a link in it is unsettled (which links were saved is not known)."""
        pending, self._pending, self._together = dict(self._pending), {}, False
        if not pending:
            return set()
        try:
            conflicted = self._inner.save_links([(link, held) for link, held, _ in pending.values()])
        except Exception:
            self._unsettle([link for link, _, _ in pending.values()], {record for _, _, record in pending.values()})
            raise
        again = {pending[(link.hubspot_id, link.qbo_id)][2] for link in conflicted}
        self._unsettle(conflicted, again)
        return again

    def _forget(self, link: Link) -> None:
        self._links.pop((Side.HUBSPOT, link.hubspot_id), None)
        self._links.pop((Side.QUICKBOOKS, link.qbo_id), None)

    def _unsettle(self, links: list[Link], records: set[str]) -> None:
        for link in links:
            self._forget(link)
        self._history = [(record, entry) for record, entry in self._history if record not in records]
        self.unsettled |= records

    def delete_link(self, link: Link) -> None:
        """A link not saved yet is forgotten; a saved one is deleted as saved (before a change not saved yet)."""
        key = (link.hubspot_id, link.qbo_id)
        pending = self._pending.get(key)
        held = link.version if pending is None else pending[1]
        if held is not None:
            try:
                self._inner.delete_link(link.at(held))
            except LinkConflictError:  # changed meanwhile by another worker: read afresh from now on
                self._forget(link)
                raise
        self._pending.pop(key, None)
        self._links[(Side.HUBSPOT, link.hubspot_id)] = self._links[(Side.QUICKBOOKS, link.qbo_id)] = None

    def record_failure(self, pair: Pair, side: Side, record_id: str, failure: SyncFailure) -> None:
        self._inner.record_failure(pair, side, record_id, failure)
        self._failing.add((str(side), record_id))

    def failure(self, pair: Pair, side: Side, record_id: str) -> SyncFailure | None:
        return self._inner.failure(pair, side, record_id) if (str(side), record_id) in self._failing else None

    def clear_failure(self, pair: Pair, side: Side, record_id: str) -> None:
        if (str(side), record_id) in self._failing:
            self._inner.clear_failure(pair, side, record_id)
            self._failing.discard((str(side), record_id))

    def add_history(self, entry: dict[str, Any]) -> None:
        self._history.append((self.handling, entry))

    def flush(self) -> None:
        self._inner.add_histories([entry for _, entry in self._history])
        self._history.clear()


def run_batch(
    signal: SyncSignal,
    hubspot: HubSpotAdapter,
    qbo: QboAdapter,
    inner: DynamoSyncStore,
    on_result: OnResult | None = None,
    *,
    live: dict[str, SyncSignal] | None = None,
) -> Counter[str]:
    """Reconcile every record of the batch; answers how many ended each way (and `done`). `on_result` is told
    each record's result and what the batch knew of it. `live` holds the signals of records that arrived as
    live changes (a webhook's time tells our own echoes, which are not read at all)."""
    pair, side = signal.pair, signal.side
    live = live or {}
    cache = _Prefetched()
    store = _BatchStore(inner, pair)
    store.prefetch(pair, side, signal.record_ids)
    engine = SyncEngine(
        signal.connection_id,
        cast(HubSpotPort, _CachedHubSpot(hubspot, Side.HUBSPOT, cache)),
        cast(QboPort, _CachedQbo(qbo, Side.QUICKBOOKS, cache)),
        store,
        hubspot.mappings,
    )
    signals = {i: live.get(i) or signal.single(i, Reason.BACKFILL) for i in signal.record_ids}
    # A pair that is off (or not set up) reads nothing, as the engine's own check says; echoes are not read.
    on = store.settings(pair).enabled
    wanted = [i for i, one in signals.items() if on and not engine.is_echo(one)]
    own: dict[str, Record | None] = {}
    if wanted:
        own = hubspot.get_many(pair, wanted) if side is Side.HUBSPOT else qbo.get_many(pair, wanted)
    for record_id in wanted:
        cache.records[(side, record_id)] = own.get(record_id)
    links = {i: store.link_of(pair, side, i) for i in wanted}
    # A QuickBooks echo of our own write is told by its read alone: neither its partner nor a match is looked for.
    linked = {
        i: link.other(side)
        for i, link in links.items()
        if link is not None and not ((mine := own.get(i)) is not None and engine.seen_as_is(signals[i], mine, link))
    }
    others = (
        qbo.get_many(pair, list(linked.values()))
        if side is Side.HUBSPOT
        else hubspot.get_many(pair, list(linked.values()))
    )
    for other_id, record in others.items():
        cache.records[(side.other, other_id)] = record
    unlinked = [r for i, r in own.items() if links.get(i) is None and r is not None and r.exists]
    found = qbo.find_many(pair, unlinked) if side is Side.HUBSPOT else hubspot.find_many(pair, unlinked)
    for record_id, matches in found.items():
        cache.matches[(side, record_id)] = matches
    single = {m.id: m for matches in found.values() if len(matches) == 1 for m in matches}
    if single:  # what each lone match matches back on this side, for the engine's check that it is the only one
        back = (hubspot if side is Side.HUBSPOT else qbo).find_many(pair, list(single.values()))
        for match_id, records in back.items():
            cache.matches[(side.other, match_id)] = records
    settings = store.settings(pair)
    created: set[str] = set()
    if settings.enabled and settings.direction.allows(side is Side.HUBSPOT):
        # A record with a sync error (one a merge left behind waits for a person), a person's decision or a
        # parent (synced first) is the engine's to judge, one by one.
        lonely = [
            r
            for r in unlinked
            if not found.get(r.id)
            and r.active
            and settings.admits(r)
            and store.failure(pair, side, r.id) is None
            and not has_parent(pair, r.values)
            and not (side is Side.HUBSPOT and nameless(pair, r.values))
            and (not settings.reviewed or store.decision(pair, side, r.id) is None)
        ]
        created, engine.unbatched = _create_in_bulk(signal, lonely, hubspot, qbo, store=store, cache=cache)
    store.prefetch(pair, side.other, [m.id for matches in cache.matches.values() for m in matches])
    if live and side is Side.HUBSPOT:  # what an earlier try of this pass created (its answer came, its links did not)
        created |= {r.id for r in unlinked if r.id not in created and _made_before(pair, r, store, cache)}
    if settings.enabled:
        # A live record that pairs with one found may have a create behind it whose link was never saved: the
        # engine reads its noted intent and keeps a person's later edits, which a bulk merge would not. What
        # this pass (or an earlier try of it) created, both records unchanged since, is written back in bulk.
        paired = [r for r in unlinked if r.id in created] if live else unlinked
        _write_back_in_bulk(pair, side, paired, hubspot=hubspot, store=store, cache=cache)
        _write_linked_in_bulk(pair, side, links, engine=engine, store=store, ports=(hubspot, qbo), cache=cache)
    engine.created_in_bulk = dict.fromkeys(created, "quickbooks" if side is Side.HUBSPOT else "hubspot")
    seen = {
        i: Seen(own.get(i), list(cache.matches.get((side, i), [])), others.get(linked[i]) if i in linked else None)
        for i in signal.record_ids
    }
    results = _each(engine, store, [signals[i] for i in signal.record_ids], seen, on_result)
    counts: Counter[str] = Counter()
    for record_id, result in results.items():
        outcome = result.outcome
        # A record whose counterpart this batch created counts as created even when a live signal for the new
        # record linked the two first.
        made = record_id in created and outcome not in (Outcome.FAILED, Outcome.SKIPPED, Outcome.UNLINKED)
        counts["created" if made else outcome.tally] += 1
        counts["done"] += 1
    return counts


def _each(
    engine: SyncEngine, store: _BatchStore, signals: list[SyncSignal], seen: dict[str, Seen], on_result: OnResult | None
) -> dict[str, Result]:
    """The engine's reconciliation of each record, in order, then the links saved together (a record whose link
    met another worker's is read afresh and reconciled again); `on_result` is then told each result. If the
    engine stops at a record, the results before it are kept and told (their links saved), and what stopped it
    is raised; a record whose link is not saved is never told."""
    results: dict[str, Result] = {}
    try:
        try:
            for one in signals:
                results[one.record_id] = _handle(engine, store, one)
            again = store.save_links()
            for one in signals:
                if one.record_id in again:
                    results[one.record_id] = _handle(engine, store, one)
        finally:
            store.save_links()  # what the engine left when it stopped
    finally:
        try:
            store.flush()
        finally:
            for record_id, result in results.items():
                if record_id not in store.unsettled and on_result is not None:
                    on_result(record_id, result, seen[record_id])
    return {i: result for i, result in results.items() if i not in store.unsettled}


def _handle(engine: SyncEngine, store: _BatchStore, signal: SyncSignal) -> Result:
    store.handling = signal.record_id
    result = engine.handle(signal)
    store.unsettled.discard(signal.record_id)
    return result


def _create_in_qbo_batches(
    signal: SyncSignal, lonely: list[Record], values: dict[str, dict[str, str]], qbo: QboAdapter, store: _BatchStore
) -> tuple[dict[str, Record], set[str]]:
    """Creates towards QuickBooks in batch calls of up to 30 that any later sync can replay: each record's batch
    and bId are noted before the call, a record noted in an earlier batch goes in that batch again (QuickBooks
    answers a repeated request id with its first answer), and one whose single create was noted is left to
    the engine, as are refusals. A batch of 30 or fewer is one call. In a larger one, the records past the last
    full call go in a call of their own only if its turn is worth waiting for (`take_batch_turn`); if not
    (other batches spend the batch calls), the engine creates each alone, on the larger budget of single calls.
    Answers what was created, and the records whose batch answered without them (its first arrival did not
    hold them: each is created alone, under its own request id)."""
    ids = sorted(r.id for r in lonely)  # numbered in id order: the same records make the same batches
    digest = hashlib.sha256(f"{signal.connection_id}|{signal.pair}|{signal.job_id}|{','.join(ids)}".encode())
    proposed = {
        i: (values[i], BatchCreate(f"hb-{digest.hexdigest()[:28]}-{n // QBO_BATCH}", bid_of(i)))
        for n, i in enumerate(ids)
    }
    full = len(ids) - len(ids) % QBO_BATCH if len(ids) > QBO_BATCH else len(ids)
    first = {i: proposed[i] for i in ids[:full]}
    made, absent = _call_batches(signal.pair, lonely, values, qbo, store.claim_creations(signal.pair, first))
    rest = {i: proposed[i] for i in ids[full:]}
    if rest and qbo.take_batch_turn(len(rest)):  # taken before the claims: no other pass takes it meanwhile
        claimed = store.claim_creations(signal.pair, rest)
        more, missing = _call_batches(signal.pair, lonely, values, qbo, claimed, turn_taken=True)
        made, absent = made | more, absent | missing
    return made, absent


def _call_batches(
    pair: Pair,
    lonely: list[Record],
    values: dict[str, dict[str, str]],
    qbo: QboAdapter,
    claimed: dict[str, BatchCreate],
    *,
    turn_taken: bool = False,
) -> tuple[dict[str, Record], set[str]]:
    """The batch calls of the claimed records (the first on a turn already taken, if `turn_taken`): answers what
    was created, and the records a call answered without."""
    batches: dict[str, list[Record]] = {}
    for record in lonely:
        if record.id in claimed:
            batches.setdefault(claimed[record.id].request_id, []).append(record)
    made: dict[str, Record] = {}
    replayed: dict[str, Record] = {}
    absent: set[str] = set()
    for batch_id, records in batches.items():
        started = time.time()
        creations = [
            (r, values[r.id], next(iter(spec(pair).new_names(r.values)), None), claimed[r.id].bid) for r in records
        ]
        answer = qbo.create_batch(pair, batch_id, creations, turn_taken=turn_taken)
        turn_taken = False
        absent |= {r.id for r in records if r.id not in answer}
        for source_id, created in answer.items():
            if isinstance(created, Record):  # a refusal is the engine's to handle
                (made if created.updated_at >= started - REPLAY_MARGIN else replayed)[source_id] = created
    if replayed:  # answers from an earlier call: the records they name may be gone since (one query for all)
        still = qbo.get_many(pair, [r.id for r in replayed.values()])
        made |= {i: now for i, r in replayed.items() if (now := still.get(r.id)) is not None and now.exists}
    return made, absent


def _made_before(pair: Pair, record: Record, store: _BatchStore, cache: _Prefetched) -> bool:
    """Whether a HubSpot record's lone match is the customer its own noted create made, both unchanged since."""
    matches = cache.matches.get((Side.HUBSPOT, record.id), [])
    return len(matches) == 1 and made_by_our_create(store, pair, record, matches[0])


def _rivalled(pair: Pair, record: Record, match: Record, store: _BatchStore, cache: _Prefetched) -> bool:
    """Whether the record's lone match matches other free records on the record's side too."""
    back = cache.matches.get((match.side, match.id), [])
    return any(r.id != record.id and store.link_of(pair, r.side, r.id) is None for r in back)


def _engine_writes(plan: MergePlan) -> bool:
    """A plan the engine writes alone: one that gives a record another parent (its parent synced first), or
    writes a company's person in HubSpot (a contact, through its own API)."""
    person = any(person_property(key) is not None for key in plan.to_hubspot)
    return person or PARENT in plan.to_hubspot or PARENT in plan.to_qbo


def _write_back_in_bulk(
    pair: Pair, side: Side, unlinked: list[Record], *, hubspot: HubSpotAdapter, store: _BatchStore, cache: _Prefetched
) -> None:
    """What newly paired records need on the HubSpot side (QuickBooks ids, balances, values HubSpot lacks),
    written in batch updates of 100 instead of one PATCH each; the engine then finds HubSpot in step."""
    settings = store.settings(pair)
    records: dict[str, Record] = {}
    writes: dict[str, dict[str, str]] = {}
    for record in unlinked:
        candidates = [m for m in cache.matches.get((side, record.id), []) if store.link_of(pair, m.side, m.id) is None]
        if len(candidates) != 1 or _rivalled(pair, record, candidates[0], store, cache) or not settings.admits(record):
            continue  # ambiguous or filtered: the engine says why, record by record
        hs, qbo = (record, candidates[0]) if side is Side.HUBSPOT else (candidates[0], record)
        plan = merge(hubspot.mappings[pair], None, hs, qbo, policy=settings.policy, pair_direction=settings.direction)
        if plan.to_hubspot and not _engine_writes(plan):
            records[hs.id], writes[hs.id] = hs, plan.to_hubspot
    for record_id, updated in hubspot.update_many(pair, records, writes).items():
        if side is Side.HUBSPOT:
            cache.records[(Side.HUBSPOT, record_id)] = updated
        else:
            for key, matches in cache.matches.items():
                cache.matches[key] = [updated if m.id == record_id else m for m in matches]


def _write_linked_in_bulk(
    pair: Pair,
    side: Side,
    links: dict[str, Link | None],
    *,
    engine: SyncEngine,
    store: _BatchStore,
    ports: tuple[HubSpotAdapter, QboAdapter],
    cache: _Prefetched,
) -> None:
    """Linked records whose agreement writes one side alone, written ahead of the engine in batch calls, their
    writes' intents noted together first; the engine then finds each write made. HubSpot: updates of 100, the records
    read back with their history in batch reads, so that the engine checks each for a person's edit as it
    checks its own. QuickBooks: updates of 30, each call made if its batch turn is worth waiting for, else its
    records go one by one on the larger budget of single calls (two records at least: one is as cheap alone)."""
    hubspot, qbo = ports
    settings = store.settings(pair)
    planned: dict[Side, list[tuple[Link, MergePlan, Record, Record]]] = {Side.HUBSPOT: [], Side.QUICKBOOKS: []}
    for record_id, link in links.items():
        own = cache.records.get((side, record_id))
        other = cache.records.get((side.other, link.other(side))) if link is not None else None
        if link is None or own is None or other is None:
            continue
        hs, qb = (own, other) if side is Side.HUBSPOT else (other, own)
        if (plan := engine.one_sided(pair, hs, qb, link, settings)) is not None and not _engine_writes(plan):
            planned[Side.HUBSPOT if plan.to_hubspot else Side.QUICKBOOKS].append((link, plan, hs, qb))
    if len(planned[Side.QUICKBOOKS]) < 2:
        planned[Side.QUICKBOOKS] = []
    store.save_intents(
        [intent_of(link, plan, qb) for link, plan, _, qb in (*planned[Side.QUICKBOOKS], *planned[Side.HUBSPOT])]
    )
    to_qbo = {qb.id: (qb, plan.to_qbo) for _, plan, _, qb in planned[Side.QUICKBOOKS]}
    for record_id, record in (qbo.update_many(pair, to_qbo) if to_qbo else {}).items():
        cache.written[(Side.QUICKBOOKS, record_id)] = (to_qbo[record_id][1], to_qbo[record_id][0].version, record)
    to_hubspot = {hs.id: (hs, plan.to_hubspot) for _, plan, hs, _ in planned[Side.HUBSPOT]}
    try:
        answered = hubspot.update_many(
            pair, {i: record for i, (record, _) in to_hubspot.items()}, {i: v for i, (_, v) in to_hubspot.items()}
        )
    except ValidationFaultError:  # one value HubSpot refuses fails the batch: the engine writes each, and says which
        return
    for record_id, record in answered.items():
        cache.written[(Side.HUBSPOT, record_id)] = (to_hubspot[record_id][1], to_hubspot[record_id][0].version, record)
    checked = [i for i in answered if engine.contestable(pair, to_hubspot[i][1], settings)]
    if checked:
        fields = sorted({name for i in checked for name in to_hubspot[i][1]})
        cache.histories.update(hubspot.histories_of(pair, checked, fields))


def _create_in_bulk(
    signal: SyncSignal,
    lonely: list[Record],
    hubspot: HubSpotAdapter,
    qbo: QboAdapter,
    *,
    store: _BatchStore,
    cache: _Prefetched,
) -> tuple[set[str], set[str]]:
    """Create the other side of records nothing matched, in batches (QBO 30, HubSpot 100 a call); the engine
    then links each to what was created. Answers the ids created for, and those whose QuickBooks batch
    answered without them; refusals are left to the engine."""
    if not lonely:
        return set(), set()
    towards_qbo = signal.side is Side.HUBSPOT
    mappings = hubspot.mappings[signal.pair]
    values = {
        r.id: {m.hubspot: r.values.get(m.hubspot, "") for m in mappings if m.direction.allows(towards_qbo)}
        for r in lonely
    }
    unbatched: set[str] = set()
    if towards_qbo:
        made, unbatched = _create_in_qbo_batches(signal, lonely, values, qbo, store)
    else:
        made = hubspot.create_many(signal.pair, [(r.id, values[r.id]) for r in lonely])
        for qbo_id, created in made.items():
            note_made_in_hubspot(store, signal.pair, created.id, qbo_id, values[qbo_id])
    for source_id, record in made.items():
        cache.matches[(signal.side, source_id)] = [record]
    return set(made), unbatched
