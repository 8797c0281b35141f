"""A batch saves the links it makes or changes together, after reconciling its records: one transaction per 50
links, not one per record; the intents of the writes it makes ahead are noted together too. A record whose link
meets one another worker saved meanwhile is read afresh and reconciled again, and the history the batch wrote
for it first is dropped."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hubbooks.models.signals import Pair, Reason, Side, SyncSignal
from hubbooks.store.keys import HISTORY, connection_pk, intents_prefix, links_prefix
from hubbooks.sync.adapters import HubSpotAdapter, QboAdapter
from hubbooks.sync.batch import run_batch
from hubbooks.sync.engine import Outcome, Result
from hubbooks.sync.hierarchy import company_tree
from hubbooks.sync.models import Link
from tests.integration.services.conftest import Wired


def _contact(wired: Wired, first: str, last: str) -> str:
    email = f"{first.lower()}@example.com"
    return str(wired.hubspot.admin.create("contacts", {"email": email, "firstname": first, "lastname": last})["id"])


def _first_sync(wired: Wired, contacts: list[str]) -> dict[str, Result]:
    """An initial sync's batch of these contacts: each one's result."""
    store = wired.store()
    hubspot = HubSpotAdapter(wired.hs, wired.cid, tree=company_tree(wired.hs, store))
    batch = SyncSignal(
        connection_id=wired.cid,
        pair=Pair.CONTACTS,
        side=Side.HUBSPOT,
        record_id=contacts[0],
        reason=Reason.BACKFILL,
        source_version="job-1",
        record_ids=contacts,
        job_id="job-1",
    )
    results: dict[str, Result] = {}
    run_batch(batch, hubspot, QboAdapter(wired.qbo), store, lambda i, result, _seen: results.__setitem__(i, result))
    return results


def _edited(wired: Wired, contacts: list[str]) -> dict[str, Result]:
    """Each contact's first name edited in HubSpot, then the edits as one pass of live changes."""
    for contact in contacts:
        wired.hubspot.admin.update("contacts", contact, {"firstname": f"New{contact}"})
    store = wired.store()
    batch = wired.changed(Pair.CONTACTS, Side.HUBSPOT, contacts[0]).model_copy(update={"record_ids": contacts})
    live = {i: batch.single(i, Reason.WEBHOOK) for i in contacts}
    results: dict[str, Result] = {}
    hubspot = HubSpotAdapter(wired.hs, wired.cid, tree=company_tree(wired.hs, store))
    run_batch(batch, hubspot, QboAdapter(wired.qbo), store, lambda i, r, _seen: results.__setitem__(i, r), live=live)
    return results


