"""Field mappings as data: which HubSpot property follows which QuickBooks field, which way, how compared."""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hubbooks.mapping import transforms


class Direction(StrEnum):
    BOTH = "both"
    TO_QBO = "hubspot_to_qbo"
    TO_HUBSPOT = "qbo_to_hubspot"

    def allows(self, towards_qbo: bool) -> bool:
        return self is Direction.BOTH or (self is Direction.TO_QBO) == towards_qbo


# Joins fields into one name on either side: "firstname+lastname" <-> "DisplayName".
JOIN = "+"


@dataclass(frozen=True)
class FieldMapping:
    hubspot: str  # HubSpot property name (or names joined by +); also the canonical key of the field
    qbo: str  # dotted QBO path, e.g. PrimaryEmailAddr.Address (or paths joined by +); "Id" for the QBO id
    direction: Direction = Direction.BOTH
    transform: str = "trim"

    def canonical(self, value: Any) -> str:
        return transforms.get(self.transform)(value)

    @property
    def hubspot_properties(self) -> tuple[str, ...]:
        return tuple(self.hubspot.split(JOIN))

    @property
    def qbo_paths(self) -> tuple[str, ...]:
        return tuple(self.qbo.split(JOIN))

    def from_hubspot(self, properties: dict[str, Any]) -> str:
        return self.canonical(_joined(properties.get(name) for name in self.hubspot_properties))

    def from_qbo(self, body: dict[str, Any]) -> str:
        return self.canonical(_joined(qbo_value(body, path) for path in self.qbo_paths))


def _joined(values: Iterable[Any]) -> Any:
    """One field's value as it is; several fields' values as one text, in order, blanks left out."""
    parts = list(values)
    if len(parts) == 1:
        return parts[0]
    return " ".join(str(p).strip() for p in parts if p is not None and str(p).strip())


def split(value: str, names: tuple[str, ...]) -> dict[str, str]:
    """A joined name spread back over its fields: the first word to the first field, the rest to the
    last ("Ada King Lovelace" -> "Ada", "King Lovelace"); one field takes the whole value."""
    if len(names) == 1:
        return {names[0]: value}
    words = value.split(maxsplit=len(names) - 1)
    words += [""] * (len(names) - len(words))
    return dict(zip(names, words, strict=True))


def hubspot_properties(mappings: Iterable[FieldMapping], values: dict[str, str]) -> dict[str, str]:
    """Canonical values as HubSpot properties: joined mappings are split over their properties."""
    joined = {m.hubspot: m for m in mappings if JOIN in m.hubspot}
    properties: dict[str, str] = {}
    for key, value in values.items():
        mapping = joined.get(key)
        properties.update(split(value, mapping.hubspot_properties) if mapping else {key: value})
    return properties


def qbo_value(body: dict[str, Any], path: str) -> Any:
    value: Any = body
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


CONTACT_FIELDS = (
    FieldMapping("firstname", "GivenName"),
    FieldMapping("lastname", "FamilyName"),
    FieldMapping("email", "PrimaryEmailAddr.Address", transform="lower"),
    FieldMapping("phone", "PrimaryPhone.FreeFormNumber"),
    FieldMapping("mobilephone", "Mobile.FreeFormNumber"),
    FieldMapping("company", "CompanyName"),
    FieldMapping("address", "BillAddr.Line1"),
    FieldMapping("city", "BillAddr.City"),
    FieldMapping("state", "BillAddr.CountrySubDivisionCode"),
    FieldMapping("zip", "BillAddr.PostalCode"),
    FieldMapping("country", "BillAddr.Country"),
    FieldMapping("qbo_customer_id", "Id", Direction.TO_HUBSPOT, "identity"),
    FieldMapping("qbo_open_balance", "Balance", Direction.TO_HUBSPOT, "money"),
    FieldMapping("qbo_active", "Active", Direction.TO_HUBSPOT, "bool"),
)
# The customer's parent, as the QuickBooks id of the parent customer: a HubSpot company's parent company
# through its link (see `hubbooks.sync.hierarchy`), a sub-customer's ParentRef.
PARENT = "qbo_parent_customer_id"
# A business customer's person: a company mapping's "contact.<property>" is that property of the company's first
# contact (see `hubbooks.sync.company_people`), the customer's own name and email on the QuickBooks side.
PERSON = "contact."


def person_property(name: str) -> str | None:
    """The contact property a company's mapped name stands for ("contact.email" -> "email"); None for others."""
    return name.removeprefix(PERSON) if name.startswith(PERSON) else None


def own_property(name: str) -> bool:
    """Whether a mapped HubSpot name is a property of the record itself (not its parent's or person's)."""
    return name != PARENT and person_property(name) is None


COMPANY_FIELDS = (
    FieldMapping("name", "CompanyName"),
    FieldMapping("domain", "WebAddr.URI", transform="domain"),
    FieldMapping("phone", "PrimaryPhone.FreeFormNumber"),
    FieldMapping("address", "BillAddr.Line1"),
    FieldMapping("city", "BillAddr.City"),
    FieldMapping("state", "BillAddr.CountrySubDivisionCode"),
    FieldMapping("zip", "BillAddr.PostalCode"),
    FieldMapping("country", "BillAddr.Country"),
    FieldMapping(PARENT, "ParentRef.value", transform="identity"),
    FieldMapping(f"{PERSON}firstname", "GivenName"),
    FieldMapping(f"{PERSON}lastname", "FamilyName"),
    FieldMapping(f"{PERSON}email", "PrimaryEmailAddr.Address", transform="lower"),
    FieldMapping("qbo_customer_id", "Id", Direction.TO_HUBSPOT, "identity"),
    FieldMapping("qbo_open_balance", "Balance", Direction.TO_HUBSPOT, "money"),
    FieldMapping("qbo_active", "Active", Direction.TO_HUBSPOT, "bool"),
)
PRODUCT_FIELDS = (
    FieldMapping("name", "Name"),
    FieldMapping("hs_sku", "Sku"),
    FieldMapping("description", "Description"),
    FieldMapping("price", "UnitPrice", transform="money"),
    FieldMapping("hs_cost_of_goods_sold", "PurchaseCost", transform="money"),
    FieldMapping("qbo_item_id", "Id", Direction.TO_HUBSPOT, "identity"),
)
