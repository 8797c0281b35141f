"""The queues: the sync FIFO queue (signals in batches of ten, grouped so one record pair is never handled twice
at once) and the sweep's requests (one per connection and tick)."""

import json
from collections.abc import Callable, Iterable
from typing import Any

from hubbooks.models.signals import Pair, Side, SyncSignal, collapse
from hubbooks.store.links import LinkLookup

BATCH = 10


class QueueError(RuntimeError):
    """Some signals could not be queued; the caller must make the sender retry."""


class SignalQueue:
    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._url = queue_url

    def send(self, signals: Iterable[SyncSignal], group_of: Callable[[SyncSignal], str]) -> int:
        """Queue every signal (retrying failed entries once); raise QueueError if any stays unsent."""
        pending = list(signals)
        for start in range(0, len(pending), BATCH):
            chunk = pending[start : start + BATCH]
            entries = {
                str(i): {
                    "Id": str(i),
                    "MessageBody": s.model_dump_json(),
                    "MessageGroupId": group_of(s),
                    "MessageDeduplicationId": s.deduplication_id(),
                }
                for i, s in enumerate(chunk)
            }
            for _attempt in range(2):
                try:
                    answer = self._sqs.send_message_batch(QueueUrl=self._url, Entries=list(entries.values()))
                except Exception as exc:
                    raise QueueError(f"the sync queue refused a batch: {type(exc).__name__}") from exc
                failed = {f["Id"] for f in answer.get("Failed", [])}
                entries = {k: v for k, v in entries.items() if k in failed}
                if not entries:
                    break
            if entries:
                raise QueueError(f"{len(entries)} signals were not accepted by the sync queue")
        return len(pending)


class GroupedSender:
    """Collapses repeats and queues signals with their FIFO group: a QuickBooks record already linked joins
    its HubSpot record's group (looked up in one batch), so one pair is never handled twice at once."""

    def __init__(self, links: LinkLookup, queue: SignalQueue) -> None:
        self._links = links
        self._queue = queue

    def send(self, signals: list[SyncSignal]) -> int:
        signals = collapse(signals)
        wanted: dict[tuple[str, Pair], list[str]] = {}
        for signal in signals:
            if signal.side is Side.QUICKBOOKS:
                wanted.setdefault((signal.connection_id, signal.pair), []).append(signal.record_id)
        groups: dict[tuple[str, str, str], str] = {}
        for (connection_id, pair), ids in wanted.items():
            for qbo_id, hubspot_id in self._links.hubspot_ids(connection_id, pair, ids).items():
                groups[(connection_id, pair, qbo_id)] = f"{connection_id}:{pair}:{Side.HUBSPOT}:{hubspot_id}"

        def group_of(signal: SyncSignal) -> str:
            key = (signal.connection_id, signal.pair, signal.record_id)
            return groups.get(key, signal.default_group()) if signal.side is Side.QUICKBOOKS else signal.default_group()

        return self._queue.send(signals, group_of)


class SweepRequests:
    """A tick's fan-out: one message per connection to sweep, swept in parallel by the sweep's consumers."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._url = queue_url

    def send(self, connection_ids: Iterable[str]) -> int:
        """Queue a request per connection; raise QueueError if any stays unsent (the tick is then retried)."""
        sent = 0
        ids = list(connection_ids)
        for start in range(0, len(ids), BATCH):
            entries = [
                {"Id": str(i), "MessageBody": json.dumps({"connection_id": cid})}
                for i, cid in enumerate(ids[start : start + BATCH])
            ]
            answer = self._sqs.send_message_batch(QueueUrl=self._url, Entries=entries)
            if answer.get("Failed"):
                raise QueueError(f"{len(answer['Failed'])} sweep requests were not accepted")
            sent += len(entries)
        return sent
