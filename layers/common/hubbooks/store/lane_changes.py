"""Live changes waiting in their lane, so that a pass of the lane takes every one of them at once.

SQS hands a FIFO group's messages over ten at a time, each a webhook delivery's worth (one record, at the rate a
person works). Before a live change of a linked record is queued in its lane, it is noted here under the lane
and the deduplication id of its message. A pass of the lane takes what its messages carry and whatever else is
noted for the lane, so the changes that arrive while a pass runs meet in the next one at the APIs' batch sizes
(a quiet change is still a pass of one). A message whose changes an earlier pass took finds them gone and has
nothing left to do; one that was not reached keeps them, and its own delivery or a retry takes them.
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from typing import Any

from hubbooks.models.signals import SyncSignal, records_of
from hubbooks.store.keys import lane_change_sk, lane_pk
from hubbooks.store.table import Table

KEEP_SECONDS = 4 * 86400  # as long as the sync queue keeps the message that carries the change


@dataclass(frozen=True)
class LaneChange:
    """A change noted in a lane: the message that carries it and the record's own signal."""

    group: str
    message: str
    signal: SyncSignal

    @property
    def key(self) -> dict[str, str]:
        return {"PK": lane_pk(self.group), "SK": lane_change_sk(self.message, self.signal.side, self.signal.record_id)}


class LaneChanges:
    def __init__(self, table: Table) -> None:
        self.table = table

    def note(self, messages: Iterable[tuple[SyncSignal, str]]) -> None:
        """Note each record of each message (with its FIFO group) before the messages are queued."""
        expires = int(time.time()) + KEEP_SECONDS
        with self.table.resource.batch_writer(overwrite_by_pkeys=["PK", "SK"]) as batch:
            for message, group in messages:
                dedup = message.deduplication_id()
                for one in records_of(message):
                    noted = LaneChange(group, dedup, one)
                    batch.put_item(Item={**noted.key, "signal": one.model_dump_json(), "ttl": expires})

    def waiting(self, group: str, limit: int) -> list[LaneChange]:
        """Up to `limit` changes noted in the lane, in no particular order."""
        return [_noted(item) for item in islice(self.table.partition(lane_pk(group)), limit)]

    def still(self, changes: list[LaneChange]) -> list[LaneChange]:
        """Those of `changes` that are still noted (no pass has taken them), read consistently: a change is noted
        a moment before its message is queued, and an eventually consistent read could miss it."""
        keys = list({(c.key["PK"], c.key["SK"]): c.key for c in changes}.values())  # a key once a request
        return [_noted(item) for item in self.table.get_many(keys, consistent=True)]

    def taken(self, changes: Iterable[LaneChange]) -> None:
        """Forget changes a pass has reconciled (those noted again since, under another message, stay)."""
        with self.table.resource.batch_writer(overwrite_by_pkeys=["PK", "SK"]) as batch:
            for noted in changes:
                batch.delete_item(Key=noted.key)


def _noted(item: dict[str, Any]) -> LaneChange:
    group = str(item["PK"]).split("#", 1)[1]
    return LaneChange(group, str(item["SK"]).split("#", 1)[0], SyncSignal.model_validate_json(str(item["signal"])))
