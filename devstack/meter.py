"""A meter on moto's server: what devstack's functions asked of DynamoDB, SQS and Secrets Manager, in the units
AWS bills them, so that a run can be priced.

It sits in front of moto's dispatcher, in whichever process serves moto, and answers `/_devstack/meter`:
POST starts a count (every request from then on), GET reads it, DELETE reads it and stops counting.
Requests are told apart by their `X-Amz-Target` header (the JSON protocol boto3 speaks to these services).

DynamoDB reports no units through moto; they are worked out from each request and answer as DynamoDB bills:
reads by 4 KB of item (half for eventually consistent reads, double in transactions), writes by 1 KB of item
(double in transactions). An update or delete is sized by what it sends (DynamoDB bills the larger of the
item before and after, so large items are under-counted). SQS bills every 64 KB of a request as one.
"""

import io
import json
import math
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import requests
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

PATH = "/_devstack/meter"
SQS_CHUNK = 64 * 1024


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


def dynamodb_units(operation: str, sent: bytes, answered: bytes) -> tuple[float, float]:
    """(read units, write units) one DynamoDB request consumed."""
    asked, answer = _json(sent), _json(answered)
    consistent = bool(asked.get("ConsistentRead"))
    if operation == "GetItem":
        return _reads(item_size(answer.get("Item", {})), consistent), 0.0
    if operation in ("Query", "Scan"):
        return _reads(sum(item_size(i) for i in answer.get("Items", [])), consistent), 0.0
    if operation == "BatchGetItem":
        items = [i for table in answer.get("Responses", {}).values() for i in table]
        return sum(_reads(item_size(i), consistent) for i in items), 0.0
    if operation == "TransactGetItems":
        return sum(_reads(item_size(r.get("Item", {})), True, 2) for r in answer.get("Responses", [])), 0.0
    if operation == "PutItem":
        return 0.0, _writes(item_size(asked.get("Item", {})))
    if operation in ("UpdateItem", "DeleteItem"):
        return 0.0, _writes(len(sent))
    if operation == "BatchWriteItem":
        puts = [r for table in asked.get("RequestItems", {}).values() for r in table]
        return 0.0, sum(_writes(item_size(r.get("PutRequest", {}).get("Item", {}))) for r in puts)
    if operation == "TransactWriteItems":
        return 0.0, sum(_writes(len(json.dumps(i)), 2) for i in asked.get("TransactItems", []))
    return 0.0, 0.0  # DescribeTable and the like: not billed per request


class _Count:
    """What the requests since a count's start come to, in billed units."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.units: dict[str, float] = defaultdict(float)
        self.operations: Counter[str] = Counter()
        self.on = False

    def add(self, target: str, sent: bytes, answered: bytes) -> None:
        service, _, operation = target.partition(".")
        units: dict[str, float] = {}
        if service.startswith("DynamoDB"):
            units["dynamodb_read_units"], units["dynamodb_write_units"] = dynamodb_units(operation, sent, answered)
        elif service == "AmazonSQS":
            fifo = str(_json(sent).get("QueueUrl", "")).endswith(".fifo")
            units["sqs_fifo_requests" if fifo else "sqs_standard_requests"] = max(1, math.ceil(len(sent) / SQS_CHUNK))
        elif service == "secretsmanager":
            units["secrets_manager_calls"] = 1
        with self.lock:
            for name, value in units.items():
                self.units[name] += value
            self.operations[operation or "other"] += 1

    def start(self) -> None:
        with self.lock:
            self.units, self.operations, self.on = defaultdict(float), Counter(), True

    def read(self, *, stop: bool = False) -> dict[str, Any]:
        """The count so far; `stop`: and requests are no longer read and counted (a count costs every request)."""
        with self.lock:
            self.on = self.on and not stop
            return {"units": dict(self.units), "operations": dict(self.operations)}


_count = _Count()
_original = DomainDispatcherApplication.__call__


def _metered(app: DomainDispatcherApplication, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    if environ.get("PATH_INFO") == PATH:
        method = environ.get("REQUEST_METHOD")
        if method == "POST":
            _count.start()
        body = json.dumps(_count.read(stop=method == "DELETE")).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
    if not _count.on:
        return _original(app, environ, start_response)  # type: ignore[no-any-return]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    sent = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(sent)
    answered = b"".join(_original(app, environ, start_response))
    _count.add(environ.get("HTTP_X_AMZ_TARGET", ""), sent, answered)
    return [answered]


def install() -> None:
    """Put the meter in front of this process's moto server (idempotent); it counts once started."""
    DomainDispatcherApplication.__call__ = _metered  # type: ignore[method-assign,assignment]


class Reading:
    """A count's result: billed units by kind ("dynamodb_read_units", "sqs_fifo_requests"...), and requests by
    operation."""

    def __init__(self) -> None:
        self.units: dict[str, float] = {}
        self.operations: dict[str, int] = {}


@contextmanager
def metering(moto_endpoint: str) -> Iterator[Reading]:
    """Count what moto serves while the block runs (every stack on that server); the reading is filled at the
    block's end."""
    requests.post(f"{moto_endpoint}{PATH}", timeout=10).raise_for_status()
    reading = Reading()
    try:
        yield reading
    finally:
        counted = requests.delete(f"{moto_endpoint}{PATH}", timeout=10).json()
        reading.units, reading.operations = counted["units"], counted["operations"]
