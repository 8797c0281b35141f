"""What a run would cost on AWS: the requests devstack's functions made to moto (DynamoDB, SQS, Secrets Manager)
and the functions' invocations, priced at AWS's published on-demand rates (us-east-1, arm64, no free tier).

DynamoDB units are not reported by moto; they are worked out from each request and answer as DynamoDB
bills them: reads by 4 KB of item (half for eventually consistent reads, double in transactions), writes by
1 KB of item (double in transactions). An update is sized by what it sends (DynamoDB bills the larger of the
item before and after, so large items are under-counted); item sizes follow DynamoDB's rules (names plus
values). Lambda duration is devstack's wall time per invocation on this 2-core machine, where every function,
moto and both emulators share the cores: an upper bound of what Lambda would bill.
"""

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bench.results import Metric
from devstack.meter import Meter, Request
from devstack.runtime import FunctionRuntime

# us-east-1 on-demand list prices, USD.
LAMBDA_GB_SECOND_ARM = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1e6
DYNAMODB_WRITE_UNIT = 0.625 / 1e6
DYNAMODB_READ_UNIT = 0.125 / 1e6
SQS_STANDARD_REQUEST = 0.40 / 1e6
SQS_FIFO_REQUEST = 0.50 / 1e6
HTTP_API_REQUEST = 1.00 / 1e6
SECRETS_MANAGER_CALL = 0.05 / 10_000
SQS_CHUNK = 64 * 1024  # every 64 KB of a request's payload is billed as one request

GATEWAY_FUNCTIONS = ("WebhookFunction", "OAuthFunction", "SettingsFunction", "ActionsFunction", "HealthFunction")


def value_size(value: dict[str, Any]) -> int:
    """A DynamoDB attribute value's size in bytes as DynamoDB counts it (wire JSON: {"S": "..."} etc.)."""
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        digits = len(str(Decimal(inner)).lstrip("-").replace(".", "").lstrip("0")) or 1
        return math.ceil(digits / 2) + 1
    if kind == "B":
        return len(inner) * 3 // 4
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: member}) for member in inner)
    if kind == "M":
        return 3 + sum(1 + item_size({name: member}) for name, member in inner.items())
    if kind == "L":
        return 3 + sum(1 + value_size(member) for member in inner)
    return 1  # BOOL, NULL


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def _reads(size: int, consistent: bool, factor: float = 1.0) -> float:
    return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5) * factor


def _writes(size: int, factor: float = 1.0) -> float:
    return max(1, math.ceil(size / 1024)) * factor


