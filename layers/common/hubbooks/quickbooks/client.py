"""QuickBooks Online Accounting API client: reads, writes with requestid, query, batch, CDC."""

from collections.abc import Callable
from typing import Any

import requests

from hubbooks.errors import AuthRejectedError, RateLimitedError, UnavailableError, ValidationFaultError
from hubbooks.http import ride_out
from hubbooks.ratelimit import RateBudget

PROVIDER = "quickbooks"
# QBO answers 429 without a Retry-After; Intuit asks clients to wait a minute.
THROTTLE_WAIT_SECONDS = 60.0

TokenSource = Callable[[str | None], str]  # given the token that was refused (or None), a usable token


def _fault(response: requests.Response) -> ValidationFaultError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    fault = body.get("Fault") or body.get("fault") or {}
    errors = fault.get("Error") or fault.get("error") or [{}]
    first = errors[0]
    return ValidationFaultError(
        PROVIDER,
        response.status_code,
        str(first.get("code") or response.status_code),
        str(first.get("Message") or first.get("message") or response.reason),
        detail=str(first.get("Detail") or first.get("detail") or ""),
        element=str(first.get("element") or ""),
    )


class QboClient:
    def __init__(
        self,
        session: requests.Session,
        *,
        api_base: str,
        realm_id: str,
        tokens: TokenSource,
        minor_version: int,
        timeout: float,
        throttle_wait: float = THROTTLE_WAIT_SECONDS,
        budget: RateBudget | None = None,
    ) -> None:
        self._session = session
        self._base = f"{api_base.rstrip('/')}/v3/company/{realm_id}"
        self._tokens = tokens
        self._minor = str(minor_version)
        self._timeout = timeout
        self._throttle_wait = throttle_wait
        self._budget = budget
        self.realm_id = realm_id

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        data: str | None = None,
        replay_safe: bool = True,
    ) -> dict[str, Any]:
        """One call, sent again over a passing failure when `replay_safe` (reads, and writes a SyncToken
        guards: a create that may have been applied is not sent twice, QuickBooks keeps no requestid answer
        of a 5xx)."""
        return ride_out(lambda: self._send(method, path, params, json, data), replay_safe=replay_safe)

    def _send(
        self, method: str, path: str, params: dict[str, str] | None, json: Any, data: str | None
    ) -> dict[str, Any]:
        token = self._tokens(None)
        for attempt in range(2):
            if self._budget is not None:
                self._budget.acquire("batch" if path == "batch" else "default")
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            if data is not None:
                headers["Content-Type"] = "application/text"
            try:
                response = self._session.request(
                    method,
                    f"{self._base}/{path}",
                    timeout=self._timeout,
                    params={"minorversion": self._minor, **(params or {})},
                    json=json,
                    data=data,
                    headers=headers,
                )
            except requests.RequestException as exc:
                raise UnavailableError(PROVIDER, f"{method} {path}: {type(exc).__name__}") from exc
            if response.status_code == 401 and attempt == 0:
                token = self._tokens(token)
                continue
            return self._answer(method, path, response)
        raise AuthRejectedError(PROVIDER, f"{method} {path}: the token was refused after a refresh")

    def _answer(self, method: str, path: str, response: requests.Response) -> dict[str, Any]:
        status = response.status_code
        if status == 401:
            raise AuthRejectedError(PROVIDER, f"{method} {path}: 401")
        if status == 429:
            if self._budget is not None:
                self._budget.block(self._throttle_wait)
            raise RateLimitedError(PROVIDER, self._throttle_wait)
        if status >= 500:
            raise UnavailableError(PROVIDER, f"{method} {path}: {status}")
        if status >= 400:
            raise _fault(response)
        body: dict[str, Any] = response.json()
        return body

    # -- reads ---------------------------------------------------------------------------------------

    def read(self, entity: str, entity_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self._request("GET", f"{entity.lower()}/{entity_id}")[entity]
        return body

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Run a query; the entity's records (an empty list when QBO answers `{}`)."""
        response = self._request("POST", "query", data=sql)["QueryResponse"]
        for value in response.values():
            if isinstance(value, list):
                return value
        return []

    def changed_since(self, entities: list[str], since: str) -> dict[str, list[dict[str, Any]]]:
        """Change data capture: every record of `entities` changed since `since` (deleted ones included)."""
        answer = self._request("GET", "cdc", params={"entities": ",".join(entities), "changedSince": since})
        found: dict[str, list[dict[str, Any]]] = {}
        for response in answer.get("CDCResponse", []):
            for part in response.get("QueryResponse", []):
                for entity in entities:
                    found.setdefault(entity, []).extend(part.get(entity, []))
        return found

    def batch(self, items: list[dict[str, Any]], request_id: str) -> list[dict[str, Any]]:
        """One batch request (at most 30 items); each answer carries its `bId` and the entity or a Fault."""
        answer = self._request(
            "POST", "batch", params={"requestid": request_id[:50]}, json={"BatchItemRequest": items}, replay_safe=False
        )
        results: list[dict[str, Any]] = answer.get("BatchItemResponse", [])
        return results

    def company_info(self) -> dict[str, Any]:
        body: dict[str, Any] = self._request("GET", f"companyinfo/{self.realm_id}")["CompanyInfo"]
        return body

    def preferences(self) -> dict[str, Any]:
        body: dict[str, Any] = self._request("GET", "preferences")["Preferences"]
        return body

    # -- writes --------------------------------------------------------------------------------------

    def write(self, entity: str, body: dict[str, Any], request_id: str, operation: str | None = None) -> dict[str, Any]:
        """Create (no Id) or update (Id and SyncToken); `request_id` makes a retry return the first answer."""
        params = {"requestid": request_id[:50]}
        if operation:
            params["operation"] = operation
        answer: dict[str, Any] = self._request(
            "POST", entity.lower(), params=params, json=body, replay_safe="SyncToken" in body
        )[entity]
        return answer

    def send_invoice(self, invoice_id: str, request_id: str) -> dict[str, Any]:
        """Email an invoice to its BillEmail address."""
        answer: dict[str, Any] = self._request(
            "POST", f"invoice/{invoice_id}/send", params={"requestid": request_id[:50]}, replay_safe=False
        )["Invoice"]
        return answer
