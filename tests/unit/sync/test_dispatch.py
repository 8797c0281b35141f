"""The routing table: each kind of signal reaches the one service meant for it, and batches count exactly."""

from collections import Counter
from dataclasses import dataclass, field

import pytest

from hubbooks.models.signals import Change, Pair, Reason, Side, SyncSignal
from hubbooks.sync.dispatch import dispatch, together
from hubbooks.sync.engine import Outcome, Result


@dataclass
class _Recording:
    """A service that answers a fixed outcome per record id and remembers what it was asked."""

    name: str
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    seen: list[SyncSignal] = field(default_factory=list)

    def handle(self, signal: SyncSignal) -> Result:
        self.seen.append(signal)
        return Result(self.outcomes.get(signal.record_id, Outcome.UPDATED), self.name)

    def invoice(self, signal: SyncSignal) -> Result:
        return self.handle(signal)

    def hubspot_invoice(self, signal: SyncSignal) -> Result:
        return self.handle(signal)

    def payment(self, signal: SyncSignal) -> Result:
        return self.handle(signal)

    def deal(self, signal: SyncSignal) -> Result:
        return self.handle(signal)


@dataclass
class _Services:
    engine_service: _Recording | None = field(default_factory=lambda: _Recording("engine"))
    billing_service: _Recording | None = field(default_factory=lambda: _Recording("billing"))
    batches: list[SyncSignal] = field(default_factory=list)
    progress: list[tuple[str | None, Counter[str]]] = field(default_factory=list)

    def engine(self, connection_id: str) -> _Recording | None:
        return self.engine_service

    def billing(self, connection_id: str) -> _Recording | None:
        return self.billing_service

    def record_batch(self, signal: SyncSignal) -> Counter[str] | None:
        if self.engine_service is None:
            return None
        self.batches.append(signal)
        return Counter(done=len(signal.record_ids), linked=len(signal.record_ids))

    def add_progress(self, signal: SyncSignal, counts: Counter[str]) -> None:
        self.progress.append((signal.job_id, counts))


def _signal(
    pair: Pair, side: Side = Side.QUICKBOOKS, ids: list[str] | None = None, job: str | None = None
) -> SyncSignal:
    return SyncSignal(
        connection_id="c1",
        pair=pair,
        side=side,
        record_id=(ids or ["7"])[0],
        reason=Reason.WEBHOOK if ids is None else Reason.BACKFILL,
        source_version="v1",
        record_ids=ids or [],
        job_id=job,
    )


@pytest.mark.parametrize(
    ("pair", "side", "service"),
    [
        (Pair.CONTACTS, Side.QUICKBOOKS, "engine"),
        (Pair.CONTACTS, Side.HUBSPOT, "engine"),
        (Pair.PRODUCTS, Side.QUICKBOOKS, "engine"),
        (Pair.INVOICES, Side.QUICKBOOKS, "billing"),
        (Pair.PAYMENTS, Side.QUICKBOOKS, "billing"),
        (Pair.DEALS, Side.HUBSPOT, "billing"),
    ],
)
def test_a_record_signal_goes_to_its_pairs_service_only(pair: Pair, side: Side, service: str) -> None:
    services = _Services()
    handled = dispatch(_signal(pair, side=side), services)
    assert handled.result.detail == service
    assert handled.is_batch is False
    assert services.engine_service is not None
    assert services.billing_service is not None
    asked = {"engine": len(services.engine_service.seen), "billing": len(services.billing_service.seen)}
    assert asked == {"engine": int(service == "engine"), "billing": int(service == "billing")}


def test_a_signal_of_a_gone_connection_is_skipped_and_says_so() -> None:
    handled = dispatch(_signal(Pair.CONTACTS), _Services(engine_service=None))
    assert (handled.result.outcome, handled.result.detail) == (Outcome.SKIPPED, "the connection is gone or paused")


def test_a_batch_of_contacts_runs_as_one_batch_and_adds_its_counts_to_the_job() -> None:
    services = _Services()
    handled = dispatch(_signal(Pair.CONTACTS, ids=["1", "2", "3"], job="j1"), services)
    assert handled.counts == Counter(done=3, linked=3)
    assert [s.record_ids for s in services.batches] == [["1", "2", "3"]]
    assert services.progress == [("j1", Counter(done=3, linked=3))]
    assert services.engine_service is not None
    assert services.engine_service.seen == []