def _json(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def dynamodb_units(request: Request) -> tuple[float, float]:
    """(read units, write units) one DynamoDB request consumed."""
    sent, answered, operation = _json(request.sent), _json(request.answered), request.operation
    consistent = bool(sent.get("ConsistentRead"))
    if operation == "GetItem":
        return _reads(item_size(answered.get("Item", {})), consistent), 0.0
    if operation in ("Query", "Scan"):
        return _reads(sum(item_size(i) for i in answered.get("Items", [])), consistent), 0.0
    if operation == "BatchGetItem":
        items = [i for table in answered.get("Responses", {}).values() for i in table]
        return sum(_reads(item_size(i), consistent) for i in items), 0.0
    if operation == "TransactGetItems":
        return sum(_reads(item_size(r.get("Item", {})), True, 2) for r in answered.get("Responses", [])), 0.0
    if operation == "PutItem":
        return 0.0, _writes(item_size(sent.get("Item", {})))
    if operation in ("UpdateItem", "DeleteItem"):
        return 0.0, _writes(len(request.sent))
    if operation == "BatchWriteItem":
        puts = [r for table in sent.get("RequestItems", {}).values() for r in table]
        return 0.0, sum(_writes(item_size(r.get("PutRequest", {}).get("Item", {}))) for r in puts)
    if operation == "TransactWriteItems":
        return 0.0, sum(_writes(len(json.dumps(i)), 2) for i in sent.get("TransactItems", []))
    return 0.0, 0.0  # DescribeTable and the like: not billed per request


@dataclass(frozen=True)
class Bill:
    lambda_gb_seconds: float
    lambda_requests: int
    read_units: float
    write_units: float
    sqs_standard: int
    sqs_fifo: int
    gateway_requests: int
    secrets_calls: int

    def items(self) -> dict[str, float]:
        """USD per line of the bill."""
        return {
            "Lambda": self.lambda_gb_seconds * LAMBDA_GB_SECOND_ARM + self.lambda_requests * LAMBDA_REQUEST,
            "DynamoDB": self.read_units * DYNAMODB_READ_UNIT + self.write_units * DYNAMODB_WRITE_UNIT,
            "SQS": self.sqs_standard * SQS_STANDARD_REQUEST + self.sqs_fifo * SQS_FIFO_REQUEST,
            "API Gateway": self.gateway_requests * HTTP_API_REQUEST,
            "Secrets Manager": self.secrets_calls * SECRETS_MANAGER_CALL,
        }


def bill(requests: Iterable[Request], invocations: dict[str, tuple[int, float, int]]) -> Bill:
    """`invocations`: per function, (count, wall seconds, memory MB) over the run."""
    reads = writes = 0.0
    sqs: Counter[bool] = Counter()
    secrets = 0
    for request in requests:
        if request.service.startswith("DynamoDB"):
            read, write = dynamodb_units(request)
            reads, writes = reads + read, writes + write
        elif request.service == "AmazonSQS":
            fifo = str(_json(request.sent).get("QueueUrl", "")).endswith(".fifo")
            sqs[fifo] += max(1, math.ceil(len(request.sent) / SQS_CHUNK))
        elif request.service == "secretsmanager":
            secrets += 1
    return Bill(
        lambda_gb_seconds=sum(seconds * memory / 1024 for _, seconds, memory in invocations.values()),
        lambda_requests=sum(count for count, _, _ in invocations.values()),
        read_units=reads,
        write_units=writes,
        sqs_standard=sqs[False],
        sqs_fifo=sqs[True],
        gateway_requests=sum(invocations.get(f, (0, 0.0, 0))[0] for f in GATEWAY_FUNCTIONS),
        secrets_calls=secrets,
    )


def invocations_since(runtimes: dict[str, FunctionRuntime], marks: dict[str, int]) -> dict[str, tuple[int, float, int]]:
    """Per function, the invocations after `marks` (counts taken before the run)."""
    out = {}
    for name, runtime in runtimes.items():
        records = runtime.invocations[marks.get(name, 0) :]
        out[name] = (len(records), sum(r.duration_ms for r in records) / 1000, runtime.spec.memory_mb)
    return out


def metrics(meter: Meter, invocations: dict[str, tuple[int, float, int]], records: int, what: str) -> list[Metric]:
    """The run's bill scaled to 10,000 records, as metrics."""
    run = bill(meter.requests, invocations)
    scale = 10_000 / max(records, 1)
    lines = run.items()
    basis = f"{what}: {records} records in the run, scaled to 10,000"
    breakdown = ", ".join(f"{name} ${usd * scale:.4f}" for name, usd in lines.items())
    return [
        Metric(
            "AWS cost of 10,000 synced records",
            round(sum(lines.values()) * scale, 4),
            "USD",
            note=f"{basis}; {breakdown}; us-east-1 on-demand list prices, arm64, no free tier",
        ),
        Metric(
            "Lambda GB-seconds per 10,000 records",
            round(run.lambda_gb_seconds * scale, 1),
            "GB-s",
            note=f"{basis}; {round(run.lambda_requests * scale)} invocations; devstack wall time (an upper bound)",
        ),
        Metric(
            "DynamoDB read units per 10,000 records",
            round(run.read_units * scale),
            "RRU",
            note=f"{basis}; worked out from each request's items",
        ),
        Metric(
            "DynamoDB write units per 10,000 records",
            round(run.write_units * scale),
            "WRU",
            note=f"{basis}; worked out from each request's items",
        ),
        Metric(
            "SQS requests per 10,000 records",
            round((run.sqs_standard + run.sqs_fifo) * scale),
            "requests",
            note=f"{basis}; {round(run.sqs_fifo * scale)} FIFO; receives included (the event source mapping's "
            "polls are billed too)",
        ),
    ]
