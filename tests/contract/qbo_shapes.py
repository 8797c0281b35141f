"""Checks QuickBooks emulator responses against QBO's record shapes (../shared/specs/quickbooks): entity
field names, line, address and reference shapes, envelopes and Faults as the recorded traffic shows."""

import json
from pathlib import Path
from typing import Any

from tests.support.recording import Exchange

SPECS = Path(__file__).resolve().parents[3] / "shared" / "specs" / "quickbooks"
_FILES = {
    "Customer": "customers",
    "Item": "items",
    "Invoice": "invoices",
    "Payment": "payments",
    "Account": "accounts",
}
_ENVELOPE = {"domain", "sparse", "status", "Id", "SyncToken", "MetaData"}
# In Intuit's API reference but not in the shared record shapes, which have no bundles: a bundle's parts.
_DOCUMENTED = {"Item": {"ItemGroupDetail"}}


def _recorded_keys() -> dict[str, set[str]]:
    """Field names real QBO answers carry, from the recorded request/response pairs."""
    seen: dict[str, set[str]] = {}
    line_keys: set[str] = set()
    for path in (SPECS / "recorded").glob("*.json"):
        for interaction in json.loads(path.read_text()).get("interactions", []):
            body = interaction.get("response", {}).get("body")
            if not isinstance(body, dict):
                continue
            for entity in _FILES:
                if isinstance(body.get(entity), dict):
                    seen.setdefault(entity, set()).update(body[entity])
                    for line in body[entity].get("Line", []):
                        line_keys.update(line)
    seen["Line"] = line_keys
    return seen


class QboShapes:
    def __init__(self) -> None:
        recorded = _recorded_keys()
        self.fields = {
            entity: set(json.loads((SPECS / f"{name}.json").read_text())["properties"])
            | recorded.get(entity, set())
            | _DOCUMENTED.get(entity, set())
            for entity, name in _FILES.items()
        }
        invoice = json.loads((SPECS / "invoices.json").read_text())
        self.line_fields = set(invoice["properties"]["Line"]["items"]["properties"]) | recorded["Line"]
        self.address_fields = set(json.loads((SPECS / "shared" / "address.json").read_text())["properties"])
        self.sales_line_fields = set(json.loads((SPECS / "shared" / "sales_item_line.json").read_text())["properties"])
        self.checked = 0

    def entity_problems(self, entity: str, body: dict[str, Any]) -> list[str]:
        if body.get("status") == "Deleted":
            return [f"{entity} deleted stub has {k}" for k in body if k not in {"domain", "status", "Id", "MetaData"}]
        problems = [f"{entity}.{k} is not a QBO field" for k in body if k not in self.fields[entity] | _ENVELOPE]
        for key in ("Id", "SyncToken"):
            if not isinstance(body.get(key), str):
                problems.append(f"{entity}.{key} must be a string")
        meta = body.get("MetaData", {})
        if not {"CreateTime", "LastUpdatedTime"} <= set(meta):
            problems.append(f"{entity}.MetaData lacks CreateTime/LastUpdatedTime")
        for address in ("BillAddr", "ShipAddr"):
            extra = set(body.get(address) or {}) - self.address_fields
            if extra:
                problems.append(f"{entity}.{address} has unknown fields {sorted(extra)}")
        for key, value in body.items():
            if key.endswith("Ref") and (not isinstance(value, dict) or not isinstance(value.get("value"), str)):
                problems.append(f"{entity}.{key} must be {{value, name}} with a string value")
        for line in body.get("Line", []):
            extra = set(line) - self.line_fields
            if extra:
                problems.append(f"{entity}.Line has unknown fields {sorted(extra)}")
            detail = set(line.get("SalesItemLineDetail") or {}) - self.sales_line_fields
            if detail:
                problems.append(f"{entity}.Line.SalesItemLineDetail has unknown fields {sorted(detail)}")
        return problems

    @staticmethod
    def fault_problems(fault: Any) -> list[str]:
        errors = fault.get("Error") if isinstance(fault, dict) else None
        if not isinstance(errors, list) or not errors or not isinstance(fault.get("type"), str):
            return ["Fault must have Error[] and type"]
        return [
            f"Fault error lacks {k}"
            for e in errors
            for k in ("Message", "Detail", "code")
            if not isinstance(e.get(k), str)
        ]

    def problems(self, exchange: Exchange) -> list[str]:  # noqa: C901, PLR0912 - one check per rule
        if not exchange.path.startswith("/v3/company/"):
            return []
        self.checked += 1
        if exchange.status == 429:
            ok = "xml" in exchange.content_type and b'code="3001"' in exchange.body
            return [] if ok else ["429 must be the XML ThrottleExceeded fault"]
        body = json.loads(exchange.body or b"null")
        if exchange.status == 401:
            return [] if body.get("fault", {}).get("error") else ["401 must carry the lower-case fault body"]
        if not isinstance(body, dict) or "time" not in body:
            return ["every JSON answer carries time"]
        if "Fault" in body:
            return self.fault_problems(body["Fault"])
        found: list[str] = []
        for entity in _FILES:
            if isinstance(body.get(entity), dict):
                found += self.entity_problems(entity, body[entity])
        query = body.get("QueryResponse")
        if isinstance(query, dict):
            found += self._query_problems(query)
        for cdc in body.get("CDCResponse", []):
            for part in cdc.get("QueryResponse", []):
                found += self._query_problems(part)
        for item in body.get("BatchItemResponse", []):
            if "bId" not in item:
                found.append("batch item lacks bId")
            if "Fault" in item:
                found += self.fault_problems(item["Fault"])
            for entity in _FILES:
                if isinstance(item.get(entity), dict):
                    found += self.entity_problems(entity, item[entity])
            if isinstance(item.get("QueryResponse"), dict):
                found += self._query_problems(item["QueryResponse"])
        return [f"{exchange.method} {exchange.path}: {p}" for p in found]

    def _query_problems(self, query: dict[str, Any]) -> list[str]:
        found = []
        for entity in _FILES:
            for record in query.get(entity, []):
                found += self.entity_problems(entity, record)
        return found
