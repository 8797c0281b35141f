"""What a delivery's pass takes from its lanes: the changes its messages carry that are still noted, the others
noted in the same lanes, and nothing of a lane none of its messages comes from; what it forgets afterwards; which
of its groups run side by side."""

from collections.abc import Iterator

import pytest

from hubbooks.models.signals import Pair, Reason, Side, SyncSignal
from hubbooks.store.lane_changes import LaneChanges
from hubbooks.store.table import Table
from hubbooks.sync.dispatch import together
from hubbooks.sync.lane_pass import Delivered, gather, record_key
from tests.support.aws import table_in_process

LANE = "c1:contacts:live"


@pytest.fixture
def lanes(monkeypatch: pytest.MonkeyPatch) -> Iterator[LaneChanges]:
    with table_in_process(monkeypatch) as table:
        yield LaneChanges(Table(table))


def _change(
    record_id: str,
    version: str = "v1",
    connection_id: str = "c1",
    side: Side = Side.HUBSPOT,
    pair: Pair = Pair.CONTACTS,
) -> SyncSignal:
    return SyncSignal(
        connection_id=connection_id,
        pair=pair,
        side=side,
        record_id=record_id,
        reason=Reason.WEBHOOK,
        source_version=version,
        in_lane=True,
    )


def test_a_pass_takes_its_messages_and_what_else_waits_in_their_lanes_only(lanes: LaneChanges) -> None:
    delivered, waiting, elsewhere = _change("h1"), _change("h2"), _change("h3", connection_id="c2")
    lanes.note([(delivered, LANE), (waiting, LANE), (elsewhere, "c2:contacts:live")])
    taken = gather([Delivered("m1", delivered, LANE)], lanes)
    assert sorted(s.record_id for s in taken.signals) == ["h1", "h2"]
    assert taken.taken_before(delivered) == set()


def test_a_message_whose_change_an_earlier_pass_took_has_nothing_left(lanes: LaneChanges) -> None:
    first, again = _change("h1"), _change("h1", "v2")
    lanes.note([(first, LANE), (again, LANE)])
    earlier = gather([Delivered("m1", first, LANE)], lanes)
    assert [(s.record_id, s.source_version) for s in earlier.signals] == [("h1", "v1"), ("h1", "v2")]
    lanes.taken(earlier.done({record_key(first)}, {"m1"}))
    later = gather([Delivered("m2", again, LANE)], lanes)
    assert later.signals == []
    assert later.taken_before(again) == {"h1"}


def test_what_a_pass_did_not_finish_stays_and_a_change_noted_meanwhile_stays(lanes: LaneChanges) -> None:
    throttled, done = _change("h1"), _change("h2")
    lanes.note([(throttled, LANE), (done, LANE)])
    taken = gather([Delivered("m1", throttled, LANE), Delivered("m2", done, LANE)], lanes)
    newer = _change("h2", "v2")
    lanes.note([(newer, LANE)])  # while the pass ran
    lanes.taken(taken.done({record_key(done)}, {"m2"}))  # m1 failed: its record backs off
    assert sorted((n.signal.record_id, n.signal.source_version) for n in lanes.waiting(LANE, 10)) == [
        ("h1", "v1"),
        ("h2", "v2"),
    ]


def test_a_message_not_noted_in_a_lane_is_never_taken_before(lanes: LaneChanges) -> None:
    quiet = _change("h1").model_copy(update={"in_lane": False})
    taken = gather([Delivered("m1", quiet, LANE)], lanes)
    assert taken.signals == [quiet]
    assert taken.taken_before(quiet) == set()


LINKS = {"q1": "h1", "q2": "h2", "q3": "h3", "q4": "h4"}  # QuickBooks record -> the HubSpot record it is linked to


def _waves(lanes: LaneChanges, noted: list[SyncSignal], delivered: list[SyncSignal]) -> list[list[set[str]]]:
    """The waves of a delivery of these signals (the noted ones through the lane), as each group's records."""
    lanes.note([(one, LANE) for one in noted])
    taken = gather([Delivered(f"m{n}", one, LANE) for n, one in enumerate(delivered)], lanes)
    asked: list[list[str]] = []

    def partners(connection_id: str, pair: Pair, side: Side, ids: list[str]) -> dict[str, str]:
        asked.append(side)
        links = LINKS if side is Side.QUICKBOOKS else {h: q for q, h in LINKS.items()}
        return {i: links[i] for i in ids if i in links}

    waves = taken.side_by_side(together(taken.signals), partners)
    assert len(asked) == len(set(asked))  # a lookup a side at most
    return [[{s.record_id for s in group} for group in wave] for wave in waves]


def _sides(hubspot: list[str], qbo: list[str], pair: Pair = Pair.CONTACTS) -> list[SyncSignal]:
    return [_change(i, pair=pair) for i in hubspot] + [_change(i, side=Side.QUICKBOOKS, pair=pair) for i in qbo]


def test_a_lanes_two_sides_run_side_by_side_when_they_share_no_pair(lanes: LaneChanges) -> None:
    changes = _sides(["h1", "h2"], ["q3", "q4"])
    assert _waves(lanes, changes, changes[:1]) == [[{"h1", "h2"}, {"q3", "q4"}]]


def test_a_pair_changed_on_both_sides_keeps_the_sides_in_turn(lanes: LaneChanges) -> None:
    changes = _sides(["h1", "h2"], ["q2", "q3"])  # q2 is h2's partner
    assert _waves(lanes, changes, changes[:1]) == [[{"h1", "h2"}], [{"q2", "q3"}]]


def test_a_record_not_linked_now_keeps_the_sides_in_turn(lanes: LaneChanges) -> None:
    for hubspot, qbo in ((["h1", "h2"], ["q3", "q9"]), (["h1", "h9"], ["q3", "q4"])):  # unlinked since queued
        changes = _sides(hubspot, qbo)
        assert _waves(lanes, changes, changes[:1]) == [[set(hubspot)], [set(qbo)]]
        lanes.taken(lanes.waiting(LANE, 10))


def test_links_that_cannot_be_read_keep_the_sides_in_turn(lanes: LaneChanges) -> None:
    changes = _sides(["h1", "h2"], ["q3", "q4"])
    lanes.note([(one, LANE) for one in changes])
    taken = gather([Delivered("m0", changes[0], LANE)], lanes)

    def unreadable(connection_id: str, pair: Pair, side: Side, ids: list[str]) -> dict[str, str]:
        raise ConnectionError("the table did not answer")

    waves = taken.side_by_side(together(taken.signals), unreadable)
    assert [[{s.record_id for s in group} for group in wave] for wave in waves] == [[{"h1", "h2"}], [{"q3", "q4"}]]


def test_a_group_with_a_change_not_from_the_lane_runs_alone(lanes: LaneChanges) -> None:
    noted = _sides(["h1", "h2"], ["q3"])
    quiet = _change("q4", side=Side.QUICKBOOKS).model_copy(update={"in_lane": False})  # not linked when queued
    assert _waves(lanes, noted, [noted[0], quiet]) == [[{"q3", "q4"}], [{"h1", "h2"}]]


def test_companies_run_in_turn(lanes: LaneChanges) -> None:
    changes = _sides(["h1", "h2"], ["q3", "q4"], pair=Pair.COMPANIES)
    assert _waves(lanes, changes, changes[:1]) == [[{"h1", "h2"}], [{"q3", "q4"}]]
