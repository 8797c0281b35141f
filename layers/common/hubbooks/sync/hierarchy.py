"""A business customer's parent, both ways: HubSpot's parent-company association and QuickBooks' ParentRef.

Both sides state the parent as the QuickBooks id of the parent customer, so the 3-way merge compares and
settles it as any field. A HubSpot parent that is not linked yet is stated by its HubSpot id (`UNLINKED`):
writing it, like writing a QuickBooks parent whose company is not linked yet, raises `ParentFirstError`,
and the engine syncs the parent first, then the record again."""

from collections.abc import Callable
from typing import Protocol

from hubbooks.hubspot.client import HubSpotClient
from hubbooks.models.signals import Pair, Side
from hubbooks.sync.models import Link, hubspot_made
from hubbooks.sync.ports import StaleObjectError

# HubSpot's company-to-company association types: a child's association to its parent, and the reverse.
PARENT_TO_CHILD, CHILD_TO_PARENT = 13, 14
UNLINKED = "hubspot:"


class ParentFirstError(Exception):
    """A record's parent is not linked yet: the parent (on `side`, by `parent_id`) is to be synced first."""

    def __init__(self, side: Side, parent_id: str) -> None:
        super().__init__(f"the parent ({side} {parent_id}) is not linked yet")
        self.side = side
        self.parent_id = parent_id


def unlinked_parent(value: str) -> str | None:
    """The HubSpot id of a parent not linked yet, as a HubSpot record states it; None for a QuickBooks id."""
    return value.removeprefix(UNLINKED) if value.startswith(UNLINKED) else None


def qbo_parent(value: str) -> str:
    """The QuickBooks id to write as a ParentRef ("" for none), or ParentFirstError for a parent not linked."""
    hubspot_id = unlinked_parent(value)
    if hubspot_id is not None:
        raise ParentFirstError(Side.HUBSPOT, hubspot_id)
    return value


# The linked partners of some records of one side: id -> the other side's id (unlinked ones left out).
Partners = Callable[[Side, list[str]], dict[str, str]]


class Links(Protocol):
    def links_of(self, pair: Pair, side: Side, record_ids: list[str]) -> dict[str, Link | None]: ...


def company_tree(client: HubSpotClient, links: Links) -> "CompanyTree":
    """Companies' parents named by the companies links `links` keeps (a preview's: its own)."""

    def partners(side: Side, ids: list[str]) -> dict[str, str]:
        return {i: link.other(side) for i, link in links.links_of(Pair.COMPANIES, side, ids).items() if link}

    return CompanyTree(client, partners)


class CompanyTree:
    """HubSpot companies' parents, read and written through the v4 associations, named by QuickBooks ids."""

    def __init__(self, client: HubSpotClient, partners: Partners) -> None:
        self._client = client
        self._partners = partners

    def parents(self, company_ids: list[str]) -> dict[str, str]:
        """Each company's parent company ("" for none): one batch read per 100. A company a preview only pretends
        to make (its id is not HubSpot's) has none yet."""
        real = hubspot_made(company_ids)
        found = self._client.associations_of("companies", "companies", real) if real else {}
        return {i: next((to for to, kind in found.get(i, []) if kind == CHILD_TO_PARENT), "") for i in company_ids}

    def values(self, company_ids: list[str]) -> dict[str, str]:
        """Each company's parent as the merge compares it: the parent's QuickBooks id, `UNLINKED` + its HubSpot
        id when the parent is not linked yet, "" for none."""
        return self._named(self.parents(company_ids))

    def _named(self, parents: dict[str, str]) -> dict[str, str]:
        wanted = sorted({p for p in parents.values() if p})
        linked = self._partners(Side.HUBSPOT, wanted) if wanted else {}
        return {i: (linked.get(p) or f"{UNLINKED}{p}") if p else "" for i, p in parents.items()}

    def company_of(self, value: str) -> str:
        """The HubSpot company of a parent named by its QuickBooks id ("" for none); ParentFirstError when that
        customer has no company yet."""
        if not value:
            return ""
        company = self._partners(Side.QUICKBOOKS, [value]).get(value, "")
        if not company:
            raise ParentFirstError(Side.QUICKBOOKS, value)
        return company

    def set_parent(self, company_id: str, value: str, expected: str | None = None) -> None:
        """Make the company's parent the one `value` names (a QuickBooks id; "" for none), if its parent is still
        the `expected` one (as read before the change was planned): an association keeps no history to put a
        person's change back from, so one made since the read is not written over (StaleObjectError)."""
        wanted = self.company_of(value)
        current = self.parents([company_id])[company_id]
        if expected is not None and self._named({company_id: current})[company_id] != expected:
            raise StaleObjectError(f"company {company_id}: its parent changed since it was read")
        if current == wanted:
            return
        if current:
            self._client.disassociate("companies", company_id, "companies", current)
        if wanted:
            self._client.associate_as("companies", company_id, "companies", wanted, CHILD_TO_PARENT)
