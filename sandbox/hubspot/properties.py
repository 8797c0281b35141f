"""Property definitions per object type: HubSpot's built-ins plus custom ones, and value validation."""

import re
from dataclasses import dataclass, field
from typing import Any

from sandbox.clock import iso_ms, now_ms, parse_iso
from sandbox.hubspot.errors import hubspot_error, invalid_properties, property_problem
from sandbox.hubspot.schema import BUILT_IN, option_label

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TYPES = {"string", "number", "date", "datetime", "enumeration", "bool", "phone_number"}
_FIELD_TYPES = {
    "text",
    "textarea",
    "number",
    "date",
    "select",
    "radio",
    "checkbox",
    "booleancheckbox",
    "calculation_equation",
    "phonenumber",
    "html",
    "file",
}


@dataclass
class PropertyDef:
    name: str
    label: str
    type: str
    field_type: str
    group: str
    description: str = ""
    options: list[dict[str, Any]] = field(default_factory=list)
    unique: bool = False
    read_only: bool = False
    hubspot_defined: bool = True
    created_ms: int = field(default_factory=now_ms)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "groupName": self.group,
            "description": self.description,
            "options": self.options,
            "displayOrder": -1,
            "hasUniqueValue": self.unique,
            "hidden": False,
            "formField": not self.read_only,
            "calculated": False,
            "externalOptions": False,
            "hubspotDefined": self.hubspot_defined,
            "archived": False,
            "createdAt": iso_ms(self.created_ms),
            "updatedAt": iso_ms(self.created_ms),
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only,
            },
        }

    def option_values(self) -> set[str]:
        return {str(o["value"]) for o in self.options}


def _builtins(object_type: str) -> dict[str, PropertyDef]:
    defs: dict[str, PropertyDef] = {}
    for built_in in BUILT_IN[object_type]:
        kind, field_type = built_in.kind
        defs[built_in.name] = PropertyDef(
            name=built_in.name,
            label=built_in.label,
            type=kind,
            field_type=field_type,
            group=f"{object_type[:-1]}information",
            options=[
                {"label": option_label(o), "value": o, "hidden": False, "displayOrder": i}
                for i, o in enumerate(built_in.options)
            ],
            unique=built_in.unique,
            read_only=built_in.read_only,
        )
    return defs


def _group(name: str, label: str, order: int = -1) -> dict[str, Any]:
    return {"name": name, "label": label, "displayOrder": order, "archived": False}


class PropertyRegistry:
    """Definitions and groups for every object type of one portal."""

    def __init__(self) -> None:
        self.defs: dict[str, dict[str, PropertyDef]] = {t: _builtins(t) for t in BUILT_IN}
        self.groups: dict[str, dict[str, dict[str, Any]]] = {
            t: {f"{t[:-1]}information": _group(f"{t[:-1]}information", f"{t[:-1].title()} information")}
            for t in BUILT_IN
        }

    def get(self, object_type: str, name: str) -> PropertyDef | None:
        return self.defs[object_type].get(name)

    def create(self, object_type: str, body: dict[str, Any]) -> PropertyDef:
        missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)]
        if missing:
            raise hubspot_error(400, f"Missing required fields: {', '.join(missing)}", "VALIDATION_ERROR")
        name = str(body["name"])
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise hubspot_error(
                400, f"Property name {name!r} must be lower case letters, digits and _", "VALIDATION_ERROR"
            )
        if body["type"] not in _TYPES or body["fieldType"] not in _FIELD_TYPES:
            raise hubspot_error(400, f"Invalid type/fieldType {body['type']}/{body['fieldType']}", "VALIDATION_ERROR")
        if name in self.defs[object_type]:
            raise hubspot_error(409, f"A property named '{name}' already exists.", "CONFLICT")
        if body["groupName"] not in self.groups[object_type]:
            raise hubspot_error(400, f"Property group {body['groupName']!r} does not exist", "VALIDATION_ERROR")
        definition = PropertyDef(
            name=name,
            label=str(body["label"]),
            type=str(body["type"]),
            field_type=str(body["fieldType"]),
            group=str(body["groupName"]),
            description=str(body.get("description", "")),
            options=[{"hidden": False, **o} for o in body.get("options", [])],
            unique=bool(body.get("hasUniqueValue", False)),
            hubspot_defined=False,
        )
        self.defs[object_type][name] = definition
        return definition

    def create_group(self, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
        name, label = body.get("name"), body.get("label")
        if not name or not label:
            raise hubspot_error(400, "name and label are required", "VALIDATION_ERROR")
        if name in self.groups[object_type]:
            raise hubspot_error(409, f"A property group named '{name}' already exists.", "CONFLICT")
        group = _group(str(name), str(label), int(body.get("displayOrder", -1)))
        self.groups[object_type][str(name)] = group
        return group

    def normalise(self, object_type: str, values: dict[str, Any], *, system: bool = False) -> dict[str, str]:
        """Validate property values as HubSpot does and return them as strings."""
        problems: list[dict[str, Any]] = []
        result: dict[str, str] = {}
        for name, raw in values.items():
            definition = self.defs[object_type].get(name)
            if definition is None:
                problems.append(property_problem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
                continue
            if definition.read_only and not system:
                problems.append(
                    property_problem(
                        name, "READ_ONLY_VALUE", f'"{name}" is a read only property; its value cannot be set.'
                    )
                )
                continue
            value = _as_string(raw)
            problem = _check_value(definition, value)
            if problem:
                problems.append(property_problem(name, *problem))
                continue
            result[name] = value
        if problems:
            raise invalid_properties(problems)
        return result


def _as_string(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


def _check_value(definition: PropertyDef, value: str) -> tuple[str, str] | None:
    if value == "":
        return None
    if definition.type == "number":
        try:
            float(value)
        except ValueError:
            return "INVALID_FLOAT", f"{value} was not a valid number."
    elif definition.type in ("date", "datetime"):
        if not value.isdigit():
            try:
                parse_iso(value)
            except ValueError:
                return "INVALID_DATE", f"{value} was not a valid date."
    elif definition.type == "enumeration" and definition.options and value not in definition.option_values():
        if not all(v in definition.option_values() for v in value.split(";")):
            allowed = ", ".join(sorted(definition.option_values()))
            return "INVALID_OPTION", f"{value} was not one of the allowed options: [{allowed}]"
    elif definition.type == "bool" and value not in ("true", "false"):
        return "INVALID_BOOLEAN", f"{value} was not a valid boolean."
    elif definition.name == "email" and not _EMAIL.match(value):
        return "INVALID_EMAIL", f"Email address {value} is invalid"
    return None


def epoch_ms(value: str) -> int | None:
    """A date/datetime property value (ISO or epoch ms) as epoch milliseconds."""
    if not value:
        return None
    if value.lstrip("-").isdigit():
        return int(value)
    try:
        return int(parse_iso(value).timestamp() * 1000)
    except ValueError:
        return None
