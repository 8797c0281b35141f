"""The reconciliation sweep: whatever changed since the watermark becomes a signal, so a lost webhook costs
at most one sweep interval. Watermarks move only after the signals are queued."""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from hubbooks.hubspot.client import HubSpotClient
from hubbooks.mapping.fields import COMPANY_FIELDS, PARENT, person_property
from hubbooks.models.connection import Connection, ConnectionStatus
from hubbooks.models.signals import Change, Pair, Reason, Side, SyncSignal
from hubbooks.queue import GroupedSender
from hubbooks.quickbooks.client import QboClient
from hubbooks.store.cursors import CursorRepository
from hubbooks.store.links import LinkLookup
from hubbooks.sync.company_people import CompanyPeople, as_mapped
from hubbooks.sync.hierarchy import CompanyTree

OVERLAP = timedelta(minutes=2)  # clocks and search indexing lag: look back a little further each time
CDC_LIMIT = timedelta(days=30)
SEARCH_CAP = 10_000
PAGE = 200
CDC_PAIRS = {
    "Customer": Pair.CONTACTS,  # or companies: the connection's customer mode says
    "Item": Pair.PRODUCTS,
    "Invoice": Pair.INVOICES,
    "Payment": Pair.PAYMENTS,
    "Estimate": Pair.ESTIMATES,
}
_log = logging.getLogger(__name__)
HUBSPOT_PAIRS = {
    Pair.CONTACTS: ("contacts", "lastmodifieddate"),
    Pair.COMPANIES: ("companies", "hs_lastmodifieddate"),
    Pair.PRODUCTS: ("products", "hs_lastmodifieddate"),
    Pair.INVOICES: ("invoices", "hs_lastmodifieddate"),  # searched only when invoices go both ways
}


@dataclass
class SweepResult:
    signals: int = 0
    changes: dict[str, int] = field(default_factory=dict)
    resync_needed: bool = False


def split_windows(
    count: Callable[[int, int], int], start_ms: int, end_ms: int, cap: int = SEARCH_CAP
) -> list[tuple[int, int]]:
    """Halve [start, end) until no window holds more results than a search may page through."""
    if count(start_ms, end_ms) <= cap or end_ms - start_ms <= 1:
        return [(start_ms, end_ms)]
    middle = (start_ms + end_ms) // 2
    return split_windows(count, start_ms, middle, cap) + split_windows(count, middle, end_ms, cap)


