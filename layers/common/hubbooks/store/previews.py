"""A preview's rows (`PREVIEW#{pair}#{job}#{kind}#{side}#{id}`): written by its batches, counted by kind and
paged by the settings API; kept a week."""

import time
from dataclasses import asdict
from typing import Any

from hubbooks.models.signals import Pair
from hubbooks.store.health import Page, paged
from hubbooks.store.keys import connection_pk, preview_prefix
from hubbooks.store.table import Table
from hubbooks.sync.preview import PreviewRow, RowKind

PREVIEW_DAYS = 7


class PreviewRepository:
    def __init__(self, table: Table, connection_id: str) -> None:
        self.table = table
        self.pk = connection_pk(connection_id)

    def put(self, pair: Pair, job_id: str, rows: list[PreviewRow]) -> None:
        expires = int(time.time()) + PREVIEW_DAYS * 86400
        with self.table.resource.batch_writer(overwrite_by_pkeys=["PK", "SK"]) as batch:
            for row in rows:
                item: dict[str, Any] = {k: v for k, v in asdict(row).items() if v not in ("", ())}
                item |= {"kind": row.kind.value, "side": row.side.value, "candidates": list(row.candidates)}
                batch.put_item(
                    Item={"PK": self.pk, "SK": preview_prefix(pair, job_id, row.kind) + row.row_key, "ttl": expires}
                    | item
                )

    def counts(self, pair: Pair, job_id: str) -> dict[str, int]:
        """How many rows of each kind (a link found from both sides is one row)."""
        return {kind.value: self.table.count(self.pk, preview_prefix(pair, job_id, kind)) for kind in RowKind}

    def page(self, pair: Pair, job_id: str, kind: RowKind, *, limit: int, cursor: str | None) -> Page:
        return paged(self.table, self.pk, preview_prefix(pair, job_id, kind), limit=limit, cursor=cursor)
