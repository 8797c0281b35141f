"""Checks a pair's field mappings before they are saved: each problem names the field it is about."""

from collections import Counter
from dataclasses import dataclass
from typing import Any

from hubbooks.mapping import transforms
from hubbooks.mapping.fields import JOIN, FieldMapping
from hubbooks.mapping.invoices import DEAL_FIELDS, MIRRORED
from hubbooks.mapping.pairs import QBO_ENTITY, spec
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
JOIN_TRANSFORM = "join_split_name"
REQUIRED = {  # the keys matching and linking rest on
    Pair.CONTACTS: ("email", "qbo_customer_id"),
    Pair.COMPANIES: ("name", "qbo_customer_id"),
    Pair.PRODUCTS: ("name", "qbo_item_id"),
}


@dataclass(frozen=True)
class Problem:
    field: str  # e.g. mappings[2].qbo
    message: str


def validate(pair: Pair, mappings: list[FieldMapping], hubspot_properties: dict[str, dict[str, Any]]) -> list[Problem]:
    """Every reason the mappings cannot be saved; empty when they can."""
    problems: list[Problem] = []
    for index, mapping in enumerate(mappings):
        problems += _problems(pair, f"mappings[{index}]", mapping, hubspot_properties)
    for side, towards_qbo in (("hubspot", False), ("qbo", True)):
        # A field may feed several mappings, but only one may write it.
        writers = [(i, getattr(m, side).split(JOIN)) for i, m in enumerate(mappings) if m.direction.allows(towards_qbo)]
        counts = Counter(part for _, parts in writers for part in parts)
        for name, count in counts.items():
            if count > 1:
                index = next(i for i, parts in writers if name in parts)
                problems.append(
                    Problem(f"mappings[{index}].{side}", f"'{name}' is written by {count} mappings; map it once.")
                )
    present = {m.hubspot for m in mappings}
    defaults = {m.hubspot: m for m in spec(pair).defaults} if pair in REQUIRED else {}
    for required in REQUIRED.get(pair, ()):
        if required not in present:
            qbo = defaults[required].qbo
            problems.append(
                Problem("mappings", f"'{required}' ↔ '{qbo}' is required: hubbooks matches and links by it.")
            )
    return problems


def _problems(
    pair: Pair, where: str, mapping: FieldMapping, hubspot_properties: dict[str, dict[str, Any]]
) -> list[Problem]:
    problems: list[Problem] = []
    entity = QBO_ENTITY[pair]
    if pair is Pair.INVOICES:
        problems += _invoice_problems(where, mapping)
    props = [(name, hubspot_properties.get(name)) for name in mapping.hubspot_properties]
    fields = [(path, qbo_field(entity, path)) for path in mapping.qbo_paths]
    problems += [
        Problem(f"{where}.hubspot", f"HubSpot has no {pair} property '{name}'.") for name, prop in props if prop is None
    ]
    problems += [
        Problem(f"{where}.qbo", f"QuickBooks {entity} has no field '{path}' to map.")
        for path, field in fields
        if field is None
    ]
    if mapping.transform not in transforms.REGISTRY:
        known = ", ".join(sorted(transforms.REGISTRY))
        problems.append(Problem(f"{where}.transform", f"Unknown transform '{mapping.transform}'; use one of {known}."))
    joined = len(props) > 1 or len(fields) > 1
    if joined and mapping.transform != JOIN_TRANSFORM:
        problems.append(
            Problem(f"{where}.transform", f"Fields joined with '{JOIN}' need the '{JOIN_TRANSFORM}' transform.")
        )
    found_props = [(name, prop) for name, prop in props if prop is not None]
    found_fields = [field for _, field in fields if field is not None]
    if len(found_props) < len(props) or len(found_fields) < len(fields):
        return problems
    for name, prop in found_props:
        read_only = bool((prop.get("modificationMetadata") or {}).get("readOnlyValue"))
        if read_only and mapping.direction.allows(towards_qbo=False):
            label = prop.get("label") or name
            problems.append(
                Problem(f"{where}.direction", f"HubSpot's {label} is read-only: map it HubSpot → QuickBooks only.")
            )
        hubspot_type = str(prop.get("type", "string"))
        allowed = {"string"} if joined else COMPATIBLE.get(hubspot_type, {"string"})
        for field in found_fields:
            if field.type not in allowed or (joined and hubspot_type not in ("string", "enumeration")):
                problems.append(
                    Problem(where, f"A HubSpot {hubspot_type} cannot hold QuickBooks {field.label} ({field.type}).")
                )
    for field in found_fields:
        fits = TRANSFORM_TYPES.get(mapping.transform)
        if fits is not None and field.type not in fits:
            problems.append(Problem(f"{where}.transform", f"'{mapping.transform}' does not fit a {field.type} field."))
        if field.read_only and mapping.direction.allows(towards_qbo=True) and entity != "Invoice":
            problems.append(
                Problem(f"{where}.direction", f"QuickBooks computes {field.label}: map it QuickBooks → HubSpot only.")
            )
    return problems


def _invoice_problems(where: str, mapping: FieldMapping) -> list[Problem]:
    """An invoice's own properties are the mirror's to write; anything else comes from QuickBooks only."""
    problems = [
        Problem(f"{where}.hubspot", f"hubbooks writes '{name}' itself from the invoice; map another property.")
        for name in mapping.hubspot_properties
        if name in MIRRORED
    ]
    if mapping.direction.allows(towards_qbo=True):
        problems.append(
            Problem(f"{where}.direction", "Invoices come from QuickBooks: map it QuickBooks → HubSpot only.")
        )
    if len(mapping.hubspot_properties) > 1 or len(mapping.qbo_paths) > 1:
        problems.append(Problem(where, "An invoice mapping copies one QuickBooks field into one HubSpot property."))
    return problems


def validate_deal_mappings(
    mappings: list[tuple[str, str]], deal_properties: dict[str, dict[str, Any]], invoice_properties: dict[str, Any]
) -> list[Problem]:
    """Every reason (deal property, invoice property) pairs cannot fill deals from their latest invoice."""
    problems: list[Problem] = []
    for index, (deal, invoice) in enumerate(mappings):
        where = f"deal_mappings[{index}]"
        found = deal_properties.get(deal)
        if found is None:
            problems.append(Problem(f"{where}.deal", f"HubSpot has no deal property '{deal}'."))
        elif deal in DEAL_FIELDS:
            problems.append(Problem(f"{where}.deal", f"hubbooks fills '{deal}' itself; map another property."))
        elif (found.get("modificationMetadata") or {}).get("readOnlyValue"):
            problems.append(Problem(f"{where}.deal", f"HubSpot's {found.get('label') or deal} is read-only."))
        source = invoice_properties.get(invoice)
        if source is None:
            problems.append(Problem(f"{where}.invoice", f"HubSpot has no invoice property '{invoice}'."))
        elif found is not None and found.get("type", "string") not in (source.get("type", "string"), "string"):
            problems.append(
                Problem(where, f"A deal {found.get('type')} cannot hold an invoice {source.get('type', 'string')}.")
            )
    written = Counter(deal for deal, _ in mappings)
    problems += [
        Problem("deal_mappings", f"'{deal}' is filled by {n} mappings; map it once.")
        for deal, n in written.items()
        if n > 1
    ]
    return problems
