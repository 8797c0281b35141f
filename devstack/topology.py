"""What a deployed template asks devstack to run: functions, HTTP routes, queue mappings, schedules."""

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.intrinsics import Resolver

_FUNCTION_IN_URI = re.compile(r"\$\{(\w+)\.Arn\}")
_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    timeout_seconds: int
    memory_mb: int
    layer_dirs: tuple[Path, ...]


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str
    function: str

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class QueueMappingSpec:
    function: str
    queue_url: str
    queue_arn: str
    batch_size: int
    report_batch_item_failures: bool
    visibility_timeout_seconds: int


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    function: str
    period_seconds: int
    payload: dict[str, Any]


def _of_type(template: dict[str, Any], type_name: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource.get("Properties", {})
        for logical_id, resource in template["Resources"].items()
        if resource.get("Type") == type_name
    }


def functions(
    template: dict[str, Any], code_dirs: dict[str, Path], physical: dict[str, str], lambda_client: Any
) -> dict[str, FunctionSpec]:
    """Each Lambda function as moto deployed it (handler, resolved environment) with its local code."""
    layer_keys = {
        logical_id: props["Content"]["S3Key"]
        for logical_id, props in _of_type(template, "AWS::Lambda::LayerVersion").items()
    }
    specs: dict[str, FunctionSpec] = {}
    for logical_id, props in _of_type(template, "AWS::Lambda::Function").items():
        config = lambda_client.get_function_configuration(FunctionName=physical[logical_id])
        layers = tuple(code_dirs[layer_keys[layer["Ref"]]] for layer in props.get("Layers", []))
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            name=config["FunctionName"],
            arn=config["FunctionArn"],
            code_dir=code_dirs[props["Code"]["S3Key"]],
            handler=config["Handler"],
            environment=dict(config.get("Environment", {}).get("Variables", {})),
            timeout_seconds=int(config.get("Timeout", 3)),
            memory_mb=int(config.get("MemorySize", 128)),
            layer_dirs=layers,
        )
    return specs


def routes(template: dict[str, Any]) -> list[RouteSpec]:
    """HttpApi routes, read from the OpenAPI body SAM generates for each AWS::ApiGatewayV2::Api."""
    found: list[RouteSpec] = []
    for props in _of_type(template, "AWS::ApiGatewayV2::Api").values():
        for path, operations in props.get("Body", {}).get("paths", {}).items():
            for method, operation in operations.items():
                uri = operation.get("x-amazon-apigateway-integration", {}).get("uri", {})
                match = _FUNCTION_IN_URI.search(json.dumps(uri))
                if match is None:
                    continue
                verb = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
                found.append(RouteSpec(method=verb, path=path, function=match.group(1)))
    return found


def queue_mappings(template: dict[str, Any], sqs: Any, resolver: Resolver) -> list[QueueMappingSpec]:
    mappings: list[QueueMappingSpec] = []
    for props in _of_type(template, "AWS::Lambda::EventSourceMapping").values():
        queue_logical_id = props["EventSourceArn"]["Fn::GetAtt"][0]
        queue_url = resolver.ref(queue_logical_id)
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
        mappings.append(
            QueueMappingSpec(
                function=props["FunctionName"]["Ref"],
                queue_url=queue_url,
                queue_arn=attributes["QueueArn"],
                batch_size=int(props.get("BatchSize", 10)),
                report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                visibility_timeout_seconds=int(attributes["VisibilityTimeout"]),
            )
        )
    return mappings


def parse_rate(expression: str) -> int:
    """Seconds between runs of an EventBridge `rate(...)` expression."""
    match = _RATE.match(expression.strip())
    if match is None:
        raise ValueError(f"devstack runs rate() schedules only, not {expression!r}")
    amount, unit = int(match.group(1)), match.group(2).rstrip("s")
    return amount * _UNIT_SECONDS[unit]


def schedules(template: dict[str, Any], resolver: Resolver) -> list[ScheduleSpec]:
    found: list[ScheduleSpec] = []
    for logical_id, props in _of_type(template, "AWS::Scheduler::Schedule").items():
        if props.get("State", "ENABLED") != "ENABLED":
            continue
        target = props["Target"]
        payload = json.loads(resolver.resolve(target["Input"])) if "Input" in target else {}
        found.append(
            ScheduleSpec(
                name=logical_id,
                function=target["Arn"]["Fn::GetAtt"][0],
                period_seconds=parse_rate(resolver.resolve(props["ScheduleExpression"])),
                payload=payload,
            )
        )
    return found
