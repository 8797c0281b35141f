"""In-memory HubSpot, QuickBooks and store for the engine's unit tests (the engine is pure; these are its
ports' smallest faithful implementations: unique names, SyncTokens, links with versions)."""

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, cast

from hubbooks.errors import ValidationFaultError
from hubbooks.mapping.pairs import spec
from hubbooks.models.signals import Pair, Side
from hubbooks.sync.models import (
    BatchCreate,
    Conflicts,
    Decision,
    Link,
    Noted,
    PairSettings,
    Record,
    SyncFailure,
    ours_noted,
)
from hubbooks.sync.ports import DuplicateNameError, LinkConflictError, StaleObjectError

_ids = itertools.count(1000)


def _matching(pair: Pair, candidates: list[Record], values: dict[str, str]) -> list[Record]:
    """What the pair's first match key with a value finds, as the adapters search."""
    for key in spec(pair).match_keys:
        if wanted := values.get(key.field, ""):
            found = [r for r in candidates if r.values.get(key.field) == wanted]
            if found:
                return found
    return []


@dataclass
class FakeHubSpot:
    records: dict[str, Record] = field(default_factory=dict)
    writes: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    clock: list[float] = field(default_factory=lambda: [1000.0])
    lists: dict[str, set[str]] = field(default_factory=dict)  # list id -> record ids
    sets: list[tuple[str, str, str, float, bool]] = field(default_factory=list)  # id, field, value, at, ours
    during_next_write: Callable[[], None] | None = None  # what a person does while our write is on its way

    def add(self, **values: str) -> Record:
        record = Record(Side.HUBSPOT, str(next(_ids)), dict(values), self.clock[0])
        self.records[record.id] = record
        return record

    def get(self, pair: Pair, record_id: str) -> Record | None:
        record = self.records.get(record_id)
        return None if record is None else Record(**{**vars(record), "values": dict(record.values)})

    def find(self, pair: Pair, qbo: Record) -> list[Record]:
        return _matching(pair, [r for r in self.records.values() if r.exists], qbo.values)

    def create(self, pair: Pair, values: dict[str, str], qbo_id: str) -> Record:
        existing = [r for r in self.records.values() if r.values.get("qbo_customer_id") == qbo_id]
        if existing:
            return existing[0]
        return self.add(**({k: v for k, v in values.items() if v} | {"qbo_customer_id": qbo_id}))

    def update(self, pair: Pair, record_id: str, values: dict[str, str]) -> Record:
        if self.during_next_write is not None:
            person, self.during_next_write = self.during_next_write, None
            person()
        self.writes.append((record_id, dict(values)))
        return self._set(record_id, values, ours=True)

    def merge(self, survivor_id: str, merged_id: str) -> None:
        """A person's merge: the survivor takes the merged record's values for its empty fields; the merged id
        answers as merged away."""
        survivor, merged = self.records[survivor_id], self.records[merged_id]
        self._set(survivor_id, {k: v for k, v in merged.values.items() if v and not survivor.values.get(k)}, ours=False)
        merged.exists, merged.merged_into = False, survivor_id

    def edit(self, record_id: str, **values: str) -> None:
        """A person's edit in HubSpot."""
        self._set(record_id, values, ours=False)

    def _set(self, record_id: str, values: dict[str, str], *, ours: bool) -> Record:
        self.clock[0] += 1
        record = self.records[record_id]
        record.values.update(values)
        record.updated_at = self.clock[0]
        self.sets += [(record_id, key, value, self.clock[0], ours) for key, value in values.items()]
        return record

    def changed_at(self, pair: Pair, record_id: str, fields: list[str], *, as_of: float) -> dict[str, float]:
        return {
            key: at for rid, key, _value, at, _ours in self.sets if rid == record_id and key in fields and at <= as_of
        }

    def restore_overwritten(
        self, pair: Pair, record_id: str, written: dict[str, str], since: float, until: float
    ) -> list[str]:
        lost = {}
        for key in written:
            sets = [(at, value, ours) for rid, k, value, at, ours in self.sets if (rid, k) == (record_id, key)]
            theirs = [value for at, value, ours in sets if not ours and since < at <= until]
            if sets and sets[-1][2] and theirs and theirs[-1] != sets[-1][1]:
                lost[key] = theirs[-1]
        if lost:
            self._set(record_id, lost, ours=True)
        return sorted(lost)

    def archive(self, pair: Pair, record_id: str) -> None:
        self.records[record_id].exists = False

    def lists_of(self, pair: Pair, record_id: str, wanted: tuple[str, ...]) -> frozenset[str]:
        return frozenset(list_id for list_id in wanted if record_id in self.lists.get(list_id, set()))

    def companies_of_person(self, contact_id: str) -> list[str]:
        return []  # no business customers here: the integration suite has them, people and all


