"""The queues: the sync FIFO queue (signals in batches of ten, grouped so one record pair is never handled twice
at once, linked records' live changes in their pair's lane) and the sweep's requests (one per connection and tick)."""

import json
from collections.abc import Callable, Iterable
from typing import Any

from hubbooks.mapping.pairs import SPECS
from hubbooks.models.signals import Change, Pair, Reason, Side, SyncSignal, collapse, is_echo_of
from hubbooks.store.keys import last_part, live_lane
from hubbooks.store.lane_changes import LaneChanges
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
    """Collapses repeats and queues signals with their FIFO group. A live signal of a linked contact, company or
    product joins its connection and pair's lane (one FIFO group): its signals keep their order, one pair is never
    handled twice at once, and its messages are noted in `lanes` before they are queued, so that a pass of the lane
    takes every change that waits in it (see LaneChanges). Live changes that arrive together go as batch messages of
    up to 100 records (each keeping the version its change stated); those of records not linked yet (an import's)
    go whole, in the group of their first record. Any other signal goes in its record's own group (a QuickBooks
    record already linked: its HubSpot record's). Links are looked up in one batch per side."""

    def __init__(self, links: LinkLookup, queue: SignalQueue, lanes: LaneChanges) -> None:
        self.links = links
        self._queue = queue
        self._lanes = lanes

    def send(self, signals: list[SyncSignal]) -> int:
        signals = collapse(signals)
        wanted: dict[tuple[str, Pair, Side], list[str]] = {}
        for signal in signals:
            if signal.side is Side.QUICKBOOKS or _is_live_two_way(signal):
                wanted.setdefault((signal.connection_id, signal.pair, signal.side), []).append(signal.record_id)
        partners: dict[tuple[str, str, str, str], str] = {}  # a linked record -> its HubSpot record
        seen: dict[tuple[str, str, str], dict[str, Any]] = {}  # a linked HubSpot record -> its link's `seen`
        for (connection_id, pair, side), ids in wanted.items():
            if side is Side.HUBSPOT:
                for item in self.links.items(connection_id, pair, side, ids, "SK, seen"):
                    hubspot_id = last_part(item["SK"])
                    partners[(connection_id, pair, side, hubspot_id)] = hubspot_id
                    seen[(connection_id, pair, hubspot_id)] = item.get("seen") or {}
                continue
            for qbo_id, hubspot_id in self.links.partners(connection_id, pair, Side.QUICKBOOKS, ids).items():
                partners[(connection_id, pair, side, qbo_id)] = hubspot_id
        # Our own writes' HubSpot echoes end here, unqueued (the worker would tell them the same way).
        signals = [s for s in signals if not is_echo_of(s, seen.get((s.connection_id, s.pair, s.record_id), {}))]

        def lane_of(signal: SyncSignal) -> str | None:
            """The lane of a live signal of a linked record (None: not one)."""
            hubspot_id = partners.get((signal.connection_id, signal.pair, signal.side, signal.record_id))
            if hubspot_id is None or not _is_live_two_way(signal):
                return None
            return _lane(signal.connection_id, signal.pair)

        def group_of(signal: SyncSignal) -> str:
            hubspot_id = partners.get((signal.connection_id, signal.pair, signal.side, signal.record_id))
            linked_or_own = hubspot_id is not None or (signal.side is Side.HUBSPOT and not signal.record_ids)
            if _is_live_two_way(signal) and linked_or_own:
                # Linked, or a HubSpot record not linked yet: its signals keep one group throughout.
                return _lane(signal.connection_id, signal.pair)
            if signal.side is Side.QUICKBOOKS and hubspot_id is not None:
                return f"{signal.connection_id}:{signal.pair}:{Side.HUBSPOT}:{hubspot_id}"
            return signal.default_group()

        messages = [
            m.model_copy(update={"in_lane": True}) if _is_live_change(m) and lane_of(m) is not None else m
            for m in _gathered(signals, lane_of)
        ]
        self._lanes.note((m, group_of(m)) for m in messages if m.in_lane)
        return self._queue.send(messages, group_of)


def _lane(connection_id: str, pair: Pair) -> str:
    """A connection and pair's lane. One, not several: a pass takes all that waits in it, and lanes side by side
    would split the changes into smaller batches that spend QuickBooks' 40 batch calls a minute sooner."""
    return live_lane(connection_id, pair)


def _is_live_two_way(signal: SyncSignal) -> bool:
    """A two-way pair's signal (a contact, company or product) that is not an initial sync's or a preview's."""
    return signal.pair in SPECS and signal.job_id is None and signal.reason is not Reason.PREVIEW


def _is_live_change(signal: SyncSignal) -> bool:
    """A live change of a contact, company or product (or a batch message of them)."""
    return (
        _is_live_two_way(signal) and signal.change is Change.UPSERT and signal.reason in (Reason.WEBHOOK, Reason.SWEEP)
    )


def _may_gather(signal: SyncSignal) -> bool:
    """A live change of one record: it can join a batch message."""
    return _is_live_change(signal) and not signal.record_ids


def _gathered(signals: list[SyncSignal], lane_of: Callable[[SyncSignal], str | None]) -> list[SyncSignal]:
    """Live changes, two or more of one side and lane (or of records not linked yet), as batch messages of up to
    100 records (each with its change's version). A record with a delete or merge among the signals keeps its
    own messages, in order."""
    alone = {(s.connection_id, s.pair, s.side, s.record_id) for s in signals if s.change is not Change.UPSERT}
    gather: dict[tuple[str, Pair, Side, str | None], list[SyncSignal]] = {}
    kept: list[SyncSignal] = []
    for signal in signals:
        key = (signal.connection_id, signal.pair, signal.side, signal.record_id)
        if _may_gather(signal) and key not in alone:
            gather.setdefault((signal.connection_id, signal.pair, signal.side, lane_of(signal)), []).append(signal)
        else:
            kept.append(signal)
    for group in gather.values():
        if len(group) < 2:
            kept.extend(group)
            continue
        for start in range(0, len(group), LIVE_BATCH):
            chunk = group[start : start + LIVE_BATCH]
            update = {
                "record_ids": [s.record_id for s in chunk],
                "record_versions": [s.source_version for s in chunk],
                "source_version": max(s.source_version for s in chunk),
                "event_id": "",
            }
            kept.append(chunk[0].model_copy(update=update))
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
