"""Corrections to moto that devstack applies to its in-process server.

moto's DynamoDB backend is not thread-safe: TransactWriteItems deep-copies every table for its rollback
while the server's other threads write, which fails with "dictionary changed size during iteration" and
makes the whole request a 500. DynamoDB itself has no such failure, so devstack serialises the
backend's table operations (they hold the GIL throughout anyway).
"""

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

TABLE_OPERATIONS = (
    "get_item",
    "put_item",
    "update_item",
    "delete_item",
    "query",
    "scan",
    "batch_get_item",
    "batch_write_item",
    "transact_get_items",
    "transact_write_items",
)
_lock = threading.RLock()
_applied = False


def _serialised(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return method(*args, **kwargs)

    return call


def serialise_dynamodb() -> None:
    """Apply once per process, before the server takes requests."""
    global _applied  # noqa: PLW0603 - a process-wide patch
    with _lock:
        if _applied:
            return
        for name in TABLE_OPERATIONS:
            if hasattr(DynamoDBBackend, name):
                setattr(DynamoDBBackend, name, _serialised(getattr(DynamoDBBackend, name)))
        _applied = True
