"""What the app defines once in HubSpot, with its developer key: payment timeline templates and the
"Create a QuickBooks invoice" workflow action (definitions in `definitions/`)."""

import json
from importlib import resources
from typing import Any

import requests

from hubbooks.errors import UnavailableError, ValidationFaultError

PROVIDER = "hubspot"


def definition(name: str) -> Any:
    """A definition shipped with the package (`definitions/<name>.json`)."""
    return json.loads(resources.files("hubbooks.hubspot").joinpath(f"definitions/{name}.json").read_text())


class DeveloperClient:
    """App-level calls: authenticated with the developer API key, scoped to one app id."""

    def __init__(self, session: requests.Session, *, api_base: str, app_id: str, api_key: str, timeout: float) -> None:
        self._session = session
        self._base = api_base.rstrip("/")
        self.app_id = app_id
        self._key = api_key
        self._timeout = timeout

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        try:
            response = self._session.request(
                method, f"{self._base}{path}", params={"hapikey": self._key}, json=body, timeout=self._timeout
            )
        except requests.RequestException as exc:
            raise UnavailableError(PROVIDER, f"{method} {path}: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise UnavailableError(PROVIDER, f"{method} {path}: {response.status_code}")
        if response.status_code >= 400:
            raise ValidationFaultError(PROVIDER, response.status_code, str(response.status_code), response.text[:500])
        return response.json() if response.content else None

    def ensure_payment_templates(self) -> dict[str, str]:
        """The payment event template per object type (deals, contacts), created when missing; their ids."""
        spec = definition("payment_timeline")
        path = f"/integrators/timeline/v3/{self.app_id}/event-templates"
        existing = {(t["objectType"].lower(), t["name"]): str(t["id"]) for t in self._call("GET", path)["results"]}
        ids: dict[str, str] = {}
        for object_type in spec["objectTypes"]:
            name = f"{spec['name']} ({object_type})"
            found = existing.get((object_type, name))
            if found is None:
                body = {k: v for k, v in spec.items() if k not in ("objectTypes", "name")}
                created = self._call("POST", path, {**body, "name": name, "objectType": object_type})
                found = str(created["id"])
            ids[object_type] = found
        return ids

    def ensure_invoice_action(self, action_url: str) -> str:
        """The workflow action pointing at `action_url`, registered when missing; its definition id."""
        path = f"/automation/v4/actions/{self.app_id}"
        for existing in self._call("GET", path)["results"]:
            if existing.get("actionUrl") == action_url:
                return str(existing["id"])
        created = self._call("POST", path, {**definition("create_invoice_action"), "actionUrl": action_url})
        return str(created["id"])
