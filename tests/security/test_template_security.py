"""template.yaml grants each function only what it needs, encrypts everything at rest, and exposes nothing
but the HTTP API."""

from pathlib import Path
from typing import Any

import pytest

from devstack.cfn_yaml import load_template

pytestmark = pytest.mark.security

ROOT = Path(__file__).resolve().parents[2]
RESOURCES: dict[str, Any] = load_template(ROOT / "template.yaml")["Resources"]
FUNCTIONS = {k: v["Properties"] for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"}
# Functions fed by a queue have an explicit role: SAM's SQS event would add a managed policy over every queue.
ROLES = {k: props["Role"]["Fn::GetAtt"][0] for k, props in FUNCTIONS.items() if "Role" in props}

# What each function may do, by SAM policy template or explicit statement: the least each one needs.
TABLE_WRITE = {"DynamoDBCrudPolicy"}
SECRETS = {"AWSSecretsManagerGetSecretValuePolicy"}
EXPECTED_TEMPLATES = {
    "HealthFunction": set(),
    "OAuthFunction": TABLE_WRITE | SECRETS,
    "WebhookFunction": {"DynamoDBReadPolicy", "SQSSendMessagePolicy"} | SECRETS,
    "ActionsFunction": TABLE_WRITE | {"SQSSendMessagePolicy"} | SECRETS,
    "ReconcileFunction": set(),  # a role of its own (ROLES)
    "SettingsFunction": TABLE_WRITE | {"SQSSendMessagePolicy"} | SECRETS,
}
# Who may use the token key (only with a connection's encryption context) and read the signing key.
TOKEN_USERS = {"OAuthFunction", "ActionsFunction", "ReconcileFunction", "SettingsFunction", "SyncWorkerFunction"}
SIGNERS = {"OAuthFunction", "SettingsFunction"}
OWN_RESOURCES = {
    "Table",
    "SyncQueue",
    "TokenKey",
    "AppSecret",
    "SigningSecret",
    "IdempotencyTable",
    "SyncDeadLetterQueue",
    "SweepQueue",
}


def _statements(props: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for policy in props.get("Policies", []):
        if isinstance(policy, dict) and "Statement" in policy:
            found += policy["Statement"]
    return found


def _refs(value: Any) -> set[str]:
    """Logical ids a template value points at (Ref, GetAtt, Sub)."""
    if isinstance(value, dict):
        refs: set[str] = set()
        for key, inner in value.items():
            if key == "Ref":
                refs.add(str(inner))
            elif key == "Fn::GetAtt":
                refs.add(str(inner[0] if isinstance(inner, list) else inner).split(".")[0])
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                refs |= {part.split("}")[0].split(".")[0] for part in str(text).split("${")[1:]}
            else:
                refs |= _refs(inner)
        return refs
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value)) if value else set()
    return set()


@pytest.mark.parametrize("logical_id", sorted(EXPECTED_TEMPLATES))
def test_each_function_has_only_the_policy_templates_it_needs(logical_id: str) -> None:
    props = FUNCTIONS[logical_id]
    templates = {next(iter(p)) for p in props.get("Policies", []) if isinstance(p, dict) and "Statement" not in p}
    assert templates == EXPECTED_TEMPLATES[logical_id]
    for policy in props.get("Policies", []):
        if isinstance(policy, dict) and "Statement" not in policy:
            assert _refs(next(iter(policy.values()))) <= OWN_RESOURCES  # scoped to this stack's own resources


def test_no_function_statement_grants_a_wildcard_action_or_resource() -> None:
    statements = [s for logical_id in FUNCTIONS for s in _grants(logical_id)]
    assert statements
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), statement
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert all(resource != "*" for resource in resources), statement
        assert _refs(resources) <= OWN_RESOURCES, statement


@pytest.mark.parametrize(
    ("logical_id", "queue"), [("SyncWorkerFunction", "SyncQueue"), ("ReconcileFunction", "SweepQueue")]
)
def test_a_queue_fed_function_consumes_its_own_queue_only(logical_id: str, queue: str) -> None:
    role = RESOURCES[ROLES[logical_id]]["Properties"]
    managed = [str(arn) for arn in role["ManagedPolicyArns"]]
    assert not any("SQSQueueExecution" in arn or "FullAccess" in arn for arn in managed)
    assert "Policies" not in FUNCTIONS[logical_id]
    consumes = [s for s in _grants(logical_id) if "sqs:ReceiveMessage" in s["Action"]]
    assert [_refs(s["Resource"]) for s in consumes] == [{queue}]


