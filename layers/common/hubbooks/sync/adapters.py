"""The engine's ports over the real APIs: records in canonical form in, provider writes out."""

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from hubbooks.errors import ValidationFaultError
from hubbooks.hubspot import app_properties
from hubbooks.hubspot.client import HubSpotClient
from hubbooks.mapping.fields import PARENT, FieldMapping, hubspot_properties, own_property, person_property, split
from hubbooks.mapping.pairs import DEFAULTS, spec
from hubbooks.mapping.qbo_fields import qbo_field
from hubbooks.models.signals import Pair, Side
from hubbooks.quickbooks.client import FEW, QboClient, fault_error, quoted
from hubbooks.store.sync_store import DynamoSyncStore
from hubbooks.sync.company_people import CompanyPeople, Person, as_mapped
from hubbooks.sync.hierarchy import CompanyTree, qbo_parent
from hubbooks.sync.models import BatchCreate, Record
from hubbooks.sync.ports import DuplicateNameError, MergedAwayError, StaleObjectError

BULK = 100
QBO_BATCH = 30


def bid_of(hubspot_id: str) -> str:
    """A record's `bId` in any batch create (at most 10 characters): the record's, whichever batch holds it."""
    return hashlib.sha256(hubspot_id.encode()).hexdigest()[:10]


PUT_BACK_ROUNDS = 3  # a put-back written over by a still newer edit is put back again, this many times in all
WRITE_STAMP = 1.0  # seconds: a write's history entry is stamped this close to (before) the record's updatedAt


# A HubSpot record's values of some properties, and their past values (newest first).
WithHistory = tuple[dict[str, str], dict[str, list[dict[str, Any]]]]


def _with_history(body: dict[str, Any] | None) -> WithHistory:
    return (body or {}).get("properties") or {}, (body or {}).get("propertiesWithHistory") or {}


def _epoch(value: str | None) -> float:
    if not value:
        return 0.0
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _overwritten(history: list[dict[str, Any]], held: set[str], since: float, until: float) -> str | None:
    """From a property's history (newest first): the newest value set after `since` and up to a write at
    `until` that is none of the values `held` (what the property holds, what we wrote); None if none was lost."""
    for entry in history:
        when, value = _epoch(entry.get("timestamp")), str(entry.get("value") or "")
        if when > until:
            return None  # set again after the write: that later value stands
        if when <= since:
            return None
        if value not in held:
            return value
    return None


