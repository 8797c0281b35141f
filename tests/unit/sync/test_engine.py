"""The engine on in-memory ports: matching, creating, echoes, conflicts, names, deletes, merges, failures."""

from dataclasses import replace

import pytest

from hubbooks.mapping.pairs import display_names
from hubbooks.models.signals import Change, Pair, Reason, Side, SyncSignal
from hubbooks.sync.engine import CREATE_ECHO, ECHO, Outcome, SyncEngine
from hubbooks.sync.models import BatchCreate, Decision, DeleteBehaviour, Link, PairSettings, Policy, Record
from tests.unit.sync.fakes import FakeHubSpot, FakeQbo, FakeStore


def _signal(side: Side, record_id: str, change: Change = Change.UPSERT, merged: list[str] | None = None) -> SyncSignal:
    return SyncSignal(
        connection_id="c1",
        pair=Pair.CONTACTS,
        side=side,
        record_id=record_id,
        change=change,
        reason=Reason.WEBHOOK,
        source_version="1",
        merged_ids=merged or [],
    )


def _engine() -> tuple[SyncEngine, FakeHubSpot, FakeQbo, FakeStore]:
    clock = [1000.0]  # one time for both sides, as "most recent wins" compares them
    hubspot, qbo, store = FakeHubSpot(clock=clock), FakeQbo(clock=clock), FakeStore()
    return SyncEngine("c1", hubspot, qbo, store), hubspot, qbo, store


def _synced(engine: SyncEngine, hubspot: FakeHubSpot, store: FakeStore, **values: str) -> tuple[Record, Link]:
    """A contact made in HubSpot and synced once: the contact and its link."""
    contact = hubspot.add(**values)
    engine.handle(_signal(Side.HUBSPOT, contact.id))
    link = store.link_of(Pair.CONTACTS, Side.HUBSPOT, contact.id)
    assert link is not None
    return contact, link


def test_a_contact_matching_a_customer_by_email_is_linked_not_duplicated() -> None:
    engine, hubspot, qbo, store = _engine()
    customer = qbo.add(email="ann@example.com", firstname="Ann", phone="555")
    contact = hubspot.add(email="ann@example.com", firstname="Ann")
    result = engine.handle(_signal(Side.HUBSPOT, contact.id))
    assert result.outcome is Outcome.LINKED
    assert len(qbo.records) == 1
    assert hubspot.records[contact.id].values["phone"] == "555"
    assert hubspot.records[contact.id].values["qbo_customer_id"] == customer.id
    assert store.link_of(Pair.CONTACTS, Side.QUICKBOOKS, customer.id) is not None


def test_new_records_are_created_on_the_other_side_once() -> None:
    engine, hubspot, qbo, _store = _engine()
    contact = hubspot.add(email="new@example.com", firstname="New", lastname="Person")
    first = engine.handle(_signal(Side.HUBSPOT, contact.id))
    assert first.outcome is Outcome.CREATED
    (customer,) = qbo.records.values()
    assert customer.raw == {"DisplayName": "New Person"}
    again = engine.handle(_signal(Side.HUBSPOT, contact.id))
    assert again.outcome is Outcome.UNCHANGED
    assert len(qbo.records) == 1
    other = qbo.add(email="", firstname="Only", lastname="InQbo")
    created = engine.handle(_signal(Side.QUICKBOOKS, other.id))
    assert created.outcome is Outcome.CREATED
    assert any(r.values.get("qbo_customer_id") == other.id for r in hubspot.records.values())


def test_an_edit_and_its_echo_make_exactly_one_write() -> None:
    engine, hubspot, qbo, store = _engine()
    contact, link = _synced(engine, hubspot, store, email="echo@example.com", firstname="Eve")
    qbo.writes.clear()
    hubspot.update(Pair.CONTACTS, contact.id, {"lastname": "Echo"})
    assert engine.handle(_signal(Side.HUBSPOT, contact.id)).outcome is Outcome.UPDATED
    assert qbo.writes == [(link.qbo_id, {"lastname": "Echo"})]
    hubspot_writes = len(hubspot.writes)
    echo = engine.handle(_signal(Side.QUICKBOOKS, link.qbo_id))
    assert echo.outcome is Outcome.UNCHANGED
    assert len(qbo.writes) == 1
    assert len(hubspot.writes) == hubspot_writes


def test_duplicate_and_reordered_signals_change_nothing_twice() -> None:
    engine, hubspot, qbo, store = _engine()
    contact = hubspot.add(email="dup@example.com", firstname="D")
    for _ in range(3):
        engine.handle(_signal(Side.HUBSPOT, contact.id))
    link = store.link_of(Pair.CONTACTS, Side.HUBSPOT, contact.id)
    assert link is not None
    engine.handle(_signal(Side.QUICKBOOKS, link.qbo_id))
    engine.handle(_signal(Side.HUBSPOT, contact.id))
    assert len(qbo.records) == 1
    assert qbo.writes == []


def test_concurrent_edits_settle_by_policy_and_are_recorded() -> None:
    for policy, expected in ((Policy.LATEST, "FromQbo"), (Policy.HUBSPOT, "FromHubSpot"), (Policy.QBO, "FromQbo")):
        engine, hubspot, qbo, store = _engine()
        store.pair_settings[Pair.CONTACTS] = PairSettings(Pair.CONTACTS, policy=policy)
        contact, link = _synced(engine, hubspot, store, email="c@example.com", firstname="Start")
        hubspot.records[contact.id].values["firstname"] = "FromHubSpot"
        hubspot.records[contact.id].updated_at = 2000.0
        qbo.records[link.qbo_id].values["firstname"] = "FromQbo"
        qbo.records[link.qbo_id].updated_at = 3000.0
        result = engine.handle(_signal(Side.HUBSPOT, contact.id))
        assert result.conflicts == 1
        assert hubspot.records[contact.id].values["firstname"] == expected
        assert qbo.records[link.qbo_id].values["firstname"] == expected
        assert store.history[-1]["conflicts"][0]["field"] == "firstname"


