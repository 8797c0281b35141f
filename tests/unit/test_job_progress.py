"""A job is finished when its last record is done, whether the workers' last count or the end of its planning
comes last: batches are queued while the rest of the records are still being listed (on DynamoDB in moto)."""

from collections.abc import Iterator

import pytest

from hubbooks.models.signals import Pair
from hubbooks.store.jobs import JobRepository
from hubbooks.store.table import Table
from tests.support.aws import table_in_process


@pytest.fixture
def jobs(monkeypatch: pytest.MonkeyPatch) -> Iterator[JobRepository]:
    with table_in_process(monkeypatch) as resource:
        yield JobRepository(Table(resource), "c1")


def _status(jobs: JobRepository, job_id: str, pair: Pair = Pair.CONTACTS) -> str:
    progress = jobs.get(pair, job_id)
    assert progress is not None
    return progress.status


def test_workers_that_finish_before_the_planning_ends_leave_the_job_to_be_finished_by_it(jobs: JobRepository) -> None:
    job_id = jobs.create(Pair.CONTACTS)
    jobs.listed(Pair.CONTACTS, job_id, 90)
    jobs.add(Pair.CONTACTS, job_id, {"done": 90, "created": 90})
    progress = jobs.get(Pair.CONTACTS, job_id)
    assert progress is not None
    assert (progress.status, progress.done, progress.total) == ("planning", 90, 90)  # of the records listed so far
    jobs.listed(Pair.CONTACTS, job_id, 10)
    jobs.add(Pair.CONTACTS, job_id, {"done": 10, "created": 10})
    assert _status(jobs, job_id) == "planning"  # its size is not known yet
    jobs.planned(Pair.CONTACTS, job_id, 100)
    assert _status(jobs, job_id) == "finished"


def test_a_job_planned_before_its_last_count_is_finished_by_that_count(jobs: JobRepository) -> None:
    job_id = jobs.create(Pair.CONTACTS)
    jobs.add(Pair.CONTACTS, job_id, {"done": 90})
    jobs.planned(Pair.CONTACTS, job_id, 100)
    assert _status(jobs, job_id) == "running"
    jobs.add(Pair.CONTACTS, job_id, {"done": 10})
    progress = jobs.get(Pair.CONTACTS, job_id)
    assert progress is not None
    assert progress.status == "finished"
    assert progress.finished is not None
    empty = jobs.create(Pair.PRODUCTS)
    jobs.planned(Pair.PRODUCTS, empty, 0)
    assert _status(jobs, empty, Pair.PRODUCTS) == "finished"
