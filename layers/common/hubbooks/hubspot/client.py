"""HubSpot CRM API client: objects, search, batch upsert, properties, associations, timeline."""

from collections.abc import Callable
from typing import Any

import requests

from hubbooks.errors import AuthRejectedError, RateLimitedError, UnavailableError, ValidationFaultError
from hubbooks.http import ride_out
from hubbooks.ratelimit import RateBudget

PROVIDER = "hubspot"
DEFAULT_RETRY_AFTER = 10.0
BATCH_LIMIT = 100

TokenSource = Callable[[str | None], str]
# POSTs that change nothing when sent twice: reads, writes by id or unique value, associations, timeline
# events and property definitions (a repeated one answers 409). Creating an object or a note is not.
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
        self._session = session
        self._base = api_base.rstrip("/")
        self._tokens = tokens
        self._timeout = timeout
        self._budget = budget

    def request(self, method: str, path: str, *, params: Any = None, json: Any = None, missing_ok: bool = False) -> Any:
        """Call the API; None for a 404 when `missing_ok`, the JSON answer (or None when empty) otherwise."""
        return ride_out(
            lambda: self._send(method, path, params=params, json=json, missing_ok=missing_ok),
            replay_safe=_replay_safe(method, path),
        )

    def _send(self, method: str, path: str, *, params: Any, json: Any, missing_ok: bool) -> Any:
        token = self._tokens(None)
        for attempt in range(2):
            if self._budget is not None:
                self._budget.acquire("search" if path.endswith("/search") else "default")
            try:
                response = self._session.request(
                    method,
                    f"{self._base}{path}",
                    params=params,
                    json=json,
                    timeout=self._timeout,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except requests.RequestException as exc:
                raise UnavailableError(PROVIDER, f"{method} {path}: {type(exc).__name__}") from exc
            if response.status_code == 401 and attempt == 0:
                token = self._tokens(token)
                continue
            return self._answer(method, path, response, missing_ok, self._budget)
        raise AuthRejectedError(PROVIDER, f"{method} {path}: the token was refused after a refresh")

    @staticmethod
    def _answer(
        method: str, path: str, response: requests.Response, missing_ok: bool, budget: RateBudget | None
    ) -> Any:
        status = response.status_code
        if status == 429:
            retry_after = response.headers.get("Retry-After")
            wait = float(retry_after) if retry_after else DEFAULT_RETRY_AFTER
            if budget is not None:
                budget.block(wait)
            raise RateLimitedError(PROVIDER, wait)
        if status >= 500:
            raise UnavailableError(PROVIDER, f"{method} {path}: {status}")
        if status == 404 and missing_ok:
            return None
        if status == 401:
            raise AuthRejectedError(PROVIDER, f"{method} {path}: 401")
        if status >= 400:
            raise _fault(response)
        return response.json() if response.content else None

    def get(
        self, object_type: str, object_id: str, properties: list[str], history: list[str] | None = None
    ) -> dict[str, Any] | None:
        """One record with `properties`, and the past values of those in `history` (`propertiesWithHistory`)."""
        params = {"properties": ",".join(properties)} | (
            {"propertiesWithHistory": ",".join(history)} if history else {}
        )
        found: dict[str, Any] | None = self.request(
            "GET", f"/crm/v3/objects/{object_type}/{object_id}", params=params, missing_ok=True
        )
        return found

    def search(
        self, object_type: str, filters: list[dict[str, Any]], properties: list[str], limit: int = 10
    ) -> list[dict[str, Any]]:
        body = {"filterGroups": [{"filters": filters}], "properties": properties, "limit": limit}
        answer = self.request("POST", f"/crm/v3/objects/{object_type}/search", json=body)
        results: list[dict[str, Any]] = answer.get("results", [])
        return results

    def search_page(self, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
        """One page of a search: `results`, `total` and `paging.next.after` as HubSpot answers them."""
        answer: dict[str, Any] = self.request("POST", f"/crm/v3/objects/{object_type}/search", json=body)
        return answer

    def update(self, object_type: str, object_id: str, properties: dict[str, str]) -> dict[str, Any]:
        answer: dict[str, Any] = self.request(
            "PATCH", f"/crm/v3/objects/{object_type}/{object_id}", json={"properties": properties}
        )
        return answer

    def upsert(self, object_type: str, id_property: str, key: str, properties: dict[str, str]) -> dict[str, Any]:
        """Create or update the one record whose unique `id_property` is `key` (batch upsert of one)."""
        answer = self.request(
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
        answer = self.request(
            "POST",
            f"/crm/v3/objects/{object_type}/batch/upsert",
            json={"inputs": [{"idProperty": id_property, "id": key, "properties": props} for key, props in inputs]},
        )
        results: list[dict[str, Any]] = answer.get("results", [])
        return results

    def archive(self, object_type: str, object_id: str) -> None:
        self.request("DELETE", f"/crm/v3/objects/{object_type}/{object_id}", missing_ok=True)

    def property(self, object_type: str, name: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.request("GET", f"/crm/v3/properties/{object_type}/{name}", missing_ok=True)
        return found

    def create_property(self, object_type: str, definition: dict[str, Any]) -> None:
        try:
            self.request("POST", f"/crm/v3/properties/{object_type}", json=definition)
        except ValidationFaultError as exc:
            if exc.status != 409:  # created meanwhile by another worker
                raise

    def create_group(self, object_type: str, name: str, label: str) -> None:
        try:
            self.request("POST", f"/crm/v3/properties/{object_type}/groups", json={"name": name, "label": label})
        except ValidationFaultError as exc:
            if exc.status != 409:
                raise

    # -- records in bulk, associations, timeline, workflow callbacks ---------------------------------

    def batch_read(self, object_type: str, object_ids: list[str], properties: list[str]) -> list[dict[str, Any]]:
        """Read records by id, 100 a call; ids HubSpot no longer has are left out."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(object_ids), BATCH_LIMIT):
            answer = self.request(
                "POST",
                f"/crm/v3/objects/{object_type}/batch/read",
                json={"inputs": [{"id": i} for i in object_ids[start : start + BATCH_LIMIT]], "properties": properties},
            )
            found += answer.get("results", [])
        return found

    def batch_write(self, object_type: str, operation: str, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Batch create, update or archive, 100 a call; the records written."""
        written: list[dict[str, Any]] = []
        for start in range(0, len(inputs), BATCH_LIMIT):
            answer = self.request(
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
        answer = self.request(
            "POST", f"/crm/v3/objects/{object_type}", json={"properties": properties, "associations": associations}
        )
        return str(answer["id"])

    def associated(self, from_type: str, from_id: str, to_type: str) -> list[str]:
        """Ids of the `to_type` records associated with one record (v4)."""
        answer = self.request("GET", f"/crm/v4/objects/{from_type}/{from_id}/associations/{to_type}", missing_ok=True)
        return [str(r["toObjectId"]) for r in (answer or {}).get("results", [])]

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        """The default association between two records; repeating it changes nothing."""
        self.request("PUT", f"/crm/v4/objects/{from_type}/{from_id}/associations/default/{to_type}/{to_id}")

    def associate_many(self, from_type: str, to_type: str, pairs: list[tuple[str, str]]) -> None:
        """Default associations for many (from, to) pairs, 100 a call."""
        for start in range(0, len(pairs), BATCH_LIMIT):
            inputs = [{"from": {"id": a}, "to": {"id": b}} for a, b in pairs[start : start + BATCH_LIMIT]]
            self.request(
                "POST", f"/crm/v4/associations/{from_type}/{to_type}/batch/associate/default", json={"inputs": inputs}
            )

    def disassociate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        self.request("DELETE", f"/crm/v4/objects/{from_type}/{from_id}/associations/{to_type}/{to_id}", missing_ok=True)

    def timeline_event(self, body: dict[str, Any]) -> bool:
        """Create a timeline event; False when an event with its id already exists (a retry)."""
        try:
            self.request("POST", "/integrators/timeline/v3/events", json=body)
        except ValidationFaultError as exc:
            if exc.status == 409:
                return False
            raise
        return True

    def complete_action(self, callback_id: str, output_fields: dict[str, Any]) -> None:
        """Finish a workflow action that answered BLOCK."""
        self.request(
            "POST",
            f"/automation/v4/actions/callbacks/{callback_id}/complete",
            json={"outputFields": output_fields, "typedOutputs": {}},
        )

    def properties(self, object_type: str) -> list[dict[str, Any]]:
        """Every property of an object type (for the mapping editor)."""
        answer = self.request("GET", f"/crm/v3/properties/{object_type}")
        results: list[dict[str, Any]] = answer.get("results", [])
        return results
