"""The model of one connection: the people and invoices a run made in one HubSpot portal and one QuickBooks
company, the operations that change them as users would, and the checks made at quiescence."""

import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devstack.sandboxed import SandboxedProduct
from hubbooks.mapping.fields import CONTACT_FIELDS, qbo_value
from hubbooks.store.table import connection_pk
from sandbox.client import HubSpotAdmin, QuickBooksAdmin
from tests.support.product import table_items

# HubSpot property -> (QBO path, how an edit there is written)
FIELDS: dict[str, tuple[str, Callable[[str], dict[str, Any]]]] = {
    "firstname": ("GivenName", lambda v: {"GivenName": v}),
    "lastname": ("FamilyName", lambda v: {"FamilyName": v}),
    "phone": ("PrimaryPhone.FreeFormNumber", lambda v: {"PrimaryPhone": {"FreeFormNumber": v}}),
    "company": ("CompanyName", lambda v: {"CompanyName": v}),
}
OPERATIONS = {
    "create contact": 12,
    "create customer": 9,
    "edit": 36,
    "delete": 3,
    "merge contacts": 3,
    "merge customers": 3,
    "invoice": 6,
    "pay": 6,
    "void": 2,
    "switch active": 3,
}
PRICE = 100.0
QBO_SECOND = 1.05  # QuickBooks keeps whole seconds: an edit on the other side waits this long to be clearly later


@dataclass
class Person:
    email: str
    hubspot_id: str | None = None
    qbo_id: str | None = None
    last: dict[str, str] = field(default_factory=dict)  # field -> the value edited last (on either side)
    edited_at: dict[str, float] = field(default_factory=dict)  # side -> when it was last edited
    retired: bool = False  # deleted, or merged into someone else: no longer expected on both sides
    billed: bool = False  # has invoices: never merged away (a deleted one's invoices are still checked)
    active: bool = True  # the QuickBooks customer is active (an inactive one takes no invoices and no merges)


@dataclass
class Bill:
    """A QuickBooks invoice of the run and what was done to it."""

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


