"""The properties hubbooks adds to HubSpot objects, their groups, and creating them once per process."""

import threading
from typing import Any

from hubbooks.hubspot.client import HubSpotClient

QUICKBOOKS_GROUP = ("quickbooks", "QuickBooks")
DEAL_INVOICE_GROUP = ("quickbooks_invoice", "QuickBooks invoice")


def _text(name: str, label: str, *, unique: bool = False) -> dict[str, Any]:
    return {"name": name, "label": label, "type": "string", "fieldType": "text", "hasUniqueValue": unique}


def _number(name: str, label: str) -> dict[str, Any]:
    return {"name": name, "label": label, "type": "number", "fieldType": "number"}


def _choice(name: str, label: str, values: tuple[str, ...]) -> dict[str, Any]:
    options = [{"label": v.replace("_", " ").capitalize(), "value": v, "hidden": False} for v in values]
    return {"name": name, "label": label, "type": "enumeration", "fieldType": "select", "options": options}


INVOICE_STATUSES = ("draft", "open", "partially_paid", "paid", "overdue", "voided")
ESTIMATE_STATUSES = ("pending", "accepted", "closed", "rejected", "deleted")
_ESTIMATE = [
    _text("qbo_estimate_id", "QuickBooks estimate ID"),
    _text("qbo_estimate_number", "QuickBooks estimate number"),
    _choice("qbo_estimate_status", "QuickBooks estimate status", ESTIMATE_STATUSES),
    _number("qbo_estimate_total", "QuickBooks estimate total"),
    {"name": "qbo_estimate_expires", "label": "QuickBooks estimate expires", "type": "date", "fieldType": "date"},
]

_CUSTOMER = [
    _text("qbo_customer_id", "QuickBooks customer ID", unique=True),
    _number("qbo_open_balance", "QuickBooks open balance"),
    {
        "name": "qbo_active",
        "label": "Active in QuickBooks",
        "type": "bool",
        "fieldType": "booleancheckbox",
        "options": [
            {"label": "Yes", "value": "true", "hidden": False},
            {"label": "No", "value": "false", "hidden": False},
        ],
    },
]

# object type (a second set on one: "<object type>/<what>") -> (group, properties)
APP_PROPERTIES: dict[str, tuple[tuple[str, str], list[dict[str, Any]]]] = {
    "contacts": (QUICKBOOKS_GROUP, _CUSTOMER),
    "companies": (QUICKBOOKS_GROUP, _CUSTOMER),
    "products": (QUICKBOOKS_GROUP, [_text("qbo_item_id", "QuickBooks item ID", unique=True)]),
    "invoices": (
        QUICKBOOKS_GROUP,
        [
            _text("qbo_invoice_id", "QuickBooks invoice ID", unique=True),
            _text("qbo_invoice_number", "QuickBooks invoice number"),
            _number("qbo_invoice_total", "QuickBooks invoice total"),
            _number("qbo_invoice_balance", "QuickBooks balance due"),
            _number("qbo_invoice_tax", "QuickBooks tax"),
            _number("qbo_invoice_home_total", "QuickBooks total in home currency"),
            _choice("qbo_invoice_status", "QuickBooks invoice status", INVOICE_STATUSES),
            _text("qbo_customer_name", "QuickBooks customer"),
            {
                "name": "qbo_last_updated",
                "label": "Last updated in QuickBooks",
                "type": "datetime",
                "fieldType": "date",
            },
        ],
    ),
    "line_items": (QUICKBOOKS_GROUP, [_text("qbo_invoice_line", "QuickBooks invoice line", unique=True)]),
    "deals": (
        DEAL_INVOICE_GROUP,
        [
            _number("qbo_invoice_amount_billed", "Invoice amount billed"),
            _text("qbo_invoice_currency", "Invoice currency"),
            _text("qbo_invoice_recipient", "Invoice recipient"),
            _text("qbo_invoice_number", "Invoice number"),
            _choice("qbo_invoice_status", "Invoice status", INVOICE_STATUSES),
            {"name": "qbo_invoice_due_date", "label": "Invoice due date", "type": "date", "fieldType": "date"},
        ],
    ),
    "deals/estimates": (QUICKBOOKS_GROUP, _ESTIMATE),
    "quotes/estimates": (QUICKBOOKS_GROUP, _ESTIMATE),
}
_ready: set[tuple[str, str]] = set()
_lock = threading.Lock()


def ensure(client: HubSpotClient, kind: str, schema_key: str) -> None:
    """The app's group and properties of `kind` (an object type, or "<object type>/<what>") exist (checked once
    per process and portal)."""
    key = (schema_key, kind)
    if key in _ready:
        return
    with _lock:
        if key in _ready:
            return
        object_type = kind.split("/", maxsplit=1)[0]
        group, properties = APP_PROPERTIES[kind]
        client.create_group(object_type, *group)
        for prop in properties:
            if client.property(object_type, prop["name"]) is None:
                client.create_property(object_type, {**prop, "groupName": group[0]})
        _ready.add(key)


def forget(object_type: str, schema_key: str) -> None:
    """Check again next time (someone deleted a property)."""
    _ready.discard((schema_key, object_type))
