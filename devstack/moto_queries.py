"""moto's Query on a table's own keys, in time that grows with what it selects rather than with the table.

moto walks every item of the table to find one partition, sorts that partition, and weighs every item of it
(for the 1 MB page) before it looks at the sort key condition: a query for three links of a connection with
10,000 costs 10,000 of each, and an initial sync of 10,000 records spent most of moto's core there. Here a
partition keeps its sort keys in order as they come and go, a key condition is a binary search, and only
the items it selects are read and weighed, as DynamoDB does. Queries of an index, and the legacy
`QueryFilter`, stay moto's.
"""

import bisect
import copy
import functools
import inspect
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table

from devstack.moto_transactions import WRITE_LOCK


def _value(key: DynamoType) -> Any:
    return key.cast_value


class SortedPartition(dict[DynamoType, Item]):
    """One partition's items by sort key, with the sort keys kept in order."""

    def __init__(self) -> None:
        super().__init__()
        self.order: list[DynamoType] = []

    def __setitem__(self, key: DynamoType, item: Item) -> None:
        if key not in self:
            bisect.insort(self.order, key, key=_value)
        super().__setitem__(key, item)

    def __delitem__(self, key: DynamoType) -> None:
        super().__delitem__(key)
        del self.order[bisect.bisect_left(self.order, key.cast_value, key=_value)]

    def pop(self, key: DynamoType, *default: Any) -> Any:
        if key not in self:
            return super().pop(key, *default)
        item = super().pop(key)
        del self.order[bisect.bisect_left(self.order, key.cast_value, key=_value)]
        return item

    def __deepcopy__(self, memo: dict[int, Any]) -> "SortedPartition":
        twin = SortedPartition()
        for key in self.order:
            twin[copy.deepcopy(key, memo)] = copy.deepcopy(self[key], memo)
        return twin

    def between(self, comparison: str | None, operands: list[DynamoType]) -> list[DynamoType]:
        """The sort keys that meet a key condition, in order."""
        values = [o.cast_value for o in operands]
        lo, hi = 0, len(self.order)
        if comparison in ("EQ", "="):
            lo = bisect.bisect_left(self.order, values[0], key=_value)
            hi = bisect.bisect_right(self.order, values[0], key=_value)
        elif comparison in ("LT", "<"):
            hi = bisect.bisect_left(self.order, values[0], key=_value)
        elif comparison in ("LE", "<="):
            hi = bisect.bisect_right(self.order, values[0], key=_value)
        elif comparison in ("GT", ">"):
            lo = bisect.bisect_right(self.order, values[0], key=_value)
        elif comparison in ("GE", ">="):
            lo = bisect.bisect_left(self.order, values[0], key=_value)
        elif comparison == "BETWEEN":
            lo = bisect.bisect_left(self.order, values[0], key=_value)
            hi = bisect.bisect_right(self.order, values[1], key=_value)
        elif comparison == "BEGINS_WITH":
            lo = hi = bisect.bisect_left(self.order, values[0], key=_value)
            while hi < len(self.order) and self.order[hi].cast_value.startswith(values[0]):
                hi += 1
        return self.order[lo:hi]


def _query(original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)

    @functools.wraps(original)
    def query(self: Table, *args: Any, **kwargs: Any) -> tuple[list[Item], int, dict[str, Any] | None]:
        asked = signature.bind(self, *args, **kwargs)
        asked.apply_defaults()
        given = asked.arguments
        hash_key = given["hash_key"]
        partition = self.items.get(hash_key) if hash_key is not None else None
        own_keys = not given["index_name"] and not given["filter_kwargs"] and bool(self.range_key_attr)
        one_condition = len(given["range_key_conditions"] or []) <= 1
        if not (own_keys and one_condition and (partition is None or isinstance(partition, SortedPartition))):
            return original(self, *args, **kwargs)  # type: ignore[no-any-return]
        if partition is None:
            return [], 0, None
        with WRITE_LOCK:  # the keys and items as one write left them, not halfway through the next
            return _answer(self, partition, given)

    return query


def _answer(
    table: Table, partition: SortedPartition, given: dict[str, Any]
) -> tuple[list[Item], int, dict[str, Any] | None]:
    """A Query's page of one sorted partition: the items its key condition selects, in order, paged by count and
    size as DynamoDB pages them, then filtered and projected."""
    keys = partition.between(given["range_comparison"], given["range_objs"])
    scan_index_forward, exclusive_start_key = given["scan_index_forward"], given["exclusive_start_key"]
    if exclusive_start_key:  # the page goes on past (or, backwards, before) the last key of the previous one
        after = DynamoType(exclusive_start_key[table.range_key_attr]).cast_value
        if scan_index_forward:
            keys = keys[bisect.bisect_right(keys, after, key=_value) :]
        else:
            keys = keys[: bisect.bisect_left(keys, after, key=_value)]
    if not scan_index_forward:
        keys.reverse()
    results: list[Item] = []
    size = 0
    last_key: dict[str, Any] | None = None
    for key in keys:
        item = partition[key]
        weight = item.size()
        if len(results) == given["limit"] or size + weight > RESULT_SIZE_LIMIT:
            last_key = {table.hash_key_attr: results[-1].hash_key, str(table.range_key_attr): results[-1].range_key}
            break
        results.append(item)
        size += weight
    scanned = len(results)
    results = copy.deepcopy(results)
    if given["filter_expression"] is not None:
        results = [item for item in results if given["filter_expression"].expr(item)]
    if given["projection_expressions"]:
        results = [item.project(given["projection_expressions"]) for item in results]
    return results, scanned, last_key


def install() -> None:
    """Give new tables sorted partitions and their own-key queries a binary search (idempotent)."""
    if getattr(Table.query, "sorted_partitions", False):
        return
    original_init = Table.__init__

    @functools.wraps(original_init)
    def init(self: Table, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        if self.range_key_attr:
            self.items = defaultdict(SortedPartition)

    Table.__init__ = init  # type: ignore[method-assign]
    Table.query = _query(Table.query)  # type: ignore[method-assign]
    Table.query.sorted_partitions = True  # type: ignore[attr-defined]
