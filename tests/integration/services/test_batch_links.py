"""A batch saves the links it makes together, after reconciling its records: one transaction per 50 links, not
one per record. A record whose new link meets one another worker saved meanwhile is read afresh and reconciled
again, and the history the batch wrote for it first is dropped."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hubbooks.models.signals import Pair, Reason, Side, SyncSignal
from hubbooks.store.keys import HISTORY, connection_pk
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
