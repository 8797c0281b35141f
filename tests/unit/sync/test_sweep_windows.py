"""Time windows of a HubSpot search are halved until none holds more than the 10,000 a search can page."""

import itertools
from datetime import UTC, datetime, timedelta

from hubbooks.sync.sweep import OVERLAP, look_from, split_windows


def test_windows_over_the_cap_are_split_until_each_fits() -> None:
    changes = list(range(0, 25_000))  # one change per millisecond

    def count(start: int, end: int) -> int:
        return sum(1 for t in changes if start <= t < end)

    windows = split_windows(count, 0, 25_000)
    assert all(count(s, e) <= 10_000 for s, e in windows)
    assert windows[0][0] == 0
    assert windows[-1][1] == 25_000
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))
    assert split_windows(count, 0, 5_000) == [(0, 5_000)]


def test_the_sweep_looks_back_by_the_overlap_but_never_before_the_connection() -> None:
    connected = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert look_from(None, connected) == connected
    assert look_from(connected + timedelta(seconds=30), connected) == connected
    assert look_from(connected + timedelta(hours=1), connected) == connected + timedelta(hours=1) - OVERLAP
