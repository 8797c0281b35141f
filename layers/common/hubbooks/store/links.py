"""Links between a HubSpot record and its QuickBooks counterpart: one item per side, written together."""

from typing import Any

from hubbooks.models.signals import Pair, Side
from hubbooks.store.keys import connection_pk, last_part, link_sk, links_prefix
from hubbooks.store.table import Table


class LinkLookup:
    """Read-only link lookups, for routing signals (the engine's repository builds on it)."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def seen_versions(self, connection_id: str, pair: Pair, side: Side, ids: list[str]) -> dict[str, str]:
        """For each linked record, the version of it the last sync left (see Link.seen)."""
        found: dict[str, str] = {}
        for item in self.items(connection_id, pair, side, ids, "SK, seen"):
            version = (item.get("seen") or {}).get(str(side))
            if version:
                found[last_part(item["SK"])] = str(version)
        return found

    def items(
        self,
        connection_id: str,
        pair: Pair,
        side: Side,
        ids: list[str],
        projection: str | None = None,
        *,
        consistent: bool = False,
    ) -> list[dict[str, Any]]:
        """The link items of many records of one side (BatchGetItem, 100 keys a call); `consistent` for a sync
        that acts on them (a link saved a moment ago, by the previous pass of a lane, is read as saved)."""
        keys = [{"PK": connection_pk(connection_id), "SK": link_sk(pair, side, i)} for i in dict.fromkeys(ids)]
        return self.table.get_many(keys, projection, consistent=consistent)

    def partners(
        self, connection_id: str, pair: Pair, side: Side, ids: list[str], *, consistent: bool = False
    ) -> dict[str, str]:
        """For each linked record of one side, the id on the other side it is linked to."""
        return {
            last_part(item["SK"]): str(item["other_id"])
            for item in self.items(connection_id, pair, side, ids, "SK, other_id", consistent=consistent)
        }

    def agreed(self, connection_id: str, pair: Pair, side: Side, fields: list[str]) -> dict[str, dict[str, str]]:
        """Every linked record of one side with the values of `fields` its link last agreed on, those it holds (a
        field not mapped when it was saved has none): a query of the connection's links of that side."""
        return {
            last_part(item["SK"]): {f: str(base[f]) for f in fields if f in (base := item.get("base") or {})}
            for item in self.table.partition(connection_pk(connection_id), links_prefix(pair, side))
        }
