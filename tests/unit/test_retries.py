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
