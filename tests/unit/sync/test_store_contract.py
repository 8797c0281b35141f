"""The engine's store, in memory (the unit tests' fake) and on DynamoDB (moto), held to the same cases: a fake
that is kinder than the real store would let an engine test pass that production fails."""

from collections.abc import Iterator

import pytest

from hubbooks.models.signals import Pair, Side
from hubbooks.store.sync_store import DynamoSyncStore
from hubbooks.store.table import Table
from hubbooks.sync.models import BatchCreate, Link, SyncFailure
from hubbooks.sync.ports import LinkConflictError, StorePort
from tests.support.aws import table_in_process
from tests.unit.sync.fakes import FakeStore

PAIR = Pair.CONTACTS


@pytest.fixture(params=["in memory", "dynamodb"])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[StorePort]:
    if request.param == "in memory":
        yield FakeStore()
        return
    with table_in_process(monkeypatch) as table:
        yield DynamoSyncStore(Table(table), "c1")


def _link(hubspot_id: str = "h1", qbo_id: str = "q1", **base: str) -> Link:
    return Link(PAIR, hubspot_id, qbo_id, base or {"email": "a@example.com"}, 0, {"hs": "v1", "qbo": "3"})


def test_a_new_link_is_found_from_both_sides_with_its_base_and_versions(store: StorePort) -> None:
    saved = store.save_link(_link(), None)
    assert saved.version == 1
    for side, record_id in ((Side.HUBSPOT, "h1"), (Side.QUICKBOOKS, "q1")):
        found = store.link_of(PAIR, side, record_id)
        assert found is not None
        assert (found.hubspot_id, found.qbo_id, found.base, found.version, found.seen) == (
            "h1",
            "q1",
            {"email": "a@example.com"},
            1,
            {"hs": "v1", "qbo": "3"},
        )
    assert store.link_of(PAIR, Side.HUBSPOT, "q1") is None


@pytest.mark.parametrize(("hubspot_id", "qbo_id"), [("h1", "q2"), ("h2", "q1")], ids=["hubspot taken", "qbo taken"])
def test_a_new_link_for_a_record_linked_on_either_side_is_refused(
    store: StorePort, hubspot_id: str, qbo_id: str
) -> None:
    store.save_link(_link(), None)
    with pytest.raises(LinkConflictError):
        store.save_link(_link(hubspot_id, qbo_id), None)
    assert store.link_of(PAIR, Side.HUBSPOT, "h2") is None
    assert store.link_of(PAIR, Side.QUICKBOOKS, "q2") is None


def test_a_link_is_updated_only_over_the_version_that_was_read(store: StorePort) -> None:
    first = store.save_link(_link(), None)
    second = store.save_link(_link(email="b@example.com"), first)
    assert second.version == 2
    with pytest.raises(LinkConflictError):
        store.save_link(_link(email="c@example.com"), first)  # read before the second save
    current = store.link_of(PAIR, Side.QUICKBOOKS, "q1")
    assert current is not None
    assert (current.base, current.version) == ({"email": "b@example.com"}, 2)


def test_a_link_is_deleted_only_as_it_was_read(store: StorePort) -> None:
    first = store.save_link(_link(), None)
    store.save_link(_link(email="b@example.com"), first)
    with pytest.raises(LinkConflictError):
        store.delete_link(first)  # changed since: both halves stay
    assert store.link_of(PAIR, Side.HUBSPOT, "h1") is not None
    assert store.link_of(PAIR, Side.QUICKBOOKS, "q1") is not None
    current = store.link_of(PAIR, Side.HUBSPOT, "h1")
    assert current is not None
    store.delete_link(current)
    assert store.link_of(PAIR, Side.HUBSPOT, "h1") is None
    assert store.link_of(PAIR, Side.QUICKBOOKS, "q1") is None


def test_a_sync_error_is_kept_per_record_and_cleared(store: StorePort) -> None:
    failure = SyncFailure("duplicate", "QuickBooks already has a customer named Ada", "Rename one of them.")
    store.record_failure(PAIR, Side.HUBSPOT, "h1", failure)
    assert store.failure(PAIR, Side.HUBSPOT, "h1") == failure
    assert store.failure(PAIR, Side.QUICKBOOKS, "h1") is None
    store.clear_failure(PAIR, Side.HUBSPOT, "h1")
    store.clear_failure(PAIR, Side.HUBSPOT, "h1")  # clearing what is not there is fine
    assert store.failure(PAIR, Side.HUBSPOT, "h1") is None


def test_an_intent_is_ours_at_its_link_version_and_in_quickbooks_while_its_synctoken_stands(store: StorePort) -> None:
    first = store.save_link(_link(), None)
    store.save_intent(first, {"qbo": {"firstname": "Ann"}, "hs": {"lastname": "Lee"}}, "4")
    both = {"qbo": {"firstname": "Ann"}, "hs": {"lastname": "Lee"}}
    assert store.intent(first, "3") == both
    second = store.save_link(_link(email="b@example.com"), first)
    assert store.intent(second, "5") == {}  # the link was saved past it, and QuickBooks changed since our write
    assert store.intent(second, "4") == {"qbo": {"firstname": "Ann"}}  # QuickBooks still holds our write
    store.save_intent(second, {"hs": {"lastname": "Lu"}, "qbo": {}}, "")  # one side: the other's stays
    assert store.intent(second, "4") == {"qbo": {"firstname": "Ann"}, "hs": {"lastname": "Lu"}}
    assert store.intent(Link(PAIR, "h1", "q9", {}, second.version), "4") == {}  # another pair of records


def test_a_batch_create_is_noted_once_and_a_single_create_keeps_its_record(store: StorePort) -> None:
    """A record whose own sync noted a single create is that sync's to make; one noted in an earlier batch
    stays in it (its answer may exist), whatever batch a later pass proposes; a batch noted first is what a
    single create must take; the values noted count as ours like any creation intent."""
    assert store.note_creation(PAIR, "single", {"email": "s@example.com"}) is None
    earlier = BatchCreate("hb-earlier-0", "e1")
    assert store.claim_creations(PAIR, {"earlier": ({"email": "e@example.com"}, earlier)}) == {"earlier": earlier}
    later = BatchCreate("hb-later-0", "x")
    claimed = store.claim_creations(
        PAIR, {i: ({"email": f"{i}@example.com"}, later) for i in ("single", "earlier", "new")}
    )
    assert claimed == {"earlier": earlier, "new": later}
    assert store.claim_creations(PAIR, {"new": ({"email": "new@example.com"}, later)}) == {"new": later}
    assert store.note_creation(PAIR, "new", {"email": "other@example.com"}) == later
    assert store.intent(Link(PAIR, "new", "", {}, 0), "0") == {"qbo": {"email": "new@example.com"}}
    assert store.note_creation(PAIR, "single", {"email": "s2@example.com"}) is None
    together = {f"t{n}": ({"email": f"t{n}@example.com"}, later) for n in range(3)}  # none claimed before
    assert store.claim_creations(PAIR, together) == dict.fromkeys(together, later)
    assert store.claim_creations(PAIR, together) == dict.fromkeys(together, later)  # a retry of the same batch
    assert store.note_creation(PAIR, "t2", {"email": "other@example.com"}) == later
    assert store.intent(Link(PAIR, "t1", "", {}, 0), "0") == {"qbo": {"email": "t1@example.com"}}
