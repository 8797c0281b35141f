"""The sweep's tick at many tenants: what one tick reads and how long it takes as the connections' records
grow, beside the whole-table scan it replaced. moto in this process, the table as the template defines it."""

import time
from typing import Any

import boto3
from moto import mock_aws

from bench.results import Metric
from devstack import moto_queues, moto_transactions
from devstack.cfn_yaml import load_template
from devstack.stack import ROOT
from hubbooks.models.connection import Connection, ConnectionStatus
from hubbooks.queue import SweepRequests
from hubbooks.store.connections import ConnectionRepository
from hubbooks.store.keys import connection_pk, history_sk, link_sk
from hubbooks.store.table import Table

REGION = "us-east-1"


def _grow(table: Any, connection_ids: list[str], records: int, start: int) -> None:
    """Each connection gains `records` linked pairs (two link items each) and a history entry per pair."""
    with table.batch_writer() as batch:
        for cid in connection_ids:
            for n in range(start, start + records):
                pk = connection_pk(cid)
                batch.put_item(Item={"PK": pk, "SK": link_sk("contacts", "hs", str(n)), "other_id": f"q{n}"})
                batch.put_item(Item={"PK": pk, "SK": link_sk("contacts", "qbo", f"q{n}"), "other_id": str(n)})
                batch.put_item(Item={"PK": pk, "SK": history_sk(f"2026-12-01T00:00:{n:06d}", "x"), "action": "linked"})


def _tick(connections: ConnectionRepository, requests: SweepRequests) -> tuple[float, int]:
    started = time.perf_counter()
    queued = requests.send(c.connection_id for c in connections.active())
    return time.perf_counter() - started, queued


def _scanned(table: Any) -> int:
    """Items the old tick's scan for connections read: every item of the table."""
    kwargs: dict[str, Any] = {"Select": "COUNT"}
    scanned: int = 0
    while True:
        page = table.scan(**kwargs)
        scanned += int(page["ScannedCount"])
        if "LastEvaluatedKey" not in page:
            return scanned
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _indexed(table: Any) -> int:
    kwargs: dict[str, Any] = {
        "IndexName": "ActiveConnections",
        "KeyConditionExpression": "ActivePK = :a",
        "ExpressionAttributeValues": {":a": "ACTIVE"},
        "Select": "COUNT",
    }
    read: int = 0
    while True:
        page = table.query(**kwargs)
        read += int(page["ScannedCount"])
        if "LastEvaluatedKey" not in page:
            return read
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def measure(tenants: int, records: tuple[int, int]) -> list[Metric]:
    moto_transactions.install()  # a transaction's backup is its items, not the whole table
    moto_queues.install()  # a message sent does not count the backlog
    with mock_aws():
        defined = load_template(ROOT / "template.yaml")["Resources"]["Table"]["Properties"]
        table = boto3.resource("dynamodb", region_name=REGION).create_table(
            TableName="bench",
            BillingMode="PAY_PER_REQUEST",
            **{k: defined[k] for k in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes")},
        )
        sqs = boto3.client("sqs", region_name=REGION)
        connections = ConnectionRepository(Table(table))
        ids = [f"t{n:05d}" for n in range(tenants)]
        for n, cid in enumerate(ids):
            connection = connections.bind_realm(connections.create(Connection(connection_id=cid, portal_id=n)), str(n))
            connections.save(connection.model_copy(update={"status": ConnectionStatus.ACTIVE}))
        figures: list[tuple[int, float, int, int]] = []
        grown = 0
        for size in records:
            _grow(table, ids, size - grown, grown)
            grown = size
            queue_url = sqs.create_queue(QueueName=f"sweep-{size}")["QueueUrl"]
            seconds, queued = _tick(connections, SweepRequests(sqs, queue_url))
            figures.append((size, seconds, _indexed(table), _scanned(table)))
            assert queued == tenants
        small, large = figures
    note = (
        f"{tenants} active connections; {small[0]} then {large[0]} linked pairs each (links and history: "
        f"{small[3]:,} then {large[3]:,} items in the table); moto in this process"
    )
    return [
        Metric(
            f"sweep tick items read at {tenants} tenants",
            large[2],
            "items",
            naive=large[3],
            note=f"{small[2]} items read at {small[0]} pairs a tenant, {large[2]} at {large[0]}: the sparse index "
            f"holds the connections and nothing else; naive: the whole-table scan it replaced. {note}",
        ),
        Metric(
            f"sweep tick duration at {tenants} tenants",
            round(large[1] * 1000),
            "ms",
            note=f"{small[1] * 1000:.0f} ms at {small[0]} pairs a tenant, {large[1] * 1000:.0f} ms at {large[0]}: "
            f"the index query and one request queued per connection (sends of 10). {note}",
        ),
    ]