def test_the_webhook_function_writes_only_the_lane_notes() -> None:
    """It reads the table (links, connections) and may write nothing but the changes it notes in a lane."""
    [statement] = _statements(FUNCTIONS["WebhookFunction"])
    assert set(statement["Action"]) == {"dynamodb:PutItem", "dynamodb:BatchWriteItem"}
    assert statement["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["LANE#*"]}}


def test_data_is_encrypted_at_rest() -> None:
    tables = [v["Properties"] for v in RESOURCES.values() if v["Type"] == "AWS::DynamoDB::Table"]
    queues = [v["Properties"] for v in RESOURCES.values() if v["Type"] == "AWS::SQS::Queue"]
    topics = [v["Properties"] for v in RESOURCES.values() if v["Type"] == "AWS::SNS::Topic"]
    secrets = [v["Properties"] for v in RESOURCES.values() if v["Type"] == "AWS::SecretsManager::Secret"]
    assert len(tables) == 2
    assert len(queues) == 3
    assert all(t["SSESpecification"]["SSEEnabled"] is True for t in tables)
    assert all(q.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in q for q in queues)
    assert all("KmsMasterKeyId" in t for t in topics)
    assert len(secrets) == 2  # Secrets Manager encrypts each, with its own key where none is named
    assert RESOURCES["TokenKey"]["Properties"].get("EnableKeyRotation") is True


def test_nothing_is_public_but_the_http_api() -> None:
    public_types = {
        "AWS::Lambda::Url",
        "AWS::Lambda::Permission",
        "AWS::S3::Bucket",
        "AWS::SQS::QueuePolicy",
        "AWS::SNS::TopicPolicy",
        "AWS::ApiGateway::RestApi",
        "AWS::Serverless::Api",
    }
    assert not [k for k, v in RESOURCES.items() if v["Type"] in public_types]
    assert not [k for k, props in FUNCTIONS.items() if "FunctionUrlConfig" in props]
    apis = [k for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::HttpApi"]
    assert apis == ["HttpApi"]
    http_events = {
        e["Properties"]["ApiId"]["Ref"]
        for props in FUNCTIONS.values()
        for e in props.get("Events", {}).values()
        if e["Type"] == "HttpApi"
    }
    assert http_events == {"HttpApi"}
    key_policy = RESOURCES["TokenKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert all("AWS" in s["Principal"] and s["Principal"] != "*" for s in key_policy)


def _grants(logical_id: str) -> list[dict[str, Any]]:
    """Every statement a function's role holds: its own statements, or its explicit role's."""
    if logical_id in ROLES:
        role = RESOURCES[ROLES[logical_id]]["Properties"]
        return [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    return _statements(FUNCTIONS[logical_id])


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_only_the_functions_that_call_the_providers_use_the_token_key_and_only_with_a_connections_context(
    logical_id: str,
) -> None:
    on_key = [s for s in _grants(logical_id) if "TokenKey" in _refs(s.get("Resource"))]
    if logical_id not in TOKEN_USERS:  # the webhook function above all: it faces the internet unauthenticated
        assert on_key == []
        return
    assert on_key
    for statement in on_key:
        assert set(statement["Action"]) <= {"kms:Encrypt", "kms:Decrypt"}
        context = statement["Condition"]["ForAllValues:StringEquals"]["kms:EncryptionContextKeys"]
        assert sorted(context) == ["connection", "provider"]
        assert statement["Condition"]["Null"]["kms:EncryptionContextKeys"] == "false"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_only_the_functions_that_sign_sessions_and_states_can_read_the_signing_key(logical_id: str) -> None:
    props = FUNCTIONS[logical_id]
    reads = {
        ref
        for policy in props.get("Policies", [])
        if isinstance(policy, dict) and "AWSSecretsManagerGetSecretValuePolicy" in policy
        for ref in _refs(policy["AWSSecretsManagerGetSecretValuePolicy"])
    } | {ref for s in _grants(logical_id) for ref in _refs(s.get("Resource")) if ref.endswith("Secret")}
    assert ("SigningSecret" in reads) == (logical_id in SIGNERS)
    given = "HUBBOOKS_SIGNING_SECRET_ARN" in (props.get("Environment") or {}).get("Variables", {})
    assert given == (logical_id in SIGNERS)


def test_the_app_credentials_are_not_encrypted_with_the_token_key() -> None:
    """Reading the credentials must not need (and so grant) a right to decrypt every tenant's tokens."""
    assert "KmsKeyId" not in RESOURCES["AppSecret"]["Properties"]
    assert "KmsKeyId" not in RESOURCES["SigningSecret"]["Properties"]


def test_every_function_logs_to_a_group_that_expires() -> None:
    """Lambda's own log groups never expire; each function's is declared with a retention."""
    groups = {
        next(iter(_refs(props["LogGroupName"]) - {"AWS"})): props.get("RetentionInDays")
        for props in (v["Properties"] for v in RESOURCES.values() if v["Type"] == "AWS::Logs::LogGroup")
        if "/aws/lambda/" in str(props["LogGroupName"])
    }
    assert groups == dict.fromkeys(FUNCTIONS, 30)


def test_the_anonymous_routes_are_throttled_at_the_edge() -> None:
    routes = RESOURCES["HttpApi"]["Properties"]["RouteSettings"]
    for route in (
        "GET /connect/hubspot",
        "GET /oauth/hubspot/callback",
        "GET /oauth/quickbooks/callback",
        "GET /health",
    ):
        assert routes[route]["ThrottlingRateLimit"] <= 5
