"""/health on moto: the report is read once per period, however many calls come."""

import boto3
import pytest

from hubbooks.config import Settings
from hubbooks.health import CachedHealth
from tests.support.aws import REGION, table_in_process


def test_a_flood_of_health_calls_reads_the_table_and_queue_once_a_period(monkeypatch: pytest.MonkeyPatch) -> None:
    with table_in_process(monkeypatch) as table:
        dynamodb, sqs = boto3.client("dynamodb", region_name=REGION), boto3.client("sqs", region_name=REGION)
        queue = sqs.create_queue(QueueName="sync.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        calls: list[str] = []
        for client in (dynamodb, sqs):
            client.meta.events.register("before-call.*.*", lambda model, **_: calls.append(model.name))
        settings = Settings(
            stack_name="s", table_name=table.name, idempotency_table_name="i", sync_queue_url=queue, token_key_id="k"
        )
        now = [0.0]
        health = CachedHealth(seconds=30, clock=lambda: now[0])
        reports = [health.report(settings, dynamodb, sqs) for _ in range(50)]
        assert {r.status for r in reports} == {"ok"}
        assert calls == ["DescribeTable", "GetQueueAttributes"]
        now[0] = 31
        health.report(settings, dynamodb, sqs)
        assert len(calls) == 4