def _writes(wired: Wired) -> list[tuple[str, list[str]]]:
    """From now on, each DynamoDB write request of the store's: its operation and the sort keys it writes."""
    requests: list[tuple[str, list[str]]] = []

    def note(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "TransactWriteItems":
            writes = [next(iter(one.values())) for one in params["TransactItems"]]
            keys = [str((w.get("Item") or w.get("Key"))["SK"]) for w in writes]
        else:
            keys = [str((params.get("Item") or params.get("Key") or {}).get("SK", ""))]
        requests.append((model.name, keys))

    for operation in ("TransactWriteItems", "UpdateItem", "PutItem"):
        wired.table.client.meta.events.register(f"provide-client-params.dynamodb.{operation}", note)
    return requests


def _history(wired: Wired) -> list[dict[str, Any]]:
    return list(wired.table.partition(connection_pk(wired.cid), HISTORY))


def test_a_batch_saves_its_new_links_together(wired: Wired) -> None:
    contacts = [_contact(wired, f"P{n}", "Batch") for n in range(60)]
    results = _first_sync(wired, contacts)
    assert {r.outcome for r in results.values()} == {Outcome.CREATED}
    links = wired.store().links_of(Pair.CONTACTS, Side.HUBSPOT, contacts)
    customers = {c["Id"] for c in wired.quickbooks.admin.records("Customer")}
    assert all(link is not None and link.version == 1 and link.qbo_id in customers for link in links.values())
    partners = wired.store().links_of(Pair.CONTACTS, Side.QUICKBOOKS, [link.qbo_id for link in links.values() if link])
    assert {link.hubspot_id for link in partners.values() if link} == set(contacts)  # both items of each
    assert len(_history(wired)) == len(contacts)


def test_a_new_link_that_meets_one_saved_meanwhile_is_reconciled_again(wired: Wired) -> None:
    """The batch creates Bea's customer alone (her name is taken in QuickBooks), and while that call is held,
    another worker links Ann's contact to a customer of its own: Ann's new link cannot be saved."""
    elsewhere = wired.quickbooks.admin.create("Customer", {"DisplayName": "Ann Elsewhere", "GivenName": "Ann"})["Id"]
    wired.quickbooks.admin.create("Customer", {"DisplayName": "Bea Two"})  # another person's customer, no email
    ann, bea = _contact(wired, "Ann", "One"), _contact(wired, "Bea", "Two")
    wired.quickbooks.admin.add_fault("hold", count=1, method="POST", path="/customer$")

    def another_worker_links_ann() -> Link:
        wired.quickbooks.admin.wait_held(timeout=60)
        try:
            return wired.link(Pair.CONTACTS, ann, str(elsewhere))
        finally:
            wired.quickbooks.admin.release_held()

    other = ThreadPoolExecutor(max_workers=1).submit(another_worker_links_ann)
    results = _first_sync(wired, [ann, bea])
    other.result(timeout=60)

    assert results[bea].outcome is Outcome.CREATED
    assert results[ann].outcome is not Outcome.CREATED  # reconciled again, with the link the other worker saved
    assert wired.store().links_of(Pair.CONTACTS, Side.HUBSPOT, [ann]) == {
        ann: wired.linked(Pair.CONTACTS, Side.QUICKBOOKS, str(elsewhere))
    }
    assert wired.linked(Pair.CONTACTS, Side.HUBSPOT, bea) is not None
    history = _history(wired)
    assert sorted(e["action"] for e in history if e["hubspot_id"] == bea) == ["created", "display_name_disambiguated"]
    assert [e for e in history if e["hubspot_id"] == ann and e["action"] == "created"] == []


def test_a_batch_notes_its_intents_and_saves_changed_links_together(wired: Wired) -> None:
    contacts = [_contact(wired, f"C{n}", "Changed") for n in range(40)]
    _first_sync(wired, contacts)
    writes = _writes(wired)
    results = _edited(wired, contacts)

    assert {r.outcome for r in results.values()} == {Outcome.UPDATED}
    given = {c["GivenName"] for c in wired.quickbooks.admin.records("Customer")}
    assert given == {f"New{contact}" for contact in contacts}
    links = wired.store().links_of(Pair.CONTACTS, Side.HUBSPOT, contacts)
    assert {link.version for link in links.values() if link} == {2}
    touching = {
        kind: [(operation, len(keys)) for operation, keys in writes if any(k.startswith(prefix) for k in keys)]
        for kind, prefix in (("links", links_prefix(Pair.CONTACTS)), ("intents", intents_prefix(Pair.CONTACTS)))
    }
    assert touching == {"links": [("TransactWriteItems", 80)], "intents": [("TransactWriteItems", 40)]}


def test_a_changed_link_that_meets_one_saved_meanwhile_is_reconciled_again(wired: Wired) -> None:
    """While the batch's QuickBooks update is held, another worker saves Ann's link (a sync of its own): the
    batch's change of that link cannot be saved, and Ann's record is read afresh and reconciled again; the
    other links are saved with the batch."""
    contacts = [_contact(wired, f"D{n}", "Raced") for n in range(3)]
    _first_sync(wired, contacts)
    ann = contacts[0]
    wired.quickbooks.admin.add_fault("hold", count=1, method="POST", path="/batch$")

    def another_worker_saves_anns_link() -> Link:
        wired.quickbooks.admin.wait_held(timeout=60)
        try:
            link = wired.linked(Pair.CONTACTS, Side.HUBSPOT, ann)
            assert link is not None
            return wired.store().save_link(link, link)
        finally:
            wired.quickbooks.admin.release_held()

    other = ThreadPoolExecutor(max_workers=1).submit(another_worker_saves_anns_link)
    results = _edited(wired, contacts)
    saved_meanwhile = other.result(timeout=60)

    assert {results[i].outcome for i in contacts[1:]} == {Outcome.UPDATED}
    assert ann in results  # told once its link is saved, after the other worker's
    anns = wired.linked(Pair.CONTACTS, Side.HUBSPOT, ann)
    assert anns is not None
    assert anns.version == saved_meanwhile.version + 1
    assert anns.base["firstname"] == f"New{ann}"
    assert {wired.linked(Pair.CONTACTS, Side.HUBSPOT, i).version for i in contacts[1:]} == {2}  # type: ignore[union-attr]
    updated = [e for e in _history(wired) if e["hubspot_id"] == ann and e["action"] == "updated"]
    assert len(updated) <= 1  # the first try's history for Ann was dropped


def test_intents_noted_together_keep_each_sides_note_and_the_last_of_a_pair(wired: Wired) -> None:
    """Notes of many links in one call: a side not written keeps what was noted for it, and two notes of one
    pair in the call are one write, the later one (a transaction may name an item once)."""
    ann, bea = (Link(Pair.CONTACTS, f"h{n}", f"q{n}", {}, 1) for n in (1, 2))
    store = wired.store()
    store.save_intent(ann, {Side.HUBSPOT: {"firstname": "Ann"}}, "")
    store.save_intents(
        [
            (ann, {Side.QUICKBOOKS: {"GivenName": "Ann"}}, "3", []),
            (bea, {Side.QUICKBOOKS: {"GivenName": "Bea"}}, "5", []),
            (bea, {Side.QUICKBOOKS: {"GivenName": "Beatrice"}}, "5", []),
        ]
    )
    assert store.noted(ann, "3").writes == {Side.HUBSPOT: {"firstname": "Ann"}, Side.QUICKBOOKS: {"GivenName": "Ann"}}
    assert store.noted(bea, "5").writes == {Side.QUICKBOOKS: {"GivenName": "Beatrice"}}