def _crash(new: Link, previous: Link | None) -> Link:
    raise RuntimeError("the worker stopped before saving the link")


def test_a_person_edit_older_than_our_write_wins_after_a_sync_stopped_before_saving_the_link(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sync reads 'First' in HubSpot, a person types 'Second' there, the sync's write of 'First' lands in
    QuickBooks after it, and the sync stops before saving the link: the next sync knows 'First' in QuickBooks as
    its own write (noted before writing), not as a person's later edit, so 'Second' is what both sides keep."""
    engine, hubspot, qbo, store = _engine()
    contact, link = _synced(engine, hubspot, store, email="late@example.com", firstname="Start")
    hubspot.edit(contact.id, firstname="First")
    write, save = qbo.update, store.save_link

    def person_then_write(pair: Pair, current: Record, values: dict[str, str]) -> Record:
        hubspot.edit(contact.id, firstname="Second")
        monkeypatch.setattr(qbo, "update", write)
        return write(pair, current, values)

    monkeypatch.setattr(qbo, "update", person_then_write)
    monkeypatch.setattr(store, "save_link", _crash)
    with pytest.raises(RuntimeError):
        engine.handle(_signal(Side.HUBSPOT, contact.id))
    assert qbo.records[link.qbo_id].values["firstname"] == "First"  # written after 'Second' was typed
    monkeypatch.setattr(store, "save_link", save)
    result = engine.handle(_signal(Side.QUICKBOOKS, link.qbo_id))
    assert (result.outcome, result.conflicts) == (Outcome.UPDATED, 0)
    assert hubspot.records[contact.id].values["firstname"] == "Second"
    assert qbo.records[link.qbo_id].values["firstname"] == "Second"


def test_a_settled_conflict_written_by_a_sync_that_stopped_before_saving_the_link_is_recorded_by_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both sides changed one field; the sync settles it by its policy, writes QuickBooks and stops before saving
    the link (and its history). The next sync finds both sides agreeing, with nothing to write: the history of
    the write, the conflict it settled among it, is recorded from the write's note, not lost."""
    engine, hubspot, qbo, store = _engine()
    store.pair_settings[Pair.CONTACTS] = PairSettings(Pair.CONTACTS, policy=Policy.HUBSPOT)
    contact, link = _synced(engine, hubspot, store, email="stop@example.com", firstname="Start")
    hubspot.edit(contact.id, firstname="FromHubSpot")
    qbo.edit(link.qbo_id, firstname="FromQbo")
    save = store.save_link
    monkeypatch.setattr(store, "save_link", _crash)
    recorded = len(store.history)
    with pytest.raises(RuntimeError):
        engine.handle(_signal(Side.HUBSPOT, contact.id))
    assert qbo.records[link.qbo_id].values["firstname"] == "FromHubSpot"
    assert len(store.history) == recorded  # the write landed; its history did not
    monkeypatch.setattr(store, "save_link", save)
    assert engine.handle(_signal(Side.QUICKBOOKS, link.qbo_id)).outcome is Outcome.UNCHANGED
    (entry,) = store.history[recorded:]
    assert (entry["action"], entry["fields"], entry["direction"]) == ("updated", ["firstname"], "->quickbooks")
    assert entry["conflicts"] == [{"field": "firstname", "hubspot": "FromHubSpot", "qbo": "FromQbo", "winner": "hs"}]
    assert engine.handle(_signal(Side.QUICKBOOKS, link.qbo_id)).outcome is Outcome.UNCHANGED
    assert len(store.history) == recorded + 1  # told once: the link now holds the agreement


def test_a_persons_same_edit_on_both_sides_is_agreed_quietly() -> None:
    engine, hubspot, qbo, store = _engine()
    contact, link = _synced(engine, hubspot, store, email="same@example.com", firstname="Start")
    hubspot.edit(contact.id, firstname="Same")
    qbo.edit(link.qbo_id, firstname="Same")
    recorded = len(store.history)
    assert engine.handle(_signal(Side.HUBSPOT, contact.id)).outcome is Outcome.UNCHANGED
    assert store.link_of(Pair.CONTACTS, Side.HUBSPOT, contact.id).base["firstname"] == "Same"  # type: ignore[union-attr]
    assert len(store.history) == recorded  # no sync wrote it: nothing of ours to tell


def test_our_quickbooks_write_stays_ours_after_another_sync_saved_the_link_from_an_earlier_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two syncs of one linked pair at once (a HubSpot and a QuickBooks signal): the first reads 'First' in
    HubSpot; the second, from a read of QuickBooks before the first's write, saves the link (its own write to
    HubSpot noted beside, not over, the first's note); a person types 'Second' in HubSpot; the first's write of
    'First' lands in QuickBooks and the first stops before saving the link. QuickBooks still holds the record at
    the SyncToken the first's write gave it, so 'First' there is known as ours and the person's 'Second' wins."""
    engine, hubspot, qbo, store = _engine()
    contact, link = _synced(engine, hubspot, store, email="two@example.com", firstname="Start", lastname="Old")
    hubspot.edit(contact.id, firstname="First")
    qbo.clock[0] += 1
    customer = qbo.records[link.qbo_id]
    customer.values["lastname"], customer.updated_at = "New", qbo.clock[0]
    customer.version = str(int(customer.version) + 1)  # a person's edit in QuickBooks
    write, save, get = qbo.update, store.save_link, hubspot.get

    def read_before_first(pair: Pair, record_id: str) -> Record | None:
        record = get(pair, record_id)  # the other sync read HubSpot before the person typed 'First'
        return None if record is None else replace(record, values={**record.values, "firstname": "Start"})

    def other_sync_then_person_then_write(pair: Pair, current: Record, values: dict[str, str]) -> Record:
        monkeypatch.setattr(qbo, "update", write)
        monkeypatch.setattr(hubspot, "get", read_before_first)
        other = engine.handle(_signal(Side.QUICKBOOKS, link.qbo_id))  # reads QuickBooks before our write lands
        assert other.writes == {"hubspot": ["lastname"]}
        monkeypatch.setattr(hubspot, "get", get)
        hubspot.edit(contact.id, firstname="Second")
        monkeypatch.setattr(store, "save_link", _crash)
        return write(pair, current, values)

    monkeypatch.setattr(qbo, "update", other_sync_then_person_then_write)
    monkeypatch.setattr(store, "save_link", save)
    with pytest.raises(RuntimeError):
        engine.handle(_signal(Side.HUBSPOT, contact.id))
    assert qbo.records[link.qbo_id].values["firstname"] == "First"  # written after 'Second' was typed
    assert store.link_of(Pair.CONTACTS, Side.HUBSPOT, contact.id).base["firstname"] == "Start"  # type: ignore[union-attr]
    monkeypatch.setattr(store, "save_link", save)
    result = engine.handle(_signal(Side.QUICKBOOKS, link.qbo_id))
    assert result.conflicts == 0
    assert hubspot.records[contact.id].values["firstname"] == "Second"
    assert qbo.records[link.qbo_id].values["firstname"] == "Second"
    assert hubspot.records[contact.id].values["lastname"] == qbo.records[link.qbo_id].values["lastname"] == "New"


@pytest.mark.parametrize(
    ("policy", "expected", "kept"),
    [(Policy.LATEST, "FromPerson", True), (Policy.HUBSPOT, "FromPerson", True), (Policy.QBO, "FromQbo", False)],
)
def test_a_hubspot_edit_made_while_the_sync_writes_over_it_is_put_back_and_wins(
    policy: Policy, expected: str, kept: bool
) -> None:
    engine, hubspot, qbo, store = _engine()
    store.pair_settings[Pair.CONTACTS] = PairSettings(Pair.CONTACTS, policy=policy)
    contact, link = _synced(engine, hubspot, store, email="race@example.com", firstname="Start", phone="1")
    qbo.edit(link.qbo_id, firstname="FromQbo")
    hubspot.during_next_write = lambda: hubspot.edit(contact.id, firstname="FromPerson", phone="2")
    engine.handle(_signal(Side.QUICKBOOKS, link.qbo_id))
    assert hubspot.records[contact.id].values["firstname"] == expected
    assert qbo.records[link.qbo_id].values["firstname"] == expected
    assert any(entry["action"] == "edit_kept" for entry in store.history) is kept
    # The phone edited alongside was not written over: its own signal carries it.
    assert hubspot.records[contact.id].values["phone"] == "2"
    engine.handle(_signal(Side.HUBSPOT, contact.id))
    assert qbo.records[link.qbo_id].values["phone"] == "2"


def test_a_conflict_is_judged_by_when_the_hubspot_field_was_edited_not_by_the_record() -> None:
    engine, hubspot, qbo, store = _engine()
    contact, link = _synced(engine, hubspot, store, email="when@example.com", lastname="Start")
    hubspot.edit(contact.id, lastname="FromPerson")
    qbo.edit(link.qbo_id, lastname="FromQbo")  # edited in QuickBooks later
    hubspot.update(Pair.CONTACTS, contact.id, {"qbo_open_balance": "10"})  # a write of ours, later still
    assert engine.handle(_signal(Side.QUICKBOOKS, link.qbo_id)).conflicts == 1
    assert hubspot.records[contact.id].values["lastname"] == "FromQbo"
    assert qbo.records[link.qbo_id].values["lastname"] == "FromQbo"


def test_a_conflict_is_judged_by_the_hubspot_value_as_read_not_by_a_write_landing_after_the_read() -> None:
    """Another sync's write of the winner lands on HubSpot between this sync's read and its look at the field's
    history: the value read was set before the QuickBooks edit, so QuickBooks' value still wins (judged by the
    later write's time, the stale HubSpot value won and went to QuickBooks over the newer edit)."""
    engine, hubspot, qbo, store = _engine()
    contact, link = _synced(engine, hubspot, store, email="as.read@example.com", firstname="Start")
    hubspot.edit(contact.id, firstname="FromPerson")
    qbo.edit(link.qbo_id, firstname="FromQbo")  # edited in QuickBooks later
    history = hubspot.changed_at

    def after_a_write_beside(pair: Pair, record_id: str, fields: list[str], *, as_of: float) -> dict[str, float]:
        hubspot.update(pair, record_id, {"firstname": "FromQbo"})  # the other sync's write, after our read
        return history(pair, record_id, fields, as_of=as_of)

    hubspot.changed_at = after_a_write_beside  # type: ignore[method-assign]
    assert engine.handle(_signal(Side.QUICKBOOKS, link.qbo_id)).conflicts == 1
    assert qbo.records[link.qbo_id].values["firstname"] == "FromQbo"
    assert hubspot.records[contact.id].values["firstname"] == "FromQbo"


def test_a_stale_sync_token_is_read_again_and_merged_again() -> None:
    engine, hubspot, qbo, store = _engine()
    contact = hubspot.add(email="s@example.com", firstname="S")
    engine.handle(_signal(Side.HUBSPOT, contact.id))
    hubspot.update(Pair.CONTACTS, contact.id, {"firstname": "Stale"})
    qbo.stale_once = True
    assert engine.handle(_signal(Side.HUBSPOT, contact.id)).outcome is Outcome.UPDATED
    link = store.link_of(Pair.CONTACTS, Side.HUBSPOT, contact.id)
    assert link is not None
    assert qbo.records[link.qbo_id].values["firstname"] == "Stale"


def test_display_name_collisions_get_a_disambiguator_once() -> None:
    assert display_names({"firstname": "Jo", "lastname": "Lee", "email": "jo@x.example"}) == [
        "Jo Lee",
        "Jo Lee (jo@x.example)",
    ]
    assert display_names({"company": "Acme"}) == ["Acme"]
    assert display_names({"email": "a@b.c"}) == ["a@b.c"]
    engine, hubspot, qbo, store = _engine()
    qbo.taken_names.add("Jo Lee")
    contact = hubspot.add(email="jo@x.example", firstname="Jo", lastname="Lee")
    assert engine.handle(_signal(Side.HUBSPOT, contact.id)).outcome is Outcome.CREATED
    assert [r.raw for r in qbo.records.values()] == [{"DisplayName": "Jo Lee (jo@x.example)"}]
    assert store.history[0]["action"] == "display_name_disambiguated"
    qbo.taken_names.add("Jo Lee (jo2@x.example)")
    twin = hubspot.add(email="jo2@x.example", firstname="Jo", lastname="Lee")
    failed = engine.handle(_signal(Side.HUBSPOT, twin.id))
    assert failed.outcome is Outcome.FAILED
    assert store.failures[(Pair.CONTACTS, Side.HUBSPOT, twin.id)].category == "duplicate_name"


def test_several_customers_with_one_email_link_none_and_report_it() -> None:
    engine, hubspot, qbo, store = _engine()
    qbo.add(email="shared@example.com", firstname="A")
    qbo.add(email="shared@example.com", firstname="B")
    contact = hubspot.add(email="shared@example.com")
    assert engine.handle(_signal(Side.HUBSPOT, contact.id)).outcome is Outcome.FAILED
    failure = store.failures[(Pair.CONTACTS, Side.HUBSPOT, contact.id)]
    assert failure.category == "ambiguous_match"
    assert "2 QuickBooks customers" in failure.message
    assert store.links == {}


def test_a_refused_write_becomes_a_sync_error_that_clears_itself() -> None:
    engine, hubspot, _qbo, store = _engine()
    contact = hubspot.add(email="bad", firstname="Bad")
    assert engine.handle(_signal(Side.HUBSPOT, contact.id)).outcome is Outcome.FAILED
    failure = store.failures[(Pair.CONTACTS, Side.HUBSPOT, contact.id)]
    assert (failure.category, "Correct it in HubSpot" in failure.fix) == ("invalid_email", True)
    hubspot.records[contact.id].values["email"] = "good@example.com"
    assert engine.handle(_signal(Side.HUBSPOT, contact.id)).outcome is Outcome.CREATED
    assert store.failures == {}


def test_deletes_unlink_by_default_or_deactivate_when_asked() -> None:
    engine, hubspot, qbo, store = _engine()
    contact, link = _synced(engine, hubspot, store, email="del@example.com", firstname="Del")
    hubspot.archive(Pair.CONTACTS, contact.id)
    assert engine.handle(_signal(Side.HUBSPOT, contact.id, Change.DELETE)).outcome is Outcome.UNLINKED
    assert store.links == {}
    assert qbo.records[link.qbo_id].active
    engine, hubspot, qbo, store = _engine()
    store.pair_settings[Pair.CONTACTS] = PairSettings(Pair.CONTACTS, on_hubspot_delete=DeleteBehaviour.DEACTIVATE)
    contact, link = _synced(engine, hubspot, store, email="del2@example.com")
    hubspot.archive(Pair.CONTACTS, contact.id)
    engine.handle(_signal(Side.HUBSPOT, contact.id, Change.DELETE))
    assert not qbo.records[link.qbo_id].active


def test_inactive_customers_mark_the_contact_or_archive_it() -> None:
    engine, hubspot, qbo, store = _engine()
    contact, link = _synced(engine, hubspot, store, email="inactive@example.com")
    qbo.deactivate(Pair.CONTACTS, qbo.records[link.qbo_id])
    qbo.records[link.qbo_id].updated_at = 5000.0
    engine.handle(_signal(Side.QUICKBOOKS, link.qbo_id))
    assert hubspot.records[contact.id].values["qbo_active"] == "false"
    store.pair_settings[Pair.CONTACTS] = PairSettings(Pair.CONTACTS, on_qbo_inactive=DeleteBehaviour.ARCHIVE)
    qbo.edit(link.qbo_id, notes="still inactive")
    assert engine.handle(_signal(Side.QUICKBOOKS, link.qbo_id)).outcome is Outcome.UNLINKED
    assert not hubspot.records[contact.id].exists


def _partner(store: FakeStore, side: Side, record_id: str) -> str:
    """The id a contact (or customer) is linked to."""
    link = store.link_of(Pair.CONTACTS, side, record_id)
    assert link is not None
    return link.other(side)


def test_merges_move_the_link_to_the_survivor() -> None:
    engine, hubspot, qbo, store = _engine()
    merged = hubspot.add(email="m@example.com", firstname="Merged")
    engine.handle(_signal(Side.HUBSPOT, merged.id))
    customer = _partner(store, Side.HUBSPOT, merged.id)
    survivor = hubspot.add(email="m@example.com", firstname="Merged")
    hubspot.archive(Pair.CONTACTS, merged.id)
    engine.handle(_signal(Side.HUBSPOT, survivor.id, Change.MERGE, [merged.id]))
    assert _partner(store, Side.QUICKBOOKS, customer) == survivor.id
    assert store.link_of(Pair.CONTACTS, Side.HUBSPOT, merged.id) is None
    assert len(qbo.records) == 1


def test_a_survivor_with_a_match_of_its_own_links_to_it_not_to_the_merged_partner() -> None:
    """A customer merged into one whose own contact exists but is not linked yet: that contact is the survivor's
    counterpart; the merged customer's contact keeps its values and waits for a person to merge it in HubSpot
    (making a customer for it again would undo the merge)."""
    engine, hubspot, qbo, store = _engine()
    merged_contact = hubspot.add(email="gone@example.com", firstname="Gone")
    engine.handle(_signal(Side.HUBSPOT, merged_contact.id))
    merged = _partner(store, Side.HUBSPOT, merged_contact.id)
    survivor = qbo.add(email="stays@example.com", firstname="Stays")
    own = hubspot.add(email="stays@example.com", firstname="Stays")
    qbo.records.pop(merged)
    engine.handle(_signal(Side.QUICKBOOKS, survivor.id, Change.MERGE, [merged]))
    assert _partner(store, Side.QUICKBOOKS, survivor.id) == own.id
    assert store.link_of(Pair.CONTACTS, Side.HUBSPOT, merged_contact.id) is None
    assert hubspot.records[merged_contact.id].values["email"] == "gone@example.com"
    waiting = store.failures[(Pair.CONTACTS, Side.HUBSPOT, merged_contact.id)]
    assert waiting.category == "merged_elsewhere"
    assert f"customer {merged}" in waiting.message
    assert f"customer {survivor.id}" in waiting.message
    hubspot.records[merged_contact.id].values["firstname"] = "Edited later"
    assert engine.handle(_signal(Side.HUBSPOT, merged_contact.id)).outcome is Outcome.FAILED
    assert len(qbo.records) == 1  # not brought into QuickBooks again: that would undo the merge


def test_a_customer_left_behind_by_a_hubspot_merge_waits_for_a_person() -> None:
    """Both contacts synced; one merged into the other. A late signal of the merged contact follows the merge
    before its event does; its customer is not brought into HubSpot again until a person merges it in
    QuickBooks, after which the waiting error is gone."""
    engine, hubspot, qbo, store = _engine()
    survivor, merged = hubspot.add(email="s@example.com"), hubspot.add(email="m@example.com")
    for contact in (survivor, merged):
        engine.handle(_signal(Side.HUBSPOT, contact.id))
    own, left = _partner(store, Side.HUBSPOT, survivor.id), _partner(store, Side.HUBSPOT, merged.id)
    hubspot.merge(survivor.id, merged.id)
    assert engine.handle(_signal(Side.HUBSPOT, merged.id)).outcome is Outcome.UNLINKED
    assert engine.handle(_signal(Side.HUBSPOT, survivor.id, Change.MERGE, [merged.id])).outcome is Outcome.UNCHANGED
    assert _partner(store, Side.QUICKBOOKS, own) == survivor.id
    assert store.failures[(Pair.CONTACTS, Side.QUICKBOOKS, left)].category == "merged_elsewhere"
    qbo.edit(left, firstname="Edited")
    contacts = len(hubspot.records)
    assert engine.handle(_signal(Side.QUICKBOOKS, left)).outcome is Outcome.FAILED
    assert len(hubspot.records) == contacts
    qbo.records.pop(left)  # the person merges it into the survivor's customer in QuickBooks
    engine.handle(_signal(Side.QUICKBOOKS, own, Change.MERGE, [left]))
    assert store.failures == {}


def _merged_into_an_unsynced_contact() -> tuple[SyncEngine, FakeHubSpot, FakeQbo, FakeStore, str, str, str]:
    """A synced contact merged into a contact not synced yet: the engine and its fakes, then the merged
    contact's id, its customer's and the survivor's."""
    engine, hubspot, qbo, store = _engine()
    merged = hubspot.add(email="m@example.com", firstname="M")
    engine.handle(_signal(Side.HUBSPOT, merged.id))
    survivor = hubspot.add(email="s@example.com", firstname="S")
    hubspot.merge(survivor.id, merged.id)
    return engine, hubspot, qbo, store, merged.id, _partner(store, Side.HUBSPOT, merged.id), survivor.id


def test_a_late_signal_of_a_merged_contact_moves_its_link_to_a_survivor_without_one() -> None:
    engine, _hubspot, qbo, store, merged, customer, survivor = _merged_into_an_unsynced_contact()
    assert engine.handle(_signal(Side.HUBSPOT, merged)).outcome is Outcome.UNLINKED
    assert _partner(store, Side.QUICKBOOKS, customer) == survivor
    engine.handle(_signal(Side.HUBSPOT, survivor))
    assert qbo.records[customer].values["email"] == "s@example.com"
    assert store.failures == {}


def test_a_customer_whose_contact_was_merged_away_follows_the_merge_before_its_event() -> None:
    """The customer's signal comes first: its contact reads as merged away, so the link moves to the survivor
    (which had none) and the survivor's values reach the customer; before, the link was dropped and the
    customer's next create upserted by its id onto the survivor (the merge had copied that id there)."""
    engine, hubspot, qbo, store, _merged, customer, survivor = _merged_into_an_unsynced_contact()
    assert hubspot.records[survivor].values["qbo_customer_id"] == customer  # copied by the merge
    qbo.edit(customer, notes="edited in QuickBooks")  # a change of the customer's (its echo alone reads no contact)
    engine.handle(_signal(Side.QUICKBOOKS, customer))
    assert _partner(store, Side.QUICKBOOKS, customer) == survivor
    assert qbo.records[customer].values["email"] == "s@example.com"
    assert hubspot.records[survivor].values["email"] == "s@example.com"


def test_turned_off_pairs_and_one_way_directions_are_respected() -> None:
    engine, hubspot, qbo, store = _engine()
    store.pair_settings[Pair.CONTACTS] = PairSettings(Pair.CONTACTS, enabled=False)
    contact = hubspot.add(email="off@example.com")
    assert engine.handle(_signal(Side.HUBSPOT, contact.id)).outcome is Outcome.SKIPPED
    from hubbooks.mapping.fields import Direction

    store.pair_settings[Pair.CONTACTS] = PairSettings(Pair.CONTACTS, direction=Direction.TO_HUBSPOT)
    assert engine.handle(_signal(Side.HUBSPOT, contact.id)).outcome is Outcome.SKIPPED
    assert qbo.records == {}


def test_a_second_customer_for_a_linked_contact_is_reported_not_looped() -> None:
    engine, hubspot, qbo, store = _engine()
    contact = hubspot.add(email="one@example.com", firstname="One")
    engine.handle(_signal(Side.HUBSPOT, contact.id))
    twin = qbo.add(email="one@example.com", firstname="Twin")
    result = engine.handle(_signal(Side.QUICKBOOKS, twin.id))
    assert result.outcome is Outcome.FAILED
    assert store.failures[(Pair.CONTACTS, Side.QUICKBOOKS, twin.id)].category == "duplicate"


class _LinkedMeanwhile(FakeStore):
    """A store where another worker links the pair between this worker's two link reads."""

    def __init__(self, link: Link) -> None:
        super().__init__()
        self.pending: Link | None = link

    def link_of(self, pair: Pair, side: Side, record_id: str) -> Link | None:
        found = super().link_of(pair, side, record_id)
        if self.pending is not None and side is Side.HUBSPOT:  # the first read, of the record: not linked yet
            self.links[(pair, Side.HUBSPOT, self.pending.hubspot_id)] = self.pending
            self.links[(pair, Side.QUICKBOOKS, self.pending.qbo_id)] = self.pending
            self.pending = None
        return found


def test_a_pair_linked_by_another_worker_between_two_reads_is_not_reported_as_a_duplicate() -> None:
    hubspot, qbo = FakeHubSpot(), FakeQbo()
    customer = qbo.add(email="race@example.com", firstname="Rae")
    contact = hubspot.add(email="race@example.com", firstname="Rae")
    store = _LinkedMeanwhile(Link(Pair.CONTACTS, contact.id, customer.id, {"email": "race@example.com"}, 1))
    result = SyncEngine("c1", hubspot, qbo, store).handle(_signal(Side.HUBSPOT, contact.id))
    # The other worker's link is taken as found: the pair agrees through it, filling HubSpot's QuickBooks fields.
    assert (result.outcome, result.writes) == (Outcome.UPDATED, {"hubspot": ["qbo_active", "qbo_customer_id"]})
    assert store.failures == {}
    assert store.link_of(Pair.CONTACTS, Side.HUBSPOT, contact.id) is not None


def test_a_list_filter_reads_memberships_only_for_a_record_seen_first() -> None:
    engine, hubspot, qbo, store = _engine()
    store.pair_settings[Pair.CONTACTS] = PairSettings(Pair.CONTACTS, list_ids=("7",))
    member = hubspot.add(email="in@example.com", firstname="In")
    outsider = hubspot.add(email="out@example.com", firstname="Out")
    hubspot.lists["7"] = {member.id}
    asked: list[str] = []
    lists_of = hubspot.lists_of

    def counted(pair: Pair, record_id: str, wanted: tuple[str, ...]) -> frozenset[str]:
        asked.append(record_id)
        return lists_of(pair, record_id, wanted)

    hubspot.lists_of = counted  # type: ignore[method-assign]
    assert engine.handle(_signal(Side.HUBSPOT, outsider.id)).outcome is Outcome.SKIPPED
    assert engine.handle(_signal(Side.HUBSPOT, member.id)).outcome is Outcome.CREATED
    assert len(qbo.records) == 1
    hubspot.records[member.id].values["firstname"] = "Member"
    assert engine.handle(_signal(Side.HUBSPOT, member.id)).outcome is Outcome.UPDATED
    assert asked == [outsider.id, member.id]  # the linked contact's change needed no membership read


class _MovedMeanwhile(FakeStore):
    """A store where, just before this worker unlinks, another worker moves the link to a merge's survivor."""

    def __init__(self) -> None:
        super().__init__()
        self.survivor: str | None = None

    def delete_link(self, link: Link) -> None:
        if self.survivor is not None:
            moved = Link(link.pair, link.hubspot_id, self.survivor, dict(link.base), 1)
            super().delete_link(link)
            self.save_link(moved, None)
            self.survivor = None
        super().delete_link(link)


def test_an_unlink_from_an_old_read_leaves_a_moved_link_whole() -> None:
    hubspot, qbo, store = FakeHubSpot(), FakeQbo(), _MovedMeanwhile()
    engine = SyncEngine("c1", hubspot, qbo, store)
    contact, link = _synced(engine, hubspot, store, email="moved@example.com", firstname="Mo")
    survivor = qbo.add(email="survivor@example.com")
    del qbo.records[link.qbo_id]  # merged away in QuickBooks
    store.survivor = survivor.id
    engine.handle(_signal(Side.QUICKBOOKS, link.qbo_id, Change.DELETE))
    moved = store.link_of(Pair.CONTACTS, Side.HUBSPOT, contact.id)
    assert moved is not None
    assert moved.qbo_id == survivor.id
    back = store.link_of(Pair.CONTACTS, Side.QUICKBOOKS, survivor.id)
    assert back is not None
    assert back.hubspot_id == contact.id


def test_a_match_that_is_ambiguous_from_either_side_links_nothing() -> None:
    """Two customers share a contact's email: seen from a customer, its one match (the contact) matches the
    other customer too, so neither customer nor the contact is linked, whichever is seen first."""
    for first in (Side.QUICKBOOKS, Side.HUBSPOT):
        engine, hubspot, qbo, store = _engine()
        one, two = qbo.add(email="twin@example.com", firstname="One"), qbo.add(email="twin@example.com")
        contact = hubspot.add(email="twin@example.com", firstname="Twin")
        order = [(Side.QUICKBOOKS, one.id), (Side.QUICKBOOKS, two.id), (Side.HUBSPOT, contact.id)]
        for side, record_id in sorted(order, key=lambda s: s[0] is not first):
            result = engine.handle(_signal(side, record_id))
            assert result.outcome is Outcome.FAILED
            assert "share email twin@example.com" in result.detail
        assert store.links == {}


def test_review_decisions_link_the_chosen_pair_and_keep_out_the_rest() -> None:
    engine, hubspot, qbo, store = _engine()
    store.pair_settings[Pair.CONTACTS] = PairSettings(Pair.CONTACTS, reviewed=True)
    one, two = qbo.add(email="twin@example.com", firstname="One"), qbo.add(email="twin@example.com")
    contact = hubspot.add(email="twin@example.com", firstname="Twin")
    left_out = hubspot.add(email="out@example.com", firstname="Out")
    store.decisions[(Pair.CONTACTS, Side.HUBSPOT, contact.id)] = Decision("link", one.id)
    store.decisions[(Pair.CONTACTS, Side.QUICKBOOKS, one.id)] = Decision("link", contact.id)
    store.decisions[(Pair.CONTACTS, Side.HUBSPOT, left_out.id)] = Decision("skip")
    other = engine.handle(_signal(Side.QUICKBOOKS, two.id))  # before the chosen pair: still not linked to it
    assert (other.outcome, other.detail.split(":")[0]) == (Outcome.FAILED, "chosen_elsewhere")
    assert engine.handle(_signal(Side.HUBSPOT, contact.id)).outcome is Outcome.LINKED
    link = store.link_of(Pair.CONTACTS, Side.HUBSPOT, contact.id)
    assert link is not None
    assert link.qbo_id == one.id
    assert engine.handle(_signal(Side.HUBSPOT, left_out.id)).outcome is Outcome.SKIPPED
    assert len(qbo.records) == 2


def test_a_review_decision_naming_a_record_since_gone_is_set_aside_with_a_history_entry() -> None:
    engine, hubspot, _qbo, store = _engine()
    store.pair_settings[Pair.CONTACTS] = PairSettings(Pair.CONTACTS, reviewed=True)
    contact = hubspot.add(email="alone@example.com", firstname="Alone")
    store.decisions[(Pair.CONTACTS, Side.HUBSPOT, contact.id)] = Decision("link", "404404")
    assert engine.handle(_signal(Side.HUBSPOT, contact.id)).outcome is Outcome.CREATED
    assert [h["action"] for h in store.history][:1] == ["decision_set_aside"]


def _webhook(side: Side, record_id: str, stated_time: str) -> SyncSignal:
    """A webhook's signal stating when its change happened (HubSpot's occurredAt, QuickBooks' lastUpdated)."""
    return _signal(side, record_id).model_copy(update={"source_version": stated_time})


def test_a_webhook_for_the_change_a_sync_last_saw_is_its_echo_and_reads_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine, hubspot, qbo, store = _engine()
    contact, link = _synced(engine, hubspot, store, email="echo@example.com", firstname="Eve")
    customer = qbo.records[link.qbo_id]
    echo = _webhook(Side.HUBSPOT, contact.id, f"{int(contact.updated_at * 1000):015d}")

    def no_read(*_: object) -> None:
        raise AssertionError("an echo reads nothing")

    with monkeypatch.context() as patched:
        patched.setattr(hubspot, "get", no_read)
        patched.setattr(qbo, "get", no_read)
        assert (engine.handle(echo).outcome, engine.handle(echo).detail) == (Outcome.UNCHANGED, ECHO)
    # QuickBooks' webhooks state whole seconds and no SyncToken: the customer is read, and the SyncToken its link
    # agreed on tells the echo; its partner is not read (a HubSpot change has a signal of its own).
    same_second = _webhook(Side.QUICKBOOKS, customer.id, "1970-01-01T00:16:40.400Z")  # 1000.4 s
    assert customer.updated_at == 1000.0
    with monkeypatch.context() as patched:
        patched.setattr(hubspot, "get", no_read)
        assert engine.handle(same_second).detail == ECHO
    qbo.update(Pair.CONTACTS, qbo.records[link.qbo_id], {"lastname": "Bookkept"})  # a person's edit: a new SyncToken
    assert engine.handle(same_second).outcome is Outcome.UPDATED
    assert hubspot.records[contact.id].values["lastname"] == "Bookkept"
    hubspot.edit(contact.id, firstname="Eva")  # a person's edit: another time, read and synced
    edited = _webhook(Side.HUBSPOT, contact.id, f"{int(hubspot.clock[0] * 1000):015d}")
    assert engine.handle(edited).outcome is Outcome.UPDATED
    assert qbo.records[link.qbo_id].values["firstname"] == "Eva"


def test_a_customer_we_created_before_a_stop_keeps_the_persons_later_contact_edit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sync creates a customer from a contact and stops before saving the link; a person then edits the
    contact's first name, and another person the customer's last name (later still). The next sync sees the
    pair for the first time, so every difference is contested, and QuickBooks' record time (the last name's
    edit) would carry the first name we created it with: the note made before the create says that value is
    ours, so the person's first name wins and the last name too."""
    engine, hubspot, qbo, store = _engine()
    contact = hubspot.add(email="made@example.com", firstname="Made", lastname="Old")
    save = store.save_link
    monkeypatch.setattr(store, "save_link", _crash)
    with pytest.raises(RuntimeError):
        engine.handle(_signal(Side.HUBSPOT, contact.id))
    (customer,) = qbo.records.values()
    hubspot.edit(contact.id, firstname="Person")
    qbo.clock[0] = hubspot.clock[0] + 5
    customer.values["lastname"], customer.updated_at = "New", qbo.clock[0]
    customer.version = str(int(customer.version) + 1)
    monkeypatch.setattr(store, "save_link", save)
    engine.handle(_signal(Side.HUBSPOT, contact.id))
    assert hubspot.records[contact.id].values["firstname"] == qbo.records[customer.id].values["firstname"] == "Person"
    assert hubspot.records[contact.id].values["lastname"] == qbo.records[customer.id].values["lastname"] == "New"