@dataclass
class FakeQbo:
    records: dict[str, Record] = field(default_factory=dict)
    writes: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    requests: dict[str, Record] = field(default_factory=dict)
    taken_names: set[str] = field(default_factory=set)
    batches: dict[str, dict[str, Record]] = field(default_factory=dict)  # a batch's first answer, by bId
    batch_calls: list[str] = field(default_factory=list)
    stale_once: bool = False
    clock: list[float] = field(default_factory=lambda: [1000.0])

    def add(self, **values: str) -> Record:
        record_id = str(next(_ids))
        record = Record(
            Side.QUICKBOOKS,
            record_id,
            {**values, "qbo_customer_id": record_id, "qbo_active": "true"},
            self.clock[0],
            version="0",
        )
        self.records[record_id] = record
        return record

    def get(self, pair: Pair, record_id: str) -> Record | None:
        record = self.records.get(record_id)
        return None if record is None else Record(**{**vars(record), "values": dict(record.values)})

    def find(self, pair: Pair, hubspot: Record) -> list[Record]:
        return _matching(pair, [r for r in self.records.values() if r.active], hubspot.values)

    def create(
        self, pair: Pair, source: Record, values: dict[str, str], request_id: str, display_name: str | None
    ) -> Record:
        if request_id in self.requests:
            return self.requests[request_id]
        if display_name in self.taken_names:
            raise DuplicateNameError(display_name)
        if values.get("email") == "bad":
            raise ValidationFaultError(
                "quickbooks",
                400,
                "6000",
                "Business Validation Error",
                detail="Email Address must be a valid email address",
            )
        record = self.add(**{k: v for k, v in values.items() if v})
        record.raw = {"DisplayName": display_name}
        self.taken_names.add(display_name or "")
        self.requests[request_id] = record
        return record

    def create_batch(
        self, pair: Pair, request_id: str, creations: list[tuple[Record, dict[str, str], str | None, str]]
    ) -> dict[str, Record | ValidationFaultError]:
        """A batch of creates; a repeated request id answers the first answer (whatever the repeat holds)."""
        self.batch_calls.append(request_id)
        if request_id not in self.batches:
            self.batches[request_id] = {
                bid: self.create(pair, source, values, f"{request_id}/{bid}", name)
                for source, values, name, bid in creations
            }
        answer = self.batches[request_id]
        return {source.id: answer[bid] for source, _, _, bid in creations if bid in answer}

    def replay_create(
        self, pair: Pair, source: Record, values: dict[str, str], display_name: str | None, batch: BatchCreate
    ) -> Record | None:
        answer = self.create_batch(pair, batch.request_id, [(source, values, display_name, batch.bid)])
        return cast(Record | None, answer.get(source.id))

    def update(self, pair: Pair, current: Record, values: dict[str, str]) -> Record:
        record = self.records[current.id]
        if self.stale_once or current.version != record.version:
            self.stale_once = False
            raise StaleObjectError(current.id)
        self.clock[0] += 1
        record.values.update(values)
        record.version = str(int(record.version) + 1)
        record.updated_at = self.clock[0]
        self.writes.append((current.id, dict(values)))
        return record

    def deactivate(self, pair: Pair, current: Record) -> Record:
        record = self.records[current.id]
        record.active = False
        record.values["qbo_active"] = "false"
        record.version = str(int(record.version) + 1)  # every change of a QuickBooks record takes a new SyncToken
        return record

    def edit(self, record_id: str, **values: str) -> None:
        """A person's edit in QuickBooks: new values, a new SyncToken, a later time."""
        record = self.records[record_id]
        self.clock[0] += 1
        record.values.update(values)
        record.version = str(int(record.version) + 1)
        record.updated_at = self.clock[0]


