"""What one delivery of the sync queue reconciles in bulk: its live signals, and every change waiting in the
lanes its messages come from (see LaneChanges), so that a busy lane's changes meet in one pass."""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from hubbooks.models.signals import Pair, Side, SyncSignal, records_of
from hubbooks.store.lane_changes import LaneChange, LaneChanges

_log = logging.getLogger(__name__)

LANE_PASS = 300  # changes a pass takes from a lane beyond its delivery's own (ten QuickBooks batch calls' worth)

RecordKey = tuple[str, str, str, str]


def record_key(signal: SyncSignal) -> RecordKey:
    return (signal.connection_id, signal.pair, signal.side, signal.record_id)


@dataclass(frozen=True)
class Delivered:
    """A message of the delivery: its SQS id, its signal and its FIFO group."""

    message_id: str
    signal: SyncSignal
    group: str


Partners = Callable[[str, Pair, Side, list[str]], dict[str, str]]  # (connection, pair, side, ids) -> partners


@dataclass
class LanePass:
    signals: list[SyncSignal]  # for the bulk pass: the delivery's (lane messages cut to what is still noted) and more
    noted: list[LaneChange]  # every noted change the pass takes
    messages: dict[str, str]  # the delivery's lane messages: SQS id -> deduplication id
    waiting: set[tuple[str, RecordKey]]  # the delivery's lane messages' changes still noted: (message, record)

    def taken_before(self, message: SyncSignal) -> set[str]:
        """The records of a lane message that an earlier pass of its lane took: nothing is left to do for them."""
        if not message.in_lane:
            return set()
        dedup = message.deduplication_id()
        return {one.record_id for one in records_of(message) if (dedup, record_key(one)) not in self.waiting}

    def done(self, reconciled: set[RecordKey], succeeded: set[str]) -> list[LaneChange]:
        """The noted changes to forget: those of records the pass reconciled, and all of the messages (SQS ids)
        that succeeded; a change noted again meanwhile, under another message, stays."""
        finished = {self.messages[m] for m in succeeded if m in self.messages}
        return [n for n in self.noted if record_key(n.signal) in reconciled or n.message in finished]

    def side_by_side(self, groups: list[list[SyncSignal]], partners: Partners) -> list[list[list[SyncSignal]]]:
        """The delivery's bulk groups (see dispatch.together) in waves, each wave's groups reconciled at the same
        time: a lane's HubSpot-side and QuickBooks-side groups go together when every record of both is a change
        noted in the lane (linked when it was queued), every record is linked still (read consistently), and
        none is linked to a record of the other group, so that no pair of records is reconciled twice at once.
        Every other group goes alone, in turn (as the lane's do if their links cannot be read)."""
        noted = {record_key(n.signal) for n in self.noted}
        waves: list[list[list[SyncSignal]]] = []
        lanes: dict[tuple[str, Pair], dict[Side, list[SyncSignal]]] = {}
        for group in groups:
            first = group[0]
            if first.pair is not Pair.COMPANIES and all(record_key(s) in noted for s in group):
                lanes.setdefault((first.connection_id, first.pair), {})[first.side] = group
            else:
                waves.append([group])
        for (connection_id, pair), sides in lanes.items():
            if len(sides) == 2 and _apart(connection_id, pair, sides, partners):
                waves.append(list(sides.values()))
            else:
                waves += [[group] for group in sides.values()]
        return waves


def gather(delivered: list[Delivered], lanes: LaneChanges) -> LanePass:
    """The delivery's signals for the bulk pass, with the other changes waiting in its lane messages' lanes."""
    in_lane = [d for d in delivered if d.signal.in_lane]
    dedup = {d.message_id: d.signal.deduplication_id() for d in in_lane}
    own = lanes.still([LaneChange(d.group, dedup[d.message_id], one) for d in in_lane for one in records_of(d.signal)])
    others = [n for group in dict.fromkeys(d.group for d in in_lane) for n in lanes.waiting(group, LANE_PASS)]
    noted = list({(n.group, n.message, record_key(n.signal)): n for n in (*own, *others)}.values())
    return LanePass(
        signals=[d.signal for d in delivered if not d.signal.in_lane] + [n.signal for n in noted],
        noted=noted,
        messages=dedup,
        waiting={(n.message, record_key(n.signal)) for n in noted},
    )


def _apart(connection_id: str, pair: Pair, sides: dict[Side, list[SyncSignal]], partners: Partners) -> bool:
    """Every record of both sides is linked, and to none of the other side's."""
    ids = {side: {s.record_id for s in group} for side, group in sides.items()}
    for side in (Side.HUBSPOT, Side.QUICKBOOKS):
        try:
            linked = partners(connection_id, pair, side, list(ids[side]))
        except Exception:
            _log.warning("a lane's links could not be read: its two sides run in turn", exc_info=True)
            return False
        if len(linked) < len(ids[side]) or not ids[side.other].isdisjoint(linked.values()):
            return False
    return True
