"""Checks a pair's field mappings before they are saved: each problem names the field it is about."""

from collections import Counter
from dataclasses import dataclass
from typing import Any

from hubbooks.mapping import transforms
from hubbooks.mapping.fields import DEFAULTS, ENTITY, FieldMapping
from hubbooks.mapping.qbo_fields import qbo_field
from hubbooks.models.signals import Pair

# What each HubSpot property type may follow on the QuickBooks side.
COMPATIBLE = {
    "string": {"string", "number", "date"},
    "enumeration": {"string"},
    "phone_number": {"string"},
    "number": {"number", "string"},
    "bool": {"bool"},
    "date": {"date", "string"},
    "datetime": {"date", "string"},
}
# Transforms that only make sense for some QuickBooks types (others fit any).
TRANSFORM_TYPES = {"money": {"number", "string"}, "bool": {"bool"}, "date": {"date", "string"}}
REQUIRED = {  # the keys matching and linking rest on
    Pair.CONTACTS: ("email", "qbo_customer_id"),
    Pair.PRODUCTS: ("name", "qbo_item_id"),
}


@dataclass(frozen=True)
class Problem:
    field: str  # e.g. mappings[2].qbo
    message: str


def validate(pair: Pair, mappings: list[FieldMapping], hubspot_properties: dict[str, dict[str, Any]]) -> list[Problem]:
    """Every reason the mappings cannot be saved; empty when they can."""
    problems: list[Problem] = []
    entity = ENTITY[pair]
    for index, mapping in enumerate(mappings):
        where = f"mappings[{index}]"
        prop = hubspot_properties.get(mapping.hubspot)
        field = qbo_field(entity, mapping.qbo)
        if prop is None:
            problems.append(Problem(f"{where}.hubspot", f"HubSpot has no {pair} property '{mapping.hubspot}'."))
        if field is None:
            problems.append(Problem(f"{where}.qbo", f"QuickBooks {entity} has no field '{mapping.qbo}' to map."))
        if mapping.transform not in transforms.REGISTRY:
            known = ", ".join(sorted(transforms.REGISTRY))
            problems.append(
                Problem(f"{where}.transform", f"Unknown transform '{mapping.transform}'; use one of {known}.")
            )
        if prop is None or field is None:
            continue
        hubspot_type = str(prop.get("type", "string"))
        if field.type not in COMPATIBLE.get(hubspot_type, {"string"}):
            problems.append(
                Problem(where, f"A HubSpot {hubspot_type} cannot hold QuickBooks {field.label} ({field.type}).")
            )
        fits = TRANSFORM_TYPES.get(mapping.transform)
        if fits is not None and field.type not in fits:
            problems.append(Problem(f"{where}.transform", f"'{mapping.transform}' does not fit a {field.type} field."))
        if field.read_only and mapping.direction.allows(towards_qbo=True):
            problems.append(
                Problem(
                    f"{where}.direction",
                    f"QuickBooks computes {field.label}: map it QuickBooks → HubSpot only.",
                )
            )
        read_only = bool((prop.get("modificationMetadata") or {}).get("readOnlyValue"))
        if read_only and mapping.direction.allows(towards_qbo=False):
            problems.append(
                Problem(
                    f"{where}.direction",
                    f"HubSpot's {prop.get('label') or mapping.hubspot} is read-only: map it HubSpot → QuickBooks only.",
                )
            )
    for side, counts in (("hubspot", Counter(m.hubspot for m in mappings)), ("qbo", Counter(m.qbo for m in mappings))):
        for name, count in counts.items():
            if count > 1:
                index = next(i for i, m in enumerate(mappings) if getattr(m, side) == name)
                problems.append(Problem(f"mappings[{index}].{side}", f"'{name}' is mapped {count} times; map it once."))
    present = {m.hubspot for m in mappings}
    defaults = {m.hubspot: m for m in DEFAULTS[pair]}
    for required in REQUIRED[pair]:
        if required not in present:
            qbo = defaults[required].qbo
            problems.append(
                Problem("mappings", f"'{required}' ↔ '{qbo}' is required: hubbooks matches and links by it.")
            )
    return problems