@dataclass
class FakeStore:
    pair_settings: dict[Pair, PairSettings] = field(default_factory=dict)
    links: dict[tuple[Pair, Side, str], Link] = field(default_factory=dict)
    failures: dict[tuple[Pair, Side, str], SyncFailure] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    intents: dict[tuple[Pair, str, str], dict[str, Any]] = field(default_factory=dict)
    decisions: dict[tuple[Pair, Side, str], Decision] = field(default_factory=dict)
    excluded: dict[tuple[Pair, Side, str], str] = field(default_factory=dict)

    def settings(self, pair: Pair) -> PairSettings:
        return self.pair_settings.get(pair, PairSettings(pair))

    def link_of(self, pair: Pair, side: Side, record_id: str) -> Link | None:
        link = self.links.get((pair, side, record_id))
        return None if link is None else replace(link, base=dict(link.base), seen=dict(link.seen))

    def save_link(self, link: Link, previous: Link | None) -> Link:
        """Both items, each only if it is still as `previous` was read (absent, for a new link)."""
        for key in ((link.pair, Side.HUBSPOT, link.hubspot_id), (link.pair, Side.QUICKBOOKS, link.qbo_id)):
            current = self.links.get(key)
            if (current.version if current else None) != (previous.version if previous else None):
                raise LinkConflictError(link.hubspot_id)
        version = (previous.version if previous else 0) + 1
        saved = Link(link.pair, link.hubspot_id, link.qbo_id, dict(link.base), version, dict(link.seen))
        self.links[(link.pair, Side.HUBSPOT, link.hubspot_id)] = saved
        self.links[(link.pair, Side.QUICKBOOKS, link.qbo_id)] = saved
        return saved

    def decision(self, pair: Pair, side: Side, record_id: str) -> Decision | None:
        return self.decisions.get((pair, side, record_id))

    def record_exclusion(self, pair: Pair, side: Side, record_id: str, reason: str, name: str) -> None:
        self.excluded[(pair, side, record_id)] = reason

    def save_intent(
        self, link: Link, writes: dict[str, dict[str, str]], qbo_token: str, conflicts: Conflicts = ()
    ) -> None:
        for side, values in writes.items():
            if values:
                note = {"values": values, "version": link.version, "qbo_id": link.qbo_id, "token": qbo_token}
                self.intents[(link.pair, link.hubspot_id, side)] = note | {"conflicts": [dict(c) for c in conflicts]}

    def noted(self, link: Link, qbo_token: str) -> Noted:
        notes = {side: self.intents.get((link.pair, link.hubspot_id, side)) for side in (Side.HUBSPOT, Side.QUICKBOOKS)}
        return ours_noted({side.value: note for side, note in notes.items()}, link, qbo_token)

    def note_creation(self, pair: Pair, hubspot_id: str, values: dict[str, str]) -> BatchCreate | None:
        noted = self.intents.get((pair, hubspot_id, Side.QUICKBOOKS.value))
        if noted is not None and noted.get("batch") is not None:
            return cast(BatchCreate, noted["batch"])
        self.intents[(pair, hubspot_id, Side.QUICKBOOKS.value)] = {
            "values": values,
            "version": 0,
            "qbo_id": "",
            "token": "0",
        }
        return None

    def claim_creations(
        self, pair: Pair, creations: dict[str, tuple[dict[str, str], BatchCreate]]
    ) -> dict[str, BatchCreate]:
        claimed: dict[str, BatchCreate] = {}
        for hubspot_id, (values, batch) in creations.items():
            key = (pair, hubspot_id, Side.QUICKBOOKS.value)
            noted = self.intents.get(key)
            if noted is None or (noted.get("batch") and noted["batch"].request_id == batch.request_id):
                self.intents[key] = {"values": values, "version": 0, "qbo_id": "", "token": "0", "batch": batch}
                claimed[hubspot_id] = batch
            elif noted.get("batch"):
                claimed[hubspot_id] = noted["batch"]
        return claimed

    def intent(self, link: Link, qbo_token: str) -> dict[str, dict[str, str]]:
        return self.noted(link, qbo_token).writes

    def delete_link(self, link: Link) -> None:
        keys = ((link.pair, Side.HUBSPOT, link.hubspot_id), (link.pair, Side.QUICKBOOKS, link.qbo_id))
        for key in keys:
            current = self.links.get(key)
            if current is None or (current.hubspot_id, current.qbo_id, current.version) != (
                link.hubspot_id,
                link.qbo_id,
                link.version,
            ):
                raise LinkConflictError(link.hubspot_id)
        for key in keys:
            del self.links[key]

    def record_failure(self, pair: Pair, side: Side, record_id: str, failure: SyncFailure) -> None:
        self.failures[(pair, side, record_id)] = failure

    def failure(self, pair: Pair, side: Side, record_id: str) -> SyncFailure | None:
        return self.failures.get((pair, side, record_id))

    def clear_failure(self, pair: Pair, side: Side, record_id: str) -> None:
        self.failures.pop((pair, side, record_id), None)

    def add_history(self, entry: dict[str, Any]) -> None:
        self.history.append(entry)
