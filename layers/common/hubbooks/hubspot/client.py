"""HubSpot CRM API client: objects, search, batch upsert, properties, associations, timeline."""

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import requests

from hubbooks.errors import ValidationFaultError
from hubbooks.http import ride_out
from hubbooks.ratelimit import RateBudget
from hubbooks.transport import ProviderRules, TokenSource, Transport

PROVIDER = "hubspot"
DEFAULT_RETRY_AFTER = 10.0
BATCH_LIMIT = 100

# POSTs that change nothing when sent twice: reads, writes by id or unique value, associations, timeline
# events and property definitions (a repeated one answers 409). Creating an object or a note is not.
SIZE = "hs_list_size"  # a list's size, among the additional properties a lists search answers
_REPLAY_SAFE_POSTS = ("/search", "/batch/read", "/batch/update", "/batch/upsert", "/batch/archive", "/events")
_REPLAY_SAFE_PREFIXES = ("/crm/v4/associations/", "/crm/v3/properties/")


def _replay_safe(method: str, path: str) -> bool:
    return method != "POST" or path.endswith(_REPLAY_SAFE_POSTS) or path.startswith(_REPLAY_SAFE_PREFIXES)


def _fault(response: requests.Response) -> ValidationFaultError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    message = str(body.get("message") or response.reason)
    code = str(body.get("category") or response.status_code)
    for error in body.get("errors") or []:
        if error.get("code"):
            code = f"{code}:{error['code']}"
            break
    return ValidationFaultError(PROVIDER, response.status_code, code, message)


def _throttle_wait(response: requests.Response) -> float:
    retry_after = response.headers.get("Retry-After")
    return float(retry_after) if retry_after else DEFAULT_RETRY_AFTER


RULES = ProviderRules(
    provider=PROVIDER,
    fault=_fault,
    throttle_wait=_throttle_wait,
    budget_kind=lambda path: "search" if path.endswith("/search") else "default",
)


