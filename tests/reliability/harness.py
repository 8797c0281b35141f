"""What both reliability suites do around the model: worker crashes on demand, faults armed at the
sandboxes, quiescence (faults cleared, queue drained, a sweep, drained again) and the figures."""

import random
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any, Protocol
from unittest import mock

from devstack.runtime import ProcessKilled
from devstack.sandboxed import SandboxedProduct
from hubbooks.store.sync_store import DynamoSyncStore
from hubbooks.sync.adapters import HubSpotAdapter, QboAdapter
from sandbox.client import HubSpotAdmin, QuickBooksAdmin
from tests.reliability.results import Tally
from tests.reliability.world import Findings


class Model(Protocol):
    """A connection as a suite models it: operations as users make them, and the checks at quiescence."""

    steps: int
    done: Counter[str]

    @property
    def size(self) -> int:
        """How many records it made (a scenario's draws depend on it)."""
        ...

    def act(self, kind: str, rng: random.Random) -> None: ...

    def check(self, product: SandboxedProduct) -> Findings: ...


HTTP_FAULTS = ("429", "500", "503", "reset", "applied_500", "slow")
WEBHOOK_FAULTS = ("drop", "duplicate", "delay", "reorder")
# A crash raises in the worker (Powertools releases the signal's idempotency record); a kill ends the
# execution environment (the record stays in progress until its expiry, the whole batch returns to the queue).
CRASH_POINTS = (
    "after the QBO write",
    "before the link is saved",
    "before the HubSpot write",
    "killed after the QBO write",
)
SLOW_MS, DELAY_MS = 1500, 2000


class Crashes:
    """Worker crashes on demand: the next call at a point raises, or kills the worker's environment."""

    def __init__(self) -> None:
        self.armed: Counter[str] = Counter()
        self.happened: Counter[str] = Counter()
        self.lock = threading.Lock()

    def take(self, point: str) -> bool:
        with self.lock:
            if self.armed[point] > 0:
                self.armed[point] -= 1
                self.happened[point] += 1
                return True
            return False

    def patches(self) -> list[Any]:
        crashes = self
        save_link, update_qbo, update_hubspot = (
            DynamoSyncStore.save_link,
            QboAdapter.update,
            HubSpotAdapter.update,
        )

        def crash_save_link(store: DynamoSyncStore, *args: Any, **kwargs: Any) -> Any:
            if crashes.take("before the link is saved"):
                raise RuntimeError("worker crashed before saving the link")
            return save_link(store, *args, **kwargs)

        def crash_after_qbo(adapter: QboAdapter, *args: Any, **kwargs: Any) -> Any:
            written = update_qbo(adapter, *args, **kwargs)
            if crashes.take("after the QBO write"):
                raise RuntimeError("worker crashed after writing QuickBooks")
            if crashes.take("killed after the QBO write"):
                raise ProcessKilled
            return written

        def crash_before_hubspot(adapter: HubSpotAdapter, *args: Any, **kwargs: Any) -> Any:
            if crashes.take("before the HubSpot write"):
                raise RuntimeError("worker crashed before writing HubSpot")
            return update_hubspot(adapter, *args, **kwargs)

        return [
            mock.patch.object(DynamoSyncStore, "save_link", crash_save_link),
            mock.patch.object(QboAdapter, "update", crash_after_qbo),
            mock.patch.object(HubSpotAdapter, "update", crash_before_hubspot),
        ]


def admins(product: SandboxedProduct) -> tuple[HubSpotAdmin, QuickBooksAdmin]:
    return product.hubspot_admin, product.quickbooks_admin


def arm(
    admin: HubSpotAdmin | QuickBooksAdmin, kind: str, *, count: int | None = None, rate: float | None = None
) -> None:
    """A fault at a sandbox: the next `count` calls or deliveries, or each with probability `rate`."""
    delay = SLOW_MS if kind == "slow" else (DELAY_MS if kind == "delay" else None)
    admin.add_fault(kind, count=count, rate=rate, delay_ms=delay)


def retried(product: SandboxedProduct) -> int:
    """SQS messages a worker gave back so far (each handled again later)."""
    return sum(pump.failed_records for pump in product.devstack.pumps)


def quiesce(product: SandboxedProduct, tally: Tally, crashes: Crashes, timeout: float) -> None:
    """Let everything in flight finish, count the faults that happened, clear them, sweep, finish again."""
    product.settle(timeout=timeout)
    for admin in admins(product):
        for kind, count in admin.faults().get("injected", {}).items():
            tally.injected(kind, count)
        admin.clear_faults()
    for point, count in crashes.happened.items():
        tally.injected(f"crash {point}", count)
    crashes.armed.clear()
    crashes.happened.clear()
    product.devstack.invoke("ReconcileFunction", {"action": "sweep"})
    product.settle(timeout=timeout)


def dead_lettered(product: SandboxedProduct) -> int:
    attributes = product.devstack.client("sqs").get_queue_attributes(
        QueueUrl=product.devstack.physical["SyncDeadLetterQueue"],
        AttributeNames=["ApproximateNumberOfMessages"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def check_worlds(product: SandboxedProduct, tally: Tally, worlds: Sequence[Model], retried_before: int) -> list[str]:
    """Check every world, add one scenario per world to the tally; answers every problem found.

    A dead letter is counted, not a problem in itself: a signal whose five receives each meet a fault is given
    up on by design (docs/reliability.md), and the sweep brings its record over again. What the design does
    guarantee is checked instead: every world converged, nothing lost. The dead letters are taken out of the
    queue once counted, so one scenario's cannot count again in the next.
    """
    problems: list[str] = []
    dlq = len(take_dead_letters(product))
    retries = retried(product) - retried_before
    for index, world in enumerate(worlds):
        findings = world.check(product)
        tally.operations.update(world.done)
        first = index == 0  # the queue-wide figures count once
        tally.scenario(
            steps=world.steps,
            divergences=len(findings.divergent),
            duplicates=len(findings.duplicates),
            lost_updates=len(findings.lost),
            retried=retries if first else 0,
            dead_lettered=dlq if first else 0,
            errors_left=len(findings.errors),
            settled_per_record=len(findings.per_record),
            left_for_a_person=len(findings.waiting),
        )
        problems += findings.divergent + findings.duplicates + findings.lost + findings.errors
    tally.problems += problems
    return problems


def take_dead_letters(product: SandboxedProduct) -> list[str]:
    """The bodies of every dead-lettered message, taken out of the queue."""
    sqs, queue = product.devstack.client("sqs"), product.devstack.physical["SyncDeadLetterQueue"]
    bodies: list[str] = []
    while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        bodies += [str(m["Body"]) for m in messages]
        sqs.delete_message_batch(
            QueueUrl=queue,
            Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)],
        )
    return bodies
