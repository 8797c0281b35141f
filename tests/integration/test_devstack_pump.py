"""devstack's queue pump and scheduler, proven with a test-only fixture stack (tests/fixtures/pump)."""

import json
import time
from typing import Any

import pytest

from devstack import Devstack

pytestmark = [pytest.mark.devstack, pytest.mark.slow]


def _send(stack: Devstack, group: str, seq: int, **extra: Any) -> None:
    stack.client("sqs").send_message(
        QueueUrl=stack.physical["WorkQueue"],
        MessageBody=json.dumps({"seq": seq, **extra}),
        MessageGroupId=group,
        MessageDeduplicationId=f"{group}-{seq}-{time.time_ns()}",
    )


def _records(stack: Devstack, partition: str) -> list[dict[str, Any]]:
    table = stack.client("dynamodb")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": stack.physical["RecordTable"],
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": partition}},
    }
    while True:
        page = table.query(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_fifo_order_holds_within_each_group_while_groups_run_in_parallel(pump_stack: Devstack) -> None:
    groups = ["alpha", "beta", "gamma"]
    for seq in range(8):
        for group in groups:
            _send(pump_stack, group, seq, sleep=0.05)
    assert pump_stack.wait_idle(timeout=60)
    spans: list[tuple[int, int, str]] = []
    for group in groups:
        items = sorted(_records(pump_stack, f"group#{group}"), key=lambda i: int(i["started"]["N"]))
        assert [int(i["seq"]["N"]) for i in items] == list(range(8)), group
        spans.extend((int(i["started"]["N"]), int(i["ended"]["N"]), group) for i in items)
    overlapping = {(a[2], b[2]) for a in spans for b in spans if a[2] != b[2] and a[0] < b[1] and b[0] < a[1]}
    assert overlapping, "records of different groups never ran at the same time"


def test_a_failing_record_is_retried_then_dead_lettered_after_five_receives(pump_stack: Devstack) -> None:
    _send(pump_stack, "ok-neighbour", 1)
    _send(pump_stack, "poison", 1, fail=True)
    assert pump_stack.wait_idle(timeout=60)
    attempts = sorted(int(i["receive_count"]["N"]) for i in _records(pump_stack, "group#poison"))
    assert attempts == [1, 2, 3, 4, 5]
    assert [int(i["receive_count"]["N"]) for i in _records(pump_stack, "group#ok-neighbour")] == [1]
    dead = pump_stack.client("sqs").receive_message(
        QueueUrl=pump_stack.physical["WorkDeadLetterQueue"],
        MaxNumberOfMessages=10,
        MessageSystemAttributeNames=["All"],
    )["Messages"]
    assert [(json.loads(m["Body"])["seq"], m["Attributes"]["MessageGroupId"]) for m in dead] == [(1, "poison")]


def test_schedule_fires_on_its_scaled_rate(pump_stack: Devstack) -> None:
    assert pump_stack.scheduler.period("TickFunctionEvery") == pytest.approx(0.6)
    deadline = time.monotonic() + 15
    ticks: list[dict[str, Any]] = []
    while time.monotonic() < deadline and len(ticks) < 2:
        ticks = _records(pump_stack, "tick")
        time.sleep(0.2)
    assert len(ticks) >= 2
    assert ticks[0]["payload"]["M"]["tick"]["S"] == "scheduled"