class HubSpotClient:
    def __init__(
        self,
        session: requests.Session,
        *,
        api_base: str,
        tokens: TokenSource,
        timeout: float,
        budget: RateBudget | None = None,
    ) -> None:
        self.transport = Transport(session, RULES, base=api_base, tokens=tokens, timeout=timeout, budget=budget)

    def _request(
        self, method: str, path: str, *, params: Any = None, json: Any = None, missing_ok: bool = False
    ) -> Any:
        """Call the API; None for a 404 when `missing_ok`, the JSON answer (or None when empty) otherwise."""
        return ride_out(
            lambda: self.transport.send(method, path, params=params, json=json, missing_ok=missing_ok),
            replay_safe=_replay_safe(method, path),
        )

    def get(
        self, object_type: str, object_id: str, properties: list[str], history: list[str] | None = None
    ) -> dict[str, Any] | None:
        """One record with `properties`, and the past values of those in `history` (`propertiesWithHistory`)."""
        params = {"properties": ",".join(properties)} | (
            {"propertiesWithHistory": ",".join(history)} if history else {}
        )
        found: dict[str, Any] | None = self._request(
            "GET", f"/crm/v3/objects/{object_type}/{object_id}", params=params, missing_ok=True
        )
        return found

    def search(
        self, object_type: str, filters: list[dict[str, Any]], properties: list[str], limit: int = 10
    ) -> list[dict[str, Any]]:
        body = {"filterGroups": [{"filters": filters}], "properties": properties, "limit": limit}
        answer = self._request("POST", f"/crm/v3/objects/{object_type}/search", json=body)
        results: list[dict[str, Any]] = answer.get("results", [])
        return results

    def search_page(self, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
        """One page of a search: `results`, `total` and `paging.next.after` as HubSpot answers them."""
        answer: dict[str, Any] = self._request("POST", f"/crm/v3/objects/{object_type}/search", json=body)
        return answer

    def update(self, object_type: str, object_id: str, properties: dict[str, str]) -> dict[str, Any]:
        answer: dict[str, Any] = self._request(
            "PATCH", f"/crm/v3/objects/{object_type}/{object_id}", json={"properties": properties}
        )
        return answer

    def upsert(self, object_type: str, id_property: str, key: str, properties: dict[str, str]) -> dict[str, Any]:
        """Create or update the one record whose unique `id_property` is `key` (batch upsert of one)."""
        answer = self._request(
            "POST",
            f"/crm/v3/objects/{object_type}/batch/upsert",
            json={"inputs": [{"idProperty": id_property, "id": key, "properties": properties}]},
        )
        if answer.get("errors"):
            error = answer["errors"][0]
            raise ValidationFaultError(
                PROVIDER, 400, str(error.get("category", "VALIDATION_ERROR")), str(error.get("message", ""))
            )
        result: dict[str, Any] = answer["results"][0]
        return result

    def batch_upsert(
        self, object_type: str, id_property: str, inputs: list[tuple[str, dict[str, str]]]
    ) -> list[dict[str, Any]]:
        """Upsert up to 100 records on a unique property; the records written (refused ones are left out)."""
        answer = self._request(
            "POST",
            f"/crm/v3/objects/{object_type}/batch/upsert",
            json={"inputs": [{"idProperty": id_property, "id": key, "properties": props} for key, props in inputs]},
        )
        results: list[dict[str, Any]] = answer.get("results", [])
        return results

    def archive(self, object_type: str, object_id: str) -> None:
        self._request("DELETE", f"/crm/v3/objects/{object_type}/{object_id}", missing_ok=True)

    def property(self, object_type: str, name: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._request("GET", f"/crm/v3/properties/{object_type}/{name}", missing_ok=True)
        return found

    def create_property(self, object_type: str, definition: dict[str, Any]) -> None:
        try:
            self._request("POST", f"/crm/v3/properties/{object_type}", json=definition)
        except ValidationFaultError as exc:
            if exc.status != 409:  # created meanwhile by another worker
                raise

    def create_group(self, object_type: str, name: str, label: str) -> None:
        try:
            self._request("POST", f"/crm/v3/properties/{object_type}/groups", json={"name": name, "label": label})
        except ValidationFaultError as exc:
            if exc.status != 409:
                raise

    # -- records in bulk, associations, timeline, workflow callbacks ---------------------------------

    def batch_read(
        self, object_type: str, object_ids: list[str], properties: list[str], history: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """Read records by id, 100 a call, with the past values of `history`; ids HubSpot no longer has are left
        out."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(object_ids), BATCH_LIMIT):
            inputs = [{"id": i} for i in object_ids[start : start + BATCH_LIMIT]]
            answer = self._request(
                "POST",
                f"/crm/v3/objects/{object_type}/batch/read",
                json={"inputs": inputs, "properties": properties, "propertiesWithHistory": history or []},
            )
            found += answer.get("results", [])
        return found

    def batch_write(self, object_type: str, operation: str, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Batch create, update or archive, 100 a call; the records written."""
        written: list[dict[str, Any]] = []
        for start in range(0, len(inputs), BATCH_LIMIT):
            answer = self._request(
                "POST",
                f"/crm/v3/objects/{object_type}/batch/{operation}",
                json={"inputs": inputs[start : start + BATCH_LIMIT]},
            )
            if answer and answer.get("errors"):
                error = answer["errors"][0]
                raise ValidationFaultError(
                    PROVIDER, 400, str(error.get("category", "VALIDATION_ERROR")), str(error.get("message", ""))
                )
            written += (answer or {}).get("results", [])
        return written

    def create(self, object_type: str, properties: dict[str, str], associations: list[dict[str, Any]]) -> str:
        answer = self._request(
            "POST", f"/crm/v3/objects/{object_type}", json={"properties": properties, "associations": associations}
        )
        return str(answer["id"])

    def associated(self, from_type: str, from_id: str, to_type: str) -> list[str]:
        """Ids of the `to_type` records associated with one record (v4)."""
        answer = self._request("GET", f"/crm/v4/objects/{from_type}/{from_id}/associations/{to_type}", missing_ok=True)
        return [str(r["toObjectId"]) for r in (answer or {}).get("results", [])]

    def associations_of(self, from_type: str, to_type: str, from_ids: list[str]) -> dict[str, list[tuple[str, int]]]:
        """Each record's associated `to_type` records with each association's type id (v4 batch read, 100 a
        call); a record without any maps to an empty list."""
        found: dict[str, list[tuple[str, int]]] = {i: [] for i in from_ids}
        for start in range(0, len(from_ids), BATCH_LIMIT):
            inputs = [{"id": i} for i in from_ids[start : start + BATCH_LIMIT]]
            answer = self._request(
                "POST", f"/crm/v4/associations/{from_type}/{to_type}/batch/read", json={"inputs": inputs}
            )
            for result in (answer or {}).get("results", []):
                found[str(result["from"]["id"])] = [
                    (str(to["toObjectId"]), int(kind.get("typeId", kind.get("associationTypeId", 0))))
                    for to in result.get("to", [])
                    for kind in to.get("associationTypes", [])
                ]
        return found

    def associate_as(self, from_type: str, from_id: str, to_type: str, to_id: str, type_id: int) -> None:
        """An association of one HubSpot-defined type (a parent company, say) between two records."""
        self._request(
            "PUT",
            f"/crm/v4/objects/{from_type}/{from_id}/associations/{to_type}/{to_id}",
            json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
        )

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        """The default association between two records; repeating it changes nothing."""
        self._request("PUT", f"/crm/v4/objects/{from_type}/{from_id}/associations/default/{to_type}/{to_id}")

    def associate_many(self, from_type: str, to_type: str, pairs: list[tuple[str, str]]) -> None:
        """Default associations for many (from, to) pairs, 100 a call."""
        for start in range(0, len(pairs), BATCH_LIMIT):
            inputs = [{"from": {"id": a}, "to": {"id": b}} for a, b in pairs[start : start + BATCH_LIMIT]]
            self._request(
                "POST", f"/crm/v4/associations/{from_type}/{to_type}/batch/associate/default", json={"inputs": inputs}
            )

    def disassociate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        self._request(
            "DELETE", f"/crm/v4/objects/{from_type}/{from_id}/associations/{to_type}/{to_id}", missing_ok=True
        )

    def timeline_event(self, body: dict[str, Any]) -> bool:
        """Create a timeline event; False when an event with its id already exists (a retry)."""
        try:
            self._request("POST", "/integrators/timeline/v3/events", json=body)
        except ValidationFaultError as exc:
            if exc.status == 409:
                return False
            raise
        return True

    def complete_action(self, callback_id: str, output_fields: dict[str, Any]) -> None:
        """Finish a workflow action that answered BLOCK."""
        self._request(
            "POST",
            f"/automation/v4/actions/callbacks/{callback_id}/complete",
            json={"outputFields": output_fields, "typedOutputs": {}},
        )

    def properties(self, object_type: str) -> list[dict[str, Any]]:
        """Every property of an object type (for the mapping editor)."""
        answer = self._request("GET", f"/crm/v3/properties/{object_type}")
        results: list[dict[str, Any]] = answer.get("results", [])
        return results

    # -- paging through objects, lists ---------------------------------------------------------------

    def id_pages(self, object_type: str) -> Iterator[list[str]]:
        """The ids of every record of an object, a page of 100 at a time as each is read."""
        params: dict[str, Any] = {"limit": 100, "properties": "hs_object_id"}
        while True:
            page = self._request("GET", f"/crm/v3/objects/{object_type}", params=params)
            yield [str(r["id"]) for r in page.get("results", [])]
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            params["after"] = after

    def list_definition(self, list_id: str) -> dict[str, Any] | None:
        """A list's definition (`{"list": {...}}`), or None when the portal has no such list."""
        found: dict[str, Any] | None = self._request("GET", f"/crm/v3/lists/{quote(list_id, safe='')}", missing_ok=True)
        return found

    def tax_rates(self) -> dict[str, float]:
        """The account's tax rate library: rate id -> percentage (scope tax_rates.read)."""
        rates: dict[str, float] = {}
        after: str | None = None
        while True:
            params = {"limit": 100, **({"after": after} if after else {})}
            answer = self._request("GET", "/tax-rates/v1/tax-rates", params=params) or {}
            rates |= {str(r["id"]): float(r.get("percentageRate") or 0) for r in answer.get("results", [])}
            after = ((answer.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return rates

    def lists(self, object_type_id: str) -> list[dict[str, Any]]:
        """Every list of records of one object type, with its size (searched 500 at a time)."""
        found: list[dict[str, Any]] = []
        offset = 0
        while True:
            body = {
                "offset": offset,
                "count": 500,
                "objectTypeId": object_type_id,
                "additionalProperties": ["hs_list_size"],
            }
            answer = self._request("POST", "/crm/v3/lists/search", json=body) or {}
            found += [hs_list for hs_list in answer.get("lists", []) if hs_list.get("objectTypeId") == object_type_id]
            if not answer.get("hasMore"):
                return found
            offset = int(answer["offset"])

    def lists_holding(self, object_type_id: str, record_id: str) -> set[str]:
        """The ids of the lists a record is a member of (one call)."""
        path = f"/crm/v3/lists/records/{object_type_id}/{quote(record_id, safe='')}/memberships"
        answer = self._request("GET", path) or {}
        return {str(m["listId"]) for m in answer.get("results", [])}

    def list_members(self, list_id: str) -> set[str]:
        """Every record id of a list, paged 250 at a time."""
        members: set[str] = set()
        params: dict[str, Any] = {"limit": 250}
        while True:
            answer = self._request("GET", f"/crm/v3/lists/{quote(list_id, safe='')}/memberships", params=params) or {}
            members |= {str(m["recordId"]) for m in answer.get("results", [])}
            after = ((answer.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return members
            params["after"] = after
