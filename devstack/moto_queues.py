"""SQS queue attributes in moto counted only when asked for, as SQS keeps them.

moto builds a queue's whole attribute map, counting every message of the backlog three times (visible,
in flight, delayed), whenever any attribute is looked at: on every message sent (to learn whether the queue
deduplicates by content) and three times per name a GetQueueAttributes asks for. A burst of thousands of
signals then costs O(backlog) per message, and devstack's one process is busy counting instead of working.
Here the map holds the queue's settings and counts a backlog only when its count is read.

A receive walks the whole backlog too, reading the clock through datetime arithmetic two or three times per
message; while a FIFO group's delivery is in flight, every receive walks past all of that group's waiting
messages; and its long poll, woken at once by any visible message, did so without pause. Here a message's
visibility is told from `time.time()` (moto's clock is the same wall time), and a long poll looks again every
50 ms or when a message is sent.

moto's receive is not atomic: two receives at once each take the FIFO groups in flight as they stood when
they began, so the second can hand out a message of a group the first has just taken. SQS never hands out a
group twice; devstack's pollers run side by side, so here one receive looks at a queue at a time (its long
poll waits outside that turn).
"""

import json
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from moto.core.utils import camelcase_to_underscores
from moto.sqs.models import Message, Queue, SQSBackend

RECHECK_SECONDS = 0.05  # a long poll looks at the queue again this often while nothing it can hand out arrives
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


def _now_ms() -> float:
    return time.time() * 1000


def _visible(message: Message) -> bool:
    return _now_ms() > message.visible_at


def _delayed(message: Message) -> bool:
    return _now_ms() < message.delayed_until


def _messages(queue: Queue) -> list[Message]:
    """The queue's messages that can be received now, against one reading of the clock."""
    now = _now_ms()
    return [m for m in queue._messages if now > m.visible_at and not now < m.delayed_until]


def _wait_for_messages(queue: Queue, timeout: int) -> None:
    """Wait for a message to be sent, or a short while. moto's own wait ends at once while any message is
    visible, even one whose FIFO group has a delivery in flight, so a long poll spun on the whole backlog."""
    with queue._messages_lock:
        queue._messages_lock.wait(timeout=min(timeout, RECHECK_SECONDS))


_receive = SQSBackend.receive_message
_locks: dict[str, threading.RLock] = {}  # one receive looks at a queue at a time: a FIFO group goes to one of them
_locks_lock = threading.Lock()


def _receiving(queue_name: str) -> threading.RLock:
    """The queue's receive lock (reentrant: a receive that moves a message to a dead-letter queue may receive)."""
    with _locks_lock:
        return _locks.setdefault(queue_name, threading.RLock())


def _receive_message(  # noqa: PLR0917 (moto's own signature, called positionally)
    backend: SQSBackend,
    queue_name: str,
    count: int,
    wait_seconds_timeout: int,
    visibility_timeout: int,
    message_attribute_names: list[str] | None = None,
) -> list[Message]:
    """moto's receive, one at a time; a long poll waits for a message between its turns."""
    deadline = time.monotonic() + wait_seconds_timeout
    while True:
        with _receiving(queue_name):
            received: list[Message] = _receive(
                backend, queue_name, count, 0, visibility_timeout, message_attribute_names
            )
        if received or time.monotonic() >= deadline:
            return received
        _wait_for_messages(backend.get_queue(queue_name), wait_seconds_timeout)


def install() -> None:
    """Make this process's moto count a queue's messages only when a count is read, and tell a message's
    visibility from the clock in a few nanoseconds (idempotent)."""
    Queue.attributes = property(_attributes)  # type: ignore[assignment,method-assign]
    Queue.messages = property(_messages)  # type: ignore[assignment,method-assign]
    Message.visible = property(_visible)  # type: ignore[assignment,method-assign]
    Message.delayed = property(_delayed)  # type: ignore[assignment,method-assign]
    Queue.wait_for_messages = _wait_for_messages  # type: ignore[assignment,method-assign]
    SQSBackend.receive_message = _receive_message  # type: ignore[assignment,method-assign]
