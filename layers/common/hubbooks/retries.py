"""How long a signal that met a throttle, an outage or a failure waits before the queue hands it out again."""

FIRST_WAIT = 2.0  # seconds, after the first receive
BUDGET_WAIT = 1.0  # at least, for a signal waiting on its connection's own rate budget, per receive
PROMPT_RECEIVES = 10
LONGEST_BUDGET_WAIT = 60.0  # seconds: the queue's 50-receive ceiling is then over 10 minutes of waiting
LONGEST_WAIT = 900.0  # fifteen minutes: an outage of hours costs a few receives an hour


def backoff(receives: int, asked: float | None = None, *, budget: bool = False) -> float:
    """Doubling with each receive of the signal, up to LONGEST_WAIT; never less than the provider asked for
    (Retry-After). A wait for the connection's own rate budget is known to the second and does not double: an
    import running at the budget keeps running at it."""
    if budget and asked is not None:  # prompt at first; then a second more a receive, so a starved signal
        # does not spend the queue's receives in minutes
        return max(asked, min(BUDGET_WAIT * max(receives - PROMPT_RECEIVES, 1), LONGEST_BUDGET_WAIT))
    doubling = min(LONGEST_WAIT, FIRST_WAIT * 2.0 ** max(receives - 1, 0))
    return max(doubling, asked or 0.0)


class GivenBack:
    """One delivery's messages given back to the queue, and by FIFO group how long until its first is due."""

    def __init__(self) -> None:
        self.messages: set[str] = set()
        self.due: dict[str, float] = {}

    def clear(self) -> None:
        self.messages.clear()
        self.due.clear()

    def add(self, message_id: str, group: str, seconds: float) -> None:
        self.messages.add(message_id)
        self.due[group] = max(self.due.get(group, 0.0), seconds)

    def skipped(self, failed: list[tuple[str, str]]) -> list[tuple[str, float]]:
        """Of the delivery's failed messages (id, group), those skipped after a failure of their group, each
        with the wait of that failure: left alone they would stay in flight for the queue's visibility timeout,
        and hold their group that long."""
        return [(m, self.due[g]) for m, g in failed if m not in self.messages and g in self.due]
