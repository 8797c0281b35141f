"""Convergence under faults: a seeded model-based test (hypothesis stateful) drives random creates, edits,
deletes and merges of contacts and customers, and QuickBooks invoices created, paid and voided, interleaved
with API faults, lost/duplicated/delayed/reordered webhooks and worker crashes between steps of handling a
signal. At quiescence (queue drained, one sweep run) every linked pair agrees, nobody and no invoice exists
twice, the last edit of every field is what both sides hold, every invoice shows its balance and status and
every payment is on its contact's timeline once, no sync error is left and the dead-letter queue is empty.
Figures go to .reliability/results.json.

`HUBBOOKS_RELIABILITY_SCENARIOS` and `HUBBOOKS_RELIABILITY_STEPS` make the run longer (`make soak`)."""

import os
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from devstack.browser import Browser
from devstack.sandboxed import SandboxedProduct
from hubbooks import wiring
from hubbooks.models.signals import Pair
from hubbooks.store.sync_settings import SyncSettingsRepository
from sandbox.client import HubSpotAdmin, QuickBooksAdmin
from tests.reliability.businesses import OPERATIONS as BUSINESS_OPERATIONS
from tests.reliability.businesses import Businesses
from tests.reliability.harness import (
    CRASH_POINTS,
    HTTP_FAULTS,
    WEBHOOK_FAULTS,
    Crashes,
    Model,
    admins,
    arm,
    check_worlds,
    dead_lettered,
    quiesce,
    retried,
)
from tests.reliability.results import Tally
from tests.reliability.world import OPERATIONS, QBO_SECOND, World
from tests.support.product import as_function, install

pytestmark = [pytest.mark.reliability, pytest.mark.devstack, pytest.mark.slow]
SUITE = "convergence"

SCENARIOS = int(os.environ.get("HUBBOOKS_RELIABILITY_SCENARIOS", "3"))  # make soak: 20
STEPS = int(os.environ.get("HUBBOOKS_RELIABILITY_STEPS", "30"))
BUSINESS_PORTAL, BUSINESS_REALM = 8_700_001, "8700000000001"


@pytest.fixture(scope="module")
def running(product: SandboxedProduct) -> tuple[SandboxedProduct, str]:
    product.connect_webhooks()
    return product, str(install(product)[1]["connection_id"])


def _converge(product: SandboxedProduct, tally: Tally, make: Callable[[], Model], operations: dict[str, int]) -> None:
    """Random scenarios of a model's operations, API faults, webhook faults and crashes; each converges."""
    weights = {**operations, "api fault": 9, "webhook fault": 9, "crash": 6}

    class Scenario(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.world = make()
            self.crashes = Crashes()
            self.patches = self.crashes.patches()
            for patch in self.patches:
                patch.start()
            self.retried_before = retried(product)
            self.started = time.monotonic()
            self.checked_ms = int(time.time() * 1000)

        @initialize()
        def clean_start(self) -> None:
            for admin in admins(product):
                admin.clear_faults(seed=7)

        @rule(draw=st.integers(min_value=0, max_value=2**32))
        def act(self, draw: int) -> None:
            """One step, chosen with the drawn number and the step's index: every scenario mixes all kinds
            of steps (hypothesis' simplest draws alone would only ever create records), and shrinks."""
            rng = random.Random(f"{draw}-{self.world.steps}-{self.world.size}")
            kind = rng.choices(list(weights), weights=list(weights.values()))[0]
            if kind in operations:
                self.world.act(kind, rng)
                return
            self.world.steps += 1
            if kind == "crash":
                self.crashes.armed[rng.choice(CRASH_POINTS)] += 1
                return
            admin = rng.choice(admins(product))
            arm(admin, rng.choice(HTTP_FAULTS if kind == "api fault" else WEBHOOK_FAULTS), count=rng.randint(1, 3))

        @invariant()
        def every_5xx_was_injected(self) -> None:
            """The emulators' own code never failed a call: each 5xx they answered was a fault we asked for."""
            since, self.checked_ms = self.checked_ms, int(time.time() * 1000)
            for admin in admins(product):
                own = [c for c in admin.calls(since_ms=since) if c["status"] >= 500 and not c["fault"]]
                assert own == [], own

        def teardown(self) -> None:
            try:
                quiesce(product, tally, self.crashes, timeout=240)
                tally.seconds += time.monotonic() - self.started
                problems = check_worlds(product, tally, [self.world], self.retried_before)
                assert not problems, "\n".join(problems)
            finally:
                for patch in self.patches:
                    patch.stop()

    run_state_machine_as_test(
        Scenario,
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )
    assert tally.scenarios >= 1


def test_both_sides_converge_under_faults_and_crashes(running: tuple[SandboxedProduct, str], tally: Tally) -> None:
    product, connection_id = running
    _converge(product, tally, lambda: World(product.hubspot_admin, product.quickbooks_admin, connection_id), OPERATIONS)


@pytest.fixture(scope="module")
def businesses(running: tuple[SandboxedProduct, str]) -> tuple[HubSpotAdmin, QuickBooksAdmin, str]:
    """A connection of business customers, in a portal and company of its own, its companies sync on."""
    product = running[0]
    hubspot, quickbooks = product.add_accounts(BUSINESS_PORTAL, BUSINESS_REALM)
    browser = Browser()
    product.sign_in(browser, BUSINESS_PORTAL, BUSINESS_REALM)
    connection_id = str(install(product, browser, set_up=False)[1]["connection_id"])
    mode = browser.request(
        "PUT", f"{product.devstack.gateway_url}/api/connection/customer-mode", json={"mode": "business"}
    )
    assert mode.status_code == 200, mode.text
    with as_function(product):
        SyncSettingsRepository(wiring.table(), connection_id).set_up_as_is((Pair.COMPANIES,))
    return hubspot, quickbooks, connection_id


def test_business_customers_their_parents_merges_and_deletes_converge_under_faults(
    running: tuple[SandboxedProduct, str], businesses: tuple[HubSpotAdmin, QuickBooksAdmin, str], tally: Tally
) -> None:
    _converge(running[0], tally, lambda: Businesses(*businesses), BUSINESS_OPERATIONS)


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_worker_crash_at_each_point_converges(
    running: tuple[SandboxedProduct, str], tally: Tally, point: str
) -> None:
    product = running[0]
    world = World(product.hubspot_admin, product.quickbooks_admin, running[1])
    email = f"crash.{uuid.uuid4().hex[:6]}@example.com"
    contact = product.hubspot_admin.create("contacts", {"email": email, "firstname": "Before"})
    product.settle(timeout=120)
    crashes = Crashes()
    patches: list[Any] = crashes.patches()
    for patch in patches:
        patch.start()
    try:
        crashes.armed[point] += 1
        product.hubspot_admin.update("contacts", contact["id"], {"firstname": "After"})
        customer = world.customers(email)[0]
        time.sleep(QBO_SECOND)
        product.quickbooks_admin.update("Customer", customer["Id"], {"FamilyName": "Crashed"})
        product.settle(timeout=120)
    finally:
        for patch in patches:
            patch.stop()
    tally.injected(f"crash {point}", crashes.happened[point])
    assert crashes.happened[point] == 1
    customers = world.customers(email)
    props = world.contacts(email)[0]["properties"]
    assert len(customers) == 1
    assert (customers[0]["GivenName"], props["lastname"]) == ("After", "Crashed")
    assert dead_lettered(product) == 0  # the crashed signal was handled again, not given up on
