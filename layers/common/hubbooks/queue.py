"""The queues: the sync FIFO queue (signals in batches of ten, grouped so one record pair is never handled twice
at once) and the sweep's requests (one per connection and tick)."""

import json
from collections.abc import Callable, Iterable
from typing import Any

from hubbooks.models.signals import Change, Pair, Reason, Side, SyncSignal, collapse
from hubbooks.store.keys import last_part
from hubbooks.store.links import LinkLookup

BATCH = 10
# Records in one batch message of live changes (a webhook delivery's worth). Smaller messages were tried (50):
# more passes over overlapping records, whose batches' first arrivals then held fewer of them (52 single
# creates in an import of 300). A delivery of 10 full messages can outlast the worker's 60 s at the batch
# budget: its unfinished records back off and are found created on the retry.
LIVE_BATCH = 100


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
    its HubSpot record's group (looked up in one batch), so one pair is never handled twice at once. Changes
    of records not linked yet (an import's new records) that arrive together go as one batch message per 100,
    so the worker reads, matches and creates them in bulk."""

    def __init__(self, links: LinkLookup, queue: SignalQueue) -> None:
        self._links = links
        self._queue = queue

    def send(self, signals: list[SyncSignal]) -> int:
        signals = collapse(signals)
        wanted: dict[tuple[str, Pair, Side], list[str]] = {}
        for signal in signals:
            if signal.side is Side.QUICKBOOKS or _may_gather(signal):
                wanted.setdefault((signal.connection_id, signal.pair, signal.side), []).append(signal.record_id)
        groups: dict[tuple[str, str, str], str] = {}
        linked: set[tuple[str, str, str, str]] = set()
        for (connection_id, pair, side), ids in wanted.items():
            if side is Side.HUBSPOT:
                found = self._links.items(connection_id, pair, side, ids, "SK")
                linked |= {(connection_id, pair, side, last_part(item["SK"])) for item in found}
                continue
            for qbo_id, hubspot_id in self._links.hubspot_ids(connection_id, pair, ids).items():
                groups[(connection_id, pair, qbo_id)] = f"{connection_id}:{pair}:{Side.HUBSPOT}:{hubspot_id}"
                linked.add((connection_id, pair, side, qbo_id))
        signals = _gathered(signals, linked)

        def group_of(signal: SyncSignal) -> str:
            key = (signal.connection_id, signal.pair, signal.record_id)
            return groups.get(key, signal.default_group()) if signal.side is Side.QUICKBOOKS else signal.default_group()

        return self._queue.send(signals, group_of)


def _may_gather(signal: SyncSignal) -> bool:
    """A live change of a contact or product: it can join a batch message when its record is not linked."""
    return (
        signal.pair in (Pair.CONTACTS, Pair.PRODUCTS)
        and signal.change is Change.UPSERT
        and signal.reason in (Reason.WEBHOOK, Reason.SWEEP)
        and not signal.record_ids
    )


def _gathered(signals: list[SyncSignal], linked: set[tuple[str, str, str, str]]) -> list[SyncSignal]:
    """Changes of records not linked, two or more of one connection, pair and side, as batch messages of up to
    100 records (each record is read afresh, so one message holds what many did). A record with a delete or
    merge among the signals keeps its own messages, in its own group, in order."""
    alone = {(s.connection_id, s.pair, s.side, s.record_id) for s in signals if s.change is not Change.UPSERT}
    gather: dict[tuple[str, Pair, Side], list[SyncSignal]] = {}
    kept: list[SyncSignal] = []
    for signal in signals:
        key = (signal.connection_id, signal.pair, signal.side, signal.record_id)
        if _may_gather(signal) and key not in linked and key not in alone:
            gather.setdefault((signal.connection_id, signal.pair, signal.side), []).append(signal)
        else:
            kept.append(signal)
    for group in gather.values():
        if len(group) < 2:
            kept.extend(group)
            continue
        for start in range(0, len(group), LIVE_BATCH):
            chunk = group[start : start + LIVE_BATCH]
            ids = [s.record_id for s in chunk]
            version = max(s.source_version for s in chunk)
            kept.append(chunk[0].model_copy(update={"record_ids": ids, "source_version": version, "event_id": ""}))
    return kept


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
