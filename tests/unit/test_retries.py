"""A throttled or unavailable signal's wait before it is handed out again."""

from hubbooks.retries import FIRST_WAIT, LONGEST_WAIT, backoff


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
