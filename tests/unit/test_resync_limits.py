"""One connection's resyncs cannot fill the queue every connection shares: none while one runs, and none within a
minute of the last (on DynamoDB in moto)."""

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from hubbooks.models.signals import Pair
from hubbooks.store.jobs import JobRepository
from hubbooks.store.keys import connection_pk, job_sk
from hubbooks.store.table import Table
from hubbooks.sync.settings_service import RefusedError, SettingsService
from tests.support.aws import table_in_process


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Table]:
    with table_in_process(monkeypatch) as resource:
        yield Table(resource)


def _service(table: Table, started: list[Pair]) -> SettingsService:
    def start_job(pair: Pair, since: date | None) -> str:
        started.append(pair)
        return JobRepository(table, "c1").create(pair)

    return SettingsService("c1", table, lambda: pytest.fail("no HubSpot call"), start_job, lambda signals: 0)


def _age(table: Table, pair: Pair, job_id: str, seconds: float) -> None:
    table.resource.update_item(
        Key={"PK": connection_pk("c1"), "SK": job_sk(pair, job_id)},
        UpdateExpression="SET started = started - :s",
        ExpressionAttributeValues={":s": Decimal(str(seconds))},
    )


def test_a_resync_while_that_pairs_job_runs_is_refused_409(table: Table) -> None:
    started: list[Pair] = []
    job = _service(table, started).resync(Pair.CONTACTS)
    _age(table, Pair.CONTACTS, job, 120)  # long enough ago, but still running
    with pytest.raises(RefusedError) as refused:
        _service(table, started).resync(Pair.CONTACTS)
    assert refused.value.status == 409
    assert started == [Pair.CONTACTS]


def test_resyncs_of_one_connection_come_a_minute_apart_whichever_the_pair(table: Table) -> None:
    started: list[Pair] = []
    jobs = JobRepository(table, "c1")
    first = _service(table, started).resync(Pair.CONTACTS)
    jobs.planned(Pair.CONTACTS, first, 0)  # nothing to do: finished at once
    with pytest.raises(RefusedError) as refused:
        _service(table, started).resync(Pair.PRODUCTS)
    assert refused.value.status == 429
    _age(table, Pair.CONTACTS, first, 61)
    _service(table, started).resync(Pair.PRODUCTS)
    assert started == [Pair.CONTACTS, Pair.PRODUCTS]
