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
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from devstack.sandboxed import SandboxedProduct
from hubbooks.mapping.fields import CONTACT_FIELDS, qbo_value
from hubbooks.store.sync_store import DynamoSyncStore
from hubbooks.sync.adapters import HubSpotAdapter, QboAdapter
from tests.reliability.results import Tally
from tests.support.product import install, table_items

pytestmark = [pytest.mark.reliability, pytest.mark.devstack, pytest.mark.slow]

SCENARIOS = int(os.environ.get("HUBBOOKS_RELIABILITY_SCENARIOS", "4"))
STEPS = int(os.environ.get("HUBBOOKS_RELIABILITY_STEPS", "30"))
# HubSpot property -> (QBO path, how an edit there is written)
FIELDS: dict[str, tuple[str, Callable[[str], dict[str, Any]]]] = {
    "firstname": ("GivenName", lambda v: {"GivenName": v}),
    "lastname": ("FamilyName", lambda v: {"FamilyName": v}),
    "phone": ("PrimaryPhone.FreeFormNumber", lambda v: {"PrimaryPhone": {"FreeFormNumber": v}}),
    "company": ("CompanyName", lambda v: {"CompanyName": v}),
}
HTTP_FAULTS = ("429", "500", "503", "reset", "applied_500", "slow")
WEBHOOK_FAULTS = ("drop", "duplicate", "delay", "reorder")
CRASH_POINTS = ("after the QBO write", "before the link is saved", "before the HubSpot write")
STEP_WEIGHTS = {
    "create contact": 12,
    "create customer": 9,
    "edit": 36,
    "delete": 3,
    "merge contacts": 3,
    "merge customers": 3,
    "invoice": 6,
    "pay": 6,
    "void": 2,
    "api fault": 9,
    "webhook fault": 9,
    "crash": 6,
}
PRICE = 100.0
QBO_SECOND = 1.05  # QuickBooks keeps whole seconds: an edit on the other side waits this long to be clearly later


class Crashes:
    """Worker crashes on demand: the next call at a point raises, as a worker dying there would."""

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


@dataclass
class Person:
    email: str
    hubspot_id: str | None = None
    qbo_id: str | None = None
    last: dict[str, str] = field(default_factory=dict)  # field -> the value edited last (on either side)
    edited_at: dict[str, float] = field(default_factory=dict)  # side -> when it was last edited
    retired: bool = False  # deleted, or merged into someone else: no longer expected on both sides
    billed: bool = False  # has invoices: never deleted or merged away, so its timeline can be checked


@dataclass
class Bill:
    """A QuickBooks invoice of the scenario and what was done to it."""

    qbo_id: str
    person: Person
    total: float
    payments: list[float] = field(default_factory=list)
    voided: bool = False

    @property
    def balance(self) -> float:
        return 0.0 if self.voided else self.total - sum(self.payments)

    @property
    def status(self) -> str:
        if self.voided:
            return "voided"
        return "paid" if self.balance == 0 else ("partially_paid" if self.payments else "open")


@pytest.fixture(scope="module")
def tally() -> Iterator[Tally]:
    results = Tally()
    yield results
    results.write()


@pytest.fixture(scope="module")
def running(product: SandboxedProduct) -> SandboxedProduct:
    product.connect_webhooks()
    install(product)
    return product


def _contacts(product: SandboxedProduct, prefix: str) -> list[dict[str, Any]]:
    found = product.hubspot_admin.records("contacts", archived="include")
    return [c for c in found if str(c["properties"].get("email", "")).startswith(prefix)]


def _customers(product: SandboxedProduct, prefix: str) -> list[dict[str, Any]]:
    found = product.quickbooks_admin.records("Customer")
    return [c for c in found if str((c.get("PrimaryEmailAddr") or {}).get("Address", "")).startswith(prefix)]


def _retried(product: SandboxedProduct) -> int:
    return sum(pump.failed_records for pump in product.devstack.pumps)


