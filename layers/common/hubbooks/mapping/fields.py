"""Field mappings as data: which HubSpot property follows which QuickBooks field, which way, how compared."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hubbooks.mapping import transforms
from hubbooks.models.signals import Pair


class Direction(StrEnum):
    BOTH = "both"
    TO_QBO = "hubspot_to_qbo"
    TO_HUBSPOT = "qbo_to_hubspot"

    def allows(self, towards_qbo: bool) -> bool:
        return self is Direction.BOTH or (self is Direction.TO_QBO) == towards_qbo


@dataclass(frozen=True)
class FieldMapping:
    hubspot: str  # HubSpot property name; also the canonical key of the field
    qbo: str  # dotted QBO path, e.g. PrimaryEmailAddr.Address; "Id" for the QBO id
    direction: Direction = Direction.BOTH
    transform: str = "trim"

    def canonical(self, value: Any) -> str:
        return transforms.get(self.transform)(value)


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
PRODUCT_FIELDS = (
    FieldMapping("name", "Name"),
    FieldMapping("hs_sku", "Sku"),
    FieldMapping("description", "Description"),
    FieldMapping("price", "UnitPrice", transform="money"),
    FieldMapping("hs_cost_of_goods_sold", "PurchaseCost", transform="money"),
    FieldMapping("qbo_item_id", "Id", Direction.TO_HUBSPOT, "identity"),
)
DEFAULTS: dict[Pair, tuple[FieldMapping, ...]] = {Pair.CONTACTS: CONTACT_FIELDS, Pair.PRODUCTS: PRODUCT_FIELDS}
# QBO entity and the app's unique HubSpot property holding its id, per pair.
ENTITY = {Pair.CONTACTS: "Customer", Pair.PRODUCTS: "Item"}
HUBSPOT_OBJECT = {Pair.CONTACTS: "contacts", Pair.PRODUCTS: "products"}
ID_PROPERTY = {Pair.CONTACTS: "qbo_customer_id", Pair.PRODUCTS: "qbo_item_id"}
