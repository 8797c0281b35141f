"""What both reliability suites share: the figures each module adds to .reliability/results.json."""

from collections.abc import Iterator

import pytest

from tests.reliability.results import Tally


@pytest.fixture(scope="module")
def tally(request: pytest.FixtureRequest) -> Iterator[Tally]:
    """The module's figures, written when it ends, under its `SUITE` name."""
    results = Tally(suite=request.module.SUITE)
    yield results
    results.write()
