"""Signals as the sync queue receives them (moto in process): records not linked yet that changed together
travel as one batch message; linked records, deletes and merges keep their own messages and groups."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from hubbooks.models.signals import Change, Pair, Reason, Side, SyncSignal
from hubbooks.queue import LIVE_BATCH, GroupedSender, SignalQueue
from hubbooks.store.links import LinkLookup
from hubbooks.store.sync_store import DynamoSyncStore
from hubbooks.store.table import Table
from hubbooks.sync.models import Link
from tests.support.aws import REGION, table_in_process


@pytest.fixture
def sender(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[GroupedSender, Any, str]]:
    with table_in_process(monkeypatch) as table:
        DynamoSyncStore(Table(table), "c1").save_link(Link(Pair.CONTACTS, "h-linked", "q-linked"), None)
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(
            QueueName="sync.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"}
        )["QueueUrl"]
        yield GroupedSender(LinkLookup(Table(table)), SignalQueue(sqs, url)), sqs, url


def _signal(side: Side, record_id: str, change: Change = Change.UPSERT, reason: Reason = Reason.WEBHOOK) -> SyncSignal:
    return SyncSignal(
        connection_id="c1",
        pair=Pair.CONTACTS,
        side=side,
        record_id=record_id,
        change=change,
        reason=reason,
        source_version=f"{record_id}-v",
    )


def _received(sqs: Any, url: str) -> list[tuple[str, dict[str, Any]]]:
    messages: list[tuple[str, dict[str, Any]]] = []
    while True:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["MessageGroupId"])
        if not answer.get("Messages"):
            return messages
        for message in answer["Messages"]:
            messages.append((message["Attributes"]["MessageGroupId"], json.loads(message["Body"])))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_records_not_linked_that_changed_together_travel_as_one_batch_message_per_side(
    sender: tuple[GroupedSender, Any, str],
) -> None:
    grouped, sqs, url = sender
    signals = [_signal(Side.HUBSPOT, f"h{n}") for n in range(3)]
    signals += [
        _signal(Side.HUBSPOT, "h-linked"),
        _signal(Side.HUBSPOT, "h-gone"),
        _signal(Side.HUBSPOT, "h-gone", Change.DELETE),
    ]
    signals += [
        _signal(Side.QUICKBOOKS, "q1", reason=Reason.SWEEP),
        _signal(Side.QUICKBOOKS, "q2", reason=Reason.SWEEP),
    ]
    signals += [_signal(Side.QUICKBOOKS, "q-linked"), _signal(Side.HUBSPOT, "h-retried", reason=Reason.RETRY)]
    assert grouped.send(signals) == 7
    messages = sorted(_received(sqs, url), key=lambda m: m[0])  # stable: FIFO within a group
    assert [(group, body["record_id"], body["record_ids"], body["change"]) for group, body in messages] == [
        ("c1:contacts:hs:h-gone", "h-gone", [], "upsert"),
        ("c1:contacts:hs:h-gone", "h-gone", [], "delete"),
        ("c1:contacts:hs:h-linked", "h-linked", [], "upsert"),
        ("c1:contacts:hs:h-linked", "q-linked", [], "upsert"),
        ("c1:contacts:hs:h-retried", "h-retried", [], "upsert"),
        ("c1:contacts:live:hs:h0", "h0", ["h0", "h1", "h2"], "upsert"),
        ("c1:contacts:live:qbo:q1", "q1", ["q1", "q2"], "upsert"),
    ]
    gathered = next(body for _, body in messages if body["record_ids"] == ["h0", "h1", "h2"])
    assert (gathered["job_id"], gathered["reason"], gathered["source_version"]) == (None, "webhook", "h2-v")


def test_a_lone_record_keeps_its_own_message_and_an_import_is_split_in_hundreds(
    sender: tuple[GroupedSender, Any, str],
) -> None:
    grouped, sqs, url = sender
    grouped.send([_signal(Side.HUBSPOT, "alone")])
    grouped.send([_signal(Side.HUBSPOT, f"i{n:03}") for n in range(LIVE_BATCH + 20)])
    sizes = sorted(len(body["record_ids"]) for _, body in _received(sqs, url))
    assert sizes == [0, 20, LIVE_BATCH]
