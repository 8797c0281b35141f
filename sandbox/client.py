"""Python client of the sandbox admin API (/_sandbox/...), for tests, the demo and benchmarks."""

import time
from typing import Any, Self

import requests


class SandboxError(RuntimeError):
    """The sandbox answered an admin call with an error."""


class _Admin:
    def __init__(self, base_url: str, timeout: float = 30.0, account: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()
        self.timeout = timeout
        self.account = account  # the portal or company this client works on; None: the primary one

    def _call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = self.http.request(
            method,
            f"{self.base_url}/_sandbox/{path}",
            json=body,
            params={k: v for k, v in {**params, "account": self.account}.items() if v is not None},
            timeout=self.timeout,
        )
        if response.status_code >= 400:
            raise SandboxError(f"{method} /_sandbox/{path} -> {response.status_code}: {response.text}")
        return response.json() if response.content else None

    def reset(self) -> None:
        self._call("POST", "reset")

    def add_account(self, account: str) -> Self:
        """Another portal or company in this sandbox; answers a client working on it."""
        self._call("POST", "accounts", {"id": account})
        return self.on(account)

    def on(self, account: str) -> Self:
        """A client of the same sandbox working on another portal or company."""
        return type(self)(self.base_url, self.timeout, account)

    def seed(self, records: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
        created: dict[str, list[str]] = self._call("POST", "seed", records)["created"]
        return created

    def records(self, kind: str, archived: str | None = None, ids: list[str] | None = None) -> list[dict[str, Any]]:
        """Every record of a kind, or those of `ids` (those that exist)."""
        joined = None if ids is None else ",".join(ids)
        results: list[dict[str, Any]] = self._call("GET", f"records/{kind}", archived=archived, ids=joined)["results"]
        return results

    def add_fault(
        self,
        kind: str,
        *,
        count: int | None = None,
        rate: float | None = None,
        method: str | None = None,
        path: str | None = None,
        delay_ms: int | None = None,
    ) -> None:
        spec = {
            "kind": kind,
            "count": count,
            "rate": rate,
            "method": method,
            "path": path,
            "delay_ms": delay_ms,
        }
        self._call("POST", "faults", {k: v for k, v in spec.items() if v is not None})

    def clear_faults(self, seed: int | None = None) -> None:
        self._call("DELETE", "faults", seed=seed)

    def faults(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "faults")
        return result

    def wait_held(self, count: int = 1, timeout: float = 30.0) -> None:
        """Wait until `count` calls are held by a "hold" fault; raises TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while self.faults()["holding"] < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no call was held within {timeout} s")
            time.sleep(0.01)

    def release_held(self) -> int:
        """Let the calls held by "hold" faults go on."""
        released: int = self._call("POST", "faults/release")["released"]
        return released

    def calls(self, since_ms: int = 0, limit: int = 100_000) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = self._call("GET", "calls", since_ms=since_ms, limit=limit)["calls"]
        return calls

    def clear_calls(self) -> None:
        self._call("DELETE", "calls")

    def webhooks(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "webhooks")
        return result

    def configure_webhooks(self, *, url: str | None = None, enabled: bool | None = None) -> dict[str, Any]:
        body = {k: v for k, v in {"url": url, "enabled": enabled}.items() if v is not None}
        result: dict[str, Any] = self._call("PUT", "webhooks", body)
        return result

    def flush_webhooks(self, timeout: float = 10.0) -> bool:
        return bool(self._call("POST", "webhooks/flush", timeout=timeout)["idle"])

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "stats")
        return result

    def expire_tokens(self) -> int:
        return int(self._call("POST", "oauth/expire")["expired"])


class HubSpotAdmin(_Admin):
    """Acts as a person using HubSpot: edits made here produce webhooks like UI edits do."""

    def create(self, kind: str, properties: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"records/{kind}", {"properties": properties})
        return result

    def update(self, kind: str, object_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PATCH", f"records/{kind}/{object_id}", {"properties": properties})
        return result

    def delete(self, kind: str, object_id: str) -> None:
        self._call("DELETE", f"records/{kind}/{object_id}")

    def restore(self, kind: str, object_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"records/{kind}/{object_id}/restore")
        return result

    def merge(self, kind: str, primary_id: str, merged_id: str) -> dict[str, Any]:
        body = {"primaryObjectId": primary_id, "objectIdToMerge": merged_id}
        result: dict[str, Any] = self._call("POST", f"records/{kind}/merge", body)
        return result

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str, type_id: int | None = None) -> None:
        """Associate as a person: the default type, or the HubSpot-defined `type_id` (a company's parent: 13)."""
        body: dict[str, Any] = {"from_type": from_type, "from_id": from_id, "to_type": to_type, "to_id": to_id}
        if type_id is not None:
            body["type"] = type_id
        self._call("POST", "associations", body)

    def associated(self, from_type: str, from_id: str, to_type: str, type_id: int | None = None) -> list[str]:
        """Ids associated with one record; of one HubSpot-defined type only with `type_id` (a company's parent:
        14)."""
        kind = {} if type_id is None else {"type": type_id}
        found = self._call("GET", "associations", from_type=from_type, from_id=from_id, to_type=to_type, **kind)
        return [str(other_id) for other_id in found["results"]]

    def disassociate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        """Remove the association of two records as a person."""
        self._call(
            "DELETE", "associations", {"from_type": from_type, "from_id": from_id, "to_type": to_type, "to_id": to_id}
        )

    def create_property(self, kind: str, name: str, label: str, group: str) -> None:
        """A custom text property, as a person adds one in HubSpot's settings."""
        self._call(
            "POST",
            f"properties/{kind}",
            {"name": name, "label": label, "type": "string", "fieldType": "text", "groupName": group},
        )

    def add_tax_rate(self, name: str, percentage: float) -> str:
        """A rate in the account's tax rate library, as a person adds one in HubSpot's settings; its id."""
        return str(self._call("POST", "tax-rates", {"name": name, "percentageRate": percentage})["id"])

    def create_list(self, name: str, record_ids: list[str], object_type_id: str = "0-1") -> str:
        """A manual list holding these records, as a person makes one; answers its id."""
        list_id = str(self._call("POST", "lists", {"name": name, "objectTypeId": object_type_id})["list"]["listId"])
        if record_ids:
            self.change_list(list_id, add=record_ids)
        return list_id

    def change_list(self, list_id: str, add: list[str] | None = None, remove: list[str] | None = None) -> None:
        for change, ids in (("add", add), ("remove", remove)):
            if ids:
                self._call("PUT", f"lists/{list_id}/{change}", ids)

    def timeline(self, object_type: str, object_id: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self._call("GET", "timeline", objectType=object_type, objectId=object_id)[
            "results"
        ]
        return events

    def callbacks(self) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = self._call("GET", "callbacks")["results"]
        return results

    def run_action(
        self,
        definition_id: str,
        object_id: str,
        input_fields: dict[str, Any] | None = None,
        callback_id: str | None = None,
        object_type: str = "DEAL",
    ) -> dict[str, Any]:
        body = {
            "objectId": object_id,
            "objectType": object_type,
            "inputFields": input_fields or {},
            "callbackId": callback_id,
        }
        result: dict[str, Any] = self._call("POST", f"actions/{definition_id}/run", body)
        return result

    def action_options(self, definition_id: str, field: str, q: str = "") -> dict[str, Any]:
        """What the workflow editor's dropdown of an action's input field shows: the app's answer."""
        result: dict[str, Any] = self._call(
            "POST", f"actions/{definition_id}/options", {"inputFieldName": field, "q": q}
        )
        return result


class QuickBooksAdmin(_Admin):
    """Acts as a person using QuickBooks Online: changes made here produce webhooks."""

    def create(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"records/{entity}", body)
        return result

    def update(self, entity: str, entity_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PATCH", f"records/{entity}/{entity_id}", changes)
        return result

    def delete(self, entity: str, entity_id: str) -> dict[str, Any]:
        """Customers and items become inactive; invoices and payments are deleted."""
        result: dict[str, Any] = self._call("DELETE", f"records/{entity}/{entity_id}")
        return result

    def void(self, entity: str, entity_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"records/{entity}/{entity_id}/void")
        return result

    def merge(self, entity: str, survivor_id: str, merged_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST", f"records/{entity}/merge", {"survivorId": survivor_id, "mergedId": merged_id}
        )
        return result

    def set_company(self, **settings: Any) -> dict[str, Any]:
        """sandbox (bool; sandbox_status 403 or 401: how the production host refuses it), CustomTxnNumbers (bool),
        CompanyName, legacy_webhooks (bool), Country (a region preset: US, GB, CA or AU) and Currencies (those
        it keeps besides its home currency; any turn multicurrency on)."""
        result: dict[str, Any] = self._call("PUT", "company", settings)
        return result