def test_both_sides_converge_under_faults_and_crashes(running: SandboxedProduct, tally: Tally) -> None:
    product = running

    class Scenario(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.prefix = f"m{uuid.uuid4().hex[:6]}."
            self.people: list[Person] = []
            self.bills: list[Bill] = []
            self.item_id: str | None = None
            self.payment_ids: list[str] = []
            self.crashes = Crashes()
            self.patches = self.crashes.patches()
            for patch in self.patches:
                patch.start()
            self.done: Counter[str] = Counter()  # operations made, by kind
            self.steps = 0
            self.retried_before = _retried(product)

        @initialize()
        def clean_start(self) -> None:
            for admin in (product.hubspot_admin, product.quickbooks_admin):
                admin.clear_faults(seed=7)

        # -- records ------------------------------------------------------------------------------

        @rule(draw=st.integers(min_value=0, max_value=2**32))
        def act(self, draw: int) -> None:
            """One step, chosen with the drawn number and the step's index: every scenario mixes all kinds
            of steps (hypothesis' simplest draws alone would only ever create contacts), and shrinks."""
            rng = random.Random(f"{draw}-{self.steps}-{len(self.people)}")
            self.steps += 1
            kind = rng.choices(list(STEP_WEIGHTS), weights=list(STEP_WEIGHTS.values()))[0]
            if kind == "create contact":
                self.create_contact(rng.choice(["Ada", "Bo", "Cy"]))
            elif kind == "create customer":
                self.create_customer(rng.choice(["Lee", "Moe", "Ng"]))
            elif kind == "edit":
                self.edit(rng.randrange(10_000), rng.choice(["hubspot", "quickbooks"]), rng.choice(sorted(FIELDS)))
            elif kind == "delete":
                self.delete_contact(rng.randrange(10_000))
            elif kind == "merge contacts":
                self.merge(rng.randrange(10_000), rng.randrange(10_000), "hubspot")
            elif kind == "merge customers":
                self.merge(rng.randrange(10_000), rng.randrange(10_000), "quickbooks")
            elif kind == "invoice":
                self.invoice(rng.randrange(10_000), rng.randint(1, 4))
            elif kind == "pay":
                self.pay(rng.randrange(10_000), rng.choice([0.5, 1.0]))
            elif kind == "void":
                self.void(rng.randrange(10_000))
            elif kind == "api fault":
                self.api_fault(rng.choice(["hubspot", "quickbooks"]), rng.choice(HTTP_FAULTS), rng.randint(1, 3))
            elif kind == "webhook fault":
                self.webhook_fault(rng.choice(["hubspot", "quickbooks"]), rng.choice(WEBHOOK_FAULTS), rng.randint(1, 3))
            else:
                self.crashes.armed[rng.choice(CRASH_POINTS)] += 1

        def create_contact(self, first: str) -> None:
            person = Person(f"{self.prefix}c{len(self.people)}@example.com")
            made = product.hubspot_admin.create("contacts", {"email": person.email, "firstname": first})
            person.hubspot_id, person.last["firstname"] = made["id"], first
            person.edited_at["hubspot"] = time.monotonic()
            self.people.append(person)
            self.done["create contact"] += 1

        def create_customer(self, family: str) -> None:
            person = Person(f"{self.prefix}q{len(self.people)}@example.com")
            body = {"DisplayName": person.email, "FamilyName": family, "PrimaryEmailAddr": {"Address": person.email}}
            person.qbo_id, person.last["lastname"] = product.quickbooks_admin.create("Customer", body)["Id"], family
            person.edited_at["quickbooks"] = time.monotonic()
            self.people.append(person)
            self.done["create customer"] += 1

        def _counterpart(self, person: Person, side: str) -> str | None:
            if side == "hubspot" and person.hubspot_id is None:
                found = [c for c in _contacts(product, person.email) if not c.get("archived")]
                person.hubspot_id = found[0]["id"] if len(found) == 1 else None
            if side == "quickbooks" and person.qbo_id is None:
                found = _customers(product, person.email)
                person.qbo_id = found[0]["Id"] if len(found) == 1 else None
            return person.hubspot_id if side == "hubspot" else person.qbo_id

        def _live(self, *, unbilled: bool = False) -> list[Person]:
            return [p for p in self.people if not p.retired and not (unbilled and p.billed)]

        @staticmethod
        def _after_other_side(person: Person, side: str) -> None:
            """Wait until an edit on `side` is clearly later than the person's last edit on the other side."""
            other = "quickbooks" if side == "hubspot" else "hubspot"
            wait = person.edited_at.get(other, 0.0) + QBO_SECOND - time.monotonic()
            if wait > 0:
                time.sleep(wait)

        def edit(self, pick: int, side: str, name: str) -> None:
            live = self._live()
            if not live:
                return
            person = live[pick % len(live)]
            record_id = self._counterpart(person, side)
            if record_id is None:
                return  # not on that side yet
            self._after_other_side(person, side)
            value = f"{name[:2]}{self.steps}{side[0]}"
            if side == "hubspot":
                product.hubspot_admin.update("contacts", record_id, {name: value})
            else:
                product.quickbooks_admin.update("Customer", record_id, FIELDS[name][1](value))
            person.last[name], person.edited_at[side] = value, time.monotonic()
            self.done[f"edit in {side}"] += 1

        def delete_contact(self, pick: int) -> None:
            live = [p for p in self._live(unbilled=True) if p.hubspot_id is not None]
            if len(live) < 2:
                return
            person = live[pick % len(live)]
            assert person.hubspot_id is not None
            product.hubspot_admin.delete("contacts", person.hubspot_id)
            person.retired = True
            self.done["delete"] += 1

        def merge(self, first: int, second: int, side: str) -> None:
            """Merge two people on one side: the survivor keeps its values and, in HubSpot, takes the merged
            contact's values for its empty fields; the merged person is retired (its record on the other side
            stays, unlinked, or becomes the survivor's counterpart when the survivor had none)."""
            live = [p for p in self._live(unbilled=True) if self._counterpart(p, side) is not None]
            if len(live) < 2:
                return
            survivor = live[first % len(live)]
            merged = live[second % len(live)]
            if merged is survivor:
                return
            self._after_other_side(survivor, side)
            if side == "hubspot":
                assert survivor.hubspot_id is not None
                assert merged.hubspot_id is not None
                kept = _contacts(product, survivor.email)[0]["properties"]
                taken = _contacts(product, merged.email)[0]["properties"]
                product.hubspot_admin.merge("contacts", survivor.hubspot_id, merged.hubspot_id)
                for name in FIELDS:
                    if not kept.get(name) and taken.get(name):
                        survivor.last[name] = taken[name]
                survivor.qbo_id = None  # its counterpart may now be the merged person's customer
            else:
                assert survivor.qbo_id is not None
                assert merged.qbo_id is not None
                product.quickbooks_admin.merge("Customer", survivor.qbo_id, merged.qbo_id)
                survivor.hubspot_id = None  # its counterpart may now be the merged person's contact
            survivor.edited_at[side] = time.monotonic()
            merged.retired = True
            self.done[f"merge {'contacts' if side == 'hubspot' else 'customers'}"] += 1

        # -- invoices and payments ----------------------------------------------------------------

        def invoice(self, pick: int, quantity: int) -> None:
            live = [p for p in self._live() if self._counterpart(p, "quickbooks") is not None]
            if not live:
                return
            person = live[pick % len(live)]
            assert person.qbo_id is not None
            if self.item_id is None:
                income = next(a for a in product.quickbooks_admin.records("Account") if a["AccountType"] == "Income")
                item = {"Name": f"{self.prefix}hour", "Type": "Service", "UnitPrice": PRICE}
                item["IncomeAccountRef"] = {"value": income["Id"]}
                self.item_id = str(product.quickbooks_admin.create("Item", item)["Id"])
            line = {
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": self.item_id}, "Qty": quantity},
            }
            body = {"CustomerRef": {"value": person.qbo_id}, "Line": [line]}
            made = product.quickbooks_admin.create("Invoice", body)
            person.billed = True
            self.bills.append(Bill(str(made["Id"]), person, quantity * PRICE))
            self.done["invoice"] += 1

        def pay(self, pick: int, share: float) -> None:
            open_bills = [b for b in self.bills if b.balance > 0]
            if not open_bills:
                return
            bill = open_bills[pick % len(open_bills)]
            amount = bill.balance if share == 1.0 else bill.balance // 2 or bill.balance
            assert bill.person.qbo_id is not None
            payment = product.quickbooks_admin.create(
                "Payment",
                {
                    "CustomerRef": {"value": bill.person.qbo_id},
                    "TotalAmt": amount,
                    "PaymentMethodRef": {"value": "1", "name": "Check"},
                    "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": bill.qbo_id, "TxnType": "Invoice"}]}],
                },
            )
            bill.payments.append(amount)
            self.payment_ids.append(str(payment["Id"]))
            self.done["pay"] += 1

        def void(self, pick: int) -> None:
            unpaid = [b for b in self.bills if not b.voided and not b.payments]  # QuickBooks refuses otherwise
            if not unpaid:
                return
            bill = unpaid[pick % len(unpaid)]
            product.quickbooks_admin.void("Invoice", bill.qbo_id)
            bill.voided = True
            self.done["void"] += 1

        # -- faults -------------------------------------------------------------------------------

        def api_fault(self, provider: str, kind: str, count: int) -> None:
            admin = product.hubspot_admin if provider == "hubspot" else product.quickbooks_admin
            admin.add_fault(kind, count=count, delay_ms=1500 if kind == "slow" else None)

        def webhook_fault(self, provider: str, kind: str, count: int) -> None:
            admin = product.hubspot_admin if provider == "hubspot" else product.quickbooks_admin
            admin.add_fault(kind, count=count, delay_ms=2000 if kind == "delay" else None)

        @invariant()
        def sandboxes_answer(self) -> None:
            assert product.hubspot_admin.stats() is not None

        def teardown(self) -> None:
            try:
                self._quiesce()
                self._check()
            finally:
                for patch in self.patches:
                    patch.stop()

        # -- quiescence and the checks ------------------------------------------------------------

        def _quiesce(self) -> None:
            product.settle(timeout=240)
            for admin in (product.hubspot_admin, product.quickbooks_admin):
                injected = admin.faults().get("injected", {})
                for kind, count in injected.items():
                    tally.injected(kind, count)
                admin.clear_faults()
            for point, count in self.crashes.happened.items():
                tally.injected(f"crash {point}", count)
            self.crashes.armed.clear()
            product.devstack.invoke("ReconcileFunction", {"action": "sweep"})
            product.settle(timeout=240)

        def _check(self) -> None:
            contacts = [c for c in _contacts(product, self.prefix) if not c.get("archived")]
            customers = _customers(product, self.prefix)
            by_email_contacts = Counter(c["properties"]["email"] for c in contacts)
            by_email_customers = Counter((c.get("PrimaryEmailAddr") or {}).get("Address") for c in customers)
            duplicates = sum(n - 1 for n in by_email_contacts.values() if n > 1)
            duplicates += sum(n - 1 for n in by_email_customers.values() if n > 1)
            contact_of = {c["properties"]["email"]: c for c in contacts}
            customer_of = {(c.get("PrimaryEmailAddr") or {}).get("Address"): c for c in customers}
            divergent, lost = [], []
            for person in self.people:
                if person.retired:
                    continue
                contact, customer = contact_of.get(person.email), customer_of.get(person.email)
                if contact is None or customer is None:
                    lost.append(f"{person.email}: missing on one side")
                    continue
                for mapping in CONTACT_FIELDS:
                    left = mapping.canonical(contact["properties"].get(mapping.hubspot))
                    right = mapping.canonical(qbo_value(customer, mapping.qbo))
                    if left != right:
                        divergent.append(f"{person.email} {mapping.hubspot}: {left!r} != {right!r}")
                for name, value in person.last.items():
                    held = contact["properties"].get(name)
                    if held != value:
                        lost.append(f"{person.email} {name}: {held!r}, last edit {value!r}")
            bill_divergent, bill_duplicates, bill_lost = self._check_bills(contact_of)
            divergent += bill_divergent
            lost += bill_lost
            duplicates += bill_duplicates
            ours = {f"ERR#contacts#hs#{p.hubspot_id}" for p in self.people}
            ours |= {f"ERR#contacts#qbo#{p.qbo_id}" for p in self.people}
            ours |= {f"ERR#invoices#qbo#{b.qbo_id}" for b in self.bills}
            ours |= {f"ERR#payments#qbo#{payment_id}" for payment_id in self.payment_ids}
            errors = [i for i in table_items(product) if i["SK"]["S"] in ours]
            dlq = product.devstack.client("sqs").get_queue_attributes(
                QueueUrl=product.devstack.physical["SyncDeadLetterQueue"],
                AttributeNames=["ApproximateNumberOfMessages"],
            )["Attributes"]["ApproximateNumberOfMessages"]
            tally.operations.update(self.done)
            tally.scenario(
                steps=self.steps,
                divergences=len(divergent),
                duplicates=duplicates,
                lost_updates=len(lost),
                retried=_retried(product) - self.retried_before,
                dead_lettered=int(dlq),
                errors_left=len(errors),
            )
            assert divergent == []
            assert duplicates == 0
            assert lost == []
            assert errors == []
            assert int(dlq) == 0

        def _check_bills(self, contact_of: dict[str, dict[str, Any]]) -> tuple[list[str], int, list[str]]:
            """Every invoice once in HubSpot with QuickBooks' balance and status; every payment once on its
            contact's timeline. Answers divergences, duplicates and losses."""
            mirrored = Counter(r["properties"].get("qbo_invoice_id") for r in product.hubspot_admin.records("invoices"))
            invoice_of = {r["properties"].get("qbo_invoice_id"): r for r in product.hubspot_admin.records("invoices")}
            divergent, lost = [], []
            duplicates = sum(mirrored[b.qbo_id] - 1 for b in self.bills if mirrored[b.qbo_id] > 1)
            for bill in self.bills:
                invoice = invoice_of.get(bill.qbo_id)
                if invoice is None:
                    lost.append(f"invoice {bill.qbo_id}: not in HubSpot")
                    continue
                props = invoice["properties"]
                held = (float(props.get("qbo_invoice_balance") or "nan"), props.get("qbo_invoice_status"))
                if held != (bill.balance, bill.status):
                    divergent.append(f"invoice {bill.qbo_id}: {held}, QuickBooks {(bill.balance, bill.status)}")
            for person in {b.person.email: b.person for b in self.bills}.values():
                contact = contact_of.get(person.email)
                if contact is None:
                    continue  # counted above as missing on one side
                events = product.hubspot_admin.timeline("contacts", contact["id"])
                shown = Counter(float(e["tokens"]["amount"]) for e in events if e["tokens"]["status"] == "received")
                paid = Counter(amount for b in self.bills if b.person is person for amount in b.payments)
                duplicates += sum((shown - paid).values())
                lost += [f"{person.email}: payment of {amount} not shown" for amount in (paid - shown).elements()]
            return divergent, duplicates, lost

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


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_worker_crash_at_each_point_converges(running: SandboxedProduct, tally: Tally, point: str) -> None:
    product = running
    email = f"crash.{uuid.uuid4().hex[:6]}@example.com"
    contact = product.hubspot_admin.create("contacts", {"email": email, "firstname": "Before"})
    product.settle(timeout=120)
    crashes = Crashes()
    patches = crashes.patches()
    for patch in patches:
        patch.start()
    try:
        crashes.armed[point] += 1
        product.hubspot_admin.update("contacts", contact["id"], {"firstname": "After"})
        customer = _customers(product, email)[0]
        time.sleep(QBO_SECOND)
        product.quickbooks_admin.update("Customer", customer["Id"], {"FamilyName": "Crashed"})
        product.settle(timeout=120)
    finally:
        for patch in patches:
            patch.stop()
    tally.injected(f"crash {point}", crashes.happened[point])
    assert crashes.happened[point] == 1
    customers = _customers(product, email)
    props = next(c for c in _contacts(product, email))["properties"]
    assert len(customers) == 1
    assert (customers[0]["GivenName"], props["lastname"]) == ("After", "Crashed")
