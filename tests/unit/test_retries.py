"""A throttled or unavailable signal's wait before it is handed out again."""

from hubbooks.retries import FIRST_WAIT, LONGEST_WAIT, GivenBack, backoff


def test_the_wait_doubles_with_each_receive_up_to_a_ceiling() -> None:
    waits = [backoff(receive) for receive in range(1, 12)]
    assert waits[:4] == [FIRST_WAIT, 2 * FIRST_WAIT, 4 * FIRST_WAIT, 8 * FIRST_WAIT]
    assert waits[-1] == LONGEST_WAIT
    assert waits == sorted(waits)


def test_a_429_is_never_answered_sooner_than_it_asked() -> None:
    assert backoff(1, asked=30.0) == 30.0
    assert backoff(6, asked=3.0) == 64.0


def test_a_wait_for_the_connections_own_budget_is_as_long_as_it_says_then_grows_by_a_second_a_receive() -> None:
    assert backoff(1, asked=1.6, budget=True) == 1.6
    assert backoff(1, asked=0.2, budget=True) == 1.0
    assert backoff(9, asked=1.6, budget=True) == 1.6
    assert backoff(15, asked=1.6, budget=True) == 5.0  # then a second more each time: a starved one waits longer
    assert backoff(500, asked=1.6, budget=True) == 60.0
    assert backoff(9, asked=1.6) == FIRST_WAIT * 2**8  # a provider's 429 still doubles


def test_messages_skipped_after_a_failure_go_back_due_with_their_groups_failure() -> None:
    given = GivenBack()
    given.add("m1", "lane-0", 45.0)  # throttled: back in 45 s
    given.add("m2", "lane-0", 2.0)
    given.add("m5", "lane-1", 4.0)
    failed = [("m1", "lane-0"), ("m2", "lane-0"), ("m3", "lane-0"), ("m4", "lane-2"), ("m6", "lane-1")]
    # m3 was skipped after its group's failures: it is due when the later of them is. m4's group had nothing
    # given back (the handler never saw it fail): it is left to the queue's visibility timeout, as Lambda leaves it.
    assert given.skipped(failed) == [("m3", 45.0), ("m6", 4.0)]
    given.clear()
    assert given.skipped(failed) == []
