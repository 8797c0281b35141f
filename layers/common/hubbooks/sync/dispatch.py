"""Who handles a signal: one routing table, by the pair's family and whether the signal is a batch.

The worker asks `dispatch(signal, services)`; the services are built elsewhere (the composition root), so
this module only decides.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from hubbooks.models.signals import Pair, Reason, SyncSignal
from hubbooks.sync.engine import Outcome, Result

BILLING_PAIRS = (Pair.INVOICES, Pair.PAYMENTS, Pair.DEALS)


class SignalHandler(Protocol):
    def handle(self, signal: SyncSignal) -> Result: ...


class Services(Protocol):
    """What the routes need, for one connection; None when the connection is gone or paused."""

    def engine(self, connection_id: str) -> SignalHandler | None: ...

    def billing(self, connection_id: str) -> SignalHandler | None: ...

    def record_batch(self, signal: SyncSignal) -> Counter[str] | None: ...

    def add_progress(self, signal: SyncSignal, counts: Counter[str]) -> None: ...


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
Route = Callable[[SyncSignal, Services], Handled]


def _record(service: SignalHandler | None, signal: SyncSignal) -> Handled:
    return Handled(GONE if service is None else service.handle(signal))


def _contacts_or_products(signal: SyncSignal, services: Services) -> Handled:
    return _record(services.engine(signal.connection_id), signal)


def _billing(signal: SyncSignal, services: Services) -> Handled:
    return _record(services.billing(signal.connection_id), signal)


def _batch_of(counts: Counter[str] | None, signal: SyncSignal, services: Services) -> Handled:
    if counts is None:
        return Handled(GONE, Counter(skipped=len(signal.record_ids)))
    services.add_progress(signal, counts)
    return Handled(Result(Outcome.UPDATED, f"{counts['done']} records"), counts)


def _records_batch(signal: SyncSignal, services: Services) -> Handled:
    return _batch_of(services.record_batch(signal), signal, services)


def _billing_batch(signal: SyncSignal, services: Services) -> Handled:
    """Invoices and payments of an initial sync, one by one through the mirrors."""
    service = services.billing(signal.connection_id)
    if service is None:
        return _batch_of(None, signal, services)
    counts: Counter[str] = Counter()
    for record_id in signal.record_ids:
        counts[service.handle(signal.single(record_id, Reason.BACKFILL)).outcome.tally] += 1
        counts["done"] += 1
    return _batch_of(counts, signal, services)


ROUTES: dict[tuple[bool, bool], Route] = {
    # (billing pair?, batch?) -> route
    (False, False): _contacts_or_products,
    (True, False): _billing,
    (False, True): _records_batch,
    (True, True): _billing_batch,
}


def route_of(signal: SyncSignal) -> Route:
    return ROUTES[(signal.pair in BILLING_PAIRS, bool(signal.record_ids))]


def dispatch(signal: SyncSignal, services: Services) -> Handled:
    if signal.record_ids and signal.job_id is None:
        return Handled(NO_JOB, Counter(skipped=len(signal.record_ids)))
    return route_of(signal)(signal, services)
