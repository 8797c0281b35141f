"""A naive integration to compare with, run on the same data against the same emulators: one record at a
time, no batch endpoints, a search before every write, and a fixed sleep whenever it is answered 429 —
the way simple connectors are written."""

import time
from dataclasses import dataclass, field
from typing import Any

import requests

FIXED_SLEEP_SECONDS = 1.0  # in sandbox time: simple connectors wait a fixed second and try again


@dataclass
class NaivePeer:
    hubspot_url: str
    qbo_url: str
    realm_id: str
    token: str
    time_scale: float = 1.0
    calls: int = 0
    throttled: int = 0
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.session.headers.update({"Authorization": f"Bearer {self.token}", "Accept": "application/json"})

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        while True:
            self.calls += 1
            response = self.session.request(method, url, timeout=30, **kwargs)
            if response.status_code != 429:
                response.raise_for_status()
                return response.json()
            self.throttled += 1
            time.sleep(FIXED_SLEEP_SECONDS * self.time_scale)

    def _qbo(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._call(method, f"{self.qbo_url}/v3/company/{self.realm_id}/{path}", **kwargs)

    def contacts_to_customers(self, deadline: float) -> int:
        """Copy HubSpot contacts into QuickBooks until the deadline; answers how many it created."""
        created, after = 0, None
        while time.monotonic() < deadline:
            params = {"limit": 100, "properties": "email,firstname,lastname", **({"after": after} if after else {})}
            page = self._call("GET", f"{self.hubspot_url}/crm/v3/objects/contacts", params=params)
            for contact in page["results"]:
                if time.monotonic() >= deadline:
                    return created
                props = contact["properties"]
                email = props["email"]
                query = f"select * from Customer where PrimaryEmailAddr = '{email}'"
                found = self._qbo("GET", "query", params={"query": query})["QueryResponse"].get("Customer")
                if not found:
                    body = {
                        "DisplayName": f"{props.get('firstname', '')} {props.get('lastname', '')}".strip() or email,
                        "GivenName": props.get("firstname", ""),
                        "FamilyName": props.get("lastname", ""),
                        "PrimaryEmailAddr": {"Address": email},
                    }
                    self._qbo("POST", "customer", json=body)
                    created += 1
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                break
        return created

    def customers_to_contacts(self, deadline: float) -> int:
        """Copy QuickBooks customers into HubSpot until the deadline; answers how many it created."""
        created, start = 0, 1
        while time.monotonic() < deadline:
            query = f"select * from Customer STARTPOSITION {start} MAXRESULTS 100"
            customers = self._qbo("GET", "query", params={"query": query})["QueryResponse"].get("Customer") or []
            for customer in customers:
                if time.monotonic() >= deadline:
                    return created
                email = (customer.get("PrimaryEmailAddr") or {}).get("Address", "")
                search = {"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": email}]}]}
                found = self._call("POST", f"{self.hubspot_url}/crm/v3/objects/contacts/search", json=search)
                if not found["results"]:
                    properties = {
                        "email": email,
                        "firstname": customer.get("GivenName", ""),
                        "lastname": customer.get("FamilyName", ""),
                    }
                    self._call("POST", f"{self.hubspot_url}/crm/v3/objects/contacts", json={"properties": properties})
                    created += 1
            if len(customers) < 100:
                break
            start += 100
        return created
