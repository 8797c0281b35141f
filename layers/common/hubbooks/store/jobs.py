"""Initial sync and resync jobs: progress counters a worker adds to atomically, read by the API and demo."""

import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hubbooks.models.signals import Pair
from hubbooks.store.keys import connection_pk, job_sk, jobs_prefix, last_part
from hubbooks.store.table import Table

PREVIEW_JOBS = "PREVIEWJOB"
COUNTERS = ("done", "created", "updated", "linked", "unchanged", "failed", "skipped")


@dataclass(frozen=True)
class JobProgress:
    job_id: str
    pair: str
    status: str
    total: int
    counts: dict[str, int]
    started: float
    finished: float | None
    settings_version: int = 0  # a preview's: the version of the pair's settings it ran with

    @property
    def done(self) -> int:
        return self.counts.get("done", 0)

    @property
    def estimated_finish(self) -> float | None:
        """When the job should end at the pace so far (None before any progress)."""
        if self.finished or not self.done or not self.total:
            return self.finished
        elapsed = time.time() - self.started
        return self.started + elapsed * self.total / self.done


class JobRepository:
    def __init__(self, table: Table, connection_id: str, kind: str = "JOB") -> None:
        self.table = table
        self.pk = connection_pk(connection_id)
        self.kind = kind  # "JOB": first syncs and resyncs; "PREVIEWJOB": previews

    def create(self, pair: Pair, settings_version: int = 0) -> str:
        job_id = uuid.uuid4().hex[:12]
        self.table.resource.put_item(
            Item={
                "PK": self.pk,
                "SK": job_sk(pair, job_id, self.kind),
                "pair": str(pair),
                "status": "planning",
                "total": 0,
                "started": Decimal(str(round(time.time(), 3))),
                "settings_version": settings_version,
                **dict.fromkeys(COUNTERS, 0),
            }
        )
        return job_id

    def listed(self, pair: Pair, job_id: str, records: int) -> None:
        """Records queued while the job is still being planned: its total so far."""
        self.table.resource.update_item(
            Key={"PK": self.pk, "SK": job_sk(pair, job_id, self.kind)},
            UpdateExpression="ADD #t :n",
            ExpressionAttributeNames={"#t": "total"},
            ExpressionAttributeValues={":n": records},
        )

    def planned(self, pair: Pair, job_id: str, total: int) -> None:
        """The job's size once every record is queued (workers may have done some, or all, meanwhile); a job
        with nothing left to do is finished at once."""
        item = self.table.resource.update_item(
            Key={"PK": self.pk, "SK": job_sk(pair, job_id, self.kind)},
            UpdateExpression="SET #t = :t, #s = :running",
            ExpressionAttributeNames={"#t": "total", "#s": "status"},
            ExpressionAttributeValues={":t": total, ":running": "running"},
            ReturnValues="ALL_NEW",
        )["Attributes"]
        self._finish_if_done(pair, self._progress(item))

    def latest(self, pair: Pair) -> JobProgress | None:
        """The pair's most recently started job."""
        jobs = [self._progress(item) for item in self.table.partition(self.pk, jobs_prefix(pair, self.kind))]
        return max(jobs, key=lambda j: j.started, default=None)

    def add(self, pair: Pair, job_id: str, counts: dict[str, int]) -> JobProgress:
        """Add a batch's outcomes; the job is finished once every record is done."""
        names = {f"#{k}": k for k in counts}
        values: dict[str, Any] = {f":{k}": v for k, v in counts.items()}
        expression = "ADD " + ", ".join(f"#{k} :{k}" for k in counts)
        item = self.table.resource.update_item(
            Key={"PK": self.pk, "SK": job_sk(pair, job_id, self.kind)},
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )["Attributes"]
        progress = self._progress(item)
        self._finish_if_done(pair, progress)
        return progress

    def _finish_if_done(self, pair: Pair, progress: JobProgress) -> None:
        """A running job whose every record is done is finished (both a worker's last count and the planning's
        end ask: whichever comes last finds it so)."""
        if progress.status == "running" and progress.done >= progress.total:
            self.table.resource.update_item(
                Key={"PK": self.pk, "SK": job_sk(pair, progress.job_id, self.kind)},
                UpdateExpression="SET #s = :done, finished = :now",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":done": "finished", ":now": Decimal(str(round(time.time(), 3)))},
            )

    def get(self, pair: Pair, job_id: str) -> JobProgress | None:
        item = self.table.resource.get_item(
            Key={"PK": self.pk, "SK": job_sk(pair, job_id, self.kind)}, ConsistentRead=True
        ).get("Item")
        return None if item is None else self._progress(item)

    @staticmethod
    def _progress(item: dict[str, Any]) -> JobProgress:
        return JobProgress(
            last_part(item["SK"]),
            str(item["pair"]),
            str(item["status"]),
            int(item.get("total", 0)),
            {k: int(item.get(k, 0)) for k in COUNTERS},
            float(item["started"]),
            float(item["finished"]) if item.get("finished") else None,
            int(item.get("settings_version", 0)),
        )
