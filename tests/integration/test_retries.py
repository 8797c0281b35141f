"""Retries that do not use a signal up: a throttle or an outage backs off and is not counted, so a signal
outlives more receives than the dead-letter limit; any other failure is counted and dead-lettered at five,
with its reason on the message."""

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.sandboxed import SandboxedProduct
from hubbooks import wiring
from hubbooks.ratelimit import RateBudget
from tests.support.product import as_function, checked_product, customer_of, install, table_items, wait_until

pytestmark = [pytest.mark.devstack, pytest.mark.slow]
FAILURES_BEFORE_DEAD_LETTER = 5
# devstack's pump makes a failed message visible again after the queue's 360 s visibility timeout, scaled (about a
# second here, 4 s at the default 0.01), in place of the worker's own give-back (in AWS a give-back of the
# throttle's length would be received again once it is over): so a throttle of 15 real seconds outlasts more than
# five receives (about nine).
DEVSTACK_TIME_SCALE = 0.004
THROTTLE_SECONDS = 15


@pytest.fixture(scope="module")
def product() -> Iterator[SandboxedProduct]:
    with checked_product("rt", devstack_time_scale=DEVSTACK_TIME_SCALE) as running:
        running.connect_webhooks()
        yield running


def _dead_letters(product: SandboxedProduct) -> list[dict[str, Any]]:
    sqs = product.devstack.client("sqs")
    return list(
        sqs.receive_message(
            QueueUrl=product.devstack.physical["SyncDeadLetterQueue"],
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
    )


def test_a_throttle_longer_than_five_receives_is_waited_out_not_dead_lettered(product: SandboxedProduct) -> None:
    _, connection = install(product)
    pump = next(p for p in product.devstack.pumps if p.spec.function == "SyncWorkerFunction")
    failed_before = pump.failed_records
    with as_function(product, "SyncWorkerFunction"):  # as after a 429 asking for 15 real seconds
        RateBudget(wiring.table(), connection["connection_id"], "quickbooks").block(THROTTLE_SECONDS)
    contact = product.hubspot_admin.create("contacts", {"email": "patient@example.com", "firstname": "Pat"})
    linked = f"LINK#contacts#hs#{contact['id']}"
    wait_until(lambda: linked in {i["SK"]["S"] for i in table_items(product)}, 120, "the link after the throttle")
    assert customer_of(product, contact["id"])["GivenName"] == "Pat"
    assert pump.failed_records - failed_before > FAILURES_BEFORE_DEAD_LETTER  # given back more than five times
    assert _dead_letters(product) == []


def test_a_signal_that_keeps_failing_is_dead_lettered_after_five_failures_with_why(product: SandboxedProduct) -> None:
    sqs = product.devstack.client("sqs")
    poison = {"connection_id": "c-poison", "pair": "contacts", "side": "hs"}  # not a signal: no record id
    sent = time.monotonic()
    sqs.send_message(
        QueueUrl=product.devstack.physical["SyncQueue"],
        MessageBody=json.dumps(poison),
        MessageGroupId="c-poison:contacts",
        MessageDeduplicationId="poison-1",
    )
    dead: list[dict[str, Any]] = []

    def arrived() -> bool:
        dead.extend(_dead_letters(product))
        return bool(dead)

    wait_until(arrived, 120, "the poisoned signal in the dead-letter queue")
    (message,) = dead
    assert json.loads(message["Body"]) == poison
    assert message["MessageAttributes"]["reason"]["StringValue"].startswith("ValidationError")
    assert int(message["Attributes"]["ApproximateReceiveCount"]) <= 1  # sent there by the worker, once
    assert time.monotonic() - sent < 120
