"""CRM records of one portal: create, update, archive, merge, search, associations, and their events."""

import fnmatch
import itertools
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sandbox.clock import iso_ms, now_ms
from sandbox.hubspot.errors import hubspot_error, not_found
from sandbox.hubspot.properties import PropertyRegistry, epoch_ms
from sandbox.hubspot.schema import (
    CHILD_TO_PARENT_COMPANY,
    DEFAULT_ASSOCIATIONS,
    OBJECT_TYPES,
    PAIRED_TYPES,
    PARENT_TO_CHILD_COMPANY,
)

MAX_BATCH = 100
MAX_SEARCH_LIMIT = 200
SEARCH_RESULT_CAP = 10_000
_SYSTEM = {"hs_object_id", "createdate", "hs_createdate", "lastmodifieddate", "hs_lastmodifieddate"}
DEFAULT_PROPERTIES = {
    "contacts": ["createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"],
    "companies": ["createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"],
    "deals": [
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    ],
    "products": ["createdate", "description", "hs_lastmodifieddate", "hs_object_id", "name", "price"],
    "line_items": [
        "amount",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
        "hs_product_id",
        "name",
        "price",
        "quantity",
    ],
    "invoices": [
        "hs_createdate",
        "hs_currency",
        "hs_due_date",
        "hs_invoice_status",
        "hs_lastmodifieddate",
        "hs_object_id",
    ],
    "notes": ["hs_createdate", "hs_lastmodifieddate", "hs_note_body", "hs_object_id", "hs_timestamp"],
    "quotes": ["hs_createdate", "hs_expiration_date", "hs_lastmodifieddate", "hs_object_id", "hs_status", "hs_title"],
    "commerce_payments": [
        "hs_createdate",
        "hs_currency_code",
        "hs_initial_amount",
        "hs_lastmodifieddate",
        "hs_latest_status",
        "hs_object_id",
    ],
}
_REVERSE_TYPE = {type_id: pair for pair, type_id in DEFAULT_ASSOCIATIONS.items()} | dict.fromkeys(
    PAIRED_TYPES, ("companies", "companies")
)


@dataclass(frozen=True)
class Source:
    """Who made a change: the app through the API, or a person in HubSpot's UI."""

    change_source: str
    source_id: str

    @classmethod
    def integration(cls, app_id: int) -> "Source":
        return cls("INTEGRATION", str(app_id))

    @classmethod
    def user(cls) -> "Source":
        return cls("CRM_UI", "userId:1")


@dataclass
class Record:
    id: int
    object_type: str
    properties: dict[str, str]
    created_ms: int
    updated_ms: int
    archived: bool = False
    archived_ms: int | None = None
    # Each property's values as they were set, oldest first: (value, when, who); "" for a cleared value.
    history: dict[str, list[tuple[str, int, Source]]] = field(default_factory=dict)

    def set(self, values: dict[str, str], source: Source, moment: int) -> None:
        """Set (or clear, with "") properties and remember who set them when."""
        for name, value in values.items():
            if value == "":
                self.properties.pop(name, None)
            else:
                self.properties[name] = value
            self.history.setdefault(name, []).append((value, moment, source))

    def history_json(self, names: Iterable[str]) -> dict[str, list[dict[str, str]]]:
        """`propertiesWithHistory`: newest first; names the record never had are left out."""
        return {
            name: [
                {"value": value, "timestamp": iso_ms(when), "sourceType": who.change_source, "sourceId": who.source_id}
                for value, when, who in reversed(self.history[name])
            ]
            for name in names
            if name in self.history
        }

    def to_json(
        self, names: Iterable[str] | None = None, with_defaults: bool = False, history: Iterable[str] = ()
    ) -> dict[str, Any]:
        """The record as the API shows it: the named properties (default ones when none are named), and the
        history of those named in `history`."""
        defaults = DEFAULT_PROPERTIES[self.object_type]
        wanted = [*(names or []), *defaults] if with_defaults or names is None else list(names)
        otype = OBJECT_TYPES[self.object_type]
        always = {"hs_object_id", otype.created_property, otype.modified_property}
        # Unset properties are left out: HubSpot's specs do not allow null property values.
        props = {n: self.properties[n] for n in (*wanted, *always) if self.properties.get(n)}
        body: dict[str, Any] = {
            "id": str(self.id),
            "properties": props,
            "createdAt": iso_ms(self.created_ms),
            "updatedAt": iso_ms(self.updated_ms),
            "archived": self.archived,
        }
        if self.archived_ms is not None:
            body["archivedAt"] = iso_ms(self.archived_ms)
        if history:
            body["propertiesWithHistory"] = self.history_json(history)
        return body


