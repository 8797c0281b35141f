"""What the settings API does for one connection: pair settings with versions, mapping validation, turning
syncs on (an initial sync) and off, deleting a sync, sync health, history and resyncs."""

import time
from collections.abc import Callable
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from hubbooks.hubspot import app_properties
from hubbooks.hubspot.client import HubSpotClient
from hubbooks.mapping import transforms
from hubbooks.mapping.fields import PARENT, PERSON
from hubbooks.mapping.pairs import CUSTOMER_PAIRS, HUBSPOT_OBJECT, QBO_ENTITY, SPECS, customer_pair, spec
from hubbooks.mapping.qbo_fields import QBO_FIELDS
from hubbooks.mapping.validation import Problem, validate, validate_deal_mappings
from hubbooks.models.connection import CustomerMode
from hubbooks.models.signals import Pair, Reason, Side, SyncSignal
from hubbooks.models.sync_config import (
    CONFIGURABLE,
    EDITABLE_MAPPINGS,
    MAPPED,
    SyncChanges,
    SyncConfig,
    configurable,
)
from hubbooks.store.connections import ConnectionGoneError, ConnectionRepository
from hubbooks.store.health import HealthRepository, Page
from hubbooks.store.jobs import PREVIEW_JOBS, JobProgress, JobRepository
from hubbooks.store.previews import PreviewRepository
from hubbooks.store.sync_settings import StaleSettingsError, SyncSettingsRepository
from hubbooks.store.sync_store import DynamoSyncStore
from hubbooks.store.table import Table
from hubbooks.sync.accounts import NAMED, AccountReader
from hubbooks.sync.models import Decision
from hubbooks.sync.preview import RowKind, preview_as_csv
from hubbooks.sync.sentences import sentence

# A business customer's person, as the mapping editor offers it: the company's first contact's name and email.
PERSON_LABELS = {
    f"{PERSON}firstname": "First contact: first name",
    f"{PERSON}lastname": "First contact: last name",
    f"{PERSON}email": "First contact: email",
}
RECENT_HISTORY = 200
CSV_ROWS = 20_000  # one download of a preview's rows of one kind
PREVIEW_STALL = 900.0  # seconds: a preview not finished by then is taken as lost, and may be started again
RESYNC_INTERVAL_SECONDS = 60.0  # per connection, over all its pairs


