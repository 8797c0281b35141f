"""What the settings API reads of a connection's sync health: counts, paged sync errors and history, and
forgetting a pair's links and errors. Paging cursors are opaque to callers and bound to one list."""

import base64
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase

from hubbooks.models.signals import Pair, Side
from hubbooks.store.keys import (
    HISTORY,
    connection_pk,
    decisions_prefix,
    errors_prefix,
    exclusions_prefix,
    intents_prefix,
    last_part,
    links_prefix,
)
from hubbooks.store.links import LinkLookup
from hubbooks.store.table import Table

FILTERED_READ = 500  # items read per query when a filter keeps only some


class InvalidCursorError(ValueError):
    """A cursor this list did not give out (garbled, or another list's or tenant's key)."""


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    cursor: str | None


def _cursor_out(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else None


def _cursor_in(cursor: str | None, pk: str, prefix: str) -> dict[str, Any] | None:
    """The start key a cursor of ours holds; anything else is refused."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError:  # not base64, not UTF-8, not JSON
        key = None
    if not (
        isinstance(key, dict) and set(key) == {"PK", "SK"} and key["PK"] == pk and str(key["SK"]).startswith(prefix)
    ):
        raise InvalidCursorError("This is not a cursor this list gave out; start without one.")
    return key


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """A table item for JSON: numbers as ints or floats, without the keys."""
    plain: dict[str, Any] = {}
    for key, value in item.items():
        if key not in ("PK", "SK", "ttl"):
            is_decimal = isinstance(value, Decimal)
            plain[key] = (int(value) if value == int(value) else float(value)) if is_decimal else value
    return plain


def _all_of(conditions: list[ConditionBase]) -> ConditionBase | None:
    combined: ConditionBase | None = None
    for condition in conditions:
        combined = condition if combined is None else combined & condition
    return combined


def paged(
    table: Table,
    pk: str,
    prefix: str,
    *,
    limit: int,
    cursor: str | None,
    newest_first: bool = False,
    filters: ConditionBase | None = None,
) -> Page:
    """One page of a partition's items under `prefix`, with the cursor of the next. With `filters`, DynamoDB's
    limit counts items read, not items kept: read on until the page is full or the list ends."""
    start = _cursor_in(cursor, pk, prefix)
    found: list[dict[str, Any]] = []
    while True:
        read = max(limit, FILTERED_READ) if filters is not None else limit
        items, last = table.page(pk, prefix, limit=read, start=start, newest_first=newest_first, filters=filters)
        found += items
        if len(found) >= limit or last is None:
            break
        start = last
    if len(found) > limit:  # the next page starts after the last item shown
        found = found[:limit]
        last = {"PK": found[-1]["PK"], "SK": found[-1]["SK"]}
    return Page([_plain(i) for i in found], _cursor_out(last))


class HealthRepository:
    def __init__(self, table: Table, connection_id: str) -> None:
        self.table = table
        self.connection_id = connection_id
        self.pk = connection_pk(connection_id)

    def linked(self, pair: Pair) -> int:
        return self.table.count(self.pk, links_prefix(pair, Side.HUBSPOT))

    def failing(self, pair: Pair) -> int:
        return self.table.count(self.pk, errors_prefix(pair))

    def _page(self, prefix: str, *, limit: int, cursor: str | None, newest_first: bool, filters: Any) -> Page:
        return paged(
            self.table, self.pk, prefix, limit=limit, cursor=cursor, newest_first=newest_first, filters=filters
        )

    def errors(
        self, *, pair: Pair | None, side: Side | None, category: str | None, limit: int, cursor: str | None
    ) -> Page:
        """Sync errors by pair (and side), oldest key first; a side without a pair, or a category, filters."""
        conditions = [Attr("side").eq(str(side))] if side and not pair else []
        if category:
            conditions.append(Attr("category").eq(category))
        prefix = errors_prefix(pair, side)
        return self._page(prefix, limit=limit, cursor=cursor, newest_first=False, filters=_all_of(conditions))

    def excluded(self, pair: Pair, *, limit: int, cursor: str | None = None) -> Page:
        """Records first sight left out, and why; one linked since (a filter changed, a person included it)
        is no longer left out and is not listed."""
        page = self._page(exclusions_prefix(pair), limit=limit, cursor=cursor, newest_first=False, filters=None)
        linked: set[tuple[str, str]] = set()
        for side in Side:
            ids = [str(i["record_id"]) for i in page.items if i["side"] == side.value]
            found = LinkLookup(self.table).items(self.connection_id, pair, side, ids)
            linked |= {(side.value, last_part(item["SK"])) for item in found}
        return Page([i for i in page.items if (i["side"], i["record_id"]) not in linked], page.cursor)

    def history(
        self,
        *,
        limit: int,
        cursor: str | None = None,
        pair: Pair | None = None,
        record: tuple[Side, str] | None = None,
    ) -> Page:
        """History, newest first: of every pair, one pair, or one record (its side and id)."""
        conditions = [Attr("pair").eq(str(pair))] if pair else []
        if record is not None:
            side, record_id = record
            conditions.append(Attr("hubspot_id" if side is Side.HUBSPOT else "qbo_id").eq(record_id))
        return self._page(HISTORY, limit=limit, cursor=cursor, newest_first=True, filters=_all_of(conditions))

    def forget(self, pair: Pair) -> dict[str, int]:
        """Delete the pair's links and sync errors (records on both sides stay); answers how many of each."""
        prefixes = {"links": links_prefix(pair), "errors": errors_prefix(pair), "intents": intents_prefix(pair)}
        notes = {"decisions": decisions_prefix(pair), "excluded": exclusions_prefix(pair)}
        deleted = self.table.delete_prefixes(self.pk, prefixes | notes)
        return {name: deleted[name] for name in ("links", "errors")}  # what a person counts
        return deleted
