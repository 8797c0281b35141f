"""The rate budget on DynamoDB (moto), on a clock the test moves: short waits are waited, long ones given back."""

from collections.abc import Iterator

import pytest

from hubbooks import ratelimit
from hubbooks.errors import RateLimitedError
from hubbooks.ratelimit import GIVE_BACK_SECONDS, RateBudget
from hubbooks.store.table import Table
from tests.support.aws import table_in_process


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> _Clock:
    return _Clock()


@pytest.fixture
def budget(monkeypatch: pytest.MonkeyPatch, clock: _Clock) -> Iterator[RateBudget]:
    with table_in_process(monkeypatch) as table:
        yield RateBudget(Table(table), "c1", "quickbooks", sleep=clock.sleep, clock=lambda: clock.now)


def test_calls_past_the_burst_wait_their_turn_at_the_refill_rate(budget: RateBudget, clock: _Clock) -> None:
    for _ in range(5):
        budget.acquire()
    assert clock.slept == pytest.approx([1 / 7] * 3)  # QuickBooks: two at once, then seven a second


def test_a_connection_blocked_after_a_429_gives_the_call_back_at_once_with_the_wait(
    budget: RateBudget, clock: _Clock
) -> None:
    budget.block(60)
    with pytest.raises(RateLimitedError) as given_back:
        budget.acquire()
    assert given_back.value.retry_after == pytest.approx(60)
    assert clock.slept == []  # no worker held for a minute
    clock.now += 61
    budget.acquire()


def test_a_batch_call_waits_for_both_buckets_and_a_drained_batch_minute_is_given_back(
    budget: RateBudget, clock: _Clock
) -> None:
    for _ in range(3):
        budget.acquire("batch")  # one batch token at once, then one each 60/38 s: waited for
    gap = 60 / 38
    assert clock.slept == pytest.approx([gap, gap])  # one wait each, for the later of its two turns
    budget.block(2)  # a short block is waited for too
    budget.acquire("batch")
    budget.block(GIVE_BACK_SECONDS + 1)
    with pytest.raises(RateLimitedError):
        budget.acquire("batch")


def test_a_batch_tried_without_room_takes_nothing_and_waits_for_nothing(budget: RateBudget, clock: _Clock) -> None:
    assert budget.try_acquire("batch")  # the batch minute's first token, and a call's
    assert not budget.try_acquire("batch")  # none left this instant: single calls go instead
    assert clock.slept == []
    budget.acquire()  # the calls bucket was not drawn on by the refused try: its second token goes at once
    assert clock.slept == []
    budget.acquire()  # and a third call waits only its own turn
    assert clock.slept == pytest.approx([1 / 7])
    clock.now += 60 / 38
    assert budget.try_acquire("batch")


def test_callers_at_one_instant_queue_in_turns_and_one_past_the_give_back_line_takes_no_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits: list[float] = []
    with table_in_process(monkeypatch) as table:
        budget = RateBudget(Table(table), "c1", "quickbooks", sleep=waits.append, clock=lambda: 1_000.0)
        gap = 60 / 38
        turns_in_reach = int(GIVE_BACK_SECONDS / gap)
        for _ in range(1 + turns_in_reach):
            budget.acquire("batch")  # the clock stands still: every caller reserves at the same instant
        with pytest.raises(RateLimitedError) as given_back:
            budget.acquire("batch")
        assert waits == pytest.approx([gap * turn for turn in range(1, 1 + turns_in_reach)])
        assert given_back.value.budget
        assert given_back.value.retry_after == pytest.approx(gap * (1 + turns_in_reach))
        later = RateBudget(Table(table), "c1", "quickbooks", sleep=waits.append, clock=lambda: 1_000.0 + gap)
        later.acquire("batch")  # the given-back caller left no turn behind: the next one is one gap further
        assert waits[-1] == pytest.approx(gap * turns_in_reach)


def test_a_batch_turn_due_within_the_wait_asked_for_is_taken_and_waited_for(budget: RateBudget, clock: _Clock) -> None:
    gap = 60 / 38
    assert budget.try_acquire("batch", within=gap)  # the batch minute's first token, at once
    assert not budget.try_acquire("batch", within=gap / 2)  # the next turn is a whole gap off: nothing taken
    assert clock.slept == []
    assert budget.try_acquire("batch", within=gap)  # worth waiting for
    assert clock.slept == pytest.approx([gap])


def test_a_429_met_while_a_caller_waited_for_its_turn_stops_the_call(
    monkeypatch: pytest.MonkeyPatch, clock: _Clock
) -> None:
    with table_in_process(monkeypatch) as table:
        other = RateBudget(Table(table), "c1", "quickbooks", sleep=clock.sleep, clock=lambda: clock.now)

        def sleep_while_another_call_meets_a_429(seconds: float) -> None:
            clock.sleep(seconds)
            other.block(60)

        waiting = RateBudget(
            Table(table), "c1", "quickbooks", sleep=sleep_while_another_call_meets_a_429, clock=lambda: clock.now
        )
        waiting.acquire()  # the burst's two tokens: no wait
        waiting.acquire()
        with pytest.raises(RateLimitedError) as stopped:
            waiting.acquire()  # a turn a seventh of a second off, then the block
        assert stopped.value.retry_after == pytest.approx(60)


def test_single_calls_and_batch_turns_take_the_budget_s_rates(monkeypatch: pytest.MonkeyPatch) -> None:
    with table_in_process(monkeypatch) as table:
        real, faster = (RateBudget(Table(table), "c1", "quickbooks", time_scale=scale) for scale in (1.0, 0.5))
        assert real.seconds_for(30) == pytest.approx(30 / 7)  # QuickBooks: seven single calls a second
        assert real.turn("batch") == pytest.approx(60 / 38)  # and 38 batch calls a minute
        assert (faster.seconds_for(30), faster.turn("batch")) == pytest.approx((15 / 7, 30 / 38))


def test_a_bucket_this_process_wrote_is_written_again_unread_unless_another_caller_wrote_or_blocked_since(
    monkeypatch: pytest.MonkeyPatch, clock: _Clock
) -> None:
    with table_in_process(monkeypatch) as table:
        reads: list[str] = []
        read = table.get_item
        monkeypatch.setattr(table, "get_item", lambda **kwargs: reads.append(kwargs["Key"]["SK"]) or read(**kwargs))
        ours, theirs = (
            RateBudget(Table(table), "c1", "hubspot", sleep=clock.sleep, clock=lambda: clock.now) for _ in range(2)
        )
        for _ in range(4):
            ours.acquire()  # HubSpot's burst is five
        assert len(reads) == 1  # the first look; the other three wrote over the level this process left

        clock.now += 0.01
        left_here = dict(ratelimit._written)
        ratelimit._written.clear()  # another process (a worker of its own) takes the burst's last token
        theirs.acquire()
        ratelimit._written.update(left_here)
        ours.acquire()  # its write over the level it left fails: it reads the bucket, and waits its turn
        # Reads: theirs, ours again, and ours after the wait (a block set meanwhile stops the call).
        assert (len(reads), clock.slept) == (4, pytest.approx([0.09]))

        theirs.block(60)
        with pytest.raises(RateLimitedError) as blocked:
            ours.acquire()  # its write conditional on no block fails: the bucket is read, and the block seen
        assert blocked.value.retry_after == pytest.approx(60)
