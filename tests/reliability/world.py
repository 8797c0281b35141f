"""The model of one connection: the people and invoices a run made in one HubSpot portal and one QuickBooks
company, the operations that change them as users would, and the checks made at quiescence."""

import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.sandboxed import SandboxedProduct
from hubbooks.mapping.fields import CONTACT_FIELDS, qbo_value
from hubbooks.store.keys import connection_pk
from sandbox.client import HubSpotAdmin, QuickBooksAdmin, SandboxError
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
    "deal": 3,
}
SIDES = ("hubspot", "quickbooks")
PRICE = 100.0
QBO_SECOND = 1.05  # QuickBooks keeps whole seconds: an edit on the other side waits this long to be clearly later
LOST = Path(__file__).resolve().parents[2] / ".reliability" / "lost"  # the story of each lost update


@dataclass
class Person:
    email: str
    hubspot_id: str | None = None
    qbo_id: str | None = None
    last: dict[str, str] = field(default_factory=dict)  # field -> the value edited last (on either side)
    edited_at: dict[str, float] = field(default_factory=dict)  # side -> when it was last edited
    edits: dict[tuple[str, str], tuple[str, float]] = field(default_factory=dict)  # (side, field) -> value, when
    retired: bool = False  # deleted, or merged into someone else: no longer expected on both sides
    billed: bool = False  # has invoices: never merged away (a deleted one's invoices are still checked)
    active: bool = True  # the QuickBooks customer is active (an inactive one takes no invoices and no merges)
    deal_id: str | None = None  # the contact's one open deal: the person's later invoices go to it
    deal_from: int = 0  # the number of the run's invoices when the deal was made

    def ids(self) -> list[tuple[str, str]]:
        """(side as the store writes it, id) of the records known to be this person's."""
        return [(side, i) for side, i in (("hs", self.hubspot_id), ("qbo", self.qbo_id)) if i is not None]

    def edited(self, side: str, values: dict[str, str]) -> None:
        """A person's edit of these fields on one side, now."""
        moment = time.monotonic()
        for name, value in values.items():
            self.last[name], self.edits[(side, name)] = value, (value, moment)
        self.edited_at[side] = moment


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
    """What the checks of one world found at quiescence; every list but `per_record` must be empty."""

    divergent: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Fields edited on both sides before either edit reached the other, settled as the policy says: "most
    # recent wins" is per record (QuickBooks keeps one LastUpdatedTime per customer, no time per field).
    per_record: list[str] = field(default_factory=list)
    # Records a merge left behind (a merged person's counterpart), waiting for a person to merge them too.
    waiting: list[str] = field(default_factory=list)


def after_other_side(person: Person, side: str) -> None:
    """Wait until an edit on `side` is clearly later than the person's last edit on the other side."""
    other = "quickbooks" if side == "hubspot" else "hubspot"
    wait = person.edited_at.get(other, 0.0) + QBO_SECOND - time.monotonic()
    if wait > 0:
        time.sleep(wait)


def conflicts_of(items: list[dict[str, Any]], connection_id: str) -> set[tuple[str, str, str, str, str]]:
    """The conflicts the engine recorded: (record id, field, HubSpot value, QBO value, winner), the record id
    being the HubSpot record's and the QuickBooks one's, one entry each."""
    found: set[tuple[str, str, str, str, str]] = set()
    pk = connection_pk(connection_id)
    for item in items:
        if item["PK"]["S"] != pk or not item["SK"]["S"].startswith("HIST#") or "conflicts" not in item:
            continue
        for entry in item["conflicts"]["L"]:
            c = {k: v["S"] for k, v in entry["M"].items()}
            for record_id in (item["hubspot_id"]["S"], item["qbo_id"]["S"]):
                found.add((record_id, c["field"], c["hubspot"], c["qbo"], c["winner"]))
    return found


def sort_errors(
    items: list[dict[str, Any]], connection_id: str, ours: set[str], live: set[str], findings: Findings
) -> None:
    """The connection's sync errors: a merge's leftover of a record no longer live waits for a person; any other
    of the model's records is an error left."""
    pk = connection_pk(connection_id)
    for item in items:
        key = item["SK"]["S"]
        if item["PK"]["S"] != pk or not key.startswith("ERR#"):
            continue
        if item.get("category", {}).get("S") == "merged_elsewhere" and key not in live:
            findings.waiting.append(key)
        elif key in ours:
            findings.errors.append(f"{key}: {item.get('message', {}).get('S', '')}")


