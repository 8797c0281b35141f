"""A batch of records of one side (initial sync): read and match in bulk, then reconcile each record with
the engine against ports that answer from what the bulk reads fetched."""

import hashlib
from collections import Counter
from dataclasses import dataclass, field

from hubbooks.models.signals import Pair, Reason, Side, SyncSignal
from hubbooks.sync.adapters import HubSpotAdapter, QboAdapter
from hubbooks.sync.engine import Outcome, SyncEngine, display_names
from hubbooks.sync.models import Record
from hubbooks.sync.ports import StorePort

OUTCOME_COUNTER = {
    Outcome.CREATED: "created",
    Outcome.UPDATED: "updated",
    Outcome.LINKED: "linked",
    Outcome.UNCHANGED: "unchanged",
    Outcome.FAILED: "failed",
    Outcome.SKIPPED: "skipped",
    Outcome.UNLINKED: "skipped",
}


@dataclass
class _Prefetched:
    records: dict[tuple[Side, str], Record | None] = field(default_factory=dict)
    matches: dict[tuple[Side, str], list[Record]] = field(default_factory=dict)


class _CachedHubSpot:
    def __init__(self, inner: HubSpotAdapter, cache: _Prefetched) -> None:
        self._inner, self._cache = inner, cache

    def get(self, pair: Pair, record_id: str) -> Record | None:
        key = (Side.HUBSPOT, record_id)
        return self._cache.records.pop(key) if key in self._cache.records else self._inner.get(pair, record_id)

    def find(self, pair: Pair, qbo: Record) -> list[Record]:
        key = (Side.QUICKBOOKS, qbo.id)
        return self._cache.matches.pop(key) if key in self._cache.matches else self._inner.find(pair, qbo)

    def create(self, pair: Pair, values: dict[str, str], qbo_id: str) -> Record:
        return self._inner.create(pair, values, qbo_id)

    def update(self, pair: Pair, record_id: str, values: dict[str, str]) -> Record:
        return self._inner.update(pair, record_id, values)

    def archive(self, pair: Pair, record_id: str) -> None:
        self._inner.archive(pair, record_id)


class _CachedQbo:
    def __init__(self, inner: QboAdapter, cache: _Prefetched) -> None:
        self._inner, self._cache = inner, cache

    def get(self, pair: Pair, record_id: str) -> Record | None:
        key = (Side.QUICKBOOKS, record_id)
        return self._cache.records.pop(key) if key in self._cache.records else self._inner.get(pair, record_id)

    def find(self, pair: Pair, hubspot: Record) -> list[Record]:
        key = (Side.HUBSPOT, hubspot.id)
        return self._cache.matches.pop(key) if key in self._cache.matches else self._inner.find(pair, hubspot)

    def create(
        self, pair: Pair, source: Record, values: dict[str, str], request_id: str, display_name: str | None
    ) -> Record:
        return self._inner.create(pair, source, values, request_id, display_name)

    def update(self, pair: Pair, current: Record, values: dict[str, str]) -> Record:
        return self._inner.update(pair, current, values)

    def deactivate(self, pair: Pair, current: Record) -> Record:
        return self._inner.deactivate(pair, current)


def run_batch(signal: SyncSignal, hubspot: HubSpotAdapter, qbo: QboAdapter, store: StorePort) -> Counter[str]:
    """Reconcile every record of the batch; answers how many ended each way (and `done`)."""
    pair, side = signal.pair, signal.side
    cache = _Prefetched()
    own = hubspot.get_many(pair, signal.record_ids) if side is Side.HUBSPOT else qbo.get_many(pair, signal.record_ids)
    for record_id in signal.record_ids:
        cache.records[(side, record_id)] = own.get(record_id)
    links = {i: store.link_of(pair, side, i) for i in signal.record_ids}
    linked = {i: link.other(side) for i, link in links.items() if link is not None}
    others = (
        qbo.get_many(pair, list(linked.values()))
        if side is Side.HUBSPOT
        else hubspot.get_many(pair, list(linked.values()))
    )
    for other_id, record in others.items():
        cache.records[(side.other, other_id)] = record
    unlinked = [r for i, r in own.items() if i not in linked and r is not None and r.exists]
    found = qbo.find_many(pair, unlinked) if side is Side.HUBSPOT else hubspot.find_many(pair, unlinked)
    for record_id, matches in found.items():
        cache.matches[(side, record_id)] = matches
    settings = store.settings(pair)
    created: set[str] = set()
    if settings.enabled and settings.direction.allows(side is Side.HUBSPOT):
        lonely = [r for r in unlinked if not found.get(r.id) and r.active and settings.admits(r)]
        created = _create_in_bulk(signal, lonely, hubspot, qbo, cache)
    engine = SyncEngine(
        signal.connection_id,
        _CachedHubSpot(hubspot, cache),
        _CachedQbo(qbo, cache),
        store,
        hubspot.mappings,
        created_in_bulk=dict.fromkeys(created, "quickbooks" if side is Side.HUBSPOT else "hubspot"),
    )
    counts: Counter[str] = Counter()
    for record_id in signal.record_ids:
        single = SyncSignal(
            connection_id=signal.connection_id,
            pair=pair,
            side=side,
            record_id=record_id,
            reason=Reason.BACKFILL,
            source_version=signal.source_version,
        )
        outcome = engine.handle(single).outcome
        counts[OUTCOME_COUNTER[outcome]] += 1
        counts["done"] += 1
    return counts


def _create_in_bulk(
    signal: SyncSignal, lonely: list[Record], hubspot: HubSpotAdapter, qbo: QboAdapter, cache: _Prefetched
) -> set[str]:
    """Create the other side of records nothing matched, in batches (QBO 30, HubSpot 100 a call); the engine
    then links each to what was created. Answers the ids created for; refusals are left to the engine."""
    if not lonely:
        return set()
    towards_qbo = signal.side is Side.HUBSPOT
    mappings = hubspot.mappings[signal.pair]
    values = {
        r.id: {m.hubspot: r.values.get(m.hubspot, "") for m in mappings if m.direction.allows(towards_qbo)}
        for r in lonely
    }
    if towards_qbo:
        digest = hashlib.sha256(f"{signal.connection_id}|{signal.job_id}|{','.join(values)}".encode()).hexdigest()
        names: dict[str, str | None] = {
            r.id: next(iter(display_names(r.values)), None) if signal.pair is Pair.CONTACTS else None for r in lonely
        }
        made = qbo.create_many(signal.pair, [(r, values[r.id], names[r.id]) for r in lonely], digest[:30])
    else:
        made = hubspot.create_many(signal.pair, [(r.id, values[r.id]) for r in lonely])
    for source_id, record in made.items():
        cache.matches[(signal.side, source_id)] = [record]
    return set(made)