def _noted_in_batch(store: FakeStore, contact: Record, batch: BatchCreate) -> None:
    """What a bulk pass leaves when it stops after noting a contact's batch create."""
    values = {"email": contact.values["email"], "firstname": contact.values["firstname"]}
    assert store.claim_creations(Pair.CONTACTS, {contact.id: (values, batch)}) == {contact.id: batch}


def test_a_create_noted_in_a_batch_whose_answer_was_lost_takes_that_batchs_customer() -> None:
    """A bulk pass noted the contact's create in a batch, QuickBooks made the customer, and the answer never
    came back: the contact's next sync asks for that batch's answer again instead of making a second one."""
    engine, hubspot, qbo, store = _engine()
    contact = hubspot.add(email="lost@example.com", firstname="Lost")
    batch = BatchCreate("hb-lost-0", "b1")
    _noted_in_batch(store, contact, batch)
    answer = qbo.create_batch(Pair.CONTACTS, batch.request_id, [(contact, {"email": "lost@example.com"}, None, "b1")])
    made = answer[contact.id].id
    engine.handle(_signal(Side.HUBSPOT, contact.id))
    assert list(qbo.records) == [made]
    assert store.link_of(Pair.CONTACTS, Side.HUBSPOT, contact.id).qbo_id == made  # type: ignore[union-attr]


