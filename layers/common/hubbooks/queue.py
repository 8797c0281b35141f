"""The sync FIFO queue: signals in batches of ten, grouped so one record pair is never handled twice at once."""

from collections.abc import Callable, Iterable
from typing import Any

from hubbooks.models.signals import SyncSignal

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
