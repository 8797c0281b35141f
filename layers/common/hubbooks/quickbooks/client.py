"""QuickBooks Online Accounting API client: reads, writes with requestid, query, batch, CDC."""

from collections.abc import Iterator
from typing import Any

import requests

from hubbooks.errors import ValidationFaultError
from hubbooks.http import ride_out
from hubbooks.ratelimit import RateBudget
from hubbooks.transport import ProviderRules, TokenSource, Transport

PROVIDER = "quickbooks"
# QBO answers 429 without a Retry-After; Intuit asks clients to wait a minute.
THROTTLE_WAIT_SECONDS = 60.0
QUERY_PAGE = 1000  # the most records one query answers


def _fault(response: requests.Response) -> ValidationFaultError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    return fault_error(body.get("Fault") or body.get("fault") or {}, response.status_code, response.reason)


FEW = 4  # updates a person waits on that a batch turn is not waited for when they go faster alone


def _worth_waiting(budget: RateBudget, items: int, *, prompt: bool = False) -> float:
    """How long a batch call of `items` is worth waiting for its turn: the next turn after one just taken (with a
    single call's time to spare) whatever the call holds, as it saves a call a record; a farther one as long as
    the items would take as single calls. `prompt`: a few items a person waits on (`FEW` or fewer), not held
    for a turn longer than they take alone."""
    alone = budget.seconds_for(items)
    return alone if prompt else max(budget.turn("batch") + budget.seconds_for(1), alone)


def fault_error(fault: dict[str, Any], status: int = 400, reason: str = "") -> ValidationFaultError:
    """A QuickBooks Fault (an answer's, or one item's of a batch answer) as the error it means."""
    errors = fault.get("Error") or fault.get("error") or [{}]
    first = errors[0]
    return ValidationFaultError(
        PROVIDER,
        status,
        str(first.get("code") or status),
        str(first.get("Message") or first.get("message") or reason),
        detail=str(first.get("Detail") or first.get("detail") or ""),
        element=str(first.get("element") or ""),
    )


def quoted(value: str) -> str:
    """A value inside a query's single quotes (QuickBooks escapes quotes and backslashes with a backslash)."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


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
        rules = ProviderRules(
            provider=PROVIDER,
            fault=_fault,
            throttle_wait=lambda response: throttle_wait,
            budget_kind=lambda path: "batch" if path == "/batch" else "default",
        )
        self.transport = Transport(
            session,
            rules,
            base=f"{api_base.rstrip('/')}/v3/company/{realm_id}",
            tokens=tokens,
            timeout=timeout,
            budget=budget,
            params={"minorversion": str(minor_version)},
            headers={"Accept": "application/json"},
        )
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
        headers = {"Content-Type": "application/text"} if data is not None else None
        answer: dict[str, Any] = ride_out(
            lambda: self.transport.send(method, f"/{path}", params=params, json=json, data=data, headers=headers),
            replay_safe=replay_safe,
        )
        return answer

    # -- reads ---------------------------------------------------------------------------------------

    def read(self, entity: str, entity_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self._request("GET", f"{entity.lower()}/{entity_id}")[entity]
        return body

    def read_or_none(self, entity: str, entity_id: str) -> dict[str, Any] | None:
        """A record, or None once QuickBooks no longer has it (deleted or merged away)."""
        try:
            return self.read(entity, entity_id)
        except ValidationFaultError as exc:
            if exc.gone:
                return None
            raise

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Run a query; the entity's records (an empty list when QBO answers `{}`)."""
        response = self._request("POST", "query", data=sql)["QueryResponse"]
        for value in response.values():
            if isinstance(value, list):
                return value
        return []

    def query_all(self, sql: str) -> Iterator[dict[str, Any]]:
        """Every record a query selects, a page at a time (`sql` without STARTPOSITION or MAXRESULTS)."""
        start = 1
        while True:
            page = self.query(f"{sql} STARTPOSITION {start} MAXRESULTS {QUERY_PAGE}")
            yield from page
            if len(page) < QUERY_PAGE:
                return
            start += QUERY_PAGE

    def count(self, sql: str) -> int:
        """Run a `select count(*)` query: how many records it selects."""
        return int(self._request("POST", "query", data=sql)["QueryResponse"].get("totalCount", 0))

    def changed_since(self, entities: list[str], since: str) -> dict[str, list[dict[str, Any]]]:
        """Change data capture: every record of `entities` changed since `since` (deleted ones included)."""
        answer = self._request("GET", "cdc", params={"entities": ",".join(entities), "changedSince": since})
        found: dict[str, list[dict[str, Any]]] = {}
        for response in answer.get("CDCResponse", []):
            for part in response.get("QueryResponse", []):
                for entity in entities:
                    found.setdefault(entity, []).extend(part.get(entity, []))
        return found

    def batch(self, items: list[dict[str, Any]], request_id: str, *, turn_taken: bool = False) -> list[dict[str, Any]]:
        """One batch request (at most 30 items); each answer carries its `bId` and the entity or a Fault. With
        `turn_taken`, the batch budget's turn was taken for it (`take_batch_turn`)."""
        return self._batch(items, request_id, budget_taken=turn_taken and self.transport.budget is not None)

    def batch_if_budget(
        self, items: list[dict[str, Any]], request_id: str, *, prompt: bool = False
    ) -> list[dict[str, Any]] | None:
        """The batch request, sent only if its turn is worth waiting for (None if not: the caller makes them
        single calls, which draw on a larger budget)."""
        return (
            self.batch(items, request_id, turn_taken=True) if self.take_batch_turn(len(items), prompt=prompt) else None
        )

    def take_batch_turn(self, items: int, *, prompt: bool = False) -> bool:
        """Take (and wait for) the batch budget's next turn if it is worth waiting for, for a call of `items`
        (`_worth_waiting`); False, and nothing taken, if not."""
        budget = self.transport.budget
        return budget is None or budget.try_acquire("batch", within=_worth_waiting(budget, items, prompt=prompt))

    def _batch(self, items: list[dict[str, Any]], request_id: str, *, budget_taken: bool) -> list[dict[str, Any]]:
        """Sent once (a batch that may have been applied is not sent again here: a later sync replays its
        request id)."""
        answer = self.transport.send(
            "POST",
            "/batch",
            params={"requestid": request_id[:50]},
            json={"BatchItemRequest": items},
            budget_taken=budget_taken,
        )
        results: list[dict[str, Any]] = (answer or {}).get("BatchItemResponse", [])
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

    def send_invoice(self, invoice_id: str, request_id: str, send_to: str | None = None) -> dict[str, Any]:
        """Email an invoice to its BillEmail address, or to `send_to` (which becomes its BillEmail)."""
        params = {"requestid": request_id[:50], **({"sendTo": send_to} if send_to else {})}
        answer: dict[str, Any] = self._request("POST", f"invoice/{invoice_id}/send", params=params, replay_safe=False)[
            "Invoice"
        ]
        return answer