class HubSpotAdapter:
    def __init__(
        self,
        client: HubSpotClient,
        schema_key: str,
        *,
        mappings: dict[Pair, tuple[FieldMapping, ...]] | None = None,
        list_filters: dict[Pair, tuple[str, ...]] | None = None,
        tree: CompanyTree | None = None,
    ) -> None:
        self._client = client
        # Companies' parents and people (business customers); no tree: neither is synced.
        self._tree = tree
        self._parents_read: dict[str, str] = {}  # company -> its parent as last read: a parent write expects it
        self._people = CompanyPeople(client) if tree is not None else None
        self._people_read: dict[str, Person] = {}  # company -> its person as last read: a person write expects it
        self._schema_key = schema_key
        self.mappings = mappings or DEFAULTS
        self._list_filters = list_filters or {}
        self._members: dict[str, set[str]] = {}  # list id -> record ids, read once per adapter

    def lists_of(self, pair: Pair, record_id: str, wanted: tuple[str, ...]) -> frozenset[str]:
        """Which of `wanted` hold the record: one call for the record's memberships."""
        return frozenset(self._client.lists_holding(spec(pair).object_type_id, record_id)) & frozenset(wanted)

    def companies_of_person(self, contact_id: str) -> list[str]:
        return self._people.companies_of(contact_id) if self._people is not None else []

    def _list_members(self, list_id: str) -> set[str]:
        """Every record id of a list (read once for this adapter's life)."""
        if list_id not in self._members:
            self._members[list_id] = self._client.list_members(list_id)
        return self._members[list_id]

    def ensure_schema(self, pair: Pair) -> None:
        """The app's property group and properties exist (created on first use, once per process)."""
        app_properties.ensure(self._client, spec(pair).hubspot_object, self._schema_key)

    def _names(self, pair: Pair) -> list[str]:
        """Mapped properties, and what record creation and filters read (a company's parent and person are not
        its properties)."""
        mapped = [p for m in self.mappings[pair] for p in m.hubspot_properties if own_property(p)]
        return list(dict.fromkeys([*mapped, *spec(pair).read_properties]))

    def _written(self, pair: Pair, values: dict[str, str]) -> dict[str, str]:
        """Canonical values as the HubSpot properties they are written to (a parent or person is not one of them)."""
        return {k: v for k, v in hubspot_properties(self.mappings[pair], values).items() if own_property(k)}

    def _person_names(self, pair: Pair) -> list[str]:
        """The contact properties a pair's mappings name (a company's person), when people are synced."""
        if pair is not Pair.COMPANIES or self._people is None:
            return []
        names = (person_property(p) for m in self.mappings[pair] for p in m.hubspot_properties)
        return list(dict.fromkeys(n for n in names if n is not None))

    def _properties(self, pair: Pair, values: dict[str, str]) -> dict[str, str]:
        """What a new record is created with: the values given, as properties."""
        return {k: v for k, v in self._written(pair, values).items() if v}

    def _records(self, pair: Pair, bodies: list[dict[str, Any]]) -> list[Record]:
        """Records of read bodies; companies with their person and parent, read in bulk, when they are synced."""
        names = self._person_names(pair)
        people = self._people.read([str(b["id"]) for b in bodies], names) if self._people and names and bodies else {}
        self._people_read.update(people)
        records = [self._record(pair, body, people.get(str(body["id"]))) for body in bodies]
        if pair is not Pair.COMPANIES or self._tree is None or not records:
            return records
        parents = self._tree.values([r.id for r in records])
        self._parents_read.update(parents)
        return [replace(r, values=r.values | {PARENT: parents.get(r.id, "")}) for r in records]

    def _parent_set(self, pair: Pair, record_id: str, values: dict[str, str]) -> bool:
        """Write the parent `values` name, if they name one; answers whether they did."""
        if pair is not Pair.COMPANIES or self._tree is None or PARENT not in values:
            return False
        self._tree.set_parent(record_id, values[PARENT], self._parents_read.get(record_id))
        self._parents_read[record_id] = values[PARENT]
        return True

    def _of_person(self, pair: Pair, values: dict[str, str]) -> dict[str, str]:
        """The values among `values` that are the company's person's, when people are synced."""
        return {k: v for k, v in values.items() if person_property(k) is not None} if self._people else {}

    def _person_set(self, pair: Pair, record_id: str, values: dict[str, str]) -> dict[str, str]:
        """Write the person's properties among `values` to the company's first contact (or a contact made for it).
        Answers the person's values when they are more than those written: a contact HubSpot had, taken as the
        company's person by its email, may hold a name too."""
        written = {person_property(k): v for k, v in hubspot_properties(self.mappings[pair], values).items()}
        properties = {k: v for k, v in written.items() if k is not None}
        if self._people is None or not properties:
            return {}
        taken = self._people.write(record_id, properties, self._people_read.get(record_id), self._person_names(pair))
        self._people_read.pop(record_id, None)  # written: the next write reads it afresh
        if taken is None:
            return {}
        person = (m for m in self.mappings[pair] if person_property(m.hubspot) is not None)
        return {m.hubspot: m.from_hubspot(as_mapped(taken)) for m in person}

    def _record(self, pair: Pair, body: dict[str, Any], person: Person | None = None) -> Record:
        props = body.get("properties") or {}
        mapped = props | as_mapped(person) if person else props
        return Record(
            Side.HUBSPOT,
            str(body["id"]),
            {m.hubspot: m.from_hubspot(mapped) for m in self.mappings[pair]},
            _epoch(body.get("updatedAt")),
            exists=not body.get("archived", False),
            version=str(body.get("updatedAt", "")),
            raw=props,
            lifecycle_stage=str(props.get("lifecyclestage") or ""),
            product_type=str(props.get("hs_product_type") or ""),
        )

    def get(self, pair: Pair, record_id: str) -> Record | None:
        self.ensure_schema(pair)
        body = self._client.get(spec(pair).hubspot_object, record_id, self._names(pair))
        if body is None:
            return None
        record = self._records(pair, [body])[0]
        if record.id != record_id:  # merged away: HubSpot answers with the surviving record
            return Record(Side.HUBSPOT, record_id, {}, record.updated_at, exists=False, merged_into=record.id)
        return record

    def find(self, pair: Pair, qbo: Record) -> list[Record]:
        for key in spec(pair).match_keys:
            if value := qbo.values.get(key.field, ""):
                filters = [{"propertyName": key.field, "operator": "EQ", "value": value}]
                found = self._client.search(spec(pair).hubspot_object, filters, self._names(pair))
                if found:
                    return self._records(pair, found)
        return []

    def get_many(self, pair: Pair, record_ids: list[str]) -> dict[str, Record | None]:
        """Batch read (100 a call); ids HubSpot no longer has map to None."""
        if not record_ids:
            return {}
        self.ensure_schema(pair)
        found: dict[str, Record | None] = dict.fromkeys(record_ids)
        bodies = self._client.batch_read(spec(pair).hubspot_object, record_ids, self._names(pair))
        for read in self._records(pair, bodies):
            if read.id in found:
                found[read.id] = read
        for list_id in self._list_filters.get(pair, ()):
            members = self._list_members(list_id)
            for record_id, record in found.items():
                if record is not None and record_id in members:
                    found[record_id] = replace(record, lists=(record.lists or frozenset()) | {list_id})
        if self._list_filters.get(pair):  # read for the whole batch: no record needs its own call
            found = {
                i: r if r is None or r.lists is not None else replace(r, lists=frozenset()) for i, r in found.items()
            }
        return found

    def find_many(self, pair: Pair, qbo_records: list[Record]) -> dict[str, list[Record]]:
        """Matches for many QuickBooks records in few searches (IN filters of up to 100 values)."""
        matches: dict[str, list[Record]] = {r.id: [] for r in qbo_records}
        for prop in (key.field for key in spec(pair).match_keys):
            wanted: dict[str, list[str]] = {}
            for record in qbo_records:
                value = record.values.get(prop, "").lower()
                if value and not matches[record.id]:
                    wanted.setdefault(value, []).append(record.id)
            values = list(wanted)
            for start in range(0, len(values), BULK):
                chunk = values[start : start + BULK]
                filters = [{"propertyName": prop, "operator": "IN", "values": chunk}]
                bodies = self._client.search(spec(pair).hubspot_object, filters, self._names(pair), limit=200)
                for record in self._records(pair, bodies):
                    for qbo_id in wanted.get(record.values.get(prop, "").lower(), []):
                        matches[qbo_id].append(record)
        return matches

    def create_many(self, pair: Pair, creations: list[tuple[str, dict[str, str]]]) -> dict[str, Record]:
        """Create records for QuickBooks ids in batch upserts of 100; answers the created record per QBO id."""
        self.ensure_schema(pair)
        created: dict[str, Record] = {}
        id_property = spec(pair).id_property
        for start in range(0, len(creations), BULK):
            chunk = [(qbo_id, self._properties(pair, values)) for qbo_id, values in creations[start : start + BULK]]
            for body in self._client.batch_upsert(spec(pair).hubspot_object, id_property, chunk):
                record = self._record(pair, body)
                created[str((body.get("properties") or {}).get(id_property) or record.values.get(id_property))] = record
        return created

    def update_many(
        self, pair: Pair, writes: dict[str, Record], values: dict[str, dict[str, str]]
    ) -> dict[str, Record]:
        """Write `values` to each record in batch updates of 100; answers each record as it now is (the
        batch answer carries only some properties, so the values written are laid over what was read)."""
        if not values:
            return {}
        self.ensure_schema(pair)
        inputs = [{"id": record_id, "properties": self._written(pair, props)} for record_id, props in values.items()]
        written = self._client.batch_write(spec(pair).hubspot_object, "update", inputs)
        now: dict[str, Record] = {}
        for body in written:
            record_id = str(body["id"])
            before = writes[record_id]
            now[record_id] = replace(
                before,
                values=before.values | values[record_id],
                updated_at=_epoch(body.get("updatedAt")),
                version=str(body.get("updatedAt", "")),
            )
        return now

    def create(self, pair: Pair, values: dict[str, str], qbo_id: str) -> Record:
        self.ensure_schema(pair)
        if pair is Pair.COMPANIES and self._tree is not None and values.get(PARENT):
            self._tree.company_of(values[PARENT])  # its parent first: never a company left without it
        record = self._create(pair, values, qbo_id)
        taken = self._person_set(pair, record.id, values)  # the merge that follows sees all of a person taken
        if self._parent_set(pair, record.id, values):
            record = replace(record, values=record.values | {PARENT: values[PARENT]})
        return replace(record, values=record.values | self._of_person(pair, values) | taken)

    def _create(self, pair: Pair, values: dict[str, str], qbo_id: str) -> Record:
        try:
            body = self._client.upsert(
                spec(pair).hubspot_object, spec(pair).id_property, qbo_id, self._properties(pair, values)
            )
        except ValidationFaultError as exc:
            existing = self.find(pair, Record(Side.QUICKBOOKS, qbo_id, values, 0.0)) if "CONFLICT" in exc.code else []
            if not existing:
                raise
            return existing[0]  # a contact with this email exists: it is the counterpart
        if body.get("new") is False:  # it existed (a retried create): read all of it, not just what we sent
            return self.get(pair, str(body["id"])) or self._record(pair, body)
        return self._record(pair, body)  # a new record holds exactly what was sent: no need to read it back

    def update(self, pair: Pair, record_id: str, values: dict[str, str]) -> Record:
        self.ensure_schema(pair)
        parent_set = self._parent_set(pair, record_id, values)  # first: a parent not linked yet stops it all
        taken = self._person_set(pair, record_id, values)
        if any(v != values.get(k, "") for k, v in taken.items()):  # the merge has yet to see all of the person
            raise StaleObjectError(f"company {record_id}: took a contact HubSpot had as its person")
        properties = self._written(pair, values)
        if not properties and (parent_set or self._of_person(pair, values)):
            record = self.get(pair, record_id)
            if record is None:
                raise ValidationFaultError("hubspot", 404, "OBJECT_NOT_FOUND", f"company {record_id} is gone")
            return record
        try:
            answer = self._client.update(spec(pair).hubspot_object, record_id, properties)
        except ValidationFaultError as exc:
            if "PROPERTY_DOESNT_EXIST" in exc.fault_message:
                app_properties.forget(
                    spec(pair).hubspot_object, self._schema_key
                )  # someone deleted them: create them next time
            if exc.status == 409 and (survivor := self._survivor_of(pair, record_id)):
                raise MergedAwayError(record_id, survivor, [], refused=exc.fault_message) from exc
            raise
        if str(answer["id"]) != record_id:  # merged away since it was read: HubSpot wrote to the survivor
            survivor = str(answer["id"])
            given_back = self._take_back(pair, survivor, properties, _epoch(answer.get("updatedAt")))
            raise MergedAwayError(record_id, survivor, given_back)
        record = self._record(pair, answer)
        parent = {PARENT: values[PARENT]} if parent_set else {}
        return replace(record, values=record.values | parent | self._of_person(pair, values))

    def _survivor_of(self, pair: Pair, record_id: str) -> str | None:
        """The id of the record a merged-away one went into; None if it was not merged away."""
        body = self._client.get(spec(pair).hubspot_object, record_id, [])
        return str(body["id"]) if body is not None and str(body["id"]) != record_id else None

    def _take_back(self, pair: Pair, record_id: str, properties: dict[str, str], at: float) -> list[str]:
        """Give back the values our write at `at` replaced, on the properties where it is still the newest
        (a property it did not change has no entry of it)."""
        _current, past = self._with_history(pair, record_id, list(properties))
        before: dict[str, str] = {}
        for name, ours in properties.items():
            entries = past.get(name) or []
            newest = entries[0] if entries else {}
            if str(newest.get("value") or "") == ours and at - WRITE_STAMP <= _epoch(newest.get("timestamp")) <= at:
                before[name] = str(entries[1].get("value") or "") if len(entries) > 1 else ""
        if before:
            self._client.update(spec(pair).hubspot_object, record_id, before)
        return sorted(before)

    def archive(self, pair: Pair, record_id: str) -> None:
        """Archive the record, unless it was merged away: HubSpot would archive the survivor (its delete
        answers 204 with no id, so this is checked first)."""
        survivor = self._survivor_of(pair, record_id)
        if survivor:
            raise MergedAwayError(record_id, survivor, [])
        self._client.archive(spec(pair).hubspot_object, record_id)

    def _with_history(self, pair: Pair, record_id: str, names: list[str]) -> WithHistory:
        """The record's values of `names` and their history (newest first); both empty when it is gone."""
        body = self._client.get(spec(pair).hubspot_object, record_id, names, history=names) if names else None
        return _with_history(body)

    def histories_of(self, pair: Pair, record_ids: list[str], fields: list[str]) -> dict[str, WithHistory]:
        """Many records' values of the properties behind `fields`, with their history, in batch reads of 100;
        records HubSpot no longer has are left out."""
        names = sorted(self._written(pair, dict.fromkeys(fields, "")))
        bodies = self._client.batch_read(spec(pair).hubspot_object, record_ids, names, history=names)
        return {str(body["id"]): _with_history(body) for body in bodies}

    def changed_at(self, pair: Pair, record_id: str, fields: list[str], *, as_of: float) -> dict[str, float]:
        """When each field got the value it held at `as_of`: the newest history entry of its properties no later
        than that (a joined field: the newest of its parts). Fields HubSpot shows no history for are left out."""
        wanted = {
            m.hubspot: m.hubspot_properties
            for m in self.mappings[pair]
            if m.hubspot in fields and all(own_property(p) for p in m.hubspot_properties)
        }
        _current, past = self._with_history(pair, record_id, sorted({n for names in wanted.values() for n in names}))
        held = {
            name: [t for e in entries if (t := _epoch(e.get("timestamp"))) <= as_of] for name, entries in past.items()
        }
        times = {
            key: max((max(held[name]) for name in parts if held.get(name)), default=None)
            for key, parts in wanted.items()
        }
        person = self._people_read.get(record_id)  # a person's field: when its contact last changed
        if person is not None and person.updated_at:
            times |= {key: _epoch(person.updated_at) for key in fields if person_property(key) is not None}
        return {key: when for key, when in times.items() if when is not None}

    def restore_overwritten(
        self,
        pair: Pair,
        record_id: str,
        written: dict[str, str],
        since: float,
        until: float,
        *,
        read: WithHistory | None = None,
    ) -> list[str]:
        """Put back the values set on `written` fields after `since` that a write at `until` replaced unseen;
        the fields put back. A value set after `until` is newer than the write: nothing is lost then. A put-back
        is a write too: it is checked the same way (a person may edit while it is on its way). `read`: the
        record with its history as a batch read it after the write (the first round's read)."""
        properties = self._written(pair, written)
        restored: set[str] = set()
        for _ in range(PUT_BACK_ROUNDS):
            current, past = read or self._with_history(pair, record_id, list(properties))
            read = None
            lost = {
                name: value
                for name, ours in properties.items()
                if (value := _overwritten(past.get(name) or [], {current.get(name) or "", ours}, since, until))
                is not None
            }
            if not lost:
                break
            answer = self._client.update(spec(pair).hubspot_object, record_id, lost)
            restored |= lost.keys()
            properties, since, until = lost, until, _epoch(answer.get("updatedAt"))
        return [m.hubspot for m in self.mappings[pair] if not restored.isdisjoint(m.hubspot_properties)]


