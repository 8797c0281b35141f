"""The model of one connection of business customers: the companies and customers a run made in one HubSpot
portal and one QuickBooks company, the operations that change them as users would (creates, edits, parent
changes, deletes and merges on either side), and the checks made at quiescence. A business is known on both
sides by its domain (a company's `domain`, a customer's website)."""

import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devstack.sandboxed import SandboxedProduct
from hubbooks.mapping.fields import COMPANY_FIELDS, PARENT, qbo_value
from hubbooks.mapping.transforms import domain
from hubbooks.sync.hierarchy import CHILD_TO_PARENT
from sandbox.client import HubSpotAdmin, QuickBooksAdmin, SandboxError
from tests.reliability.world import (
    SIDES,
    Findings,
    Person,
    after_other_side,
    conflicts_of,
    keep_story,
    settled_per_record,
    sort_errors,
)
from tests.support.product import table_items

# HubSpot property -> how an edit of it is written to a customer
FIELDS: dict[str, Callable[[str], dict[str, Any]]] = {
    "phone": lambda v: {"PrimaryPhone": {"FreeFormNumber": v}},
    "city": lambda v: {"BillAddr": {"City": v}},
}
OPERATIONS = {
    "create company": 10,
    "create customer": 8,
    "edit": 30,
    "set parent": 30,
    "clear parent": 10,
    "delete company": 3,
    "merge companies": 3,
    "merge customers": 3,
}
LINK_WAIT = 3.0  # seconds a step about linked businesses waits for them
MAX_LEVEL = 4  # QuickBooks: a sub-customer sits at most four levels below its top customer
COMPARED = [m for m in COMPANY_FIELDS if m.hubspot != PARENT]


@dataclass
class Business(Person):
    """A business: `email` holds its domain; `parent` the business it was last put under (None: on its own)."""

    parent: "Business | None" = None