def look_from(watermark: datetime | None, first_since: datetime) -> datetime:
    """The watermark less the overlap, but never before the connection: older records are the initial
    sync's to bring over, even when they fall inside the overlap."""
    return first_since if watermark is None else max(watermark - OVERLAP, first_since)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class Sweeper:
    def __init__(
        self,
        connection_id: str,
        qbo: QboClient,
        hubspot: HubSpotClient,
        cursors: CursorRepository,
        sender: GroupedSender,
        *,
        links: LinkLookup,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        hubspot_invoices: bool = False,
        customers: Pair = Pair.CONTACTS,
    ) -> None:
        self.connection_id = connection_id
        self.qbo = qbo
        self.hubspot = hubspot
        self.cursors = cursors
        self.sender = sender
        self.links = links
        self.now = now
        self.customers = customers  # the pair QuickBooks customers sync with (the connection's customer mode)
        other = Pair.COMPANIES if customers is Pair.CONTACTS else Pair.CONTACTS
        self.hubspot_pairs = [
            p for p in HUBSPOT_PAIRS if (p is not Pair.INVOICES or hubspot_invoices) and p is not other
        ]

    def _since(self, provider: str, name: str, first_since: datetime) -> datetime:
        """Where to look from: the watermark less the overlap; the first sweep starts at `first_since`
        (records older than that are the initial sync's to bring over, not the sweep's)."""
        return look_from(self.cursors.get(provider, name), first_since)

    def run(self, first_since: datetime) -> SweepResult:
        started = self.now()
        result = SweepResult()
        since = self._since("quickbooks", "cdc", first_since)
        if started - since > CDC_LIMIT - OVERLAP:
            result.resync_needed = True  # CDC cannot look that far back: only a full resync catches up
            since = started - CDC_LIMIT + OVERLAP
        found = self._quickbooks(since, result)
        for pair in self.hubspot_pairs:
            found += self._hubspot(pair, self._since("hubspot", pair.value, first_since), started, result)
        if self.customers is Pair.COMPANIES:
            found += self._moved_unseen(result)
        overdue = self.overdue(started.date())
        if overdue is not None:
            result.changes["quickbooks.Invoice.overdue"] = len(overdue)
        result.signals = self.sender.send(self._news(found) + (overdue or []))
        self.cursors.put("quickbooks", "cdc", started)
        if overdue is not None:
            self.cursors.put("quickbooks", "overdue", started)
        for pair in self.hubspot_pairs:
            self.cursors.put("hubspot", pair.value, started)
        return result

    def _signal(
        self, pair: Pair, side: Side, record_id: str, version: str, change: Change = Change.UPSERT
    ) -> SyncSignal:
        """What the sweep found: this record may have changed (`version`: the change's, as the source states it)."""
        return SyncSignal(
            connection_id=self.connection_id,
            pair=pair,
            side=side,
            record_id=record_id,
            change=change,
            reason=Reason.SWEEP,
            source_version=version,
        )

    def _news(self, found: list[tuple[SyncSignal, str]]) -> list[SyncSignal]:
        """Drop records still at the version the last sync left them (our own writes, seen again)."""
        by_kind: dict[tuple[Pair, Side], list[str]] = {}
        for signal, _ in found:
            by_kind.setdefault((signal.pair, signal.side), []).append(signal.record_id)
        seen = {
            kind: self.links.seen_versions(self.connection_id, kind[0], kind[1], ids) for kind, ids in by_kind.items()
        }
        return [
            signal
            for signal, version in found
            if not version or seen[(signal.pair, signal.side)].get(signal.record_id) != version
        ]

    def _quickbooks(self, since: datetime, result: SweepResult) -> list[tuple[SyncSignal, str]]:
        changed = self.qbo.changed_since(list(CDC_PAIRS), since.isoformat())
        signals: list[tuple[SyncSignal, str]] = []
        for entity, records in changed.items():
            result.changes[f"quickbooks.{entity}"] = len(records)
            for record in records:
                deleted = record.get("status") == "Deleted"
                version = (record.get("MetaData") or {}).get("LastUpdatedTime", "")
                pair = self.customers if entity == "Customer" else CDC_PAIRS[entity]
                change = Change.DELETE if deleted else Change.UPSERT
                signal = self._signal(pair, Side.QUICKBOOKS, str(record["Id"]), str(version), change)
                signals.append((signal, "" if deleted else str(record.get("SyncToken", ""))))
        return signals

    def _moved_unseen(self, result: SweepResult) -> list[tuple[SyncSignal, str]]:
        """Business customers: linked companies whose parent or person in HubSpot is not the one their link
        agreed on. An association change, or an edit of the company's contact, leaves the company's modified time
        as it was, so no search finds it: a lost webhook is caught here, at three batch reads per 100 linked
        companies (parents, first contacts, their names and emails)."""
        person = [m for m in COMPANY_FIELDS if person_property(m.hubspot) is not None]
        fields = [PARENT, *(m.hubspot for m in person)]
        agreed = self.links.agreed(self.connection_id, Pair.COMPANIES, Side.HUBSPOT, fields)
        if not agreed:
            return []

        def partners(side: Side, ids: list[str]) -> dict[str, str]:
            return self.links.partners(self.connection_id, Pair.COMPANIES, side, ids)

        companies = sorted(agreed)
        parents = CompanyTree(self.hubspot, partners).values(companies)
        people = CompanyPeople(self.hubspot).read(companies, [str(person_property(m.hubspot)) for m in person])
        now = {
            company: {PARENT: parents[company]}
            | {m.hubspot: m.from_hubspot(as_mapped(people[company])) for m in person}
            for company in companies
        }
        moved = [c for c in companies if any(now[c].get(k, "") != v for k, v in agreed[c].items())]
        result.changes["hubspot.companies.unseen"] = len(moved)
        return [(self._signal(Pair.COMPANIES, Side.HUBSPOT, company, ""), "") for company in moved]

    def overdue(self, today: date) -> list[SyncSignal] | None:
        """Once a day: the mirrored open invoices that fell due since the last look (at the first, every
        mirrored open invoice past due). Nothing in QuickBooks changes when a due date passes, so no webhook or
        CDC tells; each is mirrored again, whatever version it was mirrored at, to read overdue on the invoice
        and its deal. Invoices never mirrored (older than the sync brings, or with the sync off) stay so. None
        when today was looked at already."""
        last = self.cursors.get("quickbooks", "overdue")
        if last is not None and last.date() >= today:
            return None
        since = f" AND DueDate >= '{last.date().isoformat()}'" if last is not None else ""
        sql = f"select * from Invoice where Balance > '0' AND DueDate < '{today.isoformat()}'{since}"  # noqa: S608 - dates
        due = [str(invoice["Id"]) for invoice in self.qbo.query_all(sql)]
        mirrored = self.links.seen_versions(self.connection_id, Pair.INVOICES, Side.QUICKBOOKS, due)
        version = f"overdue-{today.isoformat()}"
        return [self._signal(Pair.INVOICES, Side.QUICKBOOKS, i, version) for i in due if i in mirrored]

    def _search(
        self, object_type: str, modified: str, start: int, end: int, *, limit: int, after: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": modified, "operator": "GTE", "value": str(start)},
                        {"propertyName": modified, "operator": "LT", "value": str(end)},
                    ]
                }
            ],
            "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
            "properties": [modified],
            "limit": limit,
        }
        if after:
            body["after"] = after
        return self.hubspot.search_page(object_type, body)

    def _hubspot(
        self, pair: Pair, since: datetime, until: datetime, result: SweepResult
    ) -> list[tuple[SyncSignal, str]]:
        object_type, modified = HUBSPOT_PAIRS[pair]
        windows = split_windows(
            lambda s, e: int(self._search(object_type, modified, s, e, limit=1).get("total", 0)),
            _ms(since),
            _ms(until) + 1,
        )
        signals: list[tuple[SyncSignal, str]] = []
        for start, end in windows:
            after: str | None = None
            while True:
                page = self._search(object_type, modified, start, end, limit=PAGE, after=after)
                for record in page.get("results", []):
                    version = str(record.get("updatedAt", ""))
                    signals.append((self._signal(pair, Side.HUBSPOT, str(record["id"]), version), version))
                after = (page.get("paging") or {}).get("next", {}).get("after")
                if not after:
                    break
        result.changes[f"hubspot.{object_type}"] = len(signals)
        return signals


