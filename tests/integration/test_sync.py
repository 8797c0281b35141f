"""The sync engine through devstack and both sandboxes: webhooks in, the worker, both sides agreeing."""

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from devstack.sandboxed import SandboxedProduct
from hubbooks import wiring
from hubbooks.mapping.fields import CONTACT_FIELDS, qbo_value
from hubbooks.models.signals import Pair, Reason, Side, SyncSignal
from hubbooks.sync.adapters import QboAdapter
from hubbooks.sync.engine import Result
from hubbooks.sync.models import Record
from hubbooks.sync.ports import HubSpotPort, MergedAwayError, StaleObjectError
from tests.support.product import as_function, connect_webhooks, install, settle, table_items

pytestmark = [pytest.mark.devstack, pytest.mark.slow]


@pytest.fixture(scope="module")
def connection(product: SandboxedProduct) -> dict[str, Any]:
    connect_webhooks(product)
    return install(product)[1]


def _contact(product: SandboxedProduct, contact_id: str) -> dict[str, str]:
    records = product.hubspot_admin.records("contacts", archived="include")
    return next(r["properties"] for r in records if r["id"] == contact_id)


def _customer(product: SandboxedProduct, customer_id: str) -> dict[str, Any]:
    return next(c for c in product.quickbooks_admin.records("Customer") if c["Id"] == customer_id)


def _links(product: SandboxedProduct, pair: str = "contacts") -> dict[str, str]:
    return {
        i["SK"]["S"].rsplit("#", 1)[1]: i["other_id"]["S"]
        for i in table_items(product)
        if i["SK"]["S"].startswith(f"LINK#{pair}#hs#")
    }


def _error(product: SandboxedProduct, key: str) -> dict[str, Any] | None:
    """The sync error item with this sort key, if any."""
    return next((i for i in table_items(product) if i["SK"]["S"] == key), None)


@contextmanager
def _webhooks_held(product: SandboxedProduct, *, quickbooks: bool = True) -> Iterator[None]:
    """Both providers' webhooks off (or HubSpot's only) inside: people's saves reach the worker only through
    the signals a test hands it."""
    admins = [product.hubspot_admin, *([product.quickbooks_admin] if quickbooks else [])]
    for admin in admins:
        admin.configure_webhooks(enabled=False)
    try:
        yield
    finally:
        for admin in admins:
            admin.configure_webhooks(enabled=True)


def _writes(product: SandboxedProduct, path_end: str) -> int:
    return sum(1 for c in product.quickbooks_admin.calls() if c["method"] == "POST" and c["path"].endswith(path_end))


def _agree(product: SandboxedProduct, contact_id: str, customer_id: str) -> list[str]:
    contact, customer = _contact(product, contact_id), _customer(product, customer_id)
    return [
        m.hubspot
        for m in CONTACT_FIELDS
        if m.canonical(contact.get(m.hubspot)) != m.canonical(qbo_value(customer, m.qbo))
    ]


