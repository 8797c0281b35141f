"""The initial sync (and resync) of a pair: page through both sides, queue batches of up to 90 ids."""

from collections.abc import Iterator
from datetime import date

from hubbooks.hubspot.client import HubSpotClient
from hubbooks.mapping.pairs import QBO_ENTITY, SPECS
from hubbooks.models.signals import Pair, Reason, Side, SyncSignal
from hubbooks.queue import BATCH, GroupedSender
from hubbooks.quickbooks.client import QboClient
from hubbooks.store.jobs import JobRepository

# Three full QuickBooks batch calls of 30 and one HubSpot batch read (100 at most). Batches of 100 made calls of
# 30, 30, 30 and 10: a quarter of the batch calls carried a tenth of the records, and the job ran at 73%.
BATCH_IDS = 90
# Billing pairs are read on the QuickBooks side only.


class InitialSync:
    def __init__(
        self, connection_id: str, hubspot: HubSpotClient, qbo: QboClient, jobs: JobRepository, sender: GroupedSender
    ) -> None:
        self.connection_id = connection_id
        self.hubspot = hubspot
        self.qbo = qbo
        self.jobs = jobs
        self.sender = sender

    def _qbo_ids(self, pair: Pair, since: date | None) -> list[str]:
        dated = f" where TxnDate >= '{since.isoformat()}'" if since and pair not in SPECS else ""
        return [str(r["Id"]) for r in self.qbo.query_all(f"select * from {QBO_ENTITY[pair]}{dated}")]

    def start(self, pair: Pair, since: date | None = None) -> str:
        """Create the job, count both sides, and queue every record in batches; answers the job id."""
        job_id = self.jobs.create(pair)
        self.queue(pair, job_id, Reason.BACKFILL, since)
        return job_id

    def queue(self, pair: Pair, job_id: str, reason: Reason, since: date | None = None) -> int:
        """Queue every record of a created job in batches of `reason`, then count it planned; answers how many.
        HubSpot's records are queued page by page as they are listed, so the first batches are at work while
        the rest are listed; QuickBooks' are listed first (before the job creates any customer there) and
        queued after. `since`: invoices and payments dated from that day only."""
        qbo_ids = self._qbo_ids(pair, since)
        hubspot_pages = self.hubspot.id_pages(SPECS[pair].hubspot_object) if pair in SPECS else iter(())
        total = 0
        waiting: list[SyncSignal] = []
        for side, pages in ((Side.HUBSPOT, hubspot_pages), (Side.QUICKBOOKS, iter([qbo_ids]))):
            for chunk in _chunks(pages, BATCH_IDS):
                waiting.append(
                    SyncSignal(
                        connection_id=self.connection_id,
                        pair=pair,
                        side=side,
                        record_id=chunk[0],
                        reason=reason,
                        source_version=job_id,
                        record_ids=chunk,
                        job_id=job_id,
                    )
                )
                if len(waiting) == BATCH:  # one SendMessageBatch
                    total += self._send(pair, job_id, waiting)
        total += self._send(pair, job_id, waiting)
        self.jobs.planned(pair, job_id, total)
        return total

    def _send(self, pair: Pair, job_id: str, batches: list[SyncSignal]) -> int:
        """Queue these batches and count their records in the job's total so far (its progress reads "n of the
        records listed so far" while the rest are listed); empties the list; answers how many records."""
        if not batches:
            return 0
        self.sender.send(batches)
        records = sum(len(b.record_ids) for b in batches)
        self.jobs.listed(pair, job_id, records)
        batches.clear()
        return records


def _chunks(pages: Iterator[list[str]], size: int) -> Iterator[list[str]]:
    """The ids of `pages` in chunks of `size` (the last one shorter), each as soon as it is full."""
    waiting: list[str] = []
    for page in pages:
        waiting += page
        while len(waiting) >= size:
            yield waiting[:size]
            waiting = waiting[size:]
    if waiting:
        yield waiting