class Log(Protocol):
    """What the sweep of all tenants logs through (Powertools' Logger or the standard library's)."""

    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None: ...

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None: ...


@dataclass
class SweepOfAll:
    """One tick over every active connection: what each sweep found, and the tenants whose sweep failed."""

    swept: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: int = 0
    signals: int = 0


def sweep_all(
    connections: Iterable[Connection],
    sweeper_for: Callable[[Connection], Sweeper],
    start_resyncs: Callable[[Connection], dict[str, Any]],
    log: Log = _log,
    recheck: Callable[[Connection], None] = lambda connection: None,
) -> SweepOfAll:
    """Sweep every active connection; one tenant's failure never stops the others' sweeps. A connection
    whose watermark is older than CDC reaches gets a full resync of its pairs that are on. `recheck` looks at
    the company's settings again (daily); its failure is logged and the sweep goes on."""
    tick = SweepOfAll()
    for connection in connections:
        if connection.status is not ConnectionStatus.ACTIVE or not connection.realm_id:
            continue
        cid = connection.connection_id
        try:
            recheck(connection)
        except Exception:
            log.exception("company recheck failed", extra={"connection_id": cid})
        try:
            result = sweeper_for(connection).run(first_since=connection.created_at)
        except Exception as exc:
            log.exception("sweep failed", extra={"connection_id": cid})
            tick.swept[cid] = {"error": type(exc).__name__}
            tick.failed += 1
            continue
        resyncs = start_resyncs(connection) if result.resync_needed else {}
        if resyncs:
            log.warning("watermark older than CDC allows: resync jobs started", extra={"connection_id": cid})
        tick.signals += result.signals
        tick.swept[cid] = {
            "signals": result.signals,
            "changes": result.changes,
            "resync_needed": result.resync_needed,
            "resyncs": resyncs,
        }
    return tick
