"""Provider refusals as sync errors a person can act on: a category, the provider's words, and the fix."""

from hubbooks.errors import ValidationFaultError
from hubbooks.mapping.pairs import SPECS, spec
from hubbooks.models.signals import Pair, Side
from hubbooks.sync.models import Record, SyncFailure

_QBO = {
    "6240": (
        "duplicate_name",
        "QuickBooks already has a customer, vendor, employee or item named like this. Rename "
        "one of them in QuickBooks or HubSpot, then edit the record to sync it again.",
    ),
    "2020": (
        "missing_required_field",
        "QuickBooks needs a value hubbooks could not fill. Add it to the HubSpot "
        "record (a name for customers; a name and price for products).",
    ),
    "2050": ("invalid_value", "A value is longer than QuickBooks allows. Shorten it in HubSpot."),
    "2010": ("invalid_value", "A field holds something QuickBooks does not accept. Check the custom field mappings."),
    "2500": (
        "invalid_reference",
        "The record refers to something QuickBooks no longer has (an account or item). "
        "Check the default income account in QuickBooks.",
    ),
    "610": ("missing_record", "The record no longer exists in QuickBooks or was made inactive."),
    "3100": ("permission", "QuickBooks refused hubbooks' access to this company. Reconnect QuickBooks."),
}
_HUBSPOT = {
    "INVALID_EMAIL": ("invalid_email", "HubSpot refused the email address. Correct it in QuickBooks."),
    "CONFLICT": (
        "duplicate",
        "HubSpot already has a record with this unique value (usually the email). Merge the "
        "two contacts in HubSpot, or change the email in QuickBooks.",
    ),
    "PROPERTY_DOESNT_EXIST": ("configuration", "A mapped HubSpot property does not exist. Fix the field mapping."),
    "MISSING_SCOPES": ("permission", "HubSpot refused hubbooks' access. Reinstall hubbooks from HubSpot."),
}


# QuickBooks refusals told apart by their words (code, words in the detail): the books' own rules.
_QBO_WORDS = {
    ("6000", "mail"): (
        "invalid_email",
        "QuickBooks refused the email address. Correct it in HubSpot so it looks like name@example.com.",
    ),
    ("6000", "tax rate"): (
        "missing_tax_code",
        "QuickBooks needs a tax code on every line. Give the item a default tax code in QuickBooks, or choose a "
        "default tax code for invoices in hubbooks' settings.",
    ),
    ("2500", "taxcode"): (
        "invalid_tax_code",
        "The tax code is inactive or no longer exists in QuickBooks. Choose another on the item in QuickBooks or "
        "as the default tax code in hubbooks' settings.",
    ),
    ("6190", "currency"): (
        "currency_mismatch",
        "QuickBooks bills a customer in the currency it was created with only. Bill the deal in the customer's "
        "currency, or turn on multicurrency and add the currency in QuickBooks.",
    ),
    ("6000", "discount"): ("invalid_discount", "A discount is more than 100% or more than the lines it applies to."),
}


def from_fault(fault: ValidationFaultError) -> SyncFailure:
    message = f"{fault.fault_message}: {fault.detail}".strip(": ")
    if fault.provider == "quickbooks":
        for (code, words), (category, fix) in _QBO_WORDS.items():
            if fault.code == code and words in fault.detail.lower():
                return SyncFailure(category, message, fix)
        category, fix = _QBO.get(fault.code, ("unknown", "QuickBooks refused the change; the message says why."))
        return SyncFailure(category, message, fix)
    for marker, (category, fix) in _HUBSPOT.items():
        if marker in fault.code or marker in fault.fault_message:
            return SyncFailure(category, message, fix)
    return SyncFailure("unknown", message, "HubSpot refused the change; the message says why.")


_NOUN = {(pair, side): s.nouns[0 if side is Side.HUBSPOT else 1] for pair, s in SPECS.items() for side in Side}
_APP = {Side.HUBSPOT: "HubSpot", Side.QUICKBOOKS: "QuickBooks"}
AMBIGUOUS = "ambiguous_match"


def _plural(noun: str) -> str:
    return noun[:-1] + "ies" if noun.endswith("y") else noun + "s"


