"""A HubSpot account's tax rate library: rates line items point at through `hs_tax_rate_group_id`, read
through the tax rates API (scope tax_rates.read). HubSpot makes them in its settings; the sandbox's operator
adds them."""

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from sandbox.clock import iso_ms, now_ms
from sandbox.hubspot.errors import hubspot_error


@dataclass
class TaxRates:
    rates: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ids: "itertools.count[int]" = field(default_factory=lambda: itertools.count(6001))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, percentage: float, label: str = "", active: bool = True) -> dict[str, Any]:
        moment = iso_ms(now_ms())
        with self._lock:
            rate_id = str(next(self._ids))
            self.rates[rate_id] = {
                "id": rate_id,
                "name": name,
                "label": label or f"{name} ({percentage:g}%)",
                "percentageRate": float(percentage),
                "active": active,
                "createdAt": moment,
                "updatedAt": moment,
            }
            return dict(self.rates[rate_id])

    def get(self, rate_id: str) -> dict[str, Any]:
        rate = self.rates.get(rate_id)
        if rate is None:
            raise hubspot_error(404, f"No tax rate with id {rate_id}.", "OBJECT_NOT_FOUND")
        return dict(rate)

    def page(self, active: bool | None, after: str | None, limit: int) -> dict[str, Any]:
        listed = [r for r in self.rates.values() if active is None or r["active"] is active]
        start = int(after or 0)
        answer: dict[str, Any] = {"results": [dict(r) for r in listed[start : start + limit]]}
        if start + limit < len(listed):
            answer["paging"] = {"next": {"after": str(start + limit)}}
        return answer