def settled_per_record(person: Person, name: str, held: str, conflicts: set[tuple[str, ...]]) -> bool:
    """Whether `held` is the other side's last edit of the field, that side's record was edited after the
    field's last edit, and the engine recorded that conflict won by that side."""
    last_at, last_side = max((person.edits[(s, name)][1], s) for s in SIDES if (s, name) in person.edits)
    last_value = person.edits[(last_side, name)][0]
    other = SIDES[1 - SIDES.index(last_side)]
    if (other, name) not in person.edits or person.edits[(other, name)][0] != held:
        return False
    if person.edited_at.get(other, 0.0) < last_at:
        return False
    values = {last_side: last_value, other: held}
    winner = "hubspot" if other == "hubspot" else "qbo"
    wanted = (name, values["hubspot"], values["quickbooks"], winner)
    return any((record_id, *wanted) in conflicts for record_id in (person.hubspot_id, person.qbo_id))


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

    @property
    def size(self) -> int:
        return len(self.people)

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
        elif kind == "deal":
            self.deal(pick)
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

    # -- contacts and customers ---------------------------------------------------------------------

    def create_contact(self, first: str) -> None:
        person = Person(f"{self.prefix}c{len(self.people)}@example.com")
        made = self.hubspot.create("contacts", {"email": person.email, "firstname": first})
        person.hubspot_id = made["id"]
        person.edited("hubspot", {"firstname": first})
        self.people.append(person)
        self.done["create contact"] += 1

    def create_customer(self, family: str) -> None:
        person = Person(f"{self.prefix}q{len(self.people)}@example.com")
        body = {"DisplayName": person.email, "FamilyName": family, "PrimaryEmailAddr": {"Address": person.email}}
        person.qbo_id = self.quickbooks.create("Customer", body)["Id"]
        person.edited("quickbooks", {"lastname": family})
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
        after_other_side(person, side)
        value = f"{name[:2]}{self.steps}{side[0]}"
        if side == "hubspot":
            self.hubspot.update("contacts", record_id, {name: value})
        else:
            self.quickbooks.update("Customer", record_id, FIELDS[name][1](value))
        person.edited(side, {name: value})
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
        """Make a customer inactive in QuickBooks, or active again; the contact's "QuickBooks active" follows.
        Only people on both sides: an inactive customer that has no contact yet is not brought into HubSpot."""
        live = [p for p in self._live(unbilled=True) if all(self._counterpart(p, side) for side in SIDES)]
        if not live:
            return
        person = live[pick % len(live)]
        assert person.qbo_id is not None
        after_other_side(person, "quickbooks")
        try:
            self.quickbooks.update("Customer", person.qbo_id, {"Active": not person.active})
        except SandboxError as refused:  # active again under a name another customer took meanwhile
            if "6240" not in str(refused):
                raise
            self.done["make active refused: name taken"] += 1
            return
        person.active = not person.active
        person.edited("quickbooks", {"qbo_active": str(person.active).lower()})
        self.done["make active" if person.active else "make inactive"] += 1

    def merge(self, first: int, second: int, side: str) -> None:
        """Merge two people on one side: the survivor keeps its values and, in HubSpot, takes the merged
        contact's values for its empty fields; the merged person is retired (its record on the other side
        becomes the survivor's counterpart when the survivor had none, else it stays unlinked and waits for a
        person with a `merged_elsewhere` error, counted as `left_for_a_person`)."""
        live = [p for p in self._live(unbilled=True, active=True) if self._counterpart(p, side) is not None]
        if len(live) < 2:
            return
        survivor = live[first % len(live)]
        merged = live[second % len(live)]
        if merged is survivor:
            return
        after_other_side(survivor, side)
        if side == "hubspot":
            assert survivor.hubspot_id is not None
            assert merged.hubspot_id is not None
            by_id = {c["id"]: c["properties"] for c in self.contacts("") if not c.get("archived")}
            kept, taken = by_id.get(survivor.hubspot_id), by_id.get(merged.hubspot_id)
            if kept is None or taken is None:
                self.done["merge skipped: a contact is gone"] += 1
                return
            self.hubspot.merge("contacts", survivor.hubspot_id, merged.hubspot_id)
            survivor.edited(side, {n: taken[n] for n in FIELDS if not kept.get(n) and taken.get(n)})
            survivor.qbo_id = None  # its counterpart may now be the merged person's customer
        else:
            assert survivor.qbo_id is not None
            assert merged.qbo_id is not None
            self.quickbooks.merge("Customer", survivor.qbo_id, merged.qbo_id)
            survivor.edited(side, {})
            survivor.hubspot_id = None  # its counterpart may now be the merged person's contact
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

    def deal(self, pick: int) -> None:
        """A deal for a contact that has none: the invoices QuickBooks makes for the person from now on go to it,
        and its five invoice properties follow the invoice updated last. (The person is then never merged.)"""
        live = [p for p in self._live(active=True) if p.deal_id is None and self._counterpart(p, "hubspot")]
        if not live:
            return
        person = live[pick % len(live)]
        assert person.hubspot_id is not None
        made = self.hubspot.create(
            "deals", {"dealname": f"{person.email} deal", "dealstage": "contractsent", "pipeline": "default"}
        )
        self.hubspot.associate("deals", made["id"], "contacts", person.hubspot_id)
        person.deal_id, person.deal_from, person.billed = made["id"], len(self.bills), True
        self.done["deal"] += 1

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
        items = table_items(product)
        conflicts = conflicts_of(items, self.connection_id)
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
                where = "HubSpot" if contact is None else "QuickBooks"
                known = f"contact {person.hubspot_id}, customer {person.qbo_id}"
                findings.lost.append(f"{person.email}: missing in {where} ({known})")
                keep_story(product, person)
                continue
            for mapping in CONTACT_FIELDS:
                left = mapping.canonical(contact["properties"].get(mapping.hubspot))
                right = mapping.canonical(qbo_value(customer, mapping.qbo))
                if left != right:
                    findings.divergent.append(f"{person.email} {mapping.hubspot}: {left!r} != {right!r}")
            for name, value in person.last.items():
                held = contact["properties"].get(name)
                if held == value:
                    continue
                if settled_per_record(person, name, str(held), conflicts):
                    findings.per_record.append(f"{person.email} {name}")
                else:
                    findings.lost.append(f"{person.email} {name}: {held!r}, last edit {value!r}")
                    keep_story(product, person)
        self._check_bills(contact_of, findings)
        ours = {f"ERR#contacts#hs#{p.hubspot_id}" for p in self.people}
        ours |= {f"ERR#contacts#qbo#{p.qbo_id}" for p in self.people}
        ours |= {f"ERR#invoices#qbo#{b.qbo_id}" for b in self.bills}
        ours |= {f"ERR#payments#qbo#{payment_id}" for payment_id in self.payment_ids}
        live = {f"ERR#contacts#{side}#{record_id}" for p in self._live() for side, record_id in p.ids()}
        sort_errors(items, self.connection_id, ours, live, findings)
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
        self._check_deals(invoice_of, findings)
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

    def _check_deals(self, invoice_of: dict[str, dict[str, Any]], findings: Findings) -> None:
        """A live person's deal holds every invoice made for them since it was made, and shows the amount and
        status of one of its invoices updated last in QuickBooks (its clock keeps whole seconds: ties)."""
        deals = {d["id"]: d["properties"] for d in self.hubspot.records("deals")}
        updated = {i["Id"]: i["MetaData"]["LastUpdatedTime"] for i in self.quickbooks.records("Invoice")}
        for person in self.people:
            if person.deal_id is None or person.retired:
                continue
            on_deal = set(self.hubspot.associated("deals", person.deal_id, "invoices"))
            bills = [b for b in self.bills if b.qbo_id in invoice_of and invoice_of[b.qbo_id]["id"] in on_deal]
            mine = [b for b in self.bills[person.deal_from :] if b.person is person]
            findings.lost += [f"invoice {b.qbo_id}: not on deal {person.deal_id}" for b in mine if b not in bills]
            if not bills:
                continue
            latest = max(updated[b.qbo_id] for b in bills)
            expected = {(b.total if not b.voided else 0.0, b.status) for b in bills if updated[b.qbo_id] == latest}
            props = deals.get(person.deal_id, {})
            held = (float(props.get("qbo_invoice_amount_billed") or "nan"), props.get("qbo_invoice_status"))
            if held not in expected:
                findings.divergent.append(f"deal {person.deal_id}: {held}, QuickBooks {sorted(expected)}")


def keep_story(product: SandboxedProduct, person: Person) -> None:
    """What the table holds about a person whose update or record was lost (links, intents, history) and the calls
    made to their records, in .reliability/lost/: an intermittent finding can be read after the run."""
    ids = {str(person.hubspot_id), str(person.qbo_id), person.email}
    items = [i for i in table_items(product) if any(x in json.dumps(i) for x in ids)]
    calls = [c for c in product.hubspot_admin.calls(0) if f"/{person.hubspot_id}" in str(c.get("path"))]
    calls += [c for c in product.quickbooks_admin.calls(0) if f"/{person.qbo_id}" in str(c.get("path"))]
    LOST.mkdir(parents=True, exist_ok=True)
    story = {"person": repr(person), "items": items, "hubspot_calls": calls}
    (LOST / f"{person.email}.json").write_text(json.dumps(story, indent=1, default=str))