@dataclass
class Findings:
    """What the checks of one world found at quiescence; every list must be empty."""

    divergent: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class World:
    def __init__(self, hubspot: HubSpotAdmin, quickbooks: QuickBooksAdmin, connection_id: str) -> None:
        self.hubspot = hubspot
        self.quickbooks = quickbooks
        self.connection_id = connection_id
        self.prefix = f"m{uuid.uuid4().hex[:6]}."
        self.people: list[Person] = []
        self.bills: list[Bill] = []
        self.payment_ids: list[str] = []
        self.item_id: str | None = None
        self.done: Counter[str] = Counter()  # operations made, by kind
        self.steps = 0

    def act(self, kind: str, rng: random.Random) -> None:
        """One operation of `kind`, its choices drawn from `rng`."""
        self.steps += 1
        pick = rng.randrange(10_000)
        if kind == "create contact":
            self.create_contact(rng.choice(["Ada", "Bo", "Cy"]))
        elif kind == "create customer":
            self.create_customer(rng.choice(["Lee", "Moe", "Ng"]))
        elif kind == "edit":
            self.edit(pick, rng.choice(["hubspot", "quickbooks"]), rng.choice(sorted(FIELDS)))
        elif kind == "delete":
            self.delete_contact(pick)
        elif kind in ("merge contacts", "merge customers"):
            self.merge(pick, rng.randrange(10_000), "hubspot" if kind == "merge contacts" else "quickbooks")
        elif kind == "invoice":
            self.invoice(pick, rng.randint(1, 4))
        elif kind == "pay":
            self.pay(pick, rng.choice([0.5, 1.0]))
        elif kind == "void":
            self.void(pick)
        elif kind == "switch active":
            self.switch_active(pick)
        else:
            raise ValueError(f"no operation {kind!r}")

    # -- reading the sandboxes ----------------------------------------------------------------------

    def contacts(self, prefix: str) -> list[dict[str, Any]]:
        found = self.hubspot.records("contacts", archived="include")
        return [c for c in found if str(c["properties"].get("email", "")).startswith(prefix)]

    def customers(self, prefix: str) -> list[dict[str, Any]]:
        found = self.quickbooks.records("Customer")
        return [c for c in found if str((c.get("PrimaryEmailAddr") or {}).get("Address", "")).startswith(prefix)]

    def _counterpart(self, person: Person, side: str) -> str | None:
        if side == "hubspot" and person.hubspot_id is None:
            found = [c for c in self.contacts(person.email) if not c.get("archived")]
            person.hubspot_id = found[0]["id"] if len(found) == 1 else None
        if side == "quickbooks" and person.qbo_id is None:
            found = self.customers(person.email)
            person.qbo_id = found[0]["Id"] if len(found) == 1 else None
        return person.hubspot_id if side == "hubspot" else person.qbo_id

    def _live(self, *, unbilled: bool = False, active: bool = False) -> list[Person]:
        return [
            p for p in self.people if not p.retired and not (unbilled and p.billed) and not (active and not p.active)
        ]

    @staticmethod
    def _after_other_side(person: Person, side: str) -> None:
        """Wait until an edit on `side` is clearly later than the person's last edit on the other side."""
        other = "quickbooks" if side == "hubspot" else "hubspot"
        wait = person.edited_at.get(other, 0.0) + QBO_SECOND - time.monotonic()
        if wait > 0:
            time.sleep(wait)

    # -- contacts and customers ---------------------------------------------------------------------

    def create_contact(self, first: str) -> None:
        person = Person(f"{self.prefix}c{len(self.people)}@example.com")
        made = self.hubspot.create("contacts", {"email": person.email, "firstname": first})
        person.hubspot_id, person.last["firstname"] = made["id"], first
        person.edited_at["hubspot"] = time.monotonic()
        self.people.append(person)
        self.done["create contact"] += 1

    def create_customer(self, family: str) -> None:
        person = Person(f"{self.prefix}q{len(self.people)}@example.com")
        body = {"DisplayName": person.email, "FamilyName": family, "PrimaryEmailAddr": {"Address": person.email}}
        person.qbo_id, person.last["lastname"] = self.quickbooks.create("Customer", body)["Id"], family
        person.edited_at["quickbooks"] = time.monotonic()
        self.people.append(person)
        self.done["create customer"] += 1

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
            self.hubspot.update("contacts", record_id, {name: value})
        else:
            self.quickbooks.update("Customer", record_id, FIELDS[name][1](value))
        person.last[name], person.edited_at[side] = value, time.monotonic()
        self.done[f"edit in {side}"] += 1

    def delete_contact(self, pick: int) -> None:
        live = [p for p in self._live() if p.hubspot_id is not None]  # invoices and payments may still come
        if len(live) < 2:
            return
        person = live[pick % len(live)]
        assert person.hubspot_id is not None
        self.hubspot.delete("contacts", person.hubspot_id)
        person.retired = True
        self.done["delete"] += 1

    def switch_active(self, pick: int) -> None:
        """Make a customer inactive in QuickBooks, or active again; the contact's "QuickBooks active" follows."""
        live = [p for p in self._live(unbilled=True) if self._counterpart(p, "quickbooks") is not None]
        if not live:
            return
        person = live[pick % len(live)]
        assert person.qbo_id is not None
        self._after_other_side(person, "quickbooks")
        person.active = not person.active
        self.quickbooks.update("Customer", person.qbo_id, {"Active": person.active})
        person.last["qbo_active"] = str(person.active).lower()
        person.edited_at["quickbooks"] = time.monotonic()
        self.done["make active" if person.active else "make inactive"] += 1

    def merge(self, first: int, second: int, side: str) -> None:
        """Merge two people on one side: the survivor keeps its values and, in HubSpot, takes the merged
        contact's values for its empty fields; the merged person is retired (its record on the other side
        stays, unlinked, or becomes the survivor's counterpart when the survivor had none)."""
        live = [p for p in self._live(unbilled=True, active=True) if self._counterpart(p, side) is not None]
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
            by_id = {c["id"]: c["properties"] for c in self.contacts("") if not c.get("archived")}
            kept, taken = by_id.get(survivor.hubspot_id), by_id.get(merged.hubspot_id)
            if kept is None or taken is None:
                self.done["merge skipped: a contact is gone"] += 1
                return
            self.hubspot.merge("contacts", survivor.hubspot_id, merged.hubspot_id)
            for name in FIELDS:
                if not kept.get(name) and taken.get(name):
                    survivor.last[name] = taken[name]
            survivor.qbo_id = None  # its counterpart may now be the merged person's customer
        else:
            assert survivor.qbo_id is not None
            assert merged.qbo_id is not None
            self.quickbooks.merge("Customer", survivor.qbo_id, merged.qbo_id)
            survivor.hubspot_id = None  # its counterpart may now be the merged person's contact
        survivor.edited_at[side] = time.monotonic()
        merged.retired = True
        self.done[f"merge {'contacts' if side == 'hubspot' else 'customers'}"] += 1

    # -- invoices and payments ----------------------------------------------------------------------

    def invoice(self, pick: int, quantity: int) -> None:
        live = [p for p in self._live(active=True) if self._counterpart(p, "quickbooks") is not None]
        if not live:
            return
        person = live[pick % len(live)]
        assert person.qbo_id is not None
        if self.item_id is None:
            income = next(a for a in self.quickbooks.records("Account") if a["AccountType"] == "Income")
            item = {"Name": f"{self.prefix}hour", "Type": "Service", "UnitPrice": PRICE}
            item["IncomeAccountRef"] = {"value": income["Id"]}
            self.item_id = str(self.quickbooks.create("Item", item)["Id"])
        line = {
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"value": self.item_id}, "Qty": quantity},
        }
        made = self.quickbooks.create("Invoice", {"CustomerRef": {"value": person.qbo_id}, "Line": [line]})
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
        payment = self.quickbooks.create(
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
        self.quickbooks.void("Invoice", bill.qbo_id)
        bill.voided = True
        self.done["void"] += 1

    # -- the checks at quiescence -------------------------------------------------------------------

    def check(self, product: SandboxedProduct) -> Findings:
        """Every linked pair agrees, nobody exists twice, the last edit of every field is what both sides
        hold, invoices and payments show as QuickBooks has them, and no sync error of ours is left."""
        findings = Findings()
        contacts = [c for c in self.contacts(self.prefix) if not c.get("archived")]
        customers = self.customers(self.prefix)
        contact_of = {c["properties"]["email"]: c for c in contacts}
        customer_of = {(c.get("PrimaryEmailAddr") or {}).get("Address"): c for c in customers}
        for side, emails in (
            ("HubSpot", Counter(c["properties"]["email"] for c in contacts)),
            ("QuickBooks", Counter((c.get("PrimaryEmailAddr") or {}).get("Address") for c in customers)),
        ):
            findings.duplicates += [f"{email} {n} times in {side}" for email, n in emails.items() if n > 1]
        for person in self.people:
            if person.retired:
                continue
            contact, customer = contact_of.get(person.email), customer_of.get(person.email)
            if contact is None or customer is None:
                findings.lost.append(f"{person.email}: missing on one side")
                continue
            for mapping in CONTACT_FIELDS:
                left = mapping.canonical(contact["properties"].get(mapping.hubspot))
                right = mapping.canonical(qbo_value(customer, mapping.qbo))
                if left != right:
                    findings.divergent.append(f"{person.email} {mapping.hubspot}: {left!r} != {right!r}")
            for name, value in person.last.items():
                held = contact["properties"].get(name)
                if held != value:
                    findings.lost.append(f"{person.email} {name}: {held!r}, last edit {value!r}")
        self._check_bills(contact_of, findings)
        ours = {f"ERR#contacts#hs#{p.hubspot_id}" for p in self.people}
        ours |= {f"ERR#contacts#qbo#{p.qbo_id}" for p in self.people}
        ours |= {f"ERR#invoices#qbo#{b.qbo_id}" for b in self.bills}
        ours |= {f"ERR#payments#qbo#{payment_id}" for payment_id in self.payment_ids}
        pk = connection_pk(self.connection_id)
        findings.errors += [
            f"{i['SK']['S']}: {i.get('message', {}).get('S', '')}"
            for i in table_items(product)
            if i["PK"]["S"] == pk and i["SK"]["S"] in ours
        ]
        return findings

    def _check_bills(self, contact_of: dict[str, dict[str, Any]], findings: Findings) -> None:
        """Every invoice once in HubSpot with QuickBooks' balance and status; every payment once on its
        contact's timeline."""
        invoices = self.hubspot.records("invoices")
        mirrored = Counter(r["properties"].get("qbo_invoice_id") for r in invoices)
        invoice_of = {r["properties"].get("qbo_invoice_id"): r for r in invoices}
        findings.duplicates += [
            f"invoice {b.qbo_id} {mirrored[b.qbo_id]} times" for b in self.bills if mirrored[b.qbo_id] > 1
        ]
        for bill in self.bills:
            invoice = invoice_of.get(bill.qbo_id)
            if invoice is None:
                findings.lost.append(f"invoice {bill.qbo_id}: not in HubSpot")
                continue
            props = invoice["properties"]
            held = (float(props.get("qbo_invoice_balance") or "nan"), props.get("qbo_invoice_status"))
            if held != (bill.balance, bill.status):
                findings.divergent.append(f"invoice {bill.qbo_id}: {held}, QuickBooks {(bill.balance, bill.status)}")
        for person in {b.person.email: b.person for b in self.bills if not b.person.retired}.values():
            # (A deleted contact's payments are not looked for: a later payment makes the contact again.)
            contact = contact_of.get(person.email)
            if contact is None:
                continue  # counted as missing on one side
            events = self.hubspot.timeline("contacts", contact["id"])
            shown = Counter(float(e["tokens"]["amount"]) for e in events if e["tokens"]["status"] == "received")
            paid = Counter(amount for b in self.bills if b.person is person for amount in b.payments)
            findings.duplicates += [f"{person.email}: payment of {a} shown twice" for a in (shown - paid).elements()]
            findings.lost += [f"{person.email}: payment of {a} not shown" for a in (paid - shown).elements()]