class RefusedError(Exception):
    """A request the pair's state refuses: a resync onto a running one or too soon after the last (409, 429),
    a set-up step for a pair that syncs, a start without a preview (409)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ReviewDecision(BaseModel):
    """One decision of the review: link the record with `other_id` (a record of the other side), leave it
    out, or take an earlier decision back."""

    side: Literal["hs", "qbo"]
    record_id: str = Field(pattern=r"^\d{1,19}$")
    choice: Literal["link", "skip", "clear"]
    other_id: str = Field(default="", pattern=r"^(\d{1,19})?$")


class ReviewDecisions(BaseModel):
    decisions: list[ReviewDecision] = Field(min_length=1, max_length=100)


class StartSync(BaseModel):
    version: int = Field(description="The settings version the person saw in the preview")
    accept_changes: bool = Field(
        default=False, description="Start although records changed in either app since the preview"
    )


class InvalidSettingsError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


class SettingsService:
    def __init__(
        self,
        connection_id: str,
        table: Table,
        accounts: Callable[[], AccountReader],
        start_job: Callable[[Pair, date | None], str],
        send: Callable[[list[SyncSignal]], int],
        *,
        session_id: str = "",
    ) -> None:
        self.connection_id = connection_id
        self.session_id = session_id  # who changes settings: each change is recorded with it
        self._store = DynamoSyncStore(table, connection_id)
        self.health = HealthRepository(table, connection_id)
        self.configs = SyncSettingsRepository(table, connection_id)
        self.jobs = JobRepository(table, connection_id)
        self.previews = JobRepository(table, connection_id, PREVIEW_JOBS)
        self.preview_rows = PreviewRepository(table, connection_id)
        self.connections = ConnectionRepository(table)
        self._accounts = accounts
        self._start_job = start_job
        self._send = send

    def _hubspot(self) -> HubSpotClient:
        return self._accounts().hubspot

    # -- the customer mode: what a QuickBooks customer stands for in HubSpot ---------------------------

    def customer_mode(self) -> CustomerMode:
        connection = self.connections.get(self.connection_id)
        if connection is None:
            raise ConnectionGoneError(self.connection_id)
        return connection.customer_mode

    def set_customer_mode(self, mode: CustomerMode) -> dict[str, Any]:
        """Choose people (contacts) or business (companies) customers. Refused while either customers sync is set
        up: its links pair customers with the other kind of record, so it is deleted first (records stay)."""
        connection = self.connections.get(self.connection_id)
        if connection is None:
            raise ConnectionGoneError(self.connection_id)
        if connection.customer_mode is not mode:
            set_up = [pair for pair in CUSTOMER_PAIRS.values() if self.configs.get(pair).set_up]
            if set_up:
                raise RefusedError(
                    409,
                    f"The {set_up[0]} sync pairs QuickBooks customers with HubSpot {set_up[0]}: delete it (its links "
                    f"go, the records stay) before customers become {mode.value}'s.",
                )
            connection.customer_mode = mode
            self.connections.save(connection)
            self._record(customer_pair(mode), "customer_mode_changed", [mode.value])
        return {"customer_mode": mode.value, "pair": customer_pair(mode).value}

    def pairs(self) -> list[Pair]:
        """The pairs a person sets up here: customers as the mode says, and the rest."""
        return list(configurable(self.customer_mode()))

    def _check_mode(self, pair: Pair) -> None:
        """A customers pair is set up only in its own mode."""
        if pair in CUSTOMER_PAIRS.values() and customer_pair(mode := self.customer_mode()) is not pair:
            raise RefusedError(
                409,
                f"QuickBooks customers sync with HubSpot {customer_pair(mode)} on this connection ({mode.value} "
                f"customers); choose {'business' if pair is Pair.COMPANIES else 'people'} customers first.",
            )

    # -- settings ---------------------------------------------------------------------------------

    def get(self, pair: Pair) -> SyncConfig:
        return self.configs.get(pair)

    def update(self, pair: Pair, changes: SyncChanges) -> dict[str, Any]:
        """Save changes made over `changes.version`; turning on starts an initial sync. A pair not set up yet
        takes its settings but is turned on only by `start` (after a preview)."""
        current = self.configs.get(pair)
        if changes.version != current.version:
            raise StaleSettingsError(f"{pair} is at version {current.version}, not {changes.version}")
        if changes.enabled and not current.set_up:
            raise RefusedError(409, f"The {pair} sync is not set up yet: preview it, then save and sync.")
        if changes.enabled:
            self._check_mode(pair)
        billing = (changes.deal_mappings, changes.invoice_defaults, changes.hubspot_invoices)
        if pair is not Pair.INVOICES and any(change is not None for change in billing):
            raise InvalidSettingsError([Problem("deal_mappings", "Only the invoices sync fills deals and bills them.")])
        wanted = current.changed(changes)
        mappings_changed = changes.mappings is not None and wanted.mappings != current.mappings
        if mappings_changed:
            if pair not in EDITABLE_MAPPINGS:
                raise InvalidSettingsError([Problem("mappings", f"{pair} has no field mappings to edit.")])
            problems = validate(pair, list(wanted.field_mappings()), self._hubspot_properties(pair))
            if problems:
                raise InvalidSettingsError(problems)
        if wanted.invoice_defaults != current.invoice_defaults:
            self._check_invoice_defaults(wanted)
        if wanted.deal_mappings != current.deal_mappings:
            problems = validate_deal_mappings(
                [(m.deal, m.invoice) for m in wanted.deal_mappings],
                self._properties("deals"),
                self._properties("invoices"),
            )
            if problems:
                raise InvalidSettingsError(problems)
        if wanted.filters.list_ids != current.filters.list_ids:
            self._check_lists(pair, wanted.filters.list_ids)
        saved = self.configs.save(wanted, current.version)
        changed = sorted(k for k, v in saved.model_dump(exclude={"version"}).items() if current.model_dump()[k] != v)
        self._record(pair, "settings_changed", changed)
        job_id = self._start_job(pair, saved.bring_since) if saved.syncing and not current.syncing else None
        return {"sync": saved.model_dump(mode="json"), "job_id": job_id, "resync_offered": mappings_changed}

    def delete(self, pair: Pair) -> dict[str, int]:
        """Stop the pair and forget its links, sync errors and review decisions (records on both sides stay); the
        pair is not set up again."""
        current = self.configs.get(pair)
        self.configs.save(
            current.model_copy(update={"enabled": False, "set_up": False, "reviewed": False}), current.version
        )
        self._record(pair, "sync_deleted", [])
        return self.health.forget(pair)

    # -- the first day: preview, review, save and sync ------------------------------------------------

    def _not_syncing(self, pair: Pair, step: str) -> SyncConfig:
        current = self.configs.get(pair)
        if current.syncing:
            raise RefusedError(409, f"The {pair} sync is on: turn it off before you {step}.")
        return current

    def preview(self, pair: Pair) -> str:
        """Start a dry run of the pair's first sync with its settings as they are now; answers the job id. It
        runs as a queued job: the API only creates it."""
        if pair not in MAPPED:
            raise RefusedError(409, f"{pair} has nothing to match: set how far back to bring them and start.")
        current = self._not_syncing(pair, "preview it")
        self._check_mode(pair)
        running = self.previews.latest(pair)
        if running is not None and running.status != "finished" and time.time() - running.started < PREVIEW_STALL:
            raise RefusedError(409, f"A preview of {pair} is running: wait until it finishes.")
        job_id = self.previews.create(pair, current.version)
        plan = SyncSignal(
            connection_id=self.connection_id,
            pair=pair,
            side=Side.HUBSPOT,
            record_id="plan",
            reason=Reason.PREVIEW,
            source_version=job_id,
            job_id=job_id,
        )
        self._send([plan])
        self._record(pair, "preview_started", [])
        return job_id

    def preview_summary(self, pair: Pair) -> dict[str, Any]:
        """The latest preview: its progress and, by kind, how many records."""
        job = self.previews.latest(pair)
        if job is None:
            return {"pair": pair.value, "preview": None}
        if job.status != "finished":
            return {"pair": pair.value, "preview": _job(job) | {"rows": {}}}
        counts = self.preview_rows.counts(pair, job.job_id)
        changed = self._accounts().changed_since(pair, job.started)
        return {"pair": pair.value, "preview": _job(job) | {"rows": counts, "changed_since": changed}}

    def preview_page(self, pair: Pair, kind: RowKind, *, limit: int, cursor: str | None) -> Page:
        job = self.previews.latest(pair)
        if job is None:
            return Page([], None)
        return self.preview_rows.page(pair, job.job_id, kind, limit=limit, cursor=cursor)

    def preview_csv(self, pair: Pair, kind: RowKind) -> str:
        """The latest preview's rows of one kind as CSV (at most CSV_ROWS; the rows API pages through more)."""
        rows: list[dict[str, Any]] = []
        cursor: str | None = None
        while len(rows) < CSV_ROWS:
            page = self.preview_page(pair, kind, limit=200, cursor=cursor)
            rows += page.items
            cursor = page.cursor
            if cursor is None:
                break
        return preview_as_csv(rows[:CSV_ROWS])

    def decide(self, pair: Pair, decisions: list[ReviewDecision]) -> dict[str, Any]:
        """Store a person's decisions from the review; the first sync honours them."""
        current = self._not_syncing(pair, "change the review")
        for decision in decisions:
            side, other = Side(decision.side), Side(decision.side).other
            if decision.choice == "link":
                self._store.decide(pair, side, decision.record_id, Decision("link", decision.other_id))
                self._store.decide(pair, other, decision.other_id, Decision("link", decision.record_id))
            else:
                chosen = None if decision.choice == "clear" else Decision("skip")
                self._store.decide(pair, side, decision.record_id, chosen)
        # A new version: a preview made before these decisions no longer says what the first sync will do.
        current = self.configs.save(current.model_copy(update={"reviewed": True}), current.version)
        self._record(pair, "review_decided", [f"{d.side}:{d.record_id}:{d.choice}" for d in decisions][:50])
        return {"decided": len(decisions), "version": current.version}

    def start(self, pair: Pair, version: int, *, accept_changes: bool = False) -> dict[str, Any]:
        """Save and sync: the pair is set up and on, and its first sync starts now (a two-way pair needs a
        finished preview first, and records changed since it are named unless the person accepts them);
        answers the job id."""
        current = self._not_syncing(pair, "start it again")
        self._check_mode(pair)
        if version != current.version:
            raise StaleSettingsError(f"{pair} is at version {current.version}, not {version}")
        if pair in MAPPED:
            preview = self.previews.latest(pair)
            if preview is None or preview.status != "finished":
                raise RefusedError(409, f"Preview the {pair} sync first, and look at what it will do.")
            if preview.settings_version != current.version:
                raise RefusedError(409, f"The {pair} settings changed since the preview: preview it again.")
            changed = self._accounts().changed_since(pair, preview.started)
            if sum(changed.values()) and not accept_changes:
                raise RefusedError(409, _changed_since_preview(changed))
        saved = self.configs.save(current.model_copy(update={"set_up": True, "enabled": True}), current.version)
        job_id = self._start_job(pair, saved.bring_since)
        self._record(pair, "sync_started", [])
        return {"sync": saved.model_dump(mode="json"), "job_id": job_id}

    def resync(self, pair: Pair) -> str:
        """Start a full pass of the pair, unless one is running or one started in the last minute (one
        connection's resyncs must not fill the queue that every connection's changes go through)."""
        latest = {p: self.jobs.latest(p) for p in CONFIGURABLE}
        running = latest[pair]
        if running is not None and running.status != "finished":
            raise RefusedError(409, f"A resync of {pair} is already running: wait until it finishes.")
        started = max((job.started for job in latest.values() if job is not None), default=0.0)
        wait = RESYNC_INTERVAL_SECONDS - (time.time() - started)
        if wait > 0:
            raise RefusedError(429, f"A resync started less than a minute ago; try again in {wait:.0f} s.")
        job_id = self._start_job(pair, None)
        self._record(pair, "resync_started", [])
        return job_id

    def _record(self, pair: Pair, action: str, fields: list[str]) -> None:
        """A settings change in the history, with the session that made it."""
        entry = {"pair": pair.value, "action": action, "hubspot_id": "", "qbo_id": "", "fields": fields}
        self._store.add_history(entry | {"direction": "none", "at": time.time(), "session": self.session_id})

    def include(self, pair: Pair, side: Side, record_id: str) -> int:
        """Bring a record its pair's filters leave out over anyway (a person's decision), now."""
        current = self.configs.get(pair)
        self._store.decide(pair, side, record_id, Decision("include"))
        self._store.forget_exclusion(pair, side, record_id)
        if not current.reviewed:
            self.configs.save(current.model_copy(update={"reviewed": True}), current.version)
        self._record(pair, "record_included", [f"{side}:{record_id}"])
        return self.resync_record(pair, side, record_id)

    def excluded(self, pair: Pair, *, limit: int, cursor: str | None) -> Page:
        return self.health.excluded(pair, limit=limit, cursor=cursor)

    def resync_record(self, pair: Pair, side: Side, record_id: str) -> int:
        signal = SyncSignal(
            connection_id=self.connection_id,
            pair=pair,
            side=side,
            record_id=record_id,
            reason=Reason.RETRY,
            source_version=f"retry-{time.time_ns()}",
        )
        return self._send([signal])

    # -- what the mapping editor offers -----------------------------------------------------------

    def _check_lists(self, pair: Pair, list_ids: list[str]) -> None:
        """Each filter list exists in HubSpot and holds records of the pair's object."""
        if list_ids and pair not in SPECS:
            raise InvalidSettingsError([Problem("filters.list_ids", f"{pair} cannot be filtered by HubSpot lists.")])
        problems: list[Problem] = []
        for index, list_id in enumerate(list_ids):
            where = f"filters.list_ids[{index}]"
            hs_list = (self._hubspot().list_definition(list_id) or {}).get("list")
            if hs_list is None:
                problems.append(Problem(where, f"HubSpot has no list {list_id}."))
            elif hs_list.get("objectTypeId") != spec(pair).object_type_id:
                problems.append(Problem(where, f"List '{hs_list.get('name')}' does not hold {pair}."))
        if problems:
            raise InvalidSettingsError(problems)

    def _check_invoice_defaults(self, config: SyncConfig) -> None:
        """The action's default tax code and custom-line item are ones QuickBooks offers (active, and a tax code
        only where lines take one)."""
        choices = self._accounts().invoice_choices()
        defaults, problems = config.invoice_defaults, []
        if defaults.tax_code and defaults.tax_code not in {c["value"] for c in choices["tax_codes"]}:
            problems.append(
                Problem(
                    "invoice_defaults.tax_code",
                    f"QuickBooks has no active tax code {defaults.tax_code} a line can take (a US company taxes a "
                    "line by its item's Taxable: leave this empty).",
                )
            )
        if defaults.custom_item and defaults.custom_item not in {i["value"] for i in choices["items"]}:
            problems.append(
                Problem(
                    "invoice_defaults.custom_item",
                    f"QuickBooks has no active item {defaults.custom_item} that sells (not a bundle or a category).",
                )
            )
        if problems:
            raise InvalidSettingsError(problems)

    def _hubspot_properties(self, pair: Pair) -> dict[str, dict[str, Any]]:
        """HubSpot's properties of the pair's object, the app's own among them (created if not yet)."""
        return self._properties(HUBSPOT_OBJECT[pair])

    def _properties(self, object_type: str) -> dict[str, dict[str, Any]]:
        client = self._hubspot()
        app_properties.ensure(client, object_type, self.connection_id)
        found = {p["name"]: p for p in client.properties(object_type)}
        if object_type == "companies":  # a company's parent and person: its associations, mapped as its fields
            found[PARENT] = {"name": PARENT, "label": "Parent company", "type": "string"}
            found |= {name: {"name": name, "label": label, "type": "string"} for name, label in PERSON_LABELS.items()}
        return found

    def fields(self, pair: Pair) -> dict[str, Any]:
        hubspot = [
            {
                "name": p["name"],
                "label": p.get("label", p["name"]),
                "type": p.get("type", "string"),
                "read_only": bool((p.get("modificationMetadata") or {}).get("readOnlyValue")),
            }
            for p in self._hubspot_properties(pair).values()
        ]
        qbo = [vars(f) for f in QBO_FIELDS[QBO_ENTITY[pair]]]
        if pair in MAPPED and (joined := spec(pair).joined_names) is not None:
            (hubspot_name, hubspot_label), (qbo_path, qbo_label) = joined
            hubspot.append(
                {"name": hubspot_name, "label": f"{hubspot_label} (joined)", "type": "string", "read_only": False}
            )
            qbo.append({"path": qbo_path, "label": f"{qbo_label} (joined)", "type": "string", "read_only": False})
        return {
            "pair": pair.value,
            "hubspot": sorted(hubspot, key=lambda p: p["label"].lower()),
            "qbo": qbo,
            "transforms": sorted(transforms.REGISTRY),
            "directions": ["qbo_to_hubspot"] if pair is Pair.INVOICES else ["both", "hubspot_to_qbo", "qbo_to_hubspot"],
        }

    # -- health -----------------------------------------------------------------------------------

    def status(self, pair: Pair) -> dict[str, Any]:
        recent = self.history(limit=RECENT_HISTORY, pair=pair).items
        job = self.jobs.latest(pair)
        config = self.configs.get(pair)
        return {
            "pair": pair.value,
            "enabled": config.syncing,
            "state": config.state,
            "linked": self.health.linked(pair),
            "errors": self.health.failing(pair),
            "last_to_quickbooks": next((h["at"] for h in recent if "->quickbooks" in str(h.get("direction"))), None),
            "last_to_hubspot": next((h["at"] for h in recent if "->hubspot" in str(h.get("direction"))), None),
            "job": None if job is None else _job(job),
        }

    def errors(
        self, *, pair: Pair | None, side: Side | None, category: str | None, limit: int, cursor: str | None
    ) -> Page:
        return self.health.errors(pair=pair, side=side, category=category, limit=limit, cursor=cursor)

    def named(self, page: Page) -> Page:
        """Records of a page (sync errors), each with its name as a person knows it, read from the apps."""
        wanted: dict[tuple[Pair, Side], list[str]] = {}
        for item in page.items:
            if item.get("pair") in NAMED:
                wanted.setdefault((Pair(item["pair"]), Side(item["side"])), []).append(str(item["record_id"]))
        names: dict[tuple[str, str, str], str] = {}
        if wanted:
            accounts = self._accounts()
            for (named_pair, named_side), ids in wanted.items():
                for record_id, name in accounts.names(named_pair, named_side, ids).items():
                    names[(named_pair.value, named_side.value, record_id)] = name
        items = [i | {"name": names.get((str(i["pair"]), str(i["side"]), str(i["record_id"])), "")} for i in page.items]
        return Page(items, page.cursor)

    def filter_choices(self, pair: Pair) -> dict[str, Any]:
        """What the pair's filters offer: lifecycle stages and HubSpot lists, by name."""
        return {"pair": pair.value} | self._accounts().filter_choices(pair)

    def history(
        self,
        *,
        limit: int,
        cursor: str | None = None,
        pair: Pair | None = None,
        record: tuple[Side, str] | None = None,
    ) -> Page:
        """History, newest first, each entry with its sentence; of one record when `record` is given."""
        page = self.health.history(limit=limit, cursor=cursor, pair=pair, record=record)
        return Page([item | {"text": sentence(item)} for item in page.items], page.cursor)


def _changed_since_preview(changed: dict[str, int]) -> str:
    hubspot, quickbooks = changed[Side.HUBSPOT.value], changed[Side.QUICKBOOKS.value]
    records = "1 record" if hubspot + quickbooks == 1 else f"{hubspot + quickbooks} records"
    return (
        f"{records} changed since the preview ({hubspot} in HubSpot, {quickbooks} in "
        "QuickBooks): preview again to see what the first sync will do with them, or start anyway."
    )


def _job(job: JobProgress) -> dict[str, Any]:
    """A job's progress as the page shows it, with its estimated finish."""
    return {
        "job_id": job.job_id,
        "status": job.status,
        "total": job.total,
        **job.counts,
        "started": job.started,
        "finished": job.finished,
        "estimated_finish": job.estimated_finish,
        "settings_version": job.settings_version,
    }
