"""The preview of a pair's first sync: the same batches, matching and merge the first sync runs, on dry-run
clients and store (`dry_run`). What each record would become is a preview row."""

import csv
import io
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hubbooks.mapping.pairs import spec
from hubbooks.models.signals import Pair, Side, SyncSignal
from hubbooks.sync import failures
from hubbooks.sync.adapters import HubSpotAdapter, QboAdapter
from hubbooks.sync.batch import Seen, run_batch
from hubbooks.sync.dry_run import PreviewStore
from hubbooks.sync.engine import Outcome, Result
from hubbooks.sync.models import Record, SyncFailure
from hubbooks.sync.sentences import label


class RowKind(StrEnum):
    LINK = "link"
    CREATE_IN_QUICKBOOKS = "create_in_quickbooks"
    CREATE_IN_HUBSPOT = "create_in_hubspot"
    AMBIGUOUS = "ambiguous"
    EXCLUDED = "excluded"
    FAIL = "fail"
    IN_STEP = "in_step"
    UPDATE = "update"


PAIRED = (RowKind.LINK, RowKind.IN_STEP, RowKind.UPDATE)  # rows of a pair of records, found from either side


@dataclass(frozen=True)
class PreviewRow:
    """What one record (a link: one pair of records) would become in the first sync."""

    kind: RowKind
    side: Side
    record_id: str
    name: str = ""
    other_id: str = ""
    other_name: str = ""
    key: str = ""  # a link's: what matched (existing id, email, SKU, name)
    reason: str = ""
    fix: str = ""
    candidates: tuple[str, ...] = ()

    @property
    def row_key(self) -> str:
        """One row per record; a link found from either side is one row, under its HubSpot id."""
        if self.kind in PAIRED and self.side is Side.QUICKBOOKS:
            return f"{Side.HUBSPOT}#{self.other_id}"
        return f"{self.side}#{self.record_id}"


def _match_key(pair: Pair, record: Record, other: Record | None) -> str:
    """Which of the pair's match keys the two records share, as the first sync matches them."""
    for key in spec(pair).match_keys:
        if (
            other is not None
            and record.values.get(key.field)
            and record.values[key.field] == other.values.get(key.field)
        ):
            return key.field
    return "existing id"


class RowMaker:
    """Turns the dry run's result for each record into its preview row."""

    def __init__(self, pair: Pair, side: Side, store: PreviewStore) -> None:
        self.pair, self.side, self.store = pair, side, store
        self.rows: list[PreviewRow] = []

    def __call__(self, record_id: str, result: Result, seen: Seen) -> None:
        self.rows.append(self.row(record_id, result, seen))

    def row(self, record_id: str, result: Result, seen: Seen) -> PreviewRow:
        pair, side = self.pair, self.side
        name = label(pair, seen.record)
        outcome = result.outcome
        if outcome is Outcome.FAILED:
            failure = self.store.failed.get((side, record_id)) or SyncFailure("failed", result.detail, "")
            if failure.category == failures.AMBIGUOUS:
                choices = tuple(f"{c.id}\t{label(pair, c)}" for c in seen.candidates)
                return PreviewRow(RowKind.AMBIGUOUS, side, record_id, name, reason=failure.message, candidates=choices)
            return PreviewRow(RowKind.FAIL, side, record_id, name, reason=failure.message, fix=failure.fix)
        if outcome in (Outcome.SKIPPED, Outcome.UNLINKED):
            return PreviewRow(RowKind.EXCLUDED, side, record_id, name, reason=result.detail)
        if outcome is Outcome.CREATED:
            kind = RowKind.CREATE_IN_QUICKBOOKS if side is Side.HUBSPOT else RowKind.CREATE_IN_HUBSPOT
            return PreviewRow(kind, side, record_id, name)
        link = self.store.link_of(pair, side, record_id)
        other_id = link.other(side) if link else ""
        other = seen.linked or next((c for c in seen.candidates if c.id == other_id), None)
        if outcome is Outcome.LINKED and seen.record is not None:
            key = _match_key(pair, seen.record, other)
            return PreviewRow(RowKind.LINK, side, record_id, name, other_id, label(pair, other), key=key)
        fields = ", ".join(sorted({f for written in result.writes.values() for f in written}))
        kind = RowKind.UPDATE if result.writes else RowKind.IN_STEP
        return PreviewRow(kind, side, record_id, name, other_id, label(pair, other), reason=fields)


def preview_batch(
    signal: SyncSignal, hubspot: HubSpotAdapter, qbo: QboAdapter, store: PreviewStore
) -> list[PreviewRow]:
    """The rows of one batch of the preview: the first sync's batch, run dry."""
    rows = RowMaker(signal.pair, signal.side, store)
    run_batch(signal, hubspot, qbo, store, on_result=rows)
    return rows.rows


CSV_COLUMNS = ("kind", "side", "record_id", "name", "other_id", "other_name", "key", "reason", "fix")


def _cell(value: Any) -> str:
    """A value as a spreadsheet cell; one a spreadsheet would run as a formula is kept as text."""
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def preview_as_csv(rows: list[dict[str, Any]]) -> str:
    """Preview rows as a spreadsheet opens them: one line a record, the columns a person reads."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k, "")) for k in CSV_COLUMNS})
    return out.getvalue()