def ambiguous_match(pair: Pair, among: Side, value: str, count: int) -> SyncFailure:
    """`count` records on the `among` side share the match value of one record: which one is its counterpart
    is a person's choice (the preview's review, or making them different)."""
    words = spec(pair).match_words
    nouns, app = _plural(_NOUN[(pair, among)]), _APP[among]
    return SyncFailure(
        AMBIGUOUS,
        f"{count} {app} {nouns} share {words} {value}",
        f"hubbooks pairs one record with one record only. Choose which one in the sync's preview, give the "
        f"{app} {nouns} a different {words} each (or merge them), then sync it again.",
    )


def chosen_elsewhere(pair: Pair, record: Record, match: Record, chosen: str) -> SyncFailure:
    """The record's match was paired with another record by a person in the preview's review."""
    noun, other_noun, other_app = _NOUN[(pair, record.side)], _NOUN[(pair, match.side)], _APP[match.side]
    return SyncFailure(
        "chosen_elsewhere",
        f"{other_app} {other_noun} {match.id} matches this {noun}, but was paired with {chosen} in the review",
        f"This {noun} looks like a duplicate: merge it, or change its {spec(pair).match_words} and sync it again.",
    )


def already_linked(pair: Pair, record: Record, partner: str, newcomer: Record) -> SyncFailure:
    """`newcomer` would pair with `record`, which already syncs with `partner`."""
    side = "HubSpot" if record.side is Side.HUBSPOT else "QuickBooks"
    other = "QuickBooks" if record.side is Side.HUBSPOT else "HubSpot"
    noun = _NOUN[(pair, record.side)]
    return SyncFailure(
        "duplicate",
        f"{side} {noun} {record.id} already syncs with {other} record {partner}; {other} record {newcomer.id} "
        "matches it too",
        f"Two {other} records match one {side} {noun} (same email, SKU or name). Merge the duplicates in {other}, "
        "or change the email/SKU of one of them.",
    )


MERGED_ELSEWHERE = "merged_elsewhere"
_OR_ELSE = {Side.HUBSPOT: "or delete it", Side.QUICKBOOKS: "or make it inactive"}


def merged_elsewhere(pair: Pair, orphan_side: Side, merged_id: str, survivor_id: str) -> SyncFailure:
    """A record whose partner on the other side a person merged into another record there: bringing it over
    again would undo that merge, so it waits for a person."""
    noun, app = _NOUN[(pair, orphan_side)], _APP[orphan_side]
    merged_noun, merged_app = _NOUN[(pair, orphan_side.other)], _APP[orphan_side.other]
    return SyncFailure(
        MERGED_ELSEWHERE,
        f"{merged_app} {merged_noun} {merged_id}, which this {noun} synced with, was merged into {merged_noun} "
        f"{survivor_id}",
        f"This {noun} now stands for the same {spec(pair).stands_for} as {merged_app} "
        f"{merged_noun} {survivor_id}: merge it in {app} into the {noun} that syncs with that one "
        f"({_OR_ELSE[orphan_side]}). Until then hubbooks does not bring it into {merged_app} again, which would "
        "undo the merge; retry it here to sync it as it is.",
    )


def parent_not_synced(app: str, noun: str, parent_id: str, why: str) -> SyncFailure:
    """A record under a parent that does not sync: it follows once its parent does."""
    return SyncFailure(
        "parent_not_synced",
        f"Its parent, {app} {noun} {parent_id}, does not sync ({why or 'no reason given'})",
        f"Fix the parent {noun}'s own sync error (or take this record out from under it); this record follows.",
    )


def parent_cycle(app: str, noun: str, parent_id: str) -> SyncFailure:
    """Parents that lead back to the record itself."""
    return SyncFailure(
        "parent_cycle",
        f"Its parents lead back to itself through {app} {noun} {parent_id}",
        "A customer cannot be under one of its own sub-customers: give one of them another parent, then retry.",
    )


def missing_name(pair: Pair) -> SyncFailure:
    """A HubSpot record that needs a name to become a QuickBooks one (a company, as a customer)."""
    noun, qbo_noun = spec(pair).nouns
    return SyncFailure(
        "missing_name",
        f"This {noun} needs a name to become a QuickBooks {qbo_noun}: QuickBooks names every {qbo_noun}",
        f"Give the {noun} a name in HubSpot; it syncs then.",
    )
