"""What every workflow action shares: its outputs, its refusals in words, QuickBooks request ids per callback,
and the HubSpot record it bills read with its contact and line items (a deal, a quote or a HubSpot payment)."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, model_validator

from hubbooks.errors import ValidationFaultError
from hubbooks.hubspot.client import HubSpotClient
from hubbooks.mapping.invoices import day_of, status
from hubbooks.mapping.pairs import spec
from hubbooks.mapping.transforms import money
from hubbooks.models.signals import Pair, Side
from hubbooks.store.sync_store import DynamoSyncStore

SUCCESS, FAIL = "SUCCESS", "FAIL_CONTINUE"
LINE_READ = [
    "name",
    "description",
    "quantity",
    "price",
    "hs_product_id",
    "discount",
    "hs_discount_percentage",
    "amount",
    "hs_tax_rate_group_id",
]


class Inputs(BaseModel):
    """An action's input fields as HubSpot sends them: values may arrive as strings, and one left empty in the
    workflow editor as "" (not given: its default)."""

    @model_validator(mode="before")
    @classmethod
    def _empty_is_not_given(cls, values: Any) -> Any:
        return {k: v for k, v in values.items() if v not in ("", None)} if isinstance(values, dict) else values


class CannotBillError(Exception):
    """Why an action cannot do its work, in words for the person who built the workflow."""


@dataclass(frozen=True)
class Outputs:
    """An action's answer: its state, its output fields and, when it failed or has a warning, why."""

    state: str
    values: dict[str, str] = field(default_factory=dict)
    error: str = ""

    def as_fields(self) -> dict[str, str]:
        return {"hs_execution_state": self.state, **self.values, "error_message": self.error}


def request_id(connection_id: str, callback_id: str, purpose: str) -> str:
    return f"act-{purpose}-" + hashlib.sha256(f"{connection_id}|{callback_id}".encode()).hexdigest()[:36]


def after_made(what: str, step: Callable[[], object]) -> str:
    """A HubSpot step after the QuickBooks document exists: a refusal there is a warning on a run that succeeded,
    never a failure that tells the workflow (and the person who re-runs it) that nothing was made. Throttles
    and outages still raise: the run BLOCKs and its finish makes nothing twice (QuickBooks replays requestid)."""
    try:
        step()
    except ValidationFaultError as fault:
        return f"Made in QuickBooks, but {what} failed in HubSpot: {fault.fault_message}".strip()
    return ""


def check_belongs(
    hubspot: HubSpotClient,
    store: DynamoSyncStore,
    deal_id: str,
    document: dict[str, Any],
    *,
    made_for: str | None,
    noun: str,
    customers: Pair = Pair.CONTACTS,
) -> None:
    """Refuse a QuickBooks `noun` given by id that is not the deal's: made from another deal (`made_for`), or of
    a customer none of the deal's contacts (or companies, of business `customers`) is linked to."""
    number = document.get("DocNumber") or document["Id"]
    if made_for == deal_id:
        return
    records = hubspot.associated("deals", deal_id, spec(customers).hubspot_object)
    linked = store.links_of(customers, Side.HUBSPOT, records) if records else {}
    billed = {link.qbo_id for link in linked.values() if link is not None}
    if made_for is None and str((document.get("CustomerRef") or {}).get("value")) in billed:
        return
    raise CannotBillError(
        f"QuickBooks {noun} {number} is not this deal's (it bills {(document.get('CustomerRef') or {}).get('name')}"
        f"{', from another deal' if made_for else ''}). Give one of the deal's own, or leave it empty."
    )


def invoice_outputs(invoice: dict[str, Any], today: date) -> dict[str, str]:
    """The output fields every invoice action answers with."""
    return {
        "qbo_invoice_id": str(invoice["Id"]),
        "qbo_invoice_number": str(invoice.get("DocNumber") or ""),
        "qbo_invoice_status": status(invoice, today),
        "qbo_invoice_total": money(invoice.get("TotalAmt", 0)),
    }