@dataclass
class Association:
    category: str
    type_id: int

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"category": self.category, "typeId": self.type_id}
        if self.category != "HUBSPOT_DEFINED":
            body["label"] = f"label-{self.type_id}"
        return body


Emit = Callable[[list[dict[str, Any]]], None]


@dataclass
class Crm:
    """All CRM data of the portal; every mutation takes the lock and emits webhook events."""

    portal_id: int
    app_id: int
    emit: Emit
    properties: PropertyRegistry = field(default_factory=PropertyRegistry)
    records: dict[str, dict[int, Record]] = field(default_factory=lambda: {t: {} for t in OBJECT_TYPES})
    merged_into: dict[tuple[str, int], int] = field(default_factory=dict)
    associations: dict[tuple[str, int], dict[tuple[str, int], list[Association]]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    # (object type, property) -> a value in lower case -> the records it was ever set on: where a uniqueness
    # check looks, each record then checked as it is now (a record set again or archived since may not match).
    _by_value: dict[tuple[str, str], dict[str, set[int]]] = field(default_factory=dict)
    # Record ids are unique across HubSpot, not per portal: portals of one sandbox share this counter.
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(101))
    _event_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1_000_001))
    _invoice_numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    # -- events ------------------------------------------------------------------------------------

    def _event(
        self, object_type: str, kind: str, object_id: int, source: Source, at: int | None = None, **extra: Any
    ) -> dict[str, Any]:
        """One webhook event; `at` is when the change happened (the record's new updatedAt), now by default."""
        otype = OBJECT_TYPES[object_type]
        generic = object_type in ("invoices", "notes", "quotes", "commerce_payments")
        event: dict[str, Any] = {
            "eventId": next(self._event_ids),
            "subscriptionId": 1000 + list(OBJECT_TYPES).index(object_type),
            "portalId": self.portal_id,
            "appId": self.app_id,
            "occurredAt": at or now_ms(),
            "subscriptionType": f"{'object' if generic else otype.singular}.{kind}",
            "attemptNumber": 0,
            "objectId": object_id,
            "changeSource": source.change_source,
            "sourceId": source.source_id,
        }
        if generic:
            event["objectTypeId"] = otype.type_id
        return event | extra

    # -- reads -------------------------------------------------------------------------------------

    def resolve(self, object_type: str, object_id: int) -> int:
        return self.merged_into.get((object_type, object_id), object_id)

    def get(self, object_type: str, key: str, id_property: str | None = None, archived: bool = False) -> Record:
        with self.lock:
            record = self._find(object_type, key, id_property)
            if record is None or record.archived != archived:
                raise not_found(object_type, key)
            return record

    def _find(self, object_type: str, key: str, id_property: str | None) -> Record | None:
        table = self.records[object_type]
        if id_property and id_property != "hs_object_id":
            wanted = key.strip().lower()
            return next(
                (r for r in table.values() if not r.archived and r.properties.get(id_property, "").lower() == wanted),
                None,
            )
        if not str(key).isdigit():
            return None
        return table.get(self.resolve(object_type, int(key)))

    def page(self, object_type: str, limit: int, after: str | None, archived: bool) -> tuple[list[Record], str | None]:
        with self.lock:
            ordered = sorted(
                (r for r in self.records[object_type].values() if r.archived == archived), key=lambda r: r.id
            )
        start = int(after) if after and after.isdigit() else 0
        chosen = [r for r in ordered if r.id > start][:limit]
        more = bool(chosen) and chosen[-1].id < ordered[-1].id
        return chosen, (str(chosen[-1].id) if more else None)

    # -- writes ------------------------------------------------------------------------------------

    def _check_unique(self, object_type: str, values: dict[str, str], own_id: int | None) -> None:
        for name, value in values.items():
            definition = self.properties.get(object_type, name)
            if definition is None or not definition.unique or not value:
                continue
            wanted = value.lower()
            for record_id in sorted(self._by_value.get((object_type, name), {}).get(wanted, ())):
                record = self.records[object_type].get(record_id)
                if record is None or record.archived or record.id == own_id:
                    continue
                if record.properties.get(name, "").lower() == wanted:
                    noun = OBJECT_TYPES[object_type].singular.replace("_", " ").capitalize()
                    message = (
                        f"{noun} already exists. Existing ID: {record.id}"
                        if name == "email"
                        else f"A {noun.lower()} with {name} '{value}' already exists. Existing ID: {record.id}"
                    )
                    raise hubspot_error(409, message, "CONFLICT")

    def _set(self, record: Record, values: dict[str, str], source: Source, moment: int) -> None:
        """Set a record's properties, noting each value where a uniqueness check looks for it."""
        record.set(values, source, moment)
        for name, value in values.items():
            if value:
                named = self._by_value.setdefault((record.object_type, name), {})
                named.setdefault(value.lower(), set()).add(record.id)

    def _derive(self, record: Record) -> None:
        if record.object_type == "invoices" and record.properties.get("hs_invoice_status") == "open":
            # HubSpot numbers an invoice once it opens
            record.properties.setdefault("hs_number", f"INV-{next(self._invoice_numbers):04d}")
        if record.object_type == "line_items":
            try:  # a unit discount, or else a percentage off, as HubSpot nets them
                quantity = float(record.properties.get("quantity") or 1)
                price = float(record.properties.get("price") or 0)
                off = float(record.properties.get("discount") or 0)
                percent = float(record.properties.get("hs_discount_percentage") or 0)
            except ValueError:
                return
            amount = quantity * (price - off) if off else quantity * price * (1 - percent / 100)
            record.properties["amount"] = f"{amount:.2f}".rstrip("0").rstrip(".") if amount else "0"

    def _stamp(self, record: Record, moment: int) -> None:
        record.updated_ms = moment
        otype = OBJECT_TYPES[record.object_type]
        record.properties[otype.modified_property] = iso_ms(moment)
        record.properties["hs_lastmodifieddate"] = iso_ms(moment)

    def create(
        self,
        object_type: str,
        values: dict[str, Any],
        source: Source,
        associations: list[dict[str, Any]] | None = None,
        system: bool = False,
    ) -> Record:
        with self.lock:
            clean = self.properties.normalise(object_type, values, system=system)
            self._check_invoice_create(object_type, clean)
            self._check_unique(object_type, clean, None)
            record_id = next(self.ids)
            moment = now_ms()
            record = Record(record_id, object_type, {}, moment, moment)
            self._set(record, {k: v for k, v in clean.items() if v != ""}, source, moment)
            otype = OBJECT_TYPES[object_type]
            record.properties |= {
                "hs_object_id": str(record_id),
                otype.created_property: iso_ms(moment),
                "createdate": iso_ms(moment),
                "hs_createdate": iso_ms(moment),
            }
            self._derive(record)
            self._stamp(record, moment)
            self.records[object_type][record_id] = record
            for spec in associations or []:
                self._associate_from_spec(object_type, record_id, spec, source)
            self.emit([self._event(object_type, "creation", record_id, source, moment, changeFlag="NEW")])
            return record

    def update(
        self,
        object_type: str,
        key: str,
        values: dict[str, Any],
        source: Source,
        *,
        id_property: str | None = None,
        system: bool = False,
    ) -> Record:
        with self.lock:
            record = self.get(object_type, key, id_property)
            clean = self.properties.normalise(object_type, values, system=system)
            self._check_unique(object_type, clean, record.id)
            self._check_invoice_status(record, clean, system)
            changed = {k: v for k, v in clean.items() if record.properties.get(k, "") != v}
            moment = now_ms()
            self._set(record, changed, source, moment)
            self._derive(record)
            self._stamp(record, moment)
            self.emit(
                [
                    self._event(
                        object_type,
                        "propertyChange",
                        record.id,
                        source,
                        moment,
                        propertyName=name,
                        propertyValue=value,
                    )
                    for name, value in changed.items()
                    if name not in _SYSTEM
                ]
            )
            return record

    def archive(self, object_type: str, key: str, source: Source) -> Record:
        with self.lock:
            record = self.get(object_type, key)
            record.archived = True
            record.archived_ms = now_ms()
            record.updated_ms = record.archived_ms
            self.emit([self._event(object_type, "deletion", record.id, source, changeFlag="DELETED")])
            return record

    def restore(self, object_type: str, key: str, source: Source) -> Record:
        with self.lock:
            record = self.get(object_type, key, archived=True)
            record.archived = False
            record.archived_ms = None
            moment = now_ms()
            self._stamp(record, moment)
            self.emit([self._event(object_type, "restore", record.id, source, moment)])
            return record

    def merge(self, object_type: str, primary_key: str, merged_key: str, source: Source) -> Record:
        with self.lock:
            primary = self.get(object_type, primary_key)
            merged = self.get(object_type, merged_key)
            if primary.id == merged.id:
                raise hubspot_error(400, "Cannot merge an object with itself", "VALIDATION_ERROR")
            taken = {n: v for n, v in merged.properties.items() if n not in _SYSTEM and not primary.properties.get(n)}
            moment = now_ms()
            self._set(primary, taken, source, moment)
            merged.archived, merged.archived_ms = True, moment
            self.merged_into[(object_type, merged.id)] = primary.id
            for (otype, oid), target in list(self.merged_into.items()):
                if otype == object_type and target == merged.id:
                    self.merged_into[(otype, oid)] = primary.id
            for (to_type, to_id), links in list(self.associations.get((object_type, merged.id), {}).items()):
                for link in links:
                    self._link(object_type, primary.id, to_type, to_id, link)
            self._stamp(primary, moment)
            self.emit(
                [
                    self._event(
                        object_type,
                        "merge",
                        primary.id,
                        source,
                        moment,
                        mergedObjectIds=[primary.id, merged.id],
                        newObjectId=primary.id,
                        primaryObjectId=primary.id,
                    )
                ]
            )
            return primary

    # -- invoices: HubSpot's rules for the CRM invoice object ---------------------------------------

    def _check_invoice_create(self, object_type: str, values: dict[str, str]) -> None:
        if object_type != "invoices":
            return
        if not values.get("hs_currency"):
            raise hubspot_error(400, "hs_currency is required to create an invoice", "VALIDATION_ERROR")
        if values.get("hs_invoice_status", "draft") not in ("draft",):
            raise hubspot_error(
                400,
                "An invoice is created as a draft; associate a contact and line items, "
                "then set hs_invoice_status to open",
                "VALIDATION_ERROR",
            )

    def _check_invoice_status(self, record: Record, values: dict[str, str], system: bool) -> None:
        status = values.get("hs_invoice_status")
        if record.object_type != "invoices" or status is None or system:
            return
        if status == "paid":
            raise hubspot_error(
                400,
                "Invoice status cannot be set to paid through the API; payments are recorded in HubSpot payments",
                "VALIDATION_ERROR",
            )
        if status == "open":
            contacts = self.associated(record.object_type, record.id, "contacts")
            items = self.associated(record.object_type, record.id, "line_items")
            if len(contacts) != 1 or not items:
                raise hubspot_error(
                    400,
                    "An open invoice needs exactly one associated contact and at least one line item",
                    "VALIDATION_ERROR",
                )

    # -- associations ------------------------------------------------------------------------------

    def _link(self, from_type: str, from_id: int, to_type: str, to_id: int, link: Association) -> None:
        links = self.associations.setdefault((from_type, from_id), {}).setdefault((to_type, to_id), [])
        if all(existing.type_id != link.type_id for existing in links):
            links.append(link)

    def associate(
        self,
        from_type: str,
        from_key: str,
        to_type: str,
        to_key: str,
        types: list[dict[str, Any]] | None = None,
        *,
        changed_by: Source | None = None,
    ) -> list[Association]:
        """Associate two records (the default type when none given); both directions are stored. A parent
        company set or changed is told by `company.associationChange` events, one from each side."""
        with self.lock:
            source = self.get(from_type, from_key)
            target = self.get(to_type, to_key)
            if types is None:
                type_id = DEFAULT_ASSOCIATIONS.get((from_type, to_type))
                if type_id is None:
                    raise hubspot_error(
                        400, f"No default association from {from_type} to {to_type}", "VALIDATION_ERROR"
                    )
                types = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]
            for spec in types:
                category = str(spec.get("associationCategory", "HUBSPOT_DEFINED"))
                type_id = int(spec["associationTypeId"])
                if category == "HUBSPOT_DEFINED" and _REVERSE_TYPE.get(type_id) != (from_type, to_type):
                    raise hubspot_error(
                        400,
                        f"associationTypeId {type_id} does not go from {from_type} to {to_type}",
                        "VALIDATION_ERROR",
                    )
                if type_id in PAIRED_TYPES and category == "HUBSPOT_DEFINED":
                    parent, child = (source, target) if type_id == PARENT_TO_CHILD_COMPANY else (target, source)
                    self._check_parent(parent.id, child.id)
                    self.emit(self._family_events(parent.id, child.id, source=changed_by, removed=False))
                elif not self.associations.get((from_type, source.id), {}).get((to_type, target.id)):
                    self.emit(self._people_events(from_type, source.id, to_type, target.id, changed_by, removed=False))
                self._link(from_type, source.id, to_type, target.id, Association(category, type_id))
                reverse = (
                    (PAIRED_TYPES.get(type_id) or DEFAULT_ASSOCIATIONS.get((to_type, from_type)))
                    if category == "HUBSPOT_DEFINED"
                    else type_id
                )
                if reverse is not None:
                    self._link(to_type, target.id, from_type, source.id, Association(category, reverse))
            return self.associations[(from_type, source.id)][(to_type, target.id)]

    def _association_events(
        self, ends: tuple[tuple[str, int, str], tuple[str, int, str]], source: Source | None, removed: bool
    ) -> list[dict[str, Any]]:
        """The two `associationChange` events of an association made or removed, one from each record; each end
        is (object type, id, the association type as told from it)."""
        by = source or Source.user()
        return [
            _without_object_id(
                self._event(
                    object_type,
                    "associationChange",
                    from_id,
                    by,
                    associationType=kind,
                    fromObjectId=from_id,
                    toObjectId=to_id,
                    associationRemoved=removed,
                    isPrimaryAssociation=False,
                )
            )
            for (object_type, from_id, kind), (_, to_id, _) in (ends, ends[::-1])
        ]

    def _family_events(self, parent: int, child: int, *, source: Source | None, removed: bool) -> list[dict[str, Any]]:
        """The two `company.associationChange` events of a parent company set or removed."""
        ends = (("companies", child, "CHILD_TO_PARENT_COMPANY"), ("companies", parent, "PARENT_TO_CHILD_COMPANY"))
        return self._association_events(ends, source, removed)

    def _people_events(
        self, from_type: str, from_id: int, to_type: str, to_id: int, source: Source | None, *, removed: bool
    ) -> list[dict[str, Any]]:
        """The `contact.associationChange` and `company.associationChange` events of a contact's company made or
        removed (none for other objects' associations)."""
        if {from_type, to_type} != {"contacts", "companies"}:
            return []
        ids = {from_type: from_id, to_type: to_id}
        ends = (
            ("companies", ids["companies"], "COMPANY_TO_CONTACT"),
            ("contacts", ids["contacts"], "CONTACT_TO_COMPANY"),
        )
        return self._association_events(ends, source, removed)

    def parent_company(self, company_id: int) -> int | None:
        links = self.associations.get(("companies", company_id), {})
        return next(
            (
                other
                for (kind, other), found in links.items()
                if any(a.type_id == CHILD_TO_PARENT_COMPANY for a in found)
            ),
            None,
        )

    def _check_parent(self, parent_id: int, child_id: int) -> None:
        """One parent per company, and never a company under itself or under one of its own children."""
        current = self.parent_company(child_id)
        if current is not None and current != parent_id:
            raise hubspot_error(400, f"Company {child_id} already has a parent company ({current})", "VALIDATION_ERROR")
        ancestor: int | None = parent_id
        while ancestor is not None:
            if ancestor == child_id:
                raise hubspot_error(
                    400, f"Company {parent_id} cannot be the parent of {child_id}: it is under it", "VALIDATION_ERROR"
                )
            ancestor = self.parent_company(ancestor)

    def _associate_from_spec(self, from_type: str, from_id: int, spec: dict[str, Any], source: Source) -> None:
        types = spec.get("types") or []
        to_id = str(spec.get("to", {}).get("id", ""))
        for type_spec in types:
            pair = _REVERSE_TYPE.get(int(type_spec.get("associationTypeId", -1)))
            if pair is None or pair[0] != from_type:
                raise hubspot_error(400, f"Unknown associationTypeId for {from_type}: {type_spec}", "VALIDATION_ERROR")
            self.associate(from_type, str(from_id), pair[1], to_id, [type_spec], changed_by=source)

    def disassociate(
        self, from_type: str, from_key: str, to_type: str, to_key: str, changed_by: Source | None = None
    ) -> None:
        with self.lock:
            source = self.get(from_type, from_key)
            target = self.get(to_type, to_key)
            if from_type == to_type == "companies":
                for parent, child in ((source.id, target.id), (target.id, source.id)):
                    if self.parent_company(child) == parent:
                        self.emit(self._family_events(parent, child, source=changed_by, removed=True))
            elif self.associations.get((from_type, source.id), {}).get((to_type, target.id)):
                self.emit(self._people_events(from_type, source.id, to_type, target.id, changed_by, removed=True))
            self.associations.get((from_type, source.id), {}).pop((to_type, target.id), None)
            self.associations.get((to_type, target.id), {}).pop((from_type, source.id), None)

    def associated(self, from_type: str, from_id: int, to_type: str) -> list[tuple[int, list[Association]]]:
        with self.lock:
            links = self.associations.get((from_type, self.resolve(from_type, from_id)), {})
            found = []
            for (other_type, other_id), kinds in links.items():
                record = self.records[other_type].get(other_id)
                if other_type == to_type and record is not None and not record.archived:
                    found.append((other_id, list(kinds)))
            return sorted(found)

    # -- search ------------------------------------------------------------------------------------

    def search(self, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
        groups = body.get("filterGroups") or []
        filters = [f for g in groups for f in g.get("filters", [])]
        if len(groups) > 5 or any(len(g.get("filters", [])) > 6 for g in groups) or len(filters) > 18:
            raise hubspot_error(
                400, "Too many filters: at most 5 filterGroups, 6 filters each, 18 in all", "VALIDATION_ERROR"
            )
        limit = int(body.get("limit") or 10)
        if limit > MAX_SEARCH_LIMIT:
            raise hubspot_error(400, f"limit must be at most {MAX_SEARCH_LIMIT}", "VALIDATION_ERROR")
        after = int(body.get("after") or 0)
        if after + limit > SEARCH_RESULT_CAP:
            raise hubspot_error(
                400,
                f"Searches return at most {SEARCH_RESULT_CAP} results; narrow the filters",
                "VALIDATION_ERROR",
            )
        for f in filters:
            if f.get("propertyName") and self.properties.get(object_type, f["propertyName"]) is None:
                raise hubspot_error(400, f"Property {f['propertyName']!r} does not exist", "VALIDATION_ERROR")
        query = str(body.get("query") or "").lower()
        with self.lock:
            candidates = [r for r in self.records[object_type].values() if not r.archived]
        matched = [
            r
            for r in candidates
            if (not groups or any(all(self._matches(object_type, r, f) for f in g.get("filters", [])) for g in groups))
            and (not query or any(query in v.lower() for v in r.properties.values()))
        ]
        key, descending = self._sort_key(object_type, body.get("sorts") or [])
        matched.sort(key=key, reverse=descending)
        if not descending:  # values first, then records that lack the property
            matched.sort(key=lambda r: not key(r)[0])
        chosen = matched[after : after + limit]
        result: dict[str, Any] = {
            "total": len(matched),
            "results": [r.to_json(body.get("properties") or None) for r in chosen],
        }
        if after + limit < len(matched):
            result["paging"] = {"next": {"after": str(after + limit)}}
        return result

    def _sort_key(self, object_type: str, sorts: list[Any]) -> tuple[Callable[[Record], Any], bool]:
        """A sort key and whether to reverse; records without the value come last either way."""
        if not sorts:
            return (lambda r: (True, r.id, r.id)), False
        spec = sorts[0]
        if isinstance(spec, str):
            name, descending = spec.lstrip("-"), spec.startswith("-")
        else:
            name, descending = spec["propertyName"], spec.get("direction", "ASCENDING") == "DESCENDING"
        definition = self.properties.get(object_type, name)
        kind = definition.type if definition else "string"
        convert: Callable[[str], Any] = {"number": _number, "datetime": epoch_ms, "date": epoch_ms}.get(
            kind, lambda v: v.lower() or None
        )

        def key(record: Record) -> Any:
            value = convert(record.properties.get(name, ""))
            return (value is not None, value if value is not None else 0, record.id)

        return key, descending

    def _matches(self, object_type: str, record: Record, spec: dict[str, Any]) -> bool:
        name = spec.get("propertyName", "")
        operator = spec.get("operator", "EQ")
        value = record.properties.get(name, "")
        if operator == "HAS_PROPERTY":
            return value != ""
        if operator == "NOT_HAS_PROPERTY":
            return bool(value == "")
        definition = self.properties.get(object_type, name)
        kind = definition.type if definition else "string"
        if operator in ("IN", "NOT_IN"):
            wanted = {str(v).lower() for v in spec.get("values", [])}
            return bool((value.lower() in wanted) == (operator == "IN"))
        if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            token = str(spec.get("value", "")).lower()
            found = _token_match(value.lower(), token)
            return bool(found == (operator == "CONTAINS_TOKEN"))
        target = str(spec.get("value", ""))
        if kind in ("number", "datetime", "date"):
            convert = _number if kind == "number" else epoch_ms
            left, right = convert(value), convert(target)
            if operator == "BETWEEN":
                high = convert(str(spec.get("highValue", "")))
                return None not in (left, right, high) and right <= left <= high  # type: ignore[operator]
            if left is None or right is None:
                return operator == "NEQ" and left != right
            return _compare(operator, left, right)
        return _compare(operator, value.lower(), target.lower())


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _compare(operator: str, left: Any, right: Any) -> bool:
    match operator:
        case "EQ":
            return bool(left == right)
        case "NEQ":
            return bool(left != right)
        case "LT":
            return bool(left < right)
        case "LTE":
            return bool(left <= right)
        case "GT":
            return bool(left > right)
        case "GTE":
            return bool(left >= right)
    raise hubspot_error(400, f"Unsupported operator {operator}", "VALIDATION_ERROR")


def _token_match(value: str, token: str) -> bool:
    if "*" in token:
        return any(fnmatch.fnmatch(part, token) for part in [value, *value.replace("@", " ").split()])
    return token in value.replace("@", " ").replace(".", " ").split() or token == value


def _without_object_id(event: dict[str, Any]) -> dict[str, Any]:
    """An association event names its records as `fromObjectId` and `toObjectId` only."""
    event.pop("objectId", None)
    return event