class Businesses:
    def __init__(self, hubspot: HubSpotAdmin, quickbooks: QuickBooksAdmin, connection_id: str) -> None:
        self.hubspot = hubspot
        self.quickbooks = quickbooks
        self.connection_id = connection_id
        self.prefix = f"b{uuid.uuid4().hex[:6]}"
        self.businesses: list[Business] = []
        self.done: Counter[str] = Counter()
        self.steps = 0

    @property
    def size(self) -> int:
        return len(self.businesses)

    def act(self, kind: str, rng: random.Random) -> None:
        self.steps += 1
        pick, other = rng.randrange(10_000), rng.randrange(10_000)
        side = rng.choice(SIDES)
        if kind == "create company":
            self.create("hubspot")
        elif kind == "create customer":
            self.create("quickbooks")
        elif kind == "edit":
            self.edit(pick, side, rng.choice(sorted(FIELDS)))
        elif kind == "set parent":
            self.set_parent(pick, other, side)
        elif kind == "clear parent":
            self.clear_parent(pick, side)
        elif kind == "delete company":
            self.delete(pick)
        elif kind in ("merge companies", "merge customers"):
            self.merge(pick, other, "hubspot" if kind == "merge companies" else "quickbooks")
        else:
            raise ValueError(f"no operation {kind!r}")

    # -- reading the sandboxes ----------------------------------------------------------------------

    def companies(self) -> dict[str, dict[str, Any]]:
        """The run's live companies by domain (a domain twice: the later one, counted by `check`)."""
        return {domain(c["properties"].get("domain")): c for c in self._companies()}

    def _companies(self) -> list[dict[str, Any]]:
        found = self.hubspot.records("companies")
        return [
            c for c in found if not c.get("archived") and domain(c["properties"].get("domain")).startswith(self.prefix)
        ]

    def _customers(self) -> list[dict[str, Any]]:
        found = self.quickbooks.records("Customer")
        return [c for c in found if domain(qbo_value(c, "WebAddr.URI")).startswith(self.prefix)]

    def customers(self) -> dict[str, dict[str, Any]]:
        return {domain(qbo_value(c, "WebAddr.URI")): c for c in self._customers()}

    def _counterpart(self, business: Business, side: str) -> str | None:
        if side == "hubspot" and business.hubspot_id is None:
            found = self.companies().get(business.email)
            business.hubspot_id = None if found is None else str(found["id"])
        if side == "quickbooks" and business.qbo_id is None:
            made = self.customers().get(business.email)
            business.qbo_id = None if made is None else str(made["Id"])
        return business.hubspot_id if side == "hubspot" else business.qbo_id

    def _live(self, *, both: bool = False) -> list[Business]:
        live = [b for b in self.businesses if not b.retired]
        return [b for b in live if all(self._counterpart(b, s) for s in SIDES)] if both else live

    def _linked(self, at_least: int) -> list[Business]:
        """Businesses on both sides, waiting a little for new ones to arrive when fewer than `at_least` are: a
        step about a tree (or a merge) then does something instead of finding nothing to work on."""
        deadline = time.monotonic() + LINK_WAIT
        waiting = len(self._live()) >= at_least  # enough made: they are on their way to the other side
        while len(found := self._live(both=True)) < at_least and waiting and time.monotonic() < deadline:
            time.sleep(0.2)
        return found

    def _children(self, business: Business) -> list[Business]:
        return [b for b in self._live() if b.parent is business]

    @staticmethod
    def _level(business: Business) -> int:
        level, above = 0, business.parent
        while above is not None:
            level, above = level + 1, above.parent
        return level

    def _height(self, business: Business) -> int:
        return max((1 + self._height(child) for child in self._children(business)), default=0)

    def _under(self, business: Business, ancestor: Business) -> bool:
        above = business.parent
        while above is not None:
            if above is ancestor:
                return True
            above = above.parent
        return False

    # -- operations ---------------------------------------------------------------------------------

    def create(self, side: str) -> None:
        number = len(self.businesses)
        business = Business(f"{self.prefix}n{number}.example")
        if side == "hubspot":
            made = self.hubspot.create("companies", {"name": f"{self.prefix} Co {number}", "domain": business.email})
            business.hubspot_id = str(made["id"])
        else:
            name = f"{self.prefix} Books {number}"
            body = {"DisplayName": name, "CompanyName": name, "WebAddr": {"URI": f"https://www.{business.email}/"}}
            business.qbo_id = str(self.quickbooks.create("Customer", body)["Id"])
        business.edited(side, {})
        self.businesses.append(business)
        self.done[f"create {'company' if side == 'hubspot' else 'customer'}"] += 1

    def edit(self, pick: int, side: str, name: str) -> None:
        live = [b for b in self._live() if self._counterpart(b, side)]
        if not live:
            return
        business = live[pick % len(live)]
        record_id = self._counterpart(business, side)
        assert record_id is not None
        after_other_side(business, side)
        value = f"{name[:2]}{self.steps}{side[0]}"
        if side == "hubspot":
            self.hubspot.update("companies", record_id, {name: value})
        else:
            self.quickbooks.update("Customer", record_id, FIELDS[name](value))
        business.edited(side, {name: value})
        self.done[f"edit in {side}"] += 1

    def set_parent(self, pick: int, other: int, side: str) -> None:
        """Put one business under another on one side, as QuickBooks allows (no cycle, five levels at most)."""
        live = self._linked(2)
        if len(live) < 2:
            return
        child, parent = live[pick % len(live)], live[other % len(live)]
        fits = self._level(parent) + 1 + self._height(child) <= MAX_LEVEL
        if child is parent or parent is child.parent or self._under(parent, child) or not fits:
            return
        after_other_side(child, side)
        if not self._write_parent(child, parent, side):
            self.done[f"set parent in {side}: already so"] += 1
            return
        child.parent = parent
        child.edited(side, {PARENT: parent.email})
        self.done[f"set parent in {side}"] += 1

    def clear_parent(self, pick: int, side: str) -> None:
        under = [b for b in self._linked(2) if b.parent is not None and not b.parent.retired]
        if not under:
            return
        child = under[pick % len(under)]
        after_other_side(child, side)
        if not self._write_parent(child, None, side):
            self.done[f"clear parent in {side}: already so"] += 1
            return
        child.parent = None
        child.edited(side, {PARENT: ""})
        self.done[f"clear parent in {side}"] += 1

    def _write_parent(self, child: Business, parent: Business | None, side: str) -> bool:
        """Give the child this parent on one side, as a person does; False when that side holds it already (the
        sync may have brought it there): setting a value a record holds is no edit, and no sync can tell it."""
        if side == "quickbooks":
            assert child.qbo_id is not None
            (record,) = self.quickbooks.records("Customer", ids=[child.qbo_id])
            if str(qbo_value(record, "ParentRef.value") or "") == (parent.qbo_id if parent else ""):
                return False
            change = {"ParentRef": {"value": parent.qbo_id}, "Job": True} if parent else {"Job": False}
            self.quickbooks.update("Customer", child.qbo_id, change)
            return True
        assert child.hubspot_id is not None
        current = self.hubspot.associated("companies", child.hubspot_id, "companies", CHILD_TO_PARENT)
        if current == ([parent.hubspot_id] if parent and parent.hubspot_id else []):
            return False
        for above in current:
            self.hubspot.disassociate("companies", child.hubspot_id, "companies", above)
        if parent is not None:
            assert parent.hubspot_id is not None
            self.hubspot.associate("companies", child.hubspot_id, "companies", parent.hubspot_id, CHILD_TO_PARENT)
        return True

    def _alone(self, side: str) -> list[Business]:
        """Businesses outside any tree, on `side` too: what deletes and merges take (a tree's are left alone)."""
        return [b for b in self._live() if b.parent is None and not self._children(b) and self._counterpart(b, side)]

    def delete(self, pick: int) -> None:
        alone = self._alone("hubspot")
        if len(alone) < 2:
            return
        business = alone[pick % len(alone)]
        assert business.hubspot_id is not None
        self.hubspot.delete("companies", business.hubspot_id)
        business.retired = True
        self.done["delete company"] += 1

    def merge(self, first: int, second: int, side: str) -> None:
        """Merge two businesses on one side: the merged one is retired (its record on the other side becomes the
        survivor's counterpart when the survivor had none, else it waits for a person)."""
        alone = self._alone(side)
        if len(alone) < 2:
            return
        survivor, merged = alone[first % len(alone)], alone[second % len(alone)]
        if survivor is merged:
            return
        after_other_side(survivor, side)
        try:
            if side == "hubspot":
                assert survivor.hubspot_id is not None
                assert merged.hubspot_id is not None
                self.hubspot.merge("companies", survivor.hubspot_id, merged.hubspot_id)
                survivor.qbo_id = None  # its counterpart may now be the merged business's customer
            else:
                assert survivor.qbo_id is not None
                assert merged.qbo_id is not None
                self.quickbooks.merge("Customer", survivor.qbo_id, merged.qbo_id)
                survivor.hubspot_id = None
        except SandboxError as refused:  # one of them was merged away on its own side meanwhile
            self.done[f"merge refused: {str(refused)[:40]}"] += 1
            return
        survivor.edited(side, {})
        merged.retired = True
        self.done[f"merge {'companies' if side == 'hubspot' else 'customers'}"] += 1

    # -- the checks at quiescence -------------------------------------------------------------------

    def check(self, product: SandboxedProduct) -> Findings:
        """Every live business once on each side with the same values and the same parent, the last edit of each
        field (and parent) is what both sides hold, and no sync error of ours is left."""
        findings = Findings()
        items = table_items(product)
        conflicts = conflicts_of(items, self.connection_id)
        companies, customers = self._companies(), self._customers()
        for where, domains in (
            ("HubSpot", Counter(domain(c["properties"].get("domain")) for c in companies)),
            ("QuickBooks", Counter(domain(qbo_value(c, "WebAddr.URI")) for c in customers)),
        ):
            findings.duplicates += [f"{d} {n} times in {where}" for d, n in domains.items() if n > 1]
        company_of, customer_of = self.companies(), self.customers()
        domain_of_company = {str(c["id"]): d for d, c in company_of.items()}
        domain_of_customer = {str(c["Id"]): d for d, c in customer_of.items()}
        for business in self._live():
            company, customer = company_of.get(business.email), customer_of.get(business.email)
            if company is None or customer is None:
                findings.lost.append(f"{business.email}: missing in {'HubSpot' if company is None else 'QuickBooks'}")
                keep_story(product, business)
                continue
            for mapping in COMPARED:
                left = mapping.canonical(company["properties"].get(mapping.hubspot))
                right = mapping.canonical(qbo_value(customer, mapping.qbo))
                if left != right:
                    findings.divergent.append(f"{business.email} {mapping.hubspot}: {left!r} != {right!r}")
            above = self.hubspot.associated("companies", str(company["id"]), "companies", CHILD_TO_PARENT)
            in_hubspot = domain_of_company.get(above[0], f"company {above[0]}") if above else ""
            in_quickbooks = domain_of_customer.get(str(qbo_value(customer, "ParentRef.value") or ""), "")
            if in_hubspot != in_quickbooks:
                findings.divergent.append(f"{business.email} parent: {in_hubspot!r} != {in_quickbooks!r}")
            held = {name: str(company["properties"].get(name) or "") for name in FIELDS} | {PARENT: in_hubspot}
            for name, value in business.last.items():
                if held.get(name) == value:
                    continue
                if settled_per_record(business, name, held[name], conflicts) or (
                    name == PARENT and self._parent_conflict(business, conflicts)
                ):
                    findings.per_record.append(f"{business.email} {name}")
                else:
                    findings.lost.append(f"{business.email} {name}: {held.get(name)!r}, last edit {value!r}")
                    keep_story(product, business)
        self._errors(items, findings)
        return findings

    @staticmethod
    def _parent_conflict(business: Business, conflicts: set[tuple[str, ...]]) -> bool:
        """Both sides gave the business another parent before either reached the other: the engine recorded the
        conflict and settled it by the policy (conflicts name parents by QuickBooks id, not domain)."""
        return any(c[0] in (business.hubspot_id, business.qbo_id) and c[1] == PARENT for c in conflicts)

    def _errors(self, items: list[dict[str, Any]], findings: Findings) -> None:
        ours = {f"ERR#companies#{side}#{i}" for b in self.businesses for side, i in b.ids()}
        live = {f"ERR#companies#{side}#{i}" for b in self._live() for side, i in b.ids()}
        sort_errors(items, self.connection_id, ours, live, findings)
