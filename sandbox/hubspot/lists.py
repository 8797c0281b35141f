"""HubSpot's Lists API (v3): manual lists of CRM records, their members, and the lists a record is in."""

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sandbox.clock import iso_ms, now_ms
from sandbox.hubspot.errors import hubspot_error
from sandbox.hubspot.schema import object_type

MAX_PAGE = 250
MAX_SEARCH = 500


@dataclass
class HubSpotList:
    list_id: int
    name: str
    object_type_id: str
    processing_type: str
    created_ms: int
    updated_ms: int
    version: int = 1
    members: dict[int, int] = field(default_factory=dict)  # record id -> first added (epoch ms)

    def to_json(self) -> dict[str, Any]:
        return {
            "listId": str(self.list_id),
            "listVersion": self.version,
            "name": self.name,
            "objectTypeId": self.object_type_id,
            "processingType": self.processing_type,
            "processingStatus": "COMPLETE",
            "createdAt": iso_ms(self.created_ms),
            "updatedAt": iso_ms(self.updated_ms),
            "size": len(self.members),
        }


@dataclass
class Lists:
    """Lists of one portal. `exists(object_type_id, record_id)` says whether a record is live (archived and
    merged-away records are no longer members)."""

    exists: Callable[[str, int], bool]
    lists: dict[int, HubSpotList] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def create(self, body: dict[str, Any]) -> HubSpotList:
        name = str(body.get("name") or "").strip()
        type_id = str(body.get("objectTypeId") or "")
        kind = object_type(type_id)
        if not name or kind is None or kind.type_id != type_id:
            raise hubspot_error(400, "A list needs a name and an objectTypeId such as 0-1.", "VALIDATION_ERROR")
        with self.lock:
            if any(existing.name.lower() == name.lower() for existing in self.lists.values()):
                raise hubspot_error(409, f"A list named {name} already exists.", "CONFLICT")
            created = now_ms()
            hs_list = HubSpotList(
                next(self._ids), name, type_id, str(body.get("processingType") or "MANUAL"), created, created
            )
            self.lists[hs_list.list_id] = hs_list
            return hs_list

    def get(self, list_id: str) -> HubSpotList:
        found = self.lists.get(int(list_id)) if list_id.isdigit() else None
        if found is None:
            raise hubspot_error(404, f"List {list_id} does not exist.", "OBJECT_NOT_FOUND")
        return found

    def _live(self, hs_list: HubSpotList) -> list[int]:
        return [rid for rid in sorted(hs_list.members) if self.exists(hs_list.object_type_id, rid)]

    def change(self, list_id: str, record_ids: list[Any], add: bool) -> dict[str, list[str]]:
        with self.lock:
            hs_list = self.get(list_id)
            if hs_list.processing_type != "MANUAL":
                raise hubspot_error(400, "Only MANUAL lists take members by API.", "VALIDATION_ERROR")
            done, missing = [], []
            for raw in record_ids:
                rid = int(raw) if str(raw).isdigit() else -1
                if not self.exists(hs_list.object_type_id, rid) or (not add and rid not in hs_list.members):
                    missing.append(str(raw))
                    continue
                if add:
                    hs_list.members.setdefault(rid, now_ms())
                else:
                    hs_list.members.pop(rid)
                done.append(str(rid))
            if done:
                hs_list.version += 1
                hs_list.updated_ms = now_ms()
            key = "recordIdsAdded" if add else "recordIdsRemoved"
            return {key: done, "recordIdsMissing": missing}

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        """Lists whose name holds `query` (every list for an empty one), of `objectTypeId` and `processingTypes`
        when given, `count` at a time from `offset`; each with its size among `additionalProperties`."""
        query = str(body.get("query") or "").lower()
        types = set(body.get("processingTypes") or [])
        wanted_ids = {str(i) for i in body.get("listIds") or []}
        type_id = body.get("objectTypeId")
        offset = max(int(body.get("offset") or 0), 0)
        count = min(max(int(body.get("count") or 20), 1), MAX_SEARCH)
        with self.lock:
            found = [
                hs_list
                for hs_list in sorted(self.lists.values(), key=lambda found: found.list_id)
                if query in hs_list.name.lower()
                and (not types or hs_list.processing_type in types)
                and (not wanted_ids or str(hs_list.list_id) in wanted_ids)
                and (not type_id or hs_list.object_type_id == type_id)
            ]
            page = found[offset : offset + count]
            lists = [
                {k: v for k, v in hs_list.to_json().items() if k != "size"}
                | {"additionalProperties": {"hs_list_size": str(len(self._live(hs_list)))}}
                for hs_list in page
            ]
        return {
            "lists": lists,
            "offset": offset + len(page),
            "hasMore": offset + len(page) < len(found),
            "total": len(found),
        }

    def members(self, list_id: str, after: str | None, limit: int) -> dict[str, Any]:
        hs_list = self.get(list_id)
        live = self._live(hs_list)
        start = int(after) if after and after.isdigit() else 0
        page = live[start : start + min(max(limit, 1), MAX_PAGE)]
        body: dict[str, Any] = {
            "results": [{"recordId": str(rid), "membershipTimestamp": iso_ms(hs_list.members[rid])} for rid in page],
            "total": len(live),
        }
        if start + len(page) < len(live):
            body["paging"] = {"next": {"after": str(start + len(page))}}
        return body

    def of_record(self, object_type_id: str, record_id: str) -> dict[str, Any]:
        rid = int(record_id) if record_id.isdigit() else -1
        results = [
            {
                "listId": str(hs_list.list_id),
                "listVersion": hs_list.version,
                "firstAddedTimestamp": iso_ms(hs_list.members[rid]),
                "lastAddedTimestamp": iso_ms(hs_list.members[rid]),
                "isPublicList": True,
            }
            for hs_list in self.lists.values()
            if hs_list.object_type_id == object_type_id and rid in hs_list.members and self.exists(object_type_id, rid)
        ]
        return {"results": results, "total": len(results)}
