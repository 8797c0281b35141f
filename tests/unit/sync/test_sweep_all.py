"""The sweep of all tenants: active connections only, one tenant's failure isolated, resyncs when CDC is
too far behind."""

from datetime import UTC, datetime
from typing import Any

import pytest

from hubbooks.models.connection import Connection, ConnectionStatus
from hubbooks.sync.sweep import SweepResult, sweep_all


class _Sweeper:
    def __init__(self, connection: Connection, outcome: SweepResult | Exception) -> None:
        self.connection, self.outcome = connection, outcome
        self.since: datetime | None = None

    def run(self, first_since: datetime) -> SweepResult:
        self.since = first_since
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


def _connection(cid: str, status: ConnectionStatus = ConnectionStatus.ACTIVE, realm: str | None = "r") -> Connection:
    return Connection(
        connection_id=cid, portal_id=1, realm_id=realm, status=status, created_at=datetime(2026, 11, 1, tzinfo=UTC)
    )


class _Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self.lines.append(("error", msg))

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:
        self.lines.append(("warning", msg))


def test_every_active_connection_is_swept_and_a_failing_one_does_not_stop_the_rest() -> None:
    connections = [
        _connection("a"),
        _connection("broken"),
        _connection("paused", ConnectionStatus.NEEDS_REAUTH),
        _connection("half", ConnectionStatus.PENDING_QUICKBOOKS, realm=None),
        _connection("b"),
    ]
    outcomes: dict[str, SweepResult | Exception] = {
        "a": SweepResult(signals=3, changes={"quickbooks.Customer": 3}),
        "broken": ConnectionError("QuickBooks is down"),
        "b": SweepResult(signals=1),
    }
    sweepers: dict[str, _Sweeper] = {}

    def sweeper_for(connection: Connection) -> _Sweeper:
        sweepers[connection.connection_id] = _Sweeper(connection, outcomes[connection.connection_id])
        return sweepers[connection.connection_id]

    log = _Log()
    tick = sweep_all(connections, sweeper_for, lambda c: pytest.fail("no resync was needed"), log)  # type: ignore[arg-type]
    assert sorted(sweepers) == ["a", "b", "broken"]
    assert tick.swept["broken"] == {"error": "ConnectionError"}
    assert (tick.failed, tick.signals) == (1, 4)
    assert tick.swept["a"] == {
        "signals": 3,
        "changes": {"quickbooks.Customer": 3},
        "resync_needed": False,
        "resyncs": {},
    }
    assert sweepers["a"].since == datetime(2026, 11, 1, tzinfo=UTC)  # the first sweep starts at the connection
    assert log.lines == [("error", "sweep failed")]


def test_a_connection_too_far_behind_for_cdc_gets_its_resyncs() -> None:
    started: list[str] = []

    def resyncs(connection: Connection) -> dict[str, Any]:
        started.append(connection.connection_id)
        return {"contacts": {"job_id": "j1"}}

    tick = sweep_all(
        [_connection("late"), _connection("fresh")],
        lambda c: _Sweeper(c, SweepResult(resync_needed=c.connection_id == "late")),  # type: ignore[arg-type,return-value]
        resyncs,
    )
    assert started == ["late"]
    assert tick.swept["late"]["resyncs"] == {"contacts": {"job_id": "j1"}}
    assert tick.swept["fresh"]["resyncs"] == {}


def test_a_failing_company_recheck_is_logged_and_the_sweep_goes_on() -> None:
    checked: list[str] = []

    def recheck(connection: Connection) -> None:
        checked.append(connection.connection_id)
        if connection.connection_id == "a":
            raise ConnectionError("QuickBooks preferences unreachable")

    log = _Log()
    tick = sweep_all(
        [_connection("a"), _connection("b")],
        lambda c: _Sweeper(c, SweepResult(signals=1)),  # type: ignore[arg-type,return-value]
        lambda c: pytest.fail("no resync was needed"),
        log,  # type: ignore[arg-type]
        recheck,
    )
    assert checked == ["a", "b"]
    assert tick.signals == 2
    assert log.lines == [("error", "company recheck failed")]