def test_a_create_noted_in_a_batch_never_sent_is_made_once_whoever_sends_it_first() -> None:
    """The batch never reached QuickBooks: the contact's own sync makes the customer under the batch's request
    id, so the bulk pass sending that batch later gets the same customer back, not another."""
    engine, hubspot, qbo, store = _engine()
    contact = hubspot.add(email="first@example.com", firstname="First")
    batch = BatchCreate("hb-never-0", "b1")
    _noted_in_batch(store, contact, batch)
    engine.handle(_signal(Side.HUBSPOT, contact.id))
    (customer,) = qbo.records
    late = qbo.create_batch(Pair.CONTACTS, batch.request_id, [(contact, {"email": "first@example.com"}, None, "b1")])
    assert late == {contact.id: qbo.records[customer]}
    assert len(qbo.records) == 1


def test_the_webhook_of_a_customer_whose_create_is_in_flight_leaves_the_link_to_the_contacts_sync(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """QuickBooks tells of the customer our create just made before the contact's sync has linked the two: its
    webhook costs nothing and races no one; the sweep's look at it links them if the contact's sync never did.
    A person's customer with other values is linked as usual."""
    engine, hubspot, qbo, store = _engine()
    contact = hubspot.add(email="flight@example.com", firstname="Flight")
    monkeypatch.setattr(store, "save_link", _crash)
    with pytest.raises(RuntimeError):
        engine.handle(_signal(Side.HUBSPOT, contact.id))
    monkeypatch.undo()
    (customer,) = qbo.records
    echo = engine.handle(_signal(Side.QUICKBOOKS, customer))
    assert (echo.outcome, echo.detail) == (Outcome.UNCHANGED, CREATE_ECHO)
    assert store.link_of(Pair.CONTACTS, Side.QUICKBOOKS, customer) is None
    swept = engine.handle(_signal(Side.QUICKBOOKS, customer).model_copy(update={"reason": Reason.SWEEP}))
    assert swept.outcome is Outcome.LINKED
    other = hubspot.add(email="person@example.com", firstname="Person")
    monkeypatch.setattr(store, "save_link", _crash)
    with pytest.raises(RuntimeError):
        engine.handle(_signal(Side.HUBSPOT, other.id))
    monkeypatch.undo()
    made = next(i for i in qbo.records if i != customer)
    qbo.edit(made, firstname="Renamed")
    assert engine.handle(_signal(Side.QUICKBOOKS, made)).outcome is Outcome.LINKED


def test_a_record_its_batch_answered_without_is_created_alone_without_asking_the_batch_again() -> None:
    """A bulk pass sent the record's noted batch and the answer did not hold it (the batch's first arrival had
    other items): the engine creates it under the record's own request id, spending no second batch call."""
    engine, hubspot, qbo, store = _engine()
    contact = hubspot.add(email="absent@example.com", firstname="Absent")
    batch = BatchCreate("hb-absent-0", "b1")
    _noted_in_batch(store, contact, batch)
    qbo.batches[batch.request_id] = {}  # its first arrival held other records
    engine.unbatched = {contact.id}
    assert engine.handle(_signal(Side.HUBSPOT, contact.id)).outcome is Outcome.CREATED
    assert (len(qbo.records), qbo.batch_calls) == (1, [])