def test_a_new_contact_becomes_a_customer_and_edits_follow_both_ways(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    contact = product.hubspot_admin.create(
        "contacts",
        {"email": "flow@example.com", "firstname": "Flo", "lastname": "Wing", "phone": "+1 555 0100", "city": "Austin"},
    )
    settle(product)
    customer_id = _links(product)[contact["id"]]
    customer = _customer(product, customer_id)
    assert (customer["DisplayName"], customer["PrimaryEmailAddr"]["Address"]) == ("Flo Wing", "flow@example.com")
    assert customer["BillAddr"]["City"] == "Austin"
    assert _contact(product, contact["id"])["qbo_customer_id"] == customer_id
    product.hubspot_admin.update("contacts", contact["id"], {"lastname": "Wingate"})
    settle(product)
    assert _customer(product, customer_id)["FamilyName"] == "Wingate"
    product.quickbooks_admin.update("Customer", customer_id, {"PrimaryPhone": {"FreeFormNumber": "+1 555 0199"}})
    settle(product)
    assert _contact(product, contact["id"])["phone"] == "+1 555 0199"
    assert _agree(product, contact["id"], customer_id) == []


def test_a_new_customer_becomes_a_contact_and_an_existing_email_is_matched(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    customer = product.quickbooks_admin.create(
        "Customer",
        {"DisplayName": "Only Books", "GivenName": "Only", "PrimaryEmailAddr": {"Address": "books@example.com"}},
    )
    settle(product)
    links = _links(product)
    contact_id = next(h for h, q in links.items() if q == customer["Id"])
    assert _contact(product, contact_id)["email"] == "books@example.com"
    existing = product.hubspot_admin.seed({"contacts": [{"email": "match@example.com", "firstname": "Mat"}]})
    twin = product.quickbooks_admin.seed(
        {
            "Customer": [
                {
                    "DisplayName": "Match Co",
                    "CompanyName": "Match Co",
                    "PrimaryEmailAddr": {"Address": "MATCH@example.com"},
                }
            ]
        }
    )
    product.hubspot_admin.update("contacts", existing["contacts"][0], {"jobtitle": "CFO"})
    settle(product)
    assert _links(product)[existing["contacts"][0]] == twin["Customer"][0]
    assert _contact(product, existing["contacts"][0])["company"] == "Match Co"
    assert (
        len(
            [
                c
                for c in product.quickbooks_admin.records("Customer")
                if "match" in str(c.get("PrimaryEmailAddr")).lower()
            ]
        )
        == 1
    )


def test_an_edit_and_its_echo_make_one_write(product: SandboxedProduct, connection: dict[str, Any]) -> None:
    contacts = [
        product.hubspot_admin.create("contacts", {"email": f"echo{n}@example.com", "firstname": "Ec"}) for n in range(2)
    ]
    settle(product)
    customers = [_links(product)[c["id"]] for c in contacts]
    product.quickbooks_admin.clear_calls()
    product.hubspot_admin.clear_calls()
    for contact in contacts:
        product.hubspot_admin.update("contacts", contact["id"], {"firstname": "Echo"})
    settle(product)
    calls = product.quickbooks_admin.calls()
    written = [c for c in calls if c["method"] == "POST" and c["path"].endswith(("/customer", "/batch"))]
    assert len(written) <= 2, written  # one write each (a batch call holds both)
    assert [_customer(product, c)["GivenName"] for c in customers] == ["Echo", "Echo"]
    # The customers' webhooks for those writes are told echoes by their reads: no match is looked for in HubSpot.
    assert not [c for c in product.hubspot_admin.calls() if c["path"].endswith("/search")]
    hubspot_patches = [c for c in product.hubspot_admin.calls() if c["method"] == "PATCH"]
    settle(product)
    assert [c for c in product.hubspot_admin.calls() if c["method"] == "PATCH"] == hubspot_patches


def test_a_create_applied_but_answered_500_makes_one_customer(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    product.quickbooks_admin.add_fault("applied_500", count=1, method="POST", path=r"/customer$")
    contact = product.hubspot_admin.create(
        "contacts", {"email": "applied@example.com", "firstname": "Ap", "lastname": "Plied"}
    )
    settle(product, timeout=90)
    matches = [
        c
        for c in product.quickbooks_admin.records("Customer")
        if (c.get("PrimaryEmailAddr") or {}).get("Address") == "applied@example.com"
    ]
    assert len(matches) == 1
    assert _links(product)[contact["id"]] == matches[0]["Id"]
    assert product.quickbooks_admin.faults()["injected"] == {"applied_500": 1}


def test_edits_made_at_once_settle_by_the_most_recent(product: SandboxedProduct, connection: dict[str, Any]) -> None:
    contact = product.hubspot_admin.create("contacts", {"email": "both@example.com", "firstname": "Start"})
    settle(product)
    customer_id = _links(product)[contact["id"]]
    product.hubspot_admin.add_fault("delay", count=1, delay_ms=1500)
    product.quickbooks_admin.add_fault("delay", count=1, delay_ms=1500)
    product.hubspot_admin.update("contacts", contact["id"], {"firstname": "FromHubSpot"})
    time.sleep(1.1)  # QuickBooks keeps seconds: make its edit clearly the later one
    product.quickbooks_admin.update("Customer", customer_id, {"GivenName": "FromQuickBooks"})
    settle(product)
    assert _contact(product, contact["id"])["firstname"] == "FromQuickBooks"
    assert _customer(product, customer_id)["GivenName"] == "FromQuickBooks"
    history = [
        i
        for i in table_items(product)
        if i["SK"]["S"].startswith("HIST#") and "conflicts" in i and i["conflicts"].get("L")
    ]
    assert history, "the conflict is recorded in the history"


def test_a_taken_display_name_gets_the_email_added(product: SandboxedProduct, connection: dict[str, Any]) -> None:
    product.quickbooks_admin.seed({"Vendor": [{"DisplayName": "Sam Smith"}]})
    contact = product.hubspot_admin.create(
        "contacts", {"email": "sam@example.com", "firstname": "Sam", "lastname": "Smith"}
    )
    settle(product)
    customer = _customer(product, _links(product)[contact["id"]])
    assert customer["DisplayName"] == "Sam Smith (sam@example.com)"


def test_a_refused_record_shows_a_sync_error_that_clears(product: SandboxedProduct, connection: dict[str, Any]) -> None:
    contact = product.hubspot_admin.create("contacts", {"firstname": "N" * 120})
    settle(product)
    errors = [i for i in table_items(product) if i["SK"]["S"] == f"ERR#contacts#hs#{contact['id']}"]
    assert len(errors) == 1
    assert errors[0]["category"]["S"] == "invalid_value"
    assert "Shorten" in errors[0]["fix"]["S"]
    product.hubspot_admin.update("contacts", contact["id"], {"firstname": "Nina"})
    settle(product)
    assert [i for i in table_items(product) if i["SK"]["S"] == f"ERR#contacts#hs#{contact['id']}"] == []
    assert contact["id"] in _links(product)


def test_products_sync_by_sku_and_create_items(product: SandboxedProduct, connection: dict[str, Any]) -> None:
    item = product.quickbooks_admin.seed(
        {
            "Item": [
                {
                    "Name": "Widget Pro",
                    "Sku": "W-PRO",
                    "UnitPrice": 25,
                    "Type": "Service",
                    "IncomeAccountRef": {"value": "1"},
                }
            ]
        }
    )["Item"][0]
    hs_product = product.hubspot_admin.seed({"products": [{"name": "Widget Pro", "hs_sku": "W-PRO", "price": "25"}]})[
        "products"
    ][0]
    product.hubspot_admin.update("products", hs_product, {"description": "The pro widget"})
    fresh = product.hubspot_admin.create(
        "products", {"name": "Gadget", "hs_sku": "G-1", "price": "9.5", "hs_product_type": "non_inventory"}
    )
    settle(product)
    links = _links(product, "products")
    assert links[hs_product] == item
    created = next(i for i in product.quickbooks_admin.records("Item") if i["Id"] == links[fresh["id"]])
    assert (created["Name"], created["Sku"], created["UnitPrice"], created["Type"]) == (
        "Gadget",
        "G-1",
        9.5,
        "NonInventory",
    )
    described = next(i for i in product.quickbooks_admin.records("Item") if i["Id"] == item)
    assert described["Description"] == "The pro widget"


def test_an_item_created_and_edited_in_quickbooks_becomes_a_hubspot_product(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    item = product.quickbooks_admin.create(
        "Item",
        {
            "Name": "Consulting hour",
            "Sku": "C-HR",
            "UnitPrice": 120,
            "Type": "Service",
            "IncomeAccountRef": {"value": "1"},
        },
    )
    settle(product)
    linked = {q: h for h, q in _links(product, "products").items()}
    made = next(p for p in product.hubspot_admin.records("products") if p["id"] == linked[item["Id"]])
    assert (made["properties"]["name"], made["properties"]["hs_sku"], float(made["properties"]["price"])) == (
        "Consulting hour",
        "C-HR",
        120.0,
    )
    product.quickbooks_admin.update("Item", item["Id"], {"UnitPrice": 135, "Name": "Consulting hour (senior)"})
    settle(product)
    edited = next(p for p in product.hubspot_admin.records("products") if p["id"] == made["id"])
    assert (edited["properties"]["name"], float(edited["properties"]["price"])) == ("Consulting hour (senior)", 135.0)


def test_fifty_random_edits_on_each_side_converge(product: SandboxedProduct, connection: dict[str, Any]) -> None:
    rng = random.Random(11)
    contacts = [
        product.hubspot_admin.create("contacts", {"email": f"rand{n}@example.com", "firstname": f"R{n}"})
        for n in range(5)
    ]
    settle(product)
    links = _links(product)
    pairs = [(c["id"], links[c["id"]]) for c in contacts]
    for step in range(50):
        contact_id, customer_id = rng.choice(pairs)
        product.hubspot_admin.update("contacts", contact_id, {rng.choice(["lastname", "city", "phone"]): f"h{step}"})
        contact_id, customer_id = rng.choice(pairs)
        field = rng.choice([("FamilyName", None), ("BillAddr", "City"), ("CompanyName", None)])
        change: dict[str, Any] = {field[0]: {field[1]: f"q{step}"}} if field[1] else {field[0]: f"q{step}"}
        if field[0] == "BillAddr":
            change["BillAddr"] = {**(_customer(product, customer_id).get("BillAddr") or {}), "City": f"q{step}"}
        product.quickbooks_admin.update("Customer", customer_id, change)
    settle(product, timeout=300)  # 100 edits and their echoes; slower when the machine is busy
    assert {contact_id: _agree(product, contact_id, customer_id) for contact_id, customer_id in pairs} == {
        c: [] for c, _ in pairs
    }
    emails = [
        str((c.get("PrimaryEmailAddr") or {}).get("Address", "")).lower()
        for c in product.quickbooks_admin.records("Customer")
    ]
    synced = [e for e in emails if e.startswith("rand")]
    assert sorted(synced) == sorted(f"rand{n}@example.com" for n in range(5))  # no customer twice


def test_duplicate_and_reordered_signals_change_nothing_twice(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    import json

    contact = product.hubspot_admin.create("contacts", {"email": "order@example.com", "firstname": "Or"})
    product.settle()
    customer_id = _links(product)[contact["id"]]
    product.hubspot_admin.update("contacts", contact["id"], {"lastname": "Der"})
    product.settle()
    writes = _writes(product, "/customer")
    sqs = product.devstack.client("sqs")
    cid = connection["connection_id"]
    for n, (side, record_id) in enumerate(
        [("qbo", customer_id), ("hs", contact["id"]), ("hs", contact["id"]), ("qbo", customer_id)]
    ):
        body = {
            "connection_id": cid,
            "pair": "contacts",
            "side": side,
            "record_id": record_id,
            "reason": "retry",
            "source_version": f"replay-{n % 2}",
        }
        sqs.send_message(
            QueueUrl=product.devstack.physical["SyncQueue"],
            MessageBody=json.dumps(body),
            MessageGroupId=f"{cid}:contacts:hs:{contact['id']}",
            MessageDeduplicationId=f"r{n}-{time.time()}",
        )
    product.settle()
    assert _writes(product, "/customer") == writes
    assert _customer(product, customer_id)["FamilyName"] == "Der"


def _worker_adapter(product: SandboxedProduct, connection_id: str) -> QboAdapter:
    """The worker's QuickBooks adapter for the connection (call inside `as_function(..., SyncWorkerFunction)`)."""
    return QboAdapter(wiring.qbo_client(wiring.token_provider(), connection_id, product.credentials.realm_id))


@contextmanager
def _worker_holding_a_read(
    product: SandboxedProduct, connection_id: str, customer_id: str
) -> Iterator[tuple[QboAdapter, Record]]:
    """Webhooks held back, inside the worker: its QuickBooks adapter and its read of the customer (call inside:
    a person's save, the worker's write with that read)."""
    with _webhooks_held(product), as_function(product, "SyncWorkerFunction"):
        adapter = _worker_adapter(product, connection_id)
        read = adapter.get(Pair.CONTACTS, customer_id)
        assert read is not None
        yield adapter, read


def _retry_contact(
    connection_id: str, record_id: str, version: str, side: Side = Side.HUBSPOT, reason: Reason = Reason.RETRY
) -> Result:
    """Handle a signal for a contact (or, on the QuickBooks side, a customer) as the worker would (inside
    `as_function`); by default a person's retry from the settings page."""
    engine = wiring.sync_engine(connection_id)
    assert engine is not None
    signal = SyncSignal(
        connection_id=connection_id,
        pair=Pair.CONTACTS,
        side=side,
        record_id=record_id,
        reason=reason,
        source_version=version,
    )
    return engine.handle(signal)


def test_a_stale_sync_token_is_read_again(product: SandboxedProduct, connection: dict[str, Any]) -> None:
    contact = product.hubspot_admin.create("contacts", {"email": "stale@example.com", "firstname": "St"})
    product.settle()
    customer_id = _links(product)[contact["id"]]
    cid = connection["connection_id"]
    # Webhooks held back: the person's saves reach the worker only through the retry below (a live sync of the
    # QuickBooks save could otherwise carry the HubSpot edit across first).
    with _worker_holding_a_read(product, cid, customer_id) as (adapter, read_before):
        product.quickbooks_admin.update("Customer", customer_id, {"Notes": "a person saved meanwhile"})
        with pytest.raises(StaleObjectError):
            adapter.update(Pair.CONTACTS, read_before, {"lastname": "Late"})
        product.hubspot_admin.update("contacts", contact["id"], {"lastname": "Late"})
        result = _retry_contact(cid, contact["id"], "x")
    assert result.outcome.value == "updated"
    assert _customer(product, customer_id)["FamilyName"] == "Late"


def test_a_customer_merged_away_between_read_and_write_is_unlinked_not_failed(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    contact = product.hubspot_admin.create("contacts", {"email": "merged.away@example.com", "firstname": "Mo"})
    product.settle()
    customer_id = _links(product)[contact["id"]]
    survivor = product.quickbooks_admin.create("Customer", {"DisplayName": "Survivor Of A Merge"})
    product.settle()
    cid = connection["connection_id"]
    with _worker_holding_a_read(product, cid, customer_id) as (adapter, read_before):
        product.quickbooks_admin.merge("Customer", survivor["Id"], customer_id)
        with pytest.raises(StaleObjectError):
            adapter.update(Pair.CONTACTS, read_before, {"firstname": "Late"})
        product.hubspot_admin.update("contacts", contact["id"], {"firstname": "Late"})
        result = _retry_contact(cid, contact["id"], "merged-away")
    assert result.outcome.value == "unlinked", result
    assert contact["id"] not in _links(product)
    assert not [i for i in table_items(product) if i["SK"]["S"] == f"ERR#contacts#hs#{contact['id']}"]


def test_a_contact_whose_customer_was_merged_away_waits_then_gets_a_customer_when_asked(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    """The person merged its customer into another one's: making it a customer again would undo that, so it
    waits with an error saying what to do, until a person retries it. Creates carry a request id stable per
    contact; QuickBooks answers a repeated one with its first answer, which here names the customer merged
    away, so that create must be a request of its own."""
    contact = product.hubspot_admin.create("contacts", {"email": "twice.made@example.com", "firstname": "Tw"})
    other = product.hubspot_admin.create("contacts", {"email": "keeps.hers@example.com", "firstname": "Kh"})
    product.settle()
    links = _links(product)
    first, survivor = links[contact["id"]], links[other["id"]]
    time.sleep(5.5)  # the first customer is now clearly older than any new one
    product.quickbooks_admin.merge("Customer", survivor, first)
    product.settle()
    assert contact["id"] not in _links(product)  # the survivor keeps its own link
    product.hubspot_admin.update("contacts", contact["id"], {"firstname": "Again"})
    product.settle()
    assert contact["id"] not in _links(product)
    waiting = _error(product, f"ERR#contacts#hs#{contact['id']}")
    assert waiting is not None
    assert waiting["category"]["S"] == "merged_elsewhere"
    assert f"customer {first}" in waiting["message"]["S"]
    assert f"customer {survivor}" in waiting["message"]["S"]
    with as_function(product, "SyncWorkerFunction"):
        assert _retry_contact(connection["connection_id"], contact["id"], "asked").outcome.value == "created"
    again = _links(product).get(contact["id"])
    assert again not in (None, first, survivor)
    assert _customer(product, str(again))["GivenName"] == "Again"
    assert _error(product, f"ERR#contacts#hs#{contact['id']}") is None


def test_a_customer_merged_into_one_whose_contact_is_not_linked_yet_links_that_contact(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    """Before, the merged customer's link moved to the survivor and the survivor's email was written onto the
    merged customer's contact, which HubSpot refused (the survivor's own contact holds that email)."""
    hubspot, quickbooks = product.hubspot_admin, product.quickbooks_admin
    merged_contact = hubspot.create("contacts", {"email": "merged.into@example.com", "firstname": "Mi"})
    product.settle()
    merged = _links(product)[merged_contact["id"]]
    with _webhooks_held(product):  # the same person entered on both sides, not synced yet
        own = hubspot.create("contacts", {"email": "kept.name@example.com", "firstname": "Kn"})
        body = {"DisplayName": "Kept Name", "GivenName": "Kn", "PrimaryEmailAddr": {"Address": "kept.name@example.com"}}
        survivor = quickbooks.create("Customer", body)
    quickbooks.merge("Customer", survivor["Id"], merged)
    product.settle()
    links = _links(product)
    assert links.get(own["id"]) == survivor["Id"]
    assert merged_contact["id"] not in links
    assert _contact(product, merged_contact["id"])["email"] == "merged.into@example.com"
    assert _agree(product, own["id"], survivor["Id"]) == []
    assert _error(product, f"ERR#contacts#hs#{own['id']}") is None
    assert _error(product, f"ERR#contacts#qbo#{survivor['Id']}") is None
    waiting = _error(product, f"ERR#contacts#hs#{merged_contact['id']}")  # for a person to merge in HubSpot
    assert waiting is not None
    assert waiting["category"]["S"] == "merged_elsewhere"


@contextmanager
def _worker_beside_a_person(
    product: SandboxedProduct, connection: dict[str, Any], email: str
) -> Iterator[tuple[HubSpotPort, str, Record]]:
    """A contact made and synced; then, its webhooks held back, the worker's HubSpot adapter, the contact's id
    and the worker's read of it (call inside: a person's edit, the worker's write)."""
    contact = product.hubspot_admin.create("contacts", {"email": email, "firstname": "P"})
    product.settle()
    with _webhooks_held(product, quickbooks=False), as_function(product, "SyncWorkerFunction"):
        engine = wiring.sync_engine(connection["connection_id"])
        assert engine is not None
        before = engine.hubspot.get(Pair.CONTACTS, contact["id"])
        assert before is not None
        yield engine.hubspot, contact["id"], before


def test_a_hubspot_edit_written_over_between_read_and_write_is_put_back(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    """HubSpot has no conditional write: a person's edit between the worker's read and its write is found in the
    property's history afterwards and put back; an edit after the write is newer and stays."""
    with _worker_beside_a_person(product, connection, "put.back@example.com") as (hubspot, contact_id, before):
        product.hubspot_admin.update("contacts", contact_id, {"firstname": "Person"})
        wrote = hubspot.update(Pair.CONTACTS, contact_id, {"firstname": "Older"})
        kept = hubspot.restore_overwritten(
            Pair.CONTACTS, contact_id, {"firstname": "Older"}, before.updated_at, wrote.updated_at
        )
        assert kept == ["firstname"]
        assert _contact(product, contact_id)["firstname"] == "Person"
        time.sleep(0.01)
        wrote = hubspot.update(Pair.CONTACTS, contact_id, {"lastname": "Ours"})
        time.sleep(0.01)
        product.hubspot_admin.update("contacts", contact_id, {"lastname": "After"})
        kept = hubspot.restore_overwritten(
            Pair.CONTACTS, contact_id, {"lastname": "Ours"}, before.updated_at, wrote.updated_at
        )
        assert kept == []
        fields = ["firstname", "lastname", "phone"]
        now = hubspot.get(Pair.CONTACTS, contact_id)
        assert now is not None
        times = hubspot.changed_at(Pair.CONTACTS, contact_id, fields, as_of=now.updated_at)
        as_written = hubspot.changed_at(Pair.CONTACTS, contact_id, fields, as_of=wrote.updated_at)
    assert _contact(product, contact_id)["lastname"] == "After"
    assert set(times) == {"firstname", "lastname"}  # never set: no time
    assert before.updated_at < times["firstname"] < times["lastname"]
    # As the record was when ours was written: the value it held then, set by our write, not the later "After".
    assert as_written["lastname"] == wrote.updated_at < times["lastname"]


def test_an_edit_made_while_a_put_back_is_on_its_way_is_put_back_too(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    """The put-back is a write without a condition too: a person's edit landing while it is held is found and
    kept the same way."""
    with _worker_beside_a_person(product, connection, "put.back.twice@example.com") as (hubspot, contact_id, before):
        product.hubspot_admin.update("contacts", contact_id, {"firstname": "First"})
        wrote = hubspot.update(Pair.CONTACTS, contact_id, {"firstname": "Older"})
        path = f"^/crm/v3/objects/contacts/{contact_id}$"
        product.hubspot_admin.add_fault("hold", count=1, method="PATCH", path=path)

        def edit_while_the_put_back_is_held() -> None:
            product.hubspot_admin.wait_held()
            product.hubspot_admin.update("contacts", contact_id, {"firstname": "Second"})
            product.hubspot_admin.release_held()

        person = threading.Thread(target=edit_while_the_put_back_is_held)
        person.start()
        kept = hubspot.restore_overwritten(
            Pair.CONTACTS, contact_id, {"firstname": "Older"}, before.updated_at, wrote.updated_at
        )
        person.join()
    assert kept == ["firstname"]
    assert _contact(product, contact_id)["firstname"] == "Second"


def test_a_write_to_a_contact_merged_away_meanwhile_is_taken_back_from_the_survivor(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    """HubSpot applies an update (or an archive) of a merged-away id to the survivor (or refuses it there: 409
    for an id another contact holds, which changes nothing and is answered the same way). A worker's write
    meant for the merged contact (here its customer id) would have left the survivor holding another
    customer's id, and a later create for that customer, an upsert by that id, would have written another
    person over it."""
    survivor = product.hubspot_admin.create("contacts", {"email": "keeps.own@example.com", "firstname": "Ko"})
    holder = product.hubspot_admin.create("contacts", {"email": "holds.id@example.com", "firstname": "Hi"})
    with _worker_beside_a_person(product, connection, "merged.meanwhile@example.com") as (hubspot, merged_id, _):
        links = _links(product)
        product.hubspot_admin.merge("contacts", survivor["id"], merged_id)
        with pytest.raises(MergedAwayError) as refused:  # an id another contact holds: HubSpot answers 409
            hubspot.update(Pair.CONTACTS, merged_id, {"firstname": "Meant", "qbo_customer_id": links[holder["id"]]})
        with pytest.raises(MergedAwayError) as raised:
            hubspot.update(Pair.CONTACTS, merged_id, {"firstname": "Meant", "qbo_customer_id": links[merged_id]})
        with pytest.raises(MergedAwayError):  # HubSpot would archive the survivor
            hubspot.archive(Pair.CONTACTS, merged_id)
        result = _retry_contact(connection["connection_id"], merged_id, "merged")
    assert result.outcome.value == "unlinked", result
    assert (raised.value.survivor_id, raised.value.given_back) == (survivor["id"], ["firstname", "qbo_customer_id"])
    assert (refused.value.survivor_id, refused.value.given_back) == (survivor["id"], [])
    assert "already exists" in refused.value.refused
    kept = _contact(product, survivor["id"])
    assert (kept["firstname"], kept["qbo_customer_id"]) == ("Ko", links[survivor["id"]])
    assert survivor["id"] in {c["id"] for c in product.hubspot_admin.records("contacts")}  # not archived
    assert _links(product).get(survivor["id"]) == links[survivor["id"]]


def test_a_contact_merged_while_its_first_sync_writes_leaves_the_survivor_its_email_on_both_sides(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    """The whole chain the soak found: a new contact's first sync creates its customer; HubSpot holds the write
    back to the contact while a person merges it into another; the later signals of the new customer must
    not carry the merged person's email onto the survivor (and from there onto the survivor's customer)."""
    survivor = product.hubspot_admin.create("contacts", {"email": "survives.merge@example.com", "firstname": "Sm"})
    product.settle()
    survivor_customer = _links(product)[survivor["id"]]
    cid = connection["connection_id"]
    with _webhooks_held(product):
        merged = product.hubspot_admin.create("contacts", {"email": "merged.first@example.com", "firstname": "Mf"})
        path = f"^/crm/v3/objects/contacts/{merged['id']}$"
        product.hubspot_admin.add_fault("hold", count=1, method="PATCH", path=path)

        def merge_while_the_write_is_held() -> None:
            product.hubspot_admin.wait_held()
            product.hubspot_admin.merge("contacts", survivor["id"], merged["id"])
            product.hubspot_admin.release_held()

        person = threading.Thread(target=merge_while_the_write_is_held)
        person.start()
        with as_function(product, "SyncWorkerFunction"):
            _retry_contact(cid, merged["id"], "created")
            person.join()
            made = next(
                c["Id"]
                for c in product.quickbooks_admin.records("Customer")
                if (c.get("PrimaryEmailAddr") or {}).get("Address") == "merged.first@example.com"
            )
            for attempt in ("one", "two"):  # the new customer's webhooks, late and twice
                _retry_contact(cid, made, attempt, Side.QUICKBOOKS, Reason.WEBHOOK)
            _retry_contact(cid, survivor["id"], "after", reason=Reason.WEBHOOK)
    assert _contact(product, survivor["id"])["email"] == "survives.merge@example.com"
    assert _customer(product, survivor_customer)["PrimaryEmailAddr"]["Address"] == "survives.merge@example.com"
    assert _links(product).get(survivor["id"]) == survivor_customer
    taken_back = [i for i in table_items(product) if i.get("action", {}).get("S") == "write_taken_back"]
    assert [i["hubspot_id"]["S"] for i in taken_back] == [merged["id"]]
    waiting = _error(product, f"ERR#contacts#qbo#{made}")  # the merged person's customer, for a person to merge
    assert waiting is not None
    assert waiting["category"]["S"] == "merged_elsewhere"
    emails = [c["properties"].get("email") for c in product.hubspot_admin.records("contacts")]
    assert "merged.first@example.com" not in emails  # not brought back: that would undo the merge