@dataclass(frozen=True)
class Sale:
    """What an action bills: a HubSpot deal, quote or payment with its customer (a contact, or a company of
    business customers), line items and deal."""

    object_type: str  # deals, quotes, commerce_payments
    object_id: str
    noun: str  # deal, quote, payment: for words
    name: str
    currency: str
    customer_id: str  # the HubSpot record whose QuickBooks customer is billed
    lines: list[dict[str, Any]]
    deal_id: str | None
    expires: str = ""  # a quote's expiration day (ISO)
    properties: dict[str, str] = field(default_factory=dict)
    contact_id: str = ""  # its first contact ("" for a company's sale without one)
    email: str = ""  # a company's sale: its contact's email, which the form is emailed to


@dataclass(frozen=True)
class _Kind:
    noun: str
    read: list[str]
    name: str
    currency: str


_KINDS = {
    "deals": _Kind("deal", ["dealname", "deal_currency_code"], "dealname", "deal_currency_code"),
    "quotes": _Kind("quote", ["hs_title", "hs_currency", "hs_expiration_date"], "hs_title", "hs_currency"),
    "commerce_payments": _Kind(
        "payment",
        ["hs_initial_amount", "hs_currency_code", "hs_payment_method", "hs_initiated_date"],
        "hs_payment_method",
        "hs_currency_code",
    ),
}


def _first(hubspot: HubSpotClient, object_type: str, object_id: str, deal_id: str | None, of: str) -> str:
    """The record's first `of` record (lowest id), its own, else its deal's; "" for none."""
    found = sorted(hubspot.associated(object_type, object_id, of), key=int)
    if not found and deal_id and object_type != "deals":
        found = sorted(hubspot.associated("deals", deal_id, of), key=int)
    return found[0] if found else ""


def read_sale(
    hubspot: HubSpotClient,
    object_type: str,
    object_id: str,
    *,
    lines_needed: bool = True,
    customers: Pair = Pair.CONTACTS,
) -> Sale:
    """The record with its customer's record (its first contact, or company of business `customers`, by id: a
    quote's or payment's own, else its deal's) and line items (its own, else its deal's): refused in words when it
    is gone, has no one to bill or, when needed, no lines."""
    kind = _KINDS[object_type]
    record = hubspot.get(object_type, object_id, kind.read)
    if record is None:
        raise CannotBillError(f"The {kind.noun} {object_id} no longer exists in HubSpot.")
    props = {k: str(v) for k, v in (record.get("properties") or {}).items() if v is not None}
    deal_id = (
        object_id if object_type == "deals" else next(iter(hubspot.associated(object_type, object_id, "deals")), None)
    )
    contact = _first(hubspot, object_type, object_id, deal_id, "contacts")
    customer = _first(hubspot, object_type, object_id, deal_id, spec(customers).hubspot_object)
    if not customer:
        noun = spec(customers).nouns[0]
        raise CannotBillError(
            f"The {kind.noun} has no {noun}, so there is no one to bill. Associate the customer's {noun} with the "
            f"{kind.noun} and run the action again."
        )
    email = ""
    if customers is Pair.COMPANIES and contact:
        email = str(((hubspot.get("contacts", contact, ["email"]) or {}).get("properties") or {}).get("email") or "")
    line_ids = hubspot.associated(object_type, object_id, "line_items")
    if not line_ids and deal_id and object_type != "deals":
        line_ids = hubspot.associated("deals", deal_id, "line_items")
    lines = hubspot.batch_read("line_items", line_ids, LINE_READ) if line_ids else []
    if lines_needed and not lines:
        raise CannotBillError(
            f"The {kind.noun} has no line items. Add the products being sold to the {kind.noun}, then run again."
        )
    expires = day_of(props.get("hs_expiration_date"))
    return Sale(
        object_type,
        object_id,
        kind.noun,
        props.get(kind.name, ""),
        props.get(kind.currency, ""),
        customer,
        lines,
        deal_id,
        expires,
        props,
        contact,
        email,
    )
