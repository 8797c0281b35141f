"""Dry runs: clients that read both accounts for real and answer each write as the provider would without
sending it (every write is kept, for the record), and a store that keeps links, sync errors and history to
itself while reading the tenant's real links, settings and decisions."""

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hubbooks.errors import ValidationFaultError
from hubbooks.hubspot.client import HubSpotClient
from hubbooks.models.signals import Pair, Side
from hubbooks.models.sync_config import SyncConfig
from hubbooks.quickbooks.client import QboClient, quoted
from hubbooks.store.sync_store import DynamoSyncStore
from hubbooks.store.table import Table
from hubbooks.sync.models import BatchCreate, IntentNote, Link, Noted, SyncFailure

_new_ids = itertools.count(1)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Captured:
    """Every write a dry run kept to itself: (provider, what, detail)."""

    writes: list[tuple[str, str, Any]] = field(default_factory=list)

    def add(self, provider: str, what: str, detail: Any) -> None:
        self.writes.append((provider, what, detail))


class DryRunHubSpot:
    """A HubSpot client that reads for real and answers each write as HubSpot would, without sending it."""

    def __init__(self, inner: HubSpotClient, captured: Captured) -> None:
        self._inner = inner
        self._captured = captured

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _kept(self, what: str, detail: Any) -> None:
        self._captured.add("hubspot", what, detail)

    def _answer(self, object_id: str | None, properties: dict[str, str]) -> dict[str, Any]:
        now = _now_iso()
        new_id = object_id or f"preview-{next(_new_ids)}"
        return {"id": new_id, "properties": {**properties, "hs_object_id": new_id}, "createdAt": now, "updatedAt": now}

    def update(self, object_type: str, object_id: str, properties: dict[str, str]) -> dict[str, Any]:
        self._kept("update", (object_type, object_id, properties))
        current = self._inner.get(object_type, object_id, list(properties)) or {}
        return self._answer(object_id, {**(current.get("properties") or {}), **properties})

    def upsert(self, object_type: str, id_property: str, key: str, properties: dict[str, str]) -> dict[str, Any]:
        self._kept("upsert", (object_type, key, properties))
        return self._answer(None, properties)

    def batch_upsert(
        self, object_type: str, id_property: str, inputs: list[tuple[str, dict[str, str]]]
    ) -> list[dict[str, Any]]:
        self._kept("batch_upsert", (object_type, len(inputs)))
        return [self._answer(None, properties) for _key, properties in inputs]

    def batch_write(self, object_type: str, operation: str, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self._kept(f"batch_{operation}", (object_type, len(inputs)))
        return [self._answer(i.get("id"), i.get("properties", {})) for i in inputs if operation != "archive"]

    def create(self, object_type: str, properties: dict[str, str], associations: list[dict[str, Any]]) -> str:
        self._kept("create", (object_type, properties))
        return str(self._answer(None, properties)["id"])

    def archive(self, object_type: str, object_id: str) -> None:
        self._kept("archive", (object_type, object_id))

    def create_property(self, object_type: str, definition: dict[str, Any]) -> None:
        self._kept("create_property", (object_type, definition.get("name")))

    def create_group(self, object_type: str, name: str, label: str) -> None:
        self._kept("create_group", (object_type, name))

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        self._kept("associate", (from_type, from_id, to_type, to_id))

    def associate_as(self, from_type: str, from_id: str, to_type: str, to_id: str, type_id: int) -> None:
        self._kept("associate", (from_type, from_id, to_type, to_id, type_id))

    def associate_many(self, from_type: str, to_type: str, pairs: list[tuple[str, str]]) -> None:
        self._kept("associate_many", (from_type, to_type, len(pairs)))

    def disassociate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        self._kept("disassociate", (from_type, from_id, to_type, to_id))

    def timeline_event(self, body: dict[str, Any]) -> bool:
        self._kept("timeline_event", body.get("objectId"))
        return True

    def complete_action(self, callback_id: str, output_fields: dict[str, Any]) -> None:
        self._kept("complete_action", callback_id)


NAME_FIELD = {"Customer": "DisplayName", "Item": "Name"}
NAME_LISTS = {
    "Customer": (("Customer", "DisplayName"), ("Vendor", "DisplayName"), ("Employee", "DisplayName")),
    "Item": (("Item", "Name"),),
}
NAMES_A_QUERY = 30


class DryRunQbo:
    """A QuickBooks client that reads for real and answers each write as QuickBooks would, without sending it."""

    def __init__(self, inner: QboClient, captured: Captured) -> None:
        self._inner = inner
        self._captured = captured
        self._made: set[str] = set()  # names this dry run "created"

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    @staticmethod
    def _answer(body: dict[str, Any]) -> dict[str, Any]:
        token = int(str(body.get("SyncToken", "-1"))) + 1
        meta = {"CreateTime": _now_iso(), "LastUpdatedTime": _now_iso()}
        return {
            "Active": True,
            **body,
            "Id": body.get("Id") or f"preview-{next(_new_ids)}",
            "SyncToken": str(token),
        } | {"MetaData": meta}

    def _taken(self, entity: str, bodies: list[dict[str, Any]]) -> set[str]:
        """Which of the names new records would take QuickBooks already has (or this dry run made): names are
        unique across customers, vendors and employees, and across items (QuickBooks' 6240)."""
        names = {str(b.get(NAME_FIELD[entity], "")).lower() for b in bodies if entity in NAME_LISTS}
        taken = names & self._made
        wanted = sorted(names - taken - {""})
        for other, name_field in NAME_LISTS.get(entity, ()):
            for start in range(0, len(wanted), NAMES_A_QUERY):
                listed = ", ".join(f"'{quoted(n)}'" for n in wanted[start : start + NAMES_A_QUERY])
                found = self._inner.query(f"select * from {other} where {name_field} in ({listed})")
                taken |= {str(r.get(name_field, "")).lower() for r in found}
        return taken

    def _made_now(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        if entity in NAME_LISTS:
            self._made.add(str(body.get(NAME_FIELD[entity], "")).lower())
        return self._answer(body)

    def write(self, entity: str, body: dict[str, Any], request_id: str, operation: str | None = None) -> dict[str, Any]:
        self._captured.add("quickbooks", operation or ("update" if "Id" in body else "create"), (entity, body))
        if "Id" in body and body.get("sparse"):
            return self._answer({**self._inner.read(entity, str(body["Id"])), **body})
        if "Id" not in body and str(body.get(NAME_FIELD.get(entity, ""), "")).lower() in self._taken(entity, [body]):
            raise ValidationFaultError(
                "quickbooks", 400, "6240", "Duplicate Name Exists Error", detail=f"{body.get(NAME_FIELD[entity])}"
            )
        return self._made_now(entity, body)

    def take_batch_turn(self, items: int) -> bool:
        """A dry run sends no batch call, so it takes no turn of the live budget: its batches are as a quiet
        account's."""
        return True

    def batch(self, items: list[dict[str, Any]], request_id: str, *, turn_taken: bool = False) -> list[dict[str, Any]]:
        self._captured.add("quickbooks", "batch", len(items))
        entities = [next(k for k in item if k not in ("bId", "operation")) for item in items]
        taken = self._taken(entities[0], [item[entities[0]] for item in items]) if items else set()
        answers: list[dict[str, Any]] = []
        for item, entity in zip(items, entities, strict=True):
            name = str(item[entity].get(NAME_FIELD.get(entity, ""), "")).lower()
            if entity in NAME_LISTS and (name in taken or name in self._made):
                error = {"code": "6240", "Message": "Duplicate Name Exists Error", "Detail": name}
                answers.append({"bId": item["bId"], "Fault": {"type": "ValidationFault", "Error": [error]}})
            else:
                answers.append({"bId": item["bId"], entity: self._made_now(entity, item[entity])})
        return answers

    def send_invoice(self, invoice_id: str, request_id: str) -> dict[str, Any]:
        self._captured.add("quickbooks", "send", invoice_id)
        return {}


class PreviewStore(DynamoSyncStore):
    """The store as a dry run sees it: links, settings and decisions read for real, the pair's settings as the
    person has them now (on), and every link, sync error and history entry kept in memory."""

    def __init__(self, table: Table, connection_id: str, config: SyncConfig) -> None:
        super().__init__(table, connection_id)
        self._configs[config.pair] = config.model_copy(update={"set_up": True, "enabled": True})
        self.saved: dict[tuple[Side, str], Link] = {}
        self.failed: dict[tuple[Side, str], SyncFailure] = {}

    def link_of(self, pair: Pair, side: Side, record_id: str) -> Link | None:
        return self.saved.get((side, record_id)) or super().link_of(pair, side, record_id)

    def links_of(self, pair: Pair, side: Side, record_ids: list[str]) -> dict[str, Link | None]:
        found = super().links_of(pair, side, record_ids)
        return {i: self.saved.get((side, i)) or link for i, link in found.items()}

    def save_link(self, link: Link, previous: Link | None) -> Link:
        saved = link.at((previous.version if previous else 0) + 1)
        self.saved[(Side.HUBSPOT, link.hubspot_id)] = self.saved[(Side.QUICKBOOKS, link.qbo_id)] = saved
        return saved

    def save_links(self, links: list[tuple[Link, int | None]]) -> list[Link]:
        for link, _ in links:
            self.saved[(Side.HUBSPOT, link.hubspot_id)] = self.saved[(Side.QUICKBOOKS, link.qbo_id)] = link
        return []

    def delete_link(self, link: Link) -> None:
        return None

    def save_intents(self, intents: list[IntentNote]) -> None:
        return None

    def note_creation(self, pair: Pair, hubspot_id: str, values: dict[str, str]) -> BatchCreate | None:
        return None

    def claim_creations(
        self, pair: Pair, creations: dict[str, tuple[dict[str, str], BatchCreate]]
    ) -> dict[str, BatchCreate]:
        return {hubspot_id: batch for hubspot_id, (_, batch) in creations.items()}

    def record_exclusion(self, pair: Pair, side: Side, record_id: str, reason: str, name: str) -> None:
        return None

    def intent(self, link: Link, qbo_token: str) -> dict[str, dict[str, str]]:
        return {}

    def noted(self, link: Link, qbo_token: str) -> Noted:
        return Noted({}, [])

    def record_failure(self, pair: Pair, side: Side, record_id: str, failure: SyncFailure) -> None:
        self.failed[(side, record_id)] = failure

    def failing(self, pair: Pair) -> set[tuple[str, str]]:
        return super().failing(pair) | {(str(side), record_id) for side, record_id in self.failed}

    def clear_failure(self, pair: Pair, side: Side, record_id: str) -> None:
        self.failed.pop((side, record_id), None)

    def add_history(self, entry: dict[str, Any]) -> None:
        return None

    def add_histories(self, entries: list[dict[str, Any]]) -> None:
        return None
