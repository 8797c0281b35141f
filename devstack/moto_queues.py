"""SQS queue attributes in moto counted only when asked for, as SQS keeps them.

moto builds a queue's whole attribute map, counting every message of the backlog three times (visible,
in flight, delayed), whenever any attribute is looked at: on every message sent (to learn whether the queue
deduplicates by content) and three times per name a GetQueueAttributes asks for. A burst of thousands of
signals then costs O(backlog) per message, and devstack's one process is busy counting instead of working.
Here the map holds the queue's settings and counts a backlog only when its count is read.
"""

import json
from collections.abc import Iterator, Mapping
from typing import Any

from moto.core.utils import camelcase_to_underscores
from moto.sqs.models import Queue

COUNTED = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible")


class QueueAttributes(Mapping[str, Any]):
    """One queue's attributes: its settings as read, its message counts when read."""

    def __init__(self, queue: Queue, settings: dict[str, Any]) -> None:
        self._queue, self._settings = queue, settings

    def __getitem__(self, name: str) -> Any:
        if name in COUNTED:
            return getattr(self._queue, camelcase_to_underscores(name))
        return self._settings[name]

    def __iter__(self) -> Iterator[str]:
        yield from COUNTED
        yield from self._settings

    def __len__(self) -> int:
        return len(COUNTED) + len(self._settings)


def _attributes(queue: Queue) -> QueueAttributes:
    names = [
        *queue.BASE_ATTRIBUTES,
        *(queue.FIFO_ATTRIBUTES if queue.fifo_queue else ()),
        *(queue.KMS_ATTRIBUTES if queue.kms_master_key_id else ()),  # type: ignore[attr-defined]
    ]
    settings = {n: getattr(queue, camelcase_to_underscores(n)) for n in names if n not in COUNTED}
    if queue.policy:
        settings["Policy"] = queue.policy
    if queue.redrive_policy:
        settings["RedrivePolicy"] = json.dumps(queue.redrive_policy)
    return QueueAttributes(queue, {k: str(v).lower() if isinstance(v, bool) else v for k, v in settings.items()})


def install() -> None:
    """Make this process's moto count a queue's messages only when a count is read (idempotent)."""
    Queue.attributes = property(_attributes)  # type: ignore[assignment,method-assign]
