"""How long a signal that met a throttle or an outage waits before the queue hands it out again."""

FIRST_WAIT = 2.0  # seconds, after the first receive
LONGEST_WAIT = 900.0  # fifteen minutes: an outage of hours costs a few receives an hour


def backoff(receives: int, asked: float | None = None) -> float:
    """Doubling with each receive of the signal, up to LONGEST_WAIT; never less than the provider asked for
    (Retry-After)."""
    doubling = min(LONGEST_WAIT, FIRST_WAIT * 2.0 ** max(receives - 1, 0))
    return max(doubling, asked or 0.0)
