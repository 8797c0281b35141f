"""The records past a batch's last full QuickBooks batch call: a call of their own when the batch budget has a
turn near, or one by one on the budget of single calls when other batches spend the batch calls."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from hubbooks.models.signals import Pair, Reason, Side
from hubbooks.quickbooks.client import QboClient
from hubbooks.ratelimit import RateBudget
from hubbooks.sync.adapters import HubSpotAdapter, QboAdapter
from hubbooks.sync.batch import run_batch
from hubbooks.sync.engine import Outcome, Result
from hubbooks.sync.hierarchy import company_tree
from tests.conftest import DEV_TOKEN, REALM_ID
from tests.integration.services.conftest import Wired

IMPORTED = 50  # one full call of 30, and twenty past it (2.9 s of single creates at 7 a second)


def _imported(wired: Wired, count: int = IMPORTED) -> list[str]:
    return [
        str(wired.hubspot.admin.create("contacts", {"email": f"r{n}@example.com", "firstname": f"R{n}"})["id"])
        for n in range(count)
    ]


def _live_batch(wired: Wired, contacts: list[str]) -> dict[str, Result]:
    """The contacts as one pass of live changes, through a QuickBooks client on the connection's rate budget."""
    budget = RateBudget(wired.table, wired.cid, "quickbooks")
    qbo = QboClient(
        requests.Session(),
        api_base=wired.quickbooks.url,
        realm_id=REALM_ID,
        tokens=lambda _: DEV_TOKEN,
        minor_version=75,
        timeout=10,
        budget=budget,
    )
    store = wired.store()
    batch = wired.changed(Pair.CONTACTS, Side.HUBSPOT, contacts[0]).model_copy(update={"record_ids": contacts})
    live = {i: batch.single(i, Reason.WEBHOOK) for i in contacts}
    results: dict[str, Result] = {}
    hubspot = HubSpotAdapter(wired.hs, wired.cid, tree=company_tree(wired.hs, store))
    run_batch(batch, hubspot, QboAdapter(qbo), store, lambda i, r, _seen: results.__setitem__(i, r), live=live)
    return results


def _creates(wired: Wired) -> tuple[int, int]:
    """QuickBooks' create calls: (batch calls, single creates)."""
    calls = wired.quickbooks.admin.calls()
    return (
        sum(1 for c in calls if c["method"] == "POST" and c["path"].endswith("/batch")),
        sum(1 for c in calls if c["method"] == "POST" and c["path"].endswith("/customer")),
    )


def _each_linked_once(wired: Wired, contacts: list[str], results: dict[str, Result]) -> None:
    assert {i: r.outcome for i, r in results.items()} == dict.fromkeys(contacts, Outcome.CREATED)
    links = wired.store().links_of(Pair.CONTACTS, Side.HUBSPOT, contacts)
    customers = [c["Id"] for c in wired.quickbooks.admin.records("Customer")]
    assert sorted(link.qbo_id for link in links.values() if link) == sorted(customers)
    assert len(customers) == len(contacts)


@pytest.mark.parametrize("count", [33, IMPORTED])  # 3 past the full call (0.4 s alone), and 20 (2.5 s)
def test_past_the_last_full_call_records_go_in_a_call_of_their_own_when_a_batch_turn_is_near(
    wired: Wired, count: int
) -> None:
    """A batch alone: its next turn is one turn (1.6 s) after its full call, always worth waiting for."""
    contacts = _imported(wired, count)
    wired.quickbooks.admin.clear_calls()
    results = _live_batch(wired, contacts)
    _each_linked_once(wired, contacts, results)
    assert _creates(wired) == (2, 0)


def test_past_the_last_full_call_records_go_alone_while_other_batches_spend_the_batch_calls(wired: Wired) -> None:
    """While the full call is in flight, other batches reserve the next two batch turns (4.7 s away)."""
    contacts = _imported(wired)
    wired.quickbooks.admin.clear_calls()
    wired.quickbooks.admin.add_fault("hold", count=1, method="POST", path="/batch$")

    def other_batches_reserve_turns() -> None:
        wired.quickbooks.admin.wait_held(timeout=60)
        try:
            others = RateBudget(wired.table, wired.cid, "quickbooks", sleep=lambda _seconds: None)
            others.acquire("batch")
            others.acquire("batch")
        finally:
            wired.quickbooks.admin.release_held()

    other = ThreadPoolExecutor(max_workers=1).submit(other_batches_reserve_turns)
    results = _live_batch(wired, contacts)
    other.result(timeout=60)
    _each_linked_once(wired, contacts, results)
    assert _creates(wired) == (1, IMPORTED - 30)


def test_a_few_live_updates_go_alone_at_once_rather_than_wait_for_a_far_batch_turn(wired: Wired) -> None:
    """Three contacts edited at a person's pace just after their import's batch call took the batch turn: the
    next is nearly a whole turn away (1.6 s), and they take 0.4 s as single updates, so they go so, at once.
    (They waited for that turn before: within a turn and a call's time, any batch call was worth its wait.)"""
    contacts = _imported(wired, 3)
    _live_batch(wired, contacts)
    for n, contact in enumerate(contacts):
        wired.hubspot.admin.update("contacts", contact, {"firstname": f"Edited{n}"})
    wired.quickbooks.admin.clear_calls()
    results = _live_batch(wired, contacts)
    assert {r.outcome for r in results.values()} == {Outcome.UPDATED}
    assert sorted(c["GivenName"] for c in wired.quickbooks.admin.records("Customer")) == [
        "Edited0",
        "Edited1",
        "Edited2",
    ]
    calls = wired.quickbooks.admin.calls()
    assert sum(1 for c in calls if c["method"] == "POST" and c["path"].endswith("/batch")) == 0
    assert sum(1 for c in calls if c["method"] == "POST" and c["path"].endswith("/customer")) == 3
