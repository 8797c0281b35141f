"""devstack's changes to moto's SQS keep what a receive hands out: messages in flight, delayed or of a FIFO group
with one in flight stay back; the rest come out in order (moto in this process)."""

import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from devstack import moto_queues
from tests.support.aws import REGION, table_in_process


def _fifo_queue(name: str) -> tuple[Any, str]:
    sqs = boto3.client("sqs", region_name=REGION)
    attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    return sqs, sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]


def test_a_receive_hands_out_what_sqs_would_with_visibility_told_from_the_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    moto_queues.install()
    with table_in_process(monkeypatch):
        sqs, url = _fifo_queue("q.fifo")
        for n in range(3):
            sqs.send_message(QueueUrl=url, MessageBody=f"a{n}", MessageGroupId="a")
        sqs.send_message(QueueUrl=url, MessageBody="b0", MessageGroupId="b")
        first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=30)["Messages"]
        assert [m["Body"] for m in first] == ["a0", "a1"]
        # Group a has messages in flight: only b's comes out, then nothing.
        assert [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]] == ["b0"]
        assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first[0]["ReceiptHandle"], VisibilityTimeout=0)
        sqs.delete_message(QueueUrl=url, ReceiptHandle=first[1]["ReceiptHandle"])
        again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert [m["Body"] for m in again] == ["a0", "a2"]  # given back: visible at once, first in its group

        plain = sqs.create_queue(QueueName="plain")["QueueUrl"]
        sqs.send_message(QueueUrl=plain, MessageBody="later", DelaySeconds=60)
        sqs.send_message(QueueUrl=plain, MessageBody="now")
        assert [m["Body"] for m in sqs.receive_message(QueueUrl=plain, MaxNumberOfMessages=10)["Messages"]] == ["now"]


def test_a_long_poll_on_a_group_in_flight_looks_again_now_and_then_not_without_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    moto_queues.install()
    walks = []
    counted = moto_queues.Queue.messages.fget  # type: ignore[attr-defined]
    monkeypatch.setattr(moto_queues.Queue, "messages", property(lambda queue: walks.append(1) or counted(queue)))
    with table_in_process(monkeypatch):
        sqs, url = _fifo_queue("lane.fifo")
        for n in range(5):
            sqs.send_message(QueueUrl=url, MessageBody=f"m{n}", MessageGroupId="lane")
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=30)  # the lane's delivery
        walks.clear()
        assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        # Every 50 ms for a second; moto's own wait ended at once on the visible messages and walked them
        # again without pause (thousands of times a second).
        assert 5 <= len(walks) <= 2 * (1 / moto_queues.RECHECK_SECONDS) + 5


def test_receives_at_once_never_hand_out_one_fifo_group_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    moto_queues.install()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # threads take turns inside a receive's walk of the queue, as a busy process's do
    try:
        with table_in_process(monkeypatch):
            sqs, url = _fifo_queue("race.fifo")
            for start in range(0, 3000, 10):  # a backlog of a group in flight, that every receive walks past
                entries = [{"Id": str(n), "MessageBody": f"z{start + n}", "MessageGroupId": "z"} for n in range(10)]
                sqs.send_message_batch(QueueUrl=url, Entries=entries)
            sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=300)
            for n in range(8):
                sqs.send_message(QueueUrl=url, MessageBody=f"lane{n}", MessageGroupId="lane")
            together = threading.Barrier(6)

            def receive() -> list[str]:
                together.wait()
                answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=300)
                return [m["Body"] for m in answer.get("Messages", [])]

            with ThreadPoolExecutor(6) as pool:
                handed = [body for bodies in pool.map(lambda _: receive(), range(6)) for body in bodies]
    finally:
        sys.setswitchinterval(interval)
    assert handed == ["lane0"]  # the lane's first message, to one receive: the rest wait for it
