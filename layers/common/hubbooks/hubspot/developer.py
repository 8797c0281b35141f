"""What the app defines once in HubSpot, with its developer key: timeline templates (payments, sales receipts)
and the workflow actions (definitions in `definitions/`)."""

import json
from importlib import resources
from typing import Any

import requests

from hubbooks.errors import UnavailableError, ValidationFaultError

PROVIDER = "hubspot"
TIMELINE_KINDS = ("payment", "sales_receipt")


# The workflow actions by the last part of their URL; each one's definition is `<name>_action.json` (dashes as
# underscores), its actionUrl `<actions URL>/<name>` and its dropdowns' optionsUrl `<actions URL>/options`.
ACTION_NAMES = (
    "create-invoice",
    "create-estimate",
    "convert-estimate",
    "create-sales-receipt",
    "send-invoice",
    "void-invoice",
)
# HubSpot's names and ids of the objects a workflow runs on -> hubbooks' (the CRM API's path names).
_ACTION_OBJECTS = {"DEAL": "deals", "0-3": "deals", "QUOTE": "quotes", "0-14": "quotes"}
_ACTION_OBJECTS |= {"COMMERCE_PAYMENT": "commerce_payments", "0-101": "commerce_payments"}


def action_object_type(given: str) -> str | None:
    """A workflow's object type (HubSpot's name or id) as the CRM API's path name (None: no action runs on it)."""
    return _ACTION_OBJECTS.get(given.upper())


def action_definition(name: str, actions_url: str) -> dict[str, Any]:
    """The action's definition as registered: its URL and its dropdowns' options URL filled in."""
    spec = definition(f"{name.replace('-', '_')}_action")
    for field in spec["inputFields"]:
        if field["typeDefinition"].get("optionsUrl") == "{options}":
            field["typeDefinition"]["optionsUrl"] = f"{actions_url}/options"
    return {**spec, "actionUrl": f"{actions_url}/{name}"}


_FIELD_KEYS = ("name", "type", "fieldType", "optionsUrl")


def _shape(definition: dict[str, Any]) -> Any:
    """What of a definition hubbooks decides (HubSpot adds defaults to what it stores)."""
    fields = [
        (f.get("isRequired"), f.get("supportedValueTypes"), *(f["typeDefinition"].get(k) for k in _FIELD_KEYS))
        for f in definition.get("inputFields", [])
    ]
    outputs = [f["typeDefinition"].get("name") for f in definition.get("outputFields", [])]
    kept = {k: definition.get(k) for k in ("objectTypes", "objectRequestOptions", "labels", "published")}
    return fields, outputs, kept


def template_key(kind: str, object_type: str) -> str:
    """Where a template's id is kept: a payment's by its object type alone (as the first templates were)."""
    return object_type if kind == "payment" else f"{kind}:{object_type}"


def definition(name: str) -> Any:
    """A definition shipped with the package (`definitions/<name>.json`)."""
    return json.loads(resources.files("hubbooks.hubspot").joinpath(f"definitions/{name}.json").read_text())


# Each action's objects, as the CRM API names them.
ACTIONS = {
    name: frozenset(
        filter(None, map(action_object_type, definition(f"{name.replace('-', '_')}_action")["objectTypes"]))
    )
    for name in ACTION_NAMES
}


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

    def ensure_timeline_templates(self) -> dict[str, str]:
        """Each timeline template (a payment's, a sales receipt's) per object type, created when missing; their
        ids by `template_key`."""
        path = f"/integrators/timeline/v3/{self.app_id}/event-templates"
        existing = {(t["objectType"].lower(), t["name"]): str(t["id"]) for t in self._call("GET", path)["results"]}
        ids: dict[str, str] = {}
        for kind in TIMELINE_KINDS:
            spec = definition(f"{kind}_timeline")
            for object_type in spec["objectTypes"]:
                name = f"{spec['name']} ({object_type})"
                found = existing.get((object_type, name))
                if found is None:
                    body = {k: v for k, v in spec.items() if k not in ("objectTypes", "name")}
                    created = self._call("POST", path, {**body, "name": name, "objectType": object_type})
                    found = str(created["id"])
                ids[template_key(kind, object_type)] = found
        return ids

    def ensure_actions(self, actions_url: str) -> dict[str, str]:
        """Every workflow action under `actions_url`: registered when missing, brought up to date (a new
        revision) when its definition changed since; their definition ids by name."""
        path = f"/automation/v4/actions/{self.app_id}"
        existing = {str(a.get("actionUrl")): a for a in self._call("GET", path)["results"]}
        ids: dict[str, str] = {}
        for name in ACTION_NAMES:
            body = action_definition(name, actions_url)
            found = existing.get(body["actionUrl"])
            if found is None:
                found = self._call("POST", path, body)
            elif _shape(found) != _shape(body):
                found = self._call("PATCH", f"{path}/{found['id']}", body)
            ids[name] = str(found["id"])
        return ids
