"""The initial sync (and resync) of a pair: page through both sides, queue batches of up to 100 ids."""

from datetime import date

from hubbooks.hubspot.client import HubSpotClient
from hubbooks.mapping.pairs import SPECS
from hubbooks.models.signals import Pair, Reason, Side, SyncSignal
from hubbooks.queue import GroupedSender
from hubbooks.quickbooks.client import QboClient
from hubbooks.store.jobs import JobRepository

BATCH_IDS = 100
QBO_PAGE = 1000
# Billing pairs are read on the QuickBooks side only.
QBO_ENTITY = {**{pair: s.entity for pair, s in SPECS.items()}, Pair.INVOICES: "Invoice", Pair.PAYMENTS: "Payment"}


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
        ids: list[str] = []
        start = 1
        dated = f" where TxnDate >= '{since.isoformat()}'" if since and pair not in SPECS else ""
        while True:
            query = f"select * from {QBO_ENTITY[pair]}{dated} STARTPOSITION {start} MAXRESULTS {QBO_PAGE}"
            page = self.qbo.query(query)
            ids += [str(r["Id"]) for r in page]
            if len(page) < QBO_PAGE:
                return ids
            start += QBO_PAGE

    def start(self, pair: Pair, since: date | None = None) -> str:
        """Create the job, count both sides, and queue every record in batches; answers the job id."""
        job_id = self.jobs.create(pair)
        self.queue(pair, job_id, Reason.BACKFILL, since)
        return job_id

    def queue(self, pair: Pair, job_id: str, reason: Reason, since: date | None = None) -> int:
        """Count both sides of a created job and queue every record in batches of `reason`; answers how many.
        `since`: invoices and payments dated from that day only."""
        batches: list[SyncSignal] = []
        hubspot_ids = self.hubspot.all_ids(SPECS[pair].hubspot_object) if pair in SPECS else []
        for side, ids in ((Side.HUBSPOT, hubspot_ids), (Side.QUICKBOOKS, self._qbo_ids(pair, since))):
            for start in range(0, len(ids), BATCH_IDS):
                chunk = ids[start : start + BATCH_IDS]
                batches.append(
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
        total = sum(len(b.record_ids) for b in batches)
        self.jobs.planned(pair, job_id, total)
        self.sender.send(batches)
        return total
