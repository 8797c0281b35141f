"""The deployment itself: what devstack created from template.yaml, and /health through the gateway."""

import json

import requests

from demo.report import Report
from devstack import Devstack


def run(stack: Devstack, report: Report) -> None:
    report.section("Foundation: template.yaml deployed on devstack (moto), served by the local gateway")
    for logical_id, physical in sorted(stack.physical.items()):
        report.say(f"{logical_id:28} {physical}")
    for route in stack.routes:
        report.say(f"route {route.route_key:30} -> {route.function}")

    dynamodb, sqs = stack.client("dynamodb"), stack.client("sqs")
    table = dynamodb.describe_table(TableName=stack.physical["Table"])["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=stack.physical["Table"])["TimeToLiveDescription"]
    report.check(
        "table deployed",
        table["TableStatus"] == "ACTIVE" and ttl["TimeToLiveStatus"] == "ENABLED",
        f"{table['TableName']}: PK/SK, {len(table.get('GlobalSecondaryIndexes', []))} GSI, "
        f"TTL on '{ttl['AttributeName']}'",
    )
    queue = sqs.get_queue_attributes(QueueUrl=stack.physical["SyncQueue"], AttributeNames=["All"])["Attributes"]
    redrive = json.loads(queue["RedrivePolicy"])
    failures = stack.runtimes["SyncWorkerFunction"].spec.environment.get("HUBBOOKS_FAILURES_BEFORE_DEAD_LETTER")
    report.check(
        "sync queue deployed",
        queue["FifoQueue"] == "true" and str(failures) == "5" and redrive["maxReceiveCount"] > 5,
        f"FIFO, visibility {queue['VisibilityTimeout']} s; a signal is dead-lettered after {failures} failures "
        f"(throttles and outages back off uncounted; {redrive['maxReceiveCount']} receives at most)",
    )
    alarms = stack.client("cloudwatch").describe_alarms()["MetricAlarms"]
    report.check("dead-letter alarm", bool(alarms), ", ".join(a["AlarmName"] for a in alarms))

    response = requests.get(f"{stack.gateway_url}/health", timeout=10)
    report.check(
        "GET /health through the gateway",
        response.status_code == 200 and response.json().get("status") == "ok",
        f"{response.status_code} {response.text}",
    )
