"""Who handles a signal: one routing table, by pair, side and whether the signal is a batch.

The worker asks `dispatch(signal, services)`; the services are built elsewhere (the composition root), so
this module only decides.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from hubbooks.mapping.pairs import SPECS
from hubbooks.models.signals import Change, Pair, Reason, Side, SyncSignal, records_of
from hubbooks.sync.engine import Outcome, Result


class SignalHandler(Protocol):
    def handle(self, signal: SyncSignal) -> Result: ...


class BillingHandler(Protocol):
    def invoice(self, signal: SyncSignal) -> Result: ...

    def hubspot_invoice(self, signal: SyncSignal) -> Result: ...

    def payment(self, signal: SyncSignal) -> Result: ...

    def deal(self, signal: SyncSignal) -> Result: ...

    def estimate(self, signal: SyncSignal) -> Result: ...


class Services(Protocol):
    """What the routes need, for one connection; None when the connection is gone or paused."""

    def engine(self, connection_id: str) -> SignalHandler | None: ...

    def billing(self, connection_id: str) -> BillingHandler | None: ...

    def record_batch(self, signal: SyncSignal) -> Counter[str] | None: ...

    def live_batch(self, signals: list[SyncSignal], on_result: Callable[[SyncSignal, Result], None]) -> None:
        """Reconcile live signals of one connection, pair and side together (bulk reads and writes), telling
        `on_result` each record's result as it is known; nothing when the connection is gone or paused."""
        ...

    def add_progress(self, signal: SyncSignal, counts: Counter[str]) -> None: ...

    def preview(self, signal: SyncSignal) -> Counter[str] | None:
        """Plan a pair's preview (a signal without records) or run one batch of it dry; answers its counts."""
        ...


@dataclass
class Handled:
    """What became of one signal: a record's result, or a batch's counts."""

    result: Result
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def is_batch(self) -> bool:
        return bool(self.counts)


GONE = Result(Outcome.SKIPPED, "the connection is gone or paused")
NO_JOB = Result(Outcome.SKIPPED, "a batch that belongs to no job")
RecordRoute = Callable[[SyncSignal, Services], Result]
BatchRoute = Callable[[SyncSignal, Services], Counter[str] | None]


def _engine(signal: SyncSignal, services: Services) -> Result:
    engine = services.engine(signal.connection_id)
    return GONE if engine is None else engine.handle(signal)


def _billing(method: Callable[[BillingHandler, SyncSignal], Result]) -> RecordRoute:
    def route(signal: SyncSignal, services: Services) -> Result:
        billing = services.billing(signal.connection_id)
        return GONE if billing is None else method(billing, signal)

    return route


def _one_by_one(signal: SyncSignal, services: Services) -> Counter[str] | None:
    """A batch of a pair without bulk reads and writes: each record through its own route."""
    route = RECORDS[(signal.pair, signal.side)]
    counts: Counter[str] = Counter()
    for record_id in signal.record_ids:
        result = route(signal.single(record_id, Reason.BACKFILL), services)
        if result is GONE:
            return None
        counts[result.outcome.tally] += 1
        counts["done"] += 1
    return counts


def _in_bulk(signal: SyncSignal, services: Services) -> Counter[str] | None:
    return services.record_batch(signal)


TWO_WAY = [(pair, side) for pair in SPECS for side in Side]
RECORDS: dict[tuple[Pair, Side], RecordRoute] = {
    **dict.fromkeys(TWO_WAY, _engine),
    (Pair.INVOICES, Side.QUICKBOOKS): _billing(lambda billing, signal: billing.invoice(signal)),
    (Pair.INVOICES, Side.HUBSPOT): _billing(lambda billing, signal: billing.hubspot_invoice(signal)),
    (Pair.PAYMENTS, Side.QUICKBOOKS): _billing(lambda billing, signal: billing.payment(signal)),
    (Pair.DEALS, Side.HUBSPOT): _billing(lambda billing, signal: billing.deal(signal)),
    (Pair.ESTIMATES, Side.QUICKBOOKS): _billing(lambda billing, signal: billing.estimate(signal)),
}
BATCHES: dict[tuple[Pair, Side], BatchRoute] = {
    **dict.fromkeys(TWO_WAY, _in_bulk),
    (Pair.INVOICES, Side.QUICKBOOKS): _one_by_one,
    (Pair.INVOICES, Side.HUBSPOT): _one_by_one,
    (Pair.PAYMENTS, Side.QUICKBOOKS): _one_by_one,
    (Pair.ESTIMATES, Side.QUICKBOOKS): _one_by_one,
}


def _bulk_key(signal: SyncSignal) -> tuple[str, Pair, Side] | None:
    """Where a live signal (or a batch message of live changes) can meet others in one bulk pass (None: alone)."""
    alone = signal.job_id is not None or signal.change is not Change.UPSERT or signal.reason is Reason.PREVIEW
    return (
        None if alone or (signal.pair, signal.side) not in TWO_WAY else (signal.connection_id, signal.pair, signal.side)
    )


def _newer(one: SyncSignal, current: SyncSignal) -> bool:
    """Whether a record's signal says more than the one kept: a later change, or one without a version (always
    read) over one that may be told an echo and not read."""
    return bool(current.source_version) and (not one.source_version or one.source_version > current.source_version)


def together(signals: list[SyncSignal]) -> list[list[SyncSignal]]:
    """Live signals that can be reconciled in one bulk pass: of one connection, pair and side, one per record
    (the latest change of each), two or more. A record with any other signal in the delivery (a delete, a
    merge) goes alone, so its signals keep their order."""
    alone = {(s.connection_id, s.pair, s.side, s.record_id) for s in signals if _bulk_key(s) is None}
    groups: dict[tuple[str, Pair, Side], dict[str, SyncSignal]] = {}
    for signal in signals:
        key = _bulk_key(signal)
        if key is None:
            continue
        group = groups.setdefault(key, {})
        for one in records_of(signal):
            current = group.get(one.record_id)
            if (*key, one.record_id) not in alone and (current is None or _newer(one, current)):
                group[one.record_id] = one
    return [list(group.values()) for group in groups.values() if len(group) > 1]


def dispatch(signal: SyncSignal, services: Services) -> Handled:
    key = (signal.pair, signal.side)
    if signal.reason is Reason.PREVIEW:
        counts = services.preview(signal)
        if counts is None:
            return Handled(GONE, Counter(skipped=len(signal.record_ids)))
        return Handled(Result(Outcome.UNCHANGED, f"{counts['done']} records previewed"), counts)
    if not signal.record_ids:
        record = RECORDS.get(key)
        if record is None:
            return Handled(Result(Outcome.SKIPPED, f"{signal.pair} changes on the {signal.side} side are not synced"))
        return Handled(record(signal, services))
    batch = BATCHES.get(key)
    if batch is None or (signal.job_id is None and key not in TWO_WAY):
        return Handled(NO_JOB, Counter(skipped=len(signal.record_ids)))
    counts = batch(signal, services)  # a job's batch, or live changes of records not linked yet
    if counts is None:
        return Handled(GONE, Counter(skipped=len(signal.record_ids)))
    if signal.job_id is not None:
        services.add_progress(signal, counts)
    return Handled(Result(Outcome.UPDATED, f"{counts['done']} records"), counts)