def test_a_batch_of_invoices_goes_record_by_record_through_billing_and_counts_each_outcome() -> None:
    billing = _Recording("billing", {"1": Outcome.CREATED, "2": Outcome.UNLINKED, "3": Outcome.FAILED})
    services = _Services(billing_service=billing)
    handled = dispatch(_signal(Pair.INVOICES, ids=["1", "2", "3", "4"], job="j2"), services)
    assert handled.counts == Counter(done=4, created=1, skipped=1, failed=1, updated=1)
    assert [(s.record_id, s.reason, s.record_ids) for s in billing.seen] == [
        (i, Reason.BACKFILL, []) for i in ("1", "2", "3", "4")
    ]
    assert services.progress == [("j2", handled.counts)]


def test_a_batch_without_a_job_or_connection_is_skipped_whole_and_touches_no_job() -> None:
    services = _Services()
    no_job = dispatch(_signal(Pair.INVOICES, ids=["1", "2"]), services)
    gone = dispatch(_signal(Pair.CONTACTS, ids=["1", "2"], job="j3"), _Services(engine_service=None))
    assert no_job.counts == gone.counts == Counter(skipped=2)
    assert services.batches == []
    assert services.progress == []


def test_live_changes_gathered_in_one_message_run_as_one_batch_of_no_job() -> None:
    services = _Services()
    handled = dispatch(_signal(Pair.CONTACTS, side=Side.HUBSPOT, ids=["1", "2"]), services)
    assert handled.counts == Counter(done=2, linked=2)
    assert [s.record_ids for s in services.batches] == [["1", "2"]]
    assert services.progress == []


@pytest.mark.parametrize(("pair", "side"), [(Pair.PAYMENTS, Side.HUBSPOT), (Pair.DEALS, Side.QUICKBOOKS)])
def test_a_change_on_a_side_that_is_not_synced_is_skipped_and_says_why(pair: Pair, side: Side) -> None:
    services = _Services()
    handled = dispatch(_signal(pair, side=side), services)
    assert (handled.result.outcome, handled.result.detail) == (
        Outcome.SKIPPED,
        f"{pair} changes on the {side} side are not synced",
    )
    assert services.billing_service is not None
    assert services.billing_service.seen == []


def _live(record_id: str, *, side: Side = Side.HUBSPOT, pair: Pair = Pair.CONTACTS, **fields: object) -> SyncSignal:
    values = {"reason": Reason.WEBHOOK, "source_version": "1", **fields}
    return SyncSignal.model_validate(
        {"connection_id": "c1", "pair": pair, "side": side, "record_id": record_id, **values}
    )


def test_live_signals_of_one_connection_pair_and_side_meet_one_per_record_keeping_the_latest() -> None:
    signals = [
        _live("1"),
        _live("2"),
        _live("1", source_version="2"),
        _live("3", side=Side.QUICKBOOKS),
        _live("4", side=Side.QUICKBOOKS, reason=Reason.SWEEP),
        _live("5", pair=Pair.INVOICES, side=Side.QUICKBOOKS),
        _live("6", pair=Pair.INVOICES, side=Side.QUICKBOOKS),
    ]
    groups = together(signals)
    assert [[(s.record_id, s.source_version) for s in group] for group in groups] == [
        [("1", "2"), ("2", "1")],
        [("3", "1"), ("4", "1")],
    ]  # invoices are mirrored one by one


def test_a_record_with_a_delete_or_merge_in_the_delivery_goes_alone_and_a_lone_record_is_no_group() -> None:
    signals = [
        _live("1"),
        _live("1", change=Change.DELETE),
        _live("2"),
        _live("3", change=Change.MERGE, merged_ids=["9"]),
        _live("4", reason=Reason.PREVIEW),
    ]
    assert together(signals) == []
    assert [[s.record_id for s in g] for g in together([*signals, _live("5")])] == [["2", "5"]]


def test_batch_messages_of_live_changes_meet_in_one_pass_with_the_records_own_signals() -> None:
    """Two imports' messages and a webhook of one of their records make one pass of each record once: the batch
    message's entry, which has no time of its own and is always read, before the webhook's (its time may tell
    an echo and skip the read, while the batch message may carry a newer change)."""
    signals = [
        _live("1", record_ids=["1", "2"]),
        _live("3", record_ids=["3", "4"], reason=Reason.SWEEP),
        _live("2", source_version="7"),
        _live("9", record_ids=["9", "10"], job_id="j1"),  # an initial sync's batch keeps to its job
        _live("4", change=Change.DELETE),
    ]
    (group,) = together(signals)
    assert [(s.record_id, s.source_version, s.reason, s.record_ids) for s in group] == [
        ("1", "", Reason.WEBHOOK, []),
        ("2", "", Reason.WEBHOOK, []),
        ("3", "", Reason.SWEEP, []),
    ]
