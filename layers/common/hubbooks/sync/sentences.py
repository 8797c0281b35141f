"""History entries and records as a bookkeeper reads them: names rather than ids, what happened in a sentence."""

from typing import Any

from hubbooks.models.signals import Pair
from hubbooks.sync.models import Record

_APP = {"->quickbooks": "QuickBooks", "->hubspot": "HubSpot"}
_FROM = {"->quickbooks": "HubSpot", "->hubspot": "QuickBooks"}
_NOUN = {
    "contacts": "contact",
    "companies": "company",
    "products": "product",
    "invoices": "invoice",
    "payments": "payment",
}
_SETTINGS = {
    "settings_changed": "settings changed",
    "preview_started": "a preview was started",
    "review_decided": "choices from the review were saved",
    "sync_started": "set up and turned on; the first sync started",
    "sync_deleted": "the sync was deleted",
    "resync_started": "a resync was started",
    "record_included": "a record the filters leave out was included by a person",
    "customer_mode_changed": "QuickBooks customers now sync with this object",
}


def label(pair: Pair | str, record: Record | None) -> str:
    """A record as a person knows it: a contact's name and email, a company's name and domain, a product's name
    and SKU."""
    if record is None:
        return ""
    values = record.values
    if pair == Pair.CONTACTS:
        given = " ".join(v for v in (values.get("firstname", ""), values.get("lastname", "")) if v)
        name = str((record.raw or {}).get("DisplayName") or given)  # QuickBooks' own name for a customer
        email = values.get("email", "")
        return f"{name} <{email}>" if name and email else name or email
    sku = values.get("domain" if pair == Pair.COMPANIES else "hs_sku", "")
    return f"{values.get('name', '')} ({sku})" if sku else values.get("name", "")


def _directions(entry: dict[str, Any]) -> list[str]:
    return [d for d in str(entry.get("direction", "")).split(",") if d in _APP]


def sentence(entry: dict[str, Any]) -> str:
    """One history entry as a sentence ("Ada Lovelace: created in QuickBooks from HubSpot")."""
    pair, action = str(entry.get("pair", "")), str(entry.get("action", ""))
    if action in _SETTINGS:
        fields = ", ".join(str(f) for f in entry.get("fields") or [] if ":" not in str(f))
        return f"{pair.capitalize()}: {_SETTINGS[action]}" + (f" ({fields})" if fields else "")
    ids = [f"HubSpot {entry['hubspot_id']}" if entry.get("hubspot_id") else ""]
    ids.append(f"QuickBooks {entry['qbo_id']}" if entry.get("qbo_id") else "")
    who = str(entry.get("name") or f"{_NOUN.get(pair, pair)} {' / '.join(i for i in ids if i)}")
    ways, fields = _directions(entry), ", ".join(str(f) for f in entry.get("fields") or [])
    if action == "created" and ways:
        made = [w for w in ways if w != "->hubspot"] or ways  # a QuickBooks record made from HubSpot, or the reverse
        what = f"created in {_APP[made[0]]} from {_FROM[made[0]]}"
    elif action == "linked":
        what = "matched with its existing counterpart and linked"
    elif action == "updated" and ways:
        what = " and ".join(f"{fields or 'changes'} copied to {_APP[w]}" for w in ways)
    elif entry.get("conflicts"):
        what = "both sides had changed; settled by the conflict policy"
    else:
        what = action.replace("_", " ")
    note = str(entry.get("note") or "")
    return f"{who}: {what}" + (f" ({note})" if note else "")
