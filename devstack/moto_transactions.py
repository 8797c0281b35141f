"""DynamoDB writes in moto as DynamoDB makes them: each conditional write atomic, each transaction journalled.

moto's server answers on many threads and checks a write's condition apart from making it, so two
conditional writes to one item can both pass (two token refreshes both took the lease). Real DynamoDB
makes a check and its write one step; here every write runs under one lock.

moto backs up each table a transaction names with a deep copy of the whole table before it writes, so
every transaction costs O(table) and the copy races other server threads writing the same table (500s
with "dictionary changed size during iteration"). Real DynamoDB does neither. Here the backup is the
touched items only; moto still checks the conditions, applies the writes and reports cancellations.
"""

import copy
import functools
import threading
import types
from collections.abc import Callable
from typing import Any

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

Snapshot = list[tuple[Table, DynamoType, DynamoType | None, Item | None]]


def _deepcopy_except_tables(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """A table is kept as is: its touched items are journaled instead."""
    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _touched(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Snapshot:
    snapshot: Snapshot = []
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        try:
            table = backend.get_table(op["TableName"])
            if op_type == "Put":
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op["Key"]
            hash_value, range_value = backend.get_keys_value(table, key)
        except Exception:  # noqa: S112 - a malformed entry is moto's to reject, as it does
            continue
        current = table.get_item(hash_value, range_value)
        snapshot.append((table, hash_value, range_value, copy.deepcopy(current)))
    return snapshot


def _restore(snapshot: Snapshot) -> None:
    for table, hash_value, range_value, item in reversed(snapshot):
        if item is None:
            table.delete_item(hash_value, range_value)
        elif range_value is not None:
            table.items[hash_value][range_value] = item
        else:
            table.items[hash_value] = item  # type: ignore[assignment]


# Re-entrant: a batch write makes its puts and deletes through the backend. Queries of sorted partitions take it
# too (moto_queries.py): a binary search must not see a key half inserted.
WRITE_LOCK = threading.RLock()
WRITES = ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items")


def _one_at_a_time(write: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(write)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with WRITE_LOCK:
            return write(*args, **kwargs)

    return locked


def install() -> None:
    """Make this process's moto write atomically and journal transactions by item (idempotent)."""
    original = DynamoDBBackend.transact_write_items
    if getattr(original, "journaled", False):
        return
    # moto's module-level `copy` is used for the table backups (and for single items elsewhere).
    dynamodb_models.copy = types.SimpleNamespace(  # type: ignore[attr-defined,assignment]
        copy=copy.copy, deepcopy=_deepcopy_except_tables
    )

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        snapshot = _touched(self, transact_items)
        try:
            original(self, transact_items)
        except Exception:
            _restore(snapshot)
            raise

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    for name in WRITES:
        setattr(DynamoDBBackend, name, _one_at_a_time(getattr(DynamoDBBackend, name)))
    DynamoDBBackend.transact_write_items.journaled = True  # type: ignore[attr-defined]
