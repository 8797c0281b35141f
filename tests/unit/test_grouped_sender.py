"""Signals as the sync queue receives them (moto in process): live changes that arrive together travel as batch
messages, linked records' in their pair's lane, others' whole; deletes and merges keep their own messages."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from hubbooks.models.signals import Change, Pair, Reason, Side, SyncSignal
from hubbooks.queue import LIVE_BATCH, GroupedSender, SignalQueue
from hubbooks.store.lane_changes import LaneChanges
from hubbooks.store.links import LinkLookup
from hubbooks.store.sync_store import DynamoSyncStore
from hubbooks.store.table import Table
from hubbooks.sync.models import Link
from tests.support.aws import REGION, table_in_process


@pytest.fixture
def sender(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[GroupedSender, Any, str]]:
    with table_in_process(monkeypatch) as table:
        store = DynamoSyncStore(Table(table), "c1")
        store.save_link(Link(Pair.CONTACTS, "h-linked", "q-linked"), None)
        store.save_link(Link(Pair.CONTACTS, "h-other", "q-other"), None)
        store.save_link(Link(Pair.INVOICES, "h-invoice", "q-invoice"), None)
        for n in range(6):
            store.save_link(Link(Pair.CONTACTS, f"h-linked-{n}", f"q-linked-{n}"), None)
        store.save_link(Link(Pair.CONTACTS, "h-written", "q-written", seen={"hs_at": "1796580000123"}), None)
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(
            QueueName="sync.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"}
        )["QueueUrl"]
        yield GroupedSender(LinkLookup(Table(table)), SignalQueue(sqs, url), LaneChanges(Table(table))), sqs, url


def _signal(
    side: Side,
    record_id: str,
    change: Change = Change.UPSERT,
    reason: Reason = Reason.WEBHOOK,
    pair: Pair = Pair.CONTACTS,
) -> SyncSignal:
    return SyncSignal(
        connection_id="c1",
        pair=pair,
        side=side,
        record_id=record_id,
        change=change,
        reason=reason,
        source_version=f"{record_id}-v",
    )


LANE = "c1:contacts:live"


def _received(sqs: Any, url: str) -> list[tuple[str, dict[str, Any]]]:
    messages: list[tuple[str, dict[str, Any]]] = []
    while True:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["MessageGroupId"])
        if not answer.get("Messages"):
            return messages
        for message in answer["Messages"]:
            messages.append((message["Attributes"]["MessageGroupId"], json.loads(message["Body"])))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_live_changes_that_arrive_together_travel_as_batch_messages_linked_ones_in_their_pairs_lane(
    sender: tuple[GroupedSender, Any, str],
) -> None:
    grouped, sqs, url = sender
    signals = [_signal(Side.HUBSPOT, f"h{n}") for n in range(3)]
    signals += [
        _signal(Side.HUBSPOT, "h-linked"),
        _signal(Side.HUBSPOT, "h-linked"),
        _signal(Side.HUBSPOT, "h-other"),
        _signal(Side.HUBSPOT, "h-gone"),
        _signal(Side.HUBSPOT, "h-gone", Change.DELETE),
    ]
    signals += [
        _signal(Side.QUICKBOOKS, "q1", reason=Reason.SWEEP),
        _signal(Side.QUICKBOOKS, "q2", reason=Reason.SWEEP),
        _signal(Side.QUICKBOOKS, "q-linked"),
    ]
    signals += [_signal(Side.HUBSPOT, "h-retried", reason=Reason.RETRY)]
    assert grouped.send(signals) == 7
    messages = sorted(_received(sqs, url), key=lambda m: m[0])  # stable: FIFO within a group
    assert [(group, body["record_id"], body["record_ids"], body["change"]) for group, body in messages] == sorted(
        [
            (LANE, "h-gone", [], "upsert"),  # a record with a delete keeps its own messages, in order
            (LANE, "h-gone", [], "delete"),  # not linked yet: in the lane its link will give it
            (LANE, "h-retried", [], "upsert"),  # a person's retry: its own message
            ("c1:contacts:live:hs:h0", "h0", ["h0", "h1", "h2"], "upsert"),  # not linked: whole, as an import's
            ("c1:contacts:live:qbo:q1", "q1", ["q1", "q2"], "upsert"),
            (LANE, "h-linked", ["h-linked", "h-other"], "upsert"),  # linked: together, in the pair's lane
            (LANE, "q-linked", [], "upsert"),  # alone on its side: a message of its own, in its partner's lane
        ],
        key=lambda m: m[0],
    )
    gathered = next(body for _, body in messages if body["record_id"] == "h0")
    assert (gathered["job_id"], gathered["reason"], gathered["source_version"]) == (None, "webhook", "h2-v")
    assert gathered["record_versions"] == ["h0-v", "h1-v", "h2-v"]  # each told an echo by its own


def test_linked_records_changed_together_travel_as_one_batch_message_noted_in_their_lane(
    sender: tuple[GroupedSender, Any, str],
) -> None:
    grouped, sqs, url = sender
    ids = [f"h-linked-{n}" for n in range(6)]
    grouped.send([_signal(Side.HUBSPOT, i) for i in ids])
    [(group, body)] = _received(sqs, url)
    assert (group, body["record_ids"], body["in_lane"]) == (LANE, ids, True)
    noted = LaneChanges(grouped.links.table).waiting(LANE, limit=100)
    message = SyncSignal.model_validate(body).deduplication_id()
    assert sorted((n.message, n.signal.record_id, n.signal.source_version) for n in noted) == [
        (message, i, f"{i}-v") for i in ids
    ]


def test_an_invoice_of_quickbooks_already_linked_joins_its_hubspot_records_group(
    sender: tuple[GroupedSender, Any, str],
) -> None:
    grouped, sqs, url = sender
    grouped.send(
        [
            _signal(Side.QUICKBOOKS, "q-invoice", pair=Pair.INVOICES),
            _signal(Side.QUICKBOOKS, "q-new", pair=Pair.INVOICES),
        ]
    )
    assert sorted((group, body["record_id"]) for group, body in _received(sqs, url)) == [
        ("c1:invoices:hs:h-invoice", "q-invoice"),
        ("c1:invoices:qbo:q-new", "q-new"),
    ]


def test_a_lone_record_keeps_its_own_message_and_an_import_is_split_in_hundreds(
    sender: tuple[GroupedSender, Any, str],
) -> None:
    grouped, sqs, url = sender
    grouped.send([_signal(Side.HUBSPOT, "alone")])
    grouped.send([_signal(Side.HUBSPOT, f"i{n:03}") for n in range(LIVE_BATCH + 20)])
    sizes = sorted(len(body["record_ids"]) for _, body in _received(sqs, url))
    assert sizes == [0, 20, LIVE_BATCH]


def test_the_hubspot_echo_of_a_write_the_link_saw_is_not_queued(sender: tuple[GroupedSender, Any, str]) -> None:
    grouped, sqs, url = sender
    echo = _signal(Side.HUBSPOT, "h-written").model_copy(update={"source_version": "001796580000123"})
    later = echo.model_copy(update={"source_version": "001796580000999"})  # a person's edit after our write
    assert grouped.send([echo]) == 0
    swept = echo.model_copy(update={"reason": Reason.SWEEP})  # the sweep's finding is always looked at
    assert grouped.send([later]) + grouped.send([swept]) == 2
    assert sorted(body["reason"] for _, body in _received(sqs, url)) == ["sweep", "webhook"]
