"""Fixtures shared by every suite: a devstack of the real template and of the pump fixture."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import Devstack

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="session")
def hubbooks_stack() -> Iterator[Devstack]:
    """template.yaml deployed into moto and served; shared by the integration and e2e suites."""
    with Devstack(stack_name="hubbooks-test", time_scale=0.01) as stack:
        yield stack


@pytest.fixture(scope="session")
def pump_stack() -> Iterator[Devstack]:
    with Devstack(
        template=FIXTURES / "pump" / "template.yaml", stack_name="pump-fixture", time_scale=0.01, pollers=3
    ) as stack:
        yield stack
