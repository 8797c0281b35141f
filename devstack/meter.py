"""A meter on moto's server: every AWS request devstack's functions make, by service and operation, with the
bytes it carried each way, so a run can be priced as AWS would bill it.

Requests are told apart by their `X-Amz-Target` header (the JSON protocol boto3 speaks to DynamoDB, SQS and
Secrets Manager); a request without one is counted under its path's first segment.
"""

import io
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication


@dataclass(frozen=True)
class Request:
    service: str  # "DynamoDB_20120810", "AmazonSQS", "secretsmanager"
    operation: str  # "GetItem"
    sent: bytes
    answered: bytes


@dataclass
class Meter:
    requests: list[Request] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)


_meters: list[Meter] = []
_original = DomainDispatcherApplication.__call__


def _metered(app: DomainDispatcherApplication, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    if not _meters:
        return _original(app, environ, start_response)  # type: ignore[no-any-return]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    sent = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(sent)
    answered = b"".join(_original(app, environ, start_response))
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    service, _, operation = target.partition(".")
    if not target:
        service, operation = "other", environ.get("PATH_INFO", "/").strip("/").split("/")[0]
    for meter in list(_meters):
        meter.add(Request(service, operation, sent, answered))
    return [answered]


@contextmanager
def metering() -> Iterator[Meter]:
    """Count moto's requests while the block runs (this process's moto server, every stack on it)."""
    DomainDispatcherApplication.__call__ = _metered  # type: ignore[method-assign,assignment]
    meter = Meter()
    _meters.append(meter)
    try:
        yield meter
    finally:
        _meters.remove(meter)
