"""The soak: many connections at once through devstack — each its own HubSpot portal and QuickBooks company —
with thousands of changes arriving at a steady pace while about one API call and one webhook delivery in ten
is faulted and workers crash or are killed now and then. Every connection converges as in the convergence
suite, and no record of one connection ever appears in another's portal or company.

`HUBBOOKS_SOAK_CONNECTIONS` connections x `HUBBOOKS_SOAK_CHANGES` changes each at `HUBBOOKS_SOAK_RATE` changes
a second: 3 x 40 in `make test`, 20 x 150 in `make soak`, both at 4 a second."""

import os
import random
import time
from typing import Any

import pytest

from devstack.browser import Browser
from devstack.sandboxed import SandboxedProduct
from tests.reliability.harness import (
    CRASH_POINTS,
    HTTP_FAULTS,
    WEBHOOK_FAULTS,
    Crashes,
    admins,
    arm,
    check_worlds,
    quiesce,
    retried,
)
from tests.reliability.results import Tally
from tests.reliability.world import OPERATIONS, World
from tests.support.product import install

pytestmark = [pytest.mark.reliability, pytest.mark.devstack, pytest.mark.slow]
SUITE = "soak"

CONNECTIONS = int(os.environ.get("HUBBOOKS_SOAK_CONNECTIONS", "3"))
CHANGES = int(os.environ.get("HUBBOOKS_SOAK_CHANGES", "40"))
RATE = float(os.environ.get("HUBBOOKS_SOAK_RATE", "8"))  # changes a second, over all connections
FAULT_RATE = 0.10  # of API calls, and of webhook deliveries, at each sandbox
CRASH_EVERY = 30  # changes between two armed worker crashes


def _connect(product: SandboxedProduct, count: int) -> list[World]:
    """`count` connections, each installed by its own user into a new portal and company."""
    worlds = []
    for n in range(count):
        portal, realm = 8_800_001 + n, f"88{n:011d}"
        hubspot, quickbooks = product.add_accounts(portal, realm)
        browser = Browser()
        product.sign_in(browser, portal, realm)
        connection = install(product, browser)[1]
        assert (connection["portal_id"], connection["realm_id"]) == (portal, realm)
        worlds.append(World(hubspot, quickbooks, str(connection["connection_id"])))
    return worlds


def _strangers(world: World) -> list[str]:
    """Contacts or customers in this world's portal and company that another connection made."""
    emails = [str(c["properties"].get("email", "")) for c in world.contacts("")]
    emails += [str((c.get("PrimaryEmailAddr") or {}).get("Address", "")) for c in world.customers("")]
    return [f"{world.prefix}: {email} does not belong here" for email in emails if not email.startswith(world.prefix)]


@pytest.mark.xfail(
    strict=False,
    reason="open: one contact's first name can still end at an earlier HubSpot edit ('fi30h' over 'fi36h') under "
    "faults; three causes fixed (docs/decisions.md), still to be shown gone over many runs; each failing run leaves "
    "the person's story in .reliability/lost/",
)
def test_many_connections_converge_under_a_tenth_of_calls_faulted(product: SandboxedProduct, tally: Tally) -> None:
    product.connect_webhooks()
    worlds = _connect(product, CONNECTIONS)
    rng = random.Random(20_261_129)
    crashes = Crashes()
    patches: list[Any] = crashes.patches()
    retried_before = retried(product)
    for admin in admins(product):
        admin.clear_faults(seed=11)
        for kind in HTTP_FAULTS:
            arm(admin, kind, rate=FAULT_RATE / len(HTTP_FAULTS))
        for kind in WEBHOOK_FAULTS:
            arm(admin, kind, rate=FAULT_RATE / len(WEBHOOK_FAULTS))
    for patch in patches:
        patch.start()
    started = time.monotonic()
    try:
        for change in range(CONNECTIONS * CHANGES):
            ahead = started + change / RATE - time.monotonic()
            if ahead > 0:  # changes arrive at a pace, so the product works while they come
                time.sleep(ahead)
            world = rng.choice(worlds)
            world.act(rng.choices(list(OPERATIONS), weights=list(OPERATIONS.values()))[0], rng)
            if change % CRASH_EVERY == CRASH_EVERY - 1:  # each point in turn
                crashes.armed[CRASH_POINTS[change // CRASH_EVERY % len(CRASH_POINTS)]] += 1
        quiesce(product, tally, crashes, timeout=300 + 2 * CONNECTIONS * CHANGES)
    finally:
        for patch in patches:
            patch.stop()
    tally.seconds += time.monotonic() - started
    problems = check_worlds(product, tally, worlds, retried_before)
    problems += [stranger for world in worlds for stranger in _strangers(world)]
    assert not problems, "\n".join(problems)
