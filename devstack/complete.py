"""Applies the template settings moto's CloudFormation skips, from the template's own properties.

moto creates tables without their TTL or point-in-time recovery, stores a KMS key policy given in a
template as an object (which then breaks every call on the key), and has no CloudFormation support for
CloudWatch alarms; devstack sets those through the service APIs so the stack matches the template.
"""

import json
import secrets
import string
from collections.abc import Callable
from typing import Any

from devstack.intrinsics import Resolver


def _table(logical_id: str, props: dict[str, Any], clients: Callable[[str], Any], resolver: Resolver) -> None:
    dynamodb = clients("dynamodb")
    name = resolver.ref(logical_id)
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
    pitr = props.get("PointInTimeRecoverySpecification", {})
    if pitr.get("PointInTimeRecoveryEnabled"):
        dynamodb.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )


def _alarm(logical_id: str, props: dict[str, Any], clients: Callable[[str], Any], resolver: Resolver) -> None:
    resolved = {"AlarmName": logical_id, **resolver.resolve(props)}
    clients("cloudwatch").put_metric_alarm(**resolved)


def _key(logical_id: str, props: dict[str, Any], clients: Callable[[str], Any], resolver: Resolver) -> None:
    policy = resolver.resolve(props["KeyPolicy"])
    kms = clients("kms")
    kms.put_key_policy(KeyId=resolver.ref(logical_id), PolicyName="default", Policy=json.dumps(policy))
    if props.get("EnableKeyRotation"):
        kms.enable_key_rotation(KeyId=resolver.ref(logical_id))


def secret_names(template: dict[str, Any], resolver: Resolver) -> dict[str, str]:
    """The name of each Secrets Manager secret, known before the stack exists (names use parameters only)."""
    return {
        logical_id: str(resolver.resolve(resource["Properties"]["Name"]))
        for logical_id, resource in template["Resources"].items()
        if resource.get("Type") == "AWS::SecretsManager::Secret"
    }


def _generated(spec: dict[str, Any]) -> str:
    alphabet = string.ascii_letters + string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
    value = "".join(secrets.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))
    if "SecretStringTemplate" not in spec:
        return value
    document = json.loads(spec["SecretStringTemplate"])
    document[spec["GenerateStringKey"]] = value
    return json.dumps(document)


def _secret(logical_id: str, props: dict[str, Any], clients: Callable[[str], Any], resolver: Resolver) -> None:
    resolved = resolver.resolve(props)
    value = resolved.get("SecretString") or _generated(resolved.get("GenerateSecretString", {}))
    extra = {k: resolved[k] for k in ("Description", "KmsKeyId") if k in resolved}
    clients("secretsmanager").create_secret(Name=resolved["Name"], SecretString=value, **extra)


_COMPLETERS = {
    "AWS::SecretsManager::Secret": _secret,
    "AWS::KMS::Key": _key,
    "AWS::DynamoDB::Table": _table,
    "AWS::CloudWatch::Alarm": _alarm,
}


def complete_stack(template: dict[str, Any], clients: Callable[[str], Any], resolver: Resolver) -> None:
    for logical_id, resource in template["Resources"].items():
        completer = _COMPLETERS.get(resource.get("Type", ""))
        condition = resource.get("Condition")
        if completer is not None and (condition is None or resolver.conditions.get(condition)):
            completer(logical_id, resource.get("Properties", {}), clients, resolver)
