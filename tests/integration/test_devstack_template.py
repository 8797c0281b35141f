"""template.yaml deployed into moto by devstack: the resources exist as the template configures them."""

import json
import sys
import threading
from typing import Any

import pytest
import requests

from devstack import Devstack

pytestmark = pytest.mark.devstack

# Actions that support no resource-level permissions, so "*" is the only possible resource.
_ACTIONS_WITHOUT_RESOURCES = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:PutMetricData"}
_ALLOWED_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}


def test_table_has_keys_index_ttl_and_recovery(hubbooks_stack: Devstack) -> None:
    dynamodb = hubbooks_stack.client("dynamodb")
    name = hubbooks_stack.physical["Table"]
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"PK": "HASH", "SK": "RANGE"}
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["GSI1", "ActiveConnections"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "ttl")
    backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    idempotency = dynamodb.describe_table(TableName=hubbooks_stack.physical["IdempotencyTable"])["Table"]
    assert idempotency["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]


def test_sync_queue_is_fifo_with_a_dead_letter_queue_behind_it(hubbooks_stack: Devstack) -> None:
    sqs = hubbooks_stack.client("sqs")
    queue = sqs.get_queue_attributes(QueueUrl=hubbooks_stack.physical["SyncQueue"], AttributeNames=["All"])
    attributes = queue["Attributes"]
    assert hubbooks_stack.physical["SyncQueue"].endswith("hubbooks-test-sync.fifo")
    assert attributes["FifoQueue"] == "true"
    assert attributes["VisibilityTimeout"] == "360"
    assert attributes["SqsManagedSseEnabled"] == "true"
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["maxReceiveCount"] == 50  # a ceiling: the worker dead-letters after five failures
    assert redrive["deadLetterTargetArn"].endswith("hubbooks-test-sync-dlq.fifo")


def test_a_conditional_write_is_won_once_when_many_race(hubbooks_stack: Devstack) -> None:
    """DynamoDB makes a condition's check and its write one step; leases (token refresh, sweeps) rely on it."""
    dynamodb = hubbooks_stack.client("dynamodb")
    name = hubbooks_stack.physical["Table"]
    racers, switch = 8, sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # moto's server threads run in this process: interleave them as often as can be
    try:
        _race(dynamodb, name, racers)
    finally:
        sys.setswitchinterval(switch)


def _claim(
    dynamodb: Any, name: str, key: dict[str, Any], *, owner: int, start: threading.Barrier, won: list[int]
) -> None:
    start.wait()
    try:
        dynamodb.update_item(
            TableName=name,
            Key=key,
            UpdateExpression="SET lease_owner = :me",
            ConditionExpression="attribute_not_exists(lease_owner)",
            ExpressionAttributeValues={":me": {"N": str(owner)}},
        )
        won.append(owner)
    except dynamodb.exceptions.ConditionalCheckFailedException:
        pass


def _race(dynamodb: Any, name: str, racers: int) -> None:
    for race in range(10):
        key = {"PK": {"S": f"RACE#{race}"}, "SK": {"S": "LEASE"}}
        start, won = threading.Barrier(racers), list[int]()
        threads = [
            threading.Thread(
                target=_claim, args=(dynamodb, name, key), kwargs={"owner": owner, "start": start, "won": won}
            )
            for owner in range(racers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        item = dynamodb.get_item(TableName=name, Key=key)["Item"]
        assert [int(item["lease_owner"]["N"])] == won, f"race {race}: {won} all passed the condition"


def test_token_key_rotates(hubbooks_stack: Devstack) -> None:
    kms = hubbooks_stack.client("kms")
    key_id = hubbooks_stack.physical["TokenKey"]
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Enabled"] is True
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    aliases = {a["AliasName"] for a in kms.list_aliases(KeyId=key_id)["Aliases"]}
    assert "alias/hubbooks-test-tokens" in aliases


def test_dead_letter_alarm_fires_on_any_message(hubbooks_stack: Devstack) -> None:
    alarms = hubbooks_stack.client("cloudwatch").describe_alarms(AlarmNames=["hubbooks-test-sync-dlq-not-empty"])
    (alarm,) = alarms["MetricAlarms"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": "hubbooks-test-sync-dlq.fifo"}]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0.0)
    assert alarm["AlarmActions"] == [hubbooks_stack.physical["AlarmTopic"]]


def test_health_answers_through_the_gateway(hubbooks_stack: Devstack) -> None:
    response = requests.get(f"{hubbooks_stack.gateway_url}/health", timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {c["name"]: c["ok"] for c in body["checks"]} == {"table": True, "sync_queue": True}


def test_unknown_route_is_404(hubbooks_stack: Devstack) -> None:
    assert requests.get(f"{hubbooks_stack.gateway_url}/nope", timeout=10).status_code == 404
    assert requests.post(f"{hubbooks_stack.gateway_url}/health", timeout=10).status_code == 404


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def test_iam_policies_name_their_resources(hubbooks_stack: Devstack) -> None:
    resources = hubbooks_stack.transformed["Resources"]
    roles = {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::IAM::Role"}
    assert roles, "every function has a role"
    for logical_id, role in roles.items():
        managed = {
            a["Fn::Sub"].replace("${AWS::Partition}", "aws") if isinstance(a, dict) else a
            for a in role.get("ManagedPolicyArns", [])
        }
        assert managed <= _ALLOWED_MANAGED_POLICIES, logical_id
        for policy in role.get("Policies", []):
            for statement in _statements(policy["PolicyDocument"]):
                if statement["Effect"] != "Allow" or statement.get("Resource") != "*":
                    continue
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert set(actions) <= _ACTIONS_WITHOUT_RESOURCES, f"{logical_id}: {actions} on '*'"
