"""A request rides out a passing failure only when sending it again cannot apply it twice."""

from collections.abc import Callable

import pytest

from hubbooks.errors import ProviderError, RateLimitedError, UnavailableError, ValidationFaultError
from hubbooks.http import INLINE_RETRIES, ride_out


def _failing(*failures: ProviderError) -> tuple[Callable[[], str], list[int]]:
    """A call that raises `failures` in turn, then answers "ok"; and the count of calls made."""
    calls = [0]

    def call() -> str:
        calls[0] += 1
        if calls[0] <= len(failures):
            raise failures[calls[0] - 1]
        return "ok"

    return call, calls


def test_passing_failures_are_ridden_out_with_growing_waits() -> None:
    call, calls = _failing(UnavailableError("quickbooks", "503"), UnavailableError("quickbooks", "reset"))
    waits: list[float] = []
    assert ride_out(call, replay_safe=True, sleep=waits.append) == "ok"
    assert (calls[0], waits) == (3, [0.2, 0.4])


def test_a_request_that_may_apply_twice_is_not_sent_again() -> None:
    call, calls = _failing(UnavailableError("hubspot", "500"))
    with pytest.raises(UnavailableError):
        ride_out(call, replay_safe=False, sleep=lambda _: None)
    assert calls[0] == 1


def test_a_short_throttle_is_waited_out_and_a_long_one_gives_the_signal_back() -> None:
    call, calls = _failing(RateLimitedError("hubspot", 1.0))
    waits: list[float] = []
    assert ride_out(call, replay_safe=True, sleep=waits.append) == "ok"
    assert waits == [1.0]
    call, calls = _failing(RateLimitedError("quickbooks", 60.0))
    with pytest.raises(RateLimitedError):
        ride_out(call, replay_safe=True, sleep=waits.append)
    assert calls[0] == 1


def test_retries_are_bounded_and_refusals_are_not_retried() -> None:
    call, calls = _failing(*[UnavailableError("hubspot", "503")] * (INLINE_RETRIES + 1))
    with pytest.raises(UnavailableError):
        ride_out(call, replay_safe=True, sleep=lambda _: None)
    assert calls[0] == INLINE_RETRIES + 1
    call, calls = _failing(ValidationFaultError("quickbooks", 400, "6240", "Duplicate Name Exists Error"))
    with pytest.raises(ValidationFaultError):
        ride_out(call, replay_safe=True, sleep=lambda _: None)
    assert calls[0] == 1
