"""Field mappings that join several fields into one name and split it again, and how they are validated."""

from typing import Any

from hubbooks.mapping.fields import CONTACT_FIELDS, Direction, FieldMapping, hubspot_properties, split
from hubbooks.mapping.validation import validate, validate_deal_mappings
from hubbooks.models.signals import Pair

JOINED = FieldMapping("firstname+lastname", "PrintOnCheckName", Direction.BOTH, "join_split_name")
SPLIT = FieldMapping("company", "GivenName+MiddleName+FamilyName", Direction.BOTH, "join_split_name")
PROPERTIES: dict[str, dict[str, Any]] = {
    name: {"name": name, "type": "string"} for name in ("email", "firstname", "lastname", "company", "jobtitle")
} | {
    "qbo_customer_id": {"name": "qbo_customer_id", "type": "string"},
    "hs_lead_status": {"name": "hs_lead_status", "type": "enumeration"},
    "num_notes": {"name": "num_notes", "type": "number"},
}
REQUIRED = [m for m in CONTACT_FIELDS if m.hubspot in ("email", "qbo_customer_id")]


def test_fields_join_in_order_leaving_blanks_out() -> None:
    assert JOINED.from_hubspot({"firstname": " Ada ", "lastname": "Lovelace"}) == "Ada Lovelace"
    assert JOINED.from_hubspot({"firstname": None, "lastname": "Lovelace"}) == "Lovelace"
    assert SPLIT.from_qbo({"GivenName": "Grace", "MiddleName": "", "FamilyName": "Hopper"}) == "Grace Hopper"


def test_a_joined_name_splits_first_word_then_the_rest() -> None:
    assert split("Ada King Lovelace", ("firstname", "lastname")) == {"firstname": "Ada", "lastname": "King Lovelace"}
    assert split("Cher", ("firstname", "lastname")) == {"firstname": "Cher", "lastname": ""}
    assert split("", ("a", "b", "c")) == {"a": "", "b": "", "c": ""}
    assert split("  keeps  spacing ", ("title",)) == {"title": "  keeps  spacing "}


def test_values_become_hubspot_properties_splitting_only_joined_keys() -> None:
    values = {"firstname+lastname": "Ada King Lovelace", "email": "ada@example.com"}
    assert hubspot_properties([JOINED, *CONTACT_FIELDS], values) == {
        "firstname": "Ada",
        "lastname": "King Lovelace",
        "email": "ada@example.com",
    }


def test_a_joined_mapping_validates_each_field_and_needs_the_name_transform() -> None:
    assert validate(Pair.CONTACTS, [*REQUIRED, JOINED], PROPERTIES) == []
    wrong = [
        *REQUIRED,
        FieldMapping("firstname+nickname", "PrintOnCheckName", Direction.BOTH, "trim"),
        FieldMapping("num_notes+company", "Notes", Direction.TO_QBO, "join_split_name"),
    ]
    problems = {(p.field, p.message) for p in validate(Pair.CONTACTS, wrong, PROPERTIES)}
    assert ("mappings[2].hubspot", "HubSpot has no contacts property 'nickname'.") in problems
    assert any(f == "mappings[2].transform" and "join_split_name" in m for f, m in problems)
    assert any(f == "mappings[3]" and "HubSpot number" in m for f, m in problems)


def test_a_field_may_feed_many_mappings_but_only_one_may_write_it() -> None:
    feeds = [*REQUIRED, FieldMapping("firstname", "GivenName"), JOINED]
    reads_twice = [
        *feeds[:-1],
        FieldMapping("firstname+lastname", "PrintOnCheckName", Direction.TO_QBO, "join_split_name"),
    ]
    assert validate(Pair.CONTACTS, reads_twice, PROPERTIES) == []
    problems = validate(Pair.CONTACTS, feeds, PROPERTIES)  # both write firstname back from QuickBooks
    assert [(p.field, p.message) for p in problems] == [
        ("mappings[2].hubspot", "'firstname' is written by 2 mappings; map it once.")
    ]


def test_invoice_mappings_copy_quickbooks_fields_to_properties_the_mirror_does_not_write() -> None:
    invoice_props = {
        "invoice_message": {"name": "invoice_message", "type": "string"},
        "qbo_invoice_total": {"name": "qbo_invoice_total", "type": "number"},
    }
    message = FieldMapping("invoice_message", "CustomerMemo.value", Direction.TO_HUBSPOT)
    assert validate(Pair.INVOICES, [message], invoice_props) == []
    both_ways = FieldMapping("invoice_message", "CustomerMemo.value", Direction.BOTH)
    over_ours = FieldMapping("qbo_invoice_total", "Balance", Direction.TO_HUBSPOT, "money")
    unknown = FieldMapping("invoice_message", "Line", Direction.TO_HUBSPOT)
    problems = [(p.field, p.message) for p in validate(Pair.INVOICES, [both_ways, over_ours, unknown], invoice_props)]
    assert problems[:3] == [
        ("mappings[0].direction", "Invoices come from QuickBooks: map it QuickBooks → HubSpot only."),
        ("mappings[1].hubspot", "hubbooks writes 'qbo_invoice_total' itself from the invoice; map another property."),
        ("mappings[2].qbo", "QuickBooks Invoice has no field 'Line' to map."),
    ]


def test_deal_mappings_fill_writable_deal_properties_from_existing_invoice_properties() -> None:
    deals = {
        "last_invoice_message": {"name": "last_invoice_message", "label": "Last invoice message"},
        "qbo_invoice_number": {"name": "qbo_invoice_number"},
        "hs_object_id": {"name": "hs_object_id", "label": "Record ID", "modificationMetadata": {"readOnlyValue": True}},
        "closedate": {"name": "closedate", "type": "datetime"},
    }
    invoices = {"invoice_message": {}, "qbo_invoice_balance": {"type": "number"}}
    assert validate_deal_mappings([("last_invoice_message", "invoice_message")], deals, invoices) == []
    wrong = [
        ("qbo_invoice_number", "qbo_invoice_balance"),
        ("hs_object_id", "invoice_message"),
        ("nowhere", "nothing"),
        ("last_invoice_message", "invoice_message"),
        ("last_invoice_message", "qbo_invoice_balance"),
        ("closedate", "invoice_message"),
    ]
    assert [(p.field, p.message) for p in validate_deal_mappings(wrong, deals, invoices)] == [
        ("deal_mappings[0].deal", "hubbooks fills 'qbo_invoice_number' itself; map another property."),
        ("deal_mappings[1].deal", "HubSpot's Record ID is read-only."),
        ("deal_mappings[2].deal", "HubSpot has no deal property 'nowhere'."),
        ("deal_mappings[2].invoice", "HubSpot has no invoice property 'nothing'."),
        ("deal_mappings[5]", "A deal datetime cannot hold an invoice string."),
        ("deal_mappings", "'last_invoice_message' is filled by 2 mappings; map it once."),
    ]