class QboAdapter:
    def __init__(self, client: QboClient, mappings: dict[Pair, tuple[FieldMapping, ...]] | None = None) -> None:
        self._client = client
        self.mappings = mappings or DEFAULTS
        self._income_accounts: dict[str, dict[str, str]] = {}
        self._unfiltered: dict[tuple[Pair, str], dict[str, list[Record]]] = {}  # see `_by_unfiltered`

    def _record(self, pair: Pair, body: dict[str, Any]) -> Record:
        deleted = body.get("status") == "Deleted"
        if pair is Pair.COMPANIES:  # a customer made without a company name goes by its display name
            body = body | {"CompanyName": body.get("CompanyName") or body.get("DisplayName")}
        values = {} if deleted else {m.hubspot: m.from_qbo(body) for m in self.mappings[pair]}
        return Record(
            Side.QUICKBOOKS,
            str(body["Id"]),
            values,
            _epoch((body.get("MetaData") or {}).get("LastUpdatedTime")),
            exists=not deleted,
            active=body.get("Active", True) is not False,
            version=str(body.get("SyncToken", "")),
            raw=body,
        )

    def get(self, pair: Pair, record_id: str) -> Record | None:
        body = self._client.read_or_none(spec(pair).entity, record_id)
        return None if body is None else self._record(pair, body)

    def _by_unfiltered(self, pair: Pair, field: str) -> dict[str, list[Record]]:
        """The pair's active records by a field QuickBooks cannot filter on (a customer's website), read once for
        this adapter's life: a whole read, paged, only when a record not yet linked is matched by it."""
        if (pair, field) not in self._unfiltered:
            index: dict[str, list[Record]] = {}
            for body in self._client.query_all(f"select * from {spec(pair).entity}"):
                record = self._record(pair, body)
                if value := record.values.get(field, "").lower():
                    index.setdefault(value, []).append(record)
            self._unfiltered[(pair, field)] = index
        return self._unfiltered[(pair, field)]

    def find(self, pair: Pair, hubspot: Record) -> list[Record]:
        for key in spec(pair).match_keys:
            if value := hubspot.values.get(key.field, ""):
                if key.qbo_field is None:
                    found = list(self._by_unfiltered(pair, key.field).get(value.lower(), []))
                    if found:
                        return found
                    continue
                where = f"{key.qbo_field} = '{quoted(value)}'"
                bodies = self._client.query(f"select * from {spec(pair).entity} where {where}")
                if bodies:
                    return [self._record(pair, body) for body in bodies]
        return []

    def get_many(self, pair: Pair, record_ids: list[str]) -> dict[str, Record | None]:
        """Read many by id in one query per 100 (inactive records too)."""
        found: dict[str, Record | None] = dict.fromkeys(record_ids)
        for start in range(0, len(record_ids), BULK):
            ids = ", ".join(f"'{quoted(i)}'" for i in record_ids[start : start + BULK])
            query = f"select * from {spec(pair).entity} where Id in ({ids}) and Active in (true, false) MAXRESULTS 1000"
            for body in self._client.query(query):
                found[str(body["Id"])] = self._record(pair, body)
        return found

    def find_many(self, pair: Pair, hubspot_records: list[Record]) -> dict[str, list[Record]]:
        """Matches for many HubSpot records in one query per 50 emails (or SKUs, then names)."""
        matches: dict[str, list[Record]] = {r.id: [] for r in hubspot_records}
        for key, qbo_path in ((k.field, k.qbo_field) for k in spec(pair).match_keys):
            wanted: dict[str, list[str]] = {}
            for record in hubspot_records:
                value = record.values.get(key, "").lower()
                if value and not matches[record.id]:
                    wanted.setdefault(value, []).append(record.id)
            if qbo_path is None:
                index = self._by_unfiltered(pair, key) if wanted else {}
                for value, hubspot_ids in wanted.items():
                    for hubspot_id in hubspot_ids:
                        matches[hubspot_id] += index.get(value, [])
                continue
            values = list(wanted)
            for start in range(0, len(values), BULK // 2):
                listed = ", ".join(f"'{quoted(v)}'" for v in values[start : start + BULK // 2])
                query = f"select * from {spec(pair).entity} where {qbo_path} in ({listed}) MAXRESULTS 1000"
                for body in self._client.query(query):
                    record = self._record(pair, body)
                    for hubspot_id in wanted.get(record.values.get(key, "").lower(), []):
                        matches[hubspot_id].append(record)
        return matches

    def _body(self, pair: Pair, values: dict[str, str], current: dict[str, Any] | None) -> dict[str, Any]:
        """QBO fields for changed canonical values; a nested object is sent whole (sparse updates replace it)."""
        body: dict[str, Any] = {}
        for mapping in self.mappings[pair]:
            if mapping.hubspot not in values:
                continue
            if mapping.qbo == "ParentRef.value":
                parent = qbo_parent(values[mapping.hubspot])  # a parent not linked yet: synced first
                body |= {"Job": True, "ParentRef": {"value": parent}} if parent else {"Job": False}
                continue
            for path, text in split(values[mapping.hubspot], mapping.qbo_paths).items():
                field = qbo_field(spec(pair).entity, path)
                if field is None or field.read_only:
                    continue
                value: Any = text
                if field.type == "number" and value != "":
                    value = float(value)
                elif field.type == "bool" and value != "":
                    value = value == "true"
                outer, _, inner = path.partition(".")
                if inner:
                    nested = body.setdefault(outer, dict((current or {}).get(outer) or {}))
                    nested[inner] = value
                else:
                    body[outer] = value
        # A display name that was the company's name follows it (":" is QuickBooks' sub-customer path).
        named = current is not None and current.get("DisplayName") == (current.get("CompanyName") or "")
        if pair is Pair.COMPANIES and body.get("CompanyName") and (named or not (current or {}).get("CompanyName")):
            body["DisplayName"] = str(body["CompanyName"]).replace(":", " -")
        return body

    def _income_account(self, kind: str) -> dict[str, str]:
        """The company's income account for new items: Services for services, product sales otherwise."""
        if kind not in self._income_accounts:
            accounts = self._client.query("select * from Account where AccountType = 'Income'")
            preferred = "ServiceFeeIncome" if kind == "Service" else "SalesOfProductIncome"
            chosen = next(
                (a for a in accounts if a.get("AccountSubType") == preferred), accounts[0] if accounts else None
            )
            if chosen is None:
                raise ValidationFaultError(
                    "quickbooks",
                    400,
                    "2020",
                    "Required param missing",
                    detail="The company has no Income account for new items",
                )
            self._income_accounts[kind] = {"value": str(chosen["Id"]), "name": str(chosen.get("Name", ""))}
        return self._income_accounts[kind]

    def _create_body(
        self, pair: Pair, source: Record, values: dict[str, str], display_name: str | None
    ) -> dict[str, Any]:
        body = self._body(pair, {k: v for k, v in values.items() if v}, None)
        if display_name:
            body["DisplayName"] = display_name
        if pair is Pair.PRODUCTS:
            body["Type"] = "Service" if (source.product_type or "service") == "service" else "NonInventory"
            body["IncomeAccountRef"] = self._income_account(body["Type"])
        return body

    def create(
        self, pair: Pair, source: Record, values: dict[str, str], request_id: str, display_name: str | None
    ) -> Record:
        body = self._create_body(pair, source, values, display_name)
        try:
            return self._record(pair, self._client.write(spec(pair).entity, body, request_id))
        except ValidationFaultError as exc:
            if exc.code == "6240":
                raise DuplicateNameError(display_name or body.get("Name", "")) from exc
            raise

    def create_batch(
        self,
        pair: Pair,
        request_id: str,
        creations: list[tuple[Record, dict[str, str], str | None, str]],
        *,
        turn_taken: bool = False,
    ) -> dict[str, Record | ValidationFaultError]:
        """One QBO batch call of at most 30 creates, each `(source, values, name, bId)`; answers the created
        record per source (HubSpot) id, or why QuickBooks refused it. Items a repeat of `request_id` has no
        answer for (its first call never held them) are not in the answer. `turn_taken`: see `take_batch_turn`."""
        entity = spec(pair).entity
        items = [
            {"bId": bid, "operation": "create", entity: self._create_body(pair, source, values, name)}
            for source, values, name, bid in creations
        ]
        by_bid = {bid: source.id for source, _, _, bid in creations}
        return {
            by_bid[str(answer["bId"])]: (
                self._record(pair, answer[entity]) if entity in answer else fault_error(answer.get("Fault") or {})
            )
            for answer in self._client.batch(items, request_id, turn_taken=turn_taken)
            if str(answer.get("bId")) in by_bid
        }

    def take_batch_turn(self, items: int) -> bool:
        return self._client.take_batch_turn(items)

    def replay_create(
        self, pair: Pair, source: Record, values: dict[str, str], display_name: str | None, batch: BatchCreate
    ) -> Record | None:
        answer = self.create_batch(pair, batch.request_id, [(source, values, display_name, batch.bid)]).get(source.id)
        if isinstance(answer, ValidationFaultError):
            if answer.code == "6240":
                raise DuplicateNameError(display_name or "") from answer
            raise answer
        return answer

    def update(self, pair: Pair, current: Record, values: dict[str, str]) -> Record:
        return self._write(pair, self._update_body(pair, current, values), f"upd-{current.id}-{current.version}")

    def _update_body(self, pair: Pair, current: Record, values: dict[str, str]) -> dict[str, Any]:
        return {"Id": current.id, "SyncToken": current.version, "sparse": True, **self._body(pair, values, current.raw)}

    def update_many(self, pair: Pair, writes: dict[str, tuple[Record, dict[str, str]]]) -> dict[str, Record]:
        """Sparse updates of many records (id -> the record as read, the values to write) in batch calls of 30,
        each sent only if its batch turn is worth waiting for (`QboClient.take_batch_turn`; a person waits on
        them, so a few go alone rather than wait long); answers the records updated. A record left out (no turn
        soon enough, a stale SyncToken, a refusal) is for a single update, which meets the same answer alone.
        Each call's request id is that of its records' versions: the same call sent again is answered once."""
        entity, updated = spec(pair).entity, {}
        ids = sorted(writes)
        for start in range(0, len(ids), QBO_BATCH):
            chunk = ids[start : start + QBO_BATCH]
            versions = "|".join(f"{i}:{writes[i][0].version}" for i in chunk)
            request_id = "updb-" + hashlib.sha256(versions.encode()).hexdigest()[:32]
            items = [{"bId": i, "operation": "update", entity: self._update_body(pair, *writes[i])} for i in chunk]
            answers = self._client.batch_if_budget(items, request_id, prompt=len(ids) <= FEW)
            if answers is None:
                break
            for answer in answers:
                if entity in answer and str(answer.get("bId")) in writes:
                    updated[str(answer["bId"])] = self._record(pair, answer[entity])
        return updated

    def deactivate(self, pair: Pair, current: Record) -> Record:
        return self._write(
            pair,
            {"Id": current.id, "SyncToken": current.version, "sparse": True, "Active": False},
            f"off-{current.id}-{current.version}",
        )

    def _write(self, pair: Pair, body: dict[str, Any], request_id: str) -> Record:
        try:
            return self._record(pair, self._client.write(spec(pair).entity, body, request_id))
        except ValidationFaultError as exc:
            if exc.code == "5010":
                raise StaleObjectError(f"{body['Id']}: SyncToken {body.get('SyncToken')} is old") from exc
            if exc.gone and self.get(pair, str(body["Id"])) is None:
                # Merged away or deleted since it was read: reconcile again, which finds it gone.
                raise StaleObjectError(f"{body['Id']}: gone since it was read") from exc
            raise


@dataclass(frozen=True)
class SyncPorts:
    hubspot: HubSpotAdapter
    qbo: QboAdapter
    store: DynamoSyncStore
