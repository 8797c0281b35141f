"""What an app defines in a portal: timeline event templates and events, workflow action definitions
and the callbacks that complete them."""

import itertools
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sandbox.clock import iso_ms, now_ms
from sandbox.hubspot.errors import hubspot_error


@dataclass
class Templates:
    """An app's timeline event templates: defined once with the developer key, the same in every portal."""

    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1_001))

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("name") or not body.get("objectType"):
            raise hubspot_error(400, "name and objectType are required", "VALIDATION_ERROR")
        moment = iso_ms(now_ms())
        template = {
            "id": str(next(self._ids)),
            "name": body["name"],
            "objectType": str(body["objectType"]).lower(),
            "headerTemplate": body.get("headerTemplate", ""),
            "detailTemplate": body.get("detailTemplate", ""),
            "tokens": [{"options": [], **token} for token in body.get("tokens", [])],
            "createdAt": moment,
            "updatedAt": moment,
        }
        with self.lock:
            self.by_id[template["id"]] = template
        return template


@dataclass
class Timeline:
    """One portal's timeline events, made from the app's templates."""

    templates: Templates
    events: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def create_event(self, body: dict[str, Any], object_exists: Any) -> dict[str, Any]:
        template = self.templates.by_id.get(str(body.get("eventTemplateId", "")))
        if template is None:
            raise hubspot_error(404, f"Event template {body.get('eventTemplateId')} not found", "OBJECT_NOT_FOUND")
        object_id = str(body.get("objectId", ""))
        if not object_exists(template["objectType"], object_id):
            raise hubspot_error(400, f"No {template['objectType']} with id {object_id}", "VALIDATION_ERROR")
        known = {t["name"] for t in template["tokens"]}
        unknown = sorted(set(body.get("tokens", {})) - known)
        if unknown:
            raise hubspot_error(400, f"Unknown tokens for template {template['id']}: {unknown}", "VALIDATION_ERROR")
        event_id = str(body.get("id") or uuid.uuid4())
        key = (template["id"], event_id)
        with self.lock:
            if key in self.events:
                raise hubspot_error(409, f"An event with id {event_id} already exists for this template", "CONFLICT")
            event = {
                "id": event_id,
                "eventTemplateId": template["id"],
                "objectId": object_id,
                "objectType": template["objectType"].upper(),
                "tokens": {k: str(v) for k, v in body.get("tokens", {}).items()},
                "extraData": body.get("extraData", {}),
                "timestamp": body.get("timestamp") or iso_ms(now_ms()),
                "createdAt": iso_ms(now_ms()),
            }
            self.events[key] = event
        return event

    def for_object(self, object_type: str, object_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [
                e
                for (tid, _), e in self.events.items()
                if e["objectId"] == object_id and self.templates.by_id[tid]["objectType"] == object_type
            ]


_FIELD_SCHEMA = {"number": "DOUBLE", "bool": "BOOLEAN"}


def _stored_output(field: dict[str, Any]) -> dict[str, Any]:
    """An output field as HubSpot stores it: the full type definition with its value schema."""
    definition = field.get("typeDefinition", {})
    stored = {
        "options": [],
        "externalOptions": False,
        "useChirp": False,
        "schema": {"type": _FIELD_SCHEMA.get(str(definition.get("type")), "STRING")},
        **definition,
    }
    return {**field, "typeDefinition": stored}


def _stored_definition(base: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A definition as HubSpot stores it: the body's fields over `base`, its fields' type definitions filled."""
    definition = {**base, **{k: v for k, v in body.items() if k not in ("id", "revisionId")}}
    definition["inputFields"] = [
        {**field, "typeDefinition": {"options": [], **field.get("typeDefinition", {})}}
        for field in definition["inputFields"]
    ]
    definition["outputFields"] = [_stored_output(field) for field in definition.get("outputFields", [])]
    return definition


@dataclass
class Actions:
    definitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    completions: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(5_000_001))

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        missing = [k for k in ("actionUrl", "inputFields", "labels", "objectTypes") if k not in body]
        if missing:
            raise hubspot_error(400, f"Missing fields: {missing}", "VALIDATION_ERROR")
        definition_id = str(next(self._ids))
        base = {"id": definition_id, "revisionId": "1", "functions": [], "published": False}
        with self.lock:
            self.definitions[definition_id] = _stored_definition(base, body)
            return self.definitions[definition_id]

    def update(self, definition_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """A PATCH: the fields sent replace the stored ones, as a new revision."""
        with self.lock:
            current = self.get(definition_id)
            revision = {**current, "revisionId": str(int(current["revisionId"]) + 1)}
            self.definitions[definition_id] = _stored_definition(revision, body)
            return self.definitions[definition_id]

    def get(self, definition_id: str) -> dict[str, Any]:
        definition = self.definitions.get(definition_id)
        if definition is None:
            raise hubspot_error(404, f"Action definition {definition_id} not found", "OBJECT_NOT_FOUND")
        return definition

    def complete(self, callback_id: str, body: dict[str, Any]) -> None:
        if not isinstance(body.get("outputFields"), dict):
            raise hubspot_error(400, "outputFields is required", "VALIDATION_ERROR")
        with self.lock:
            self.completions.append(
                {
                    "callbackId": callback_id,
                    "outputFields": body["outputFields"],
                    "completedAt": iso_ms(now_ms()),
                }
            )
