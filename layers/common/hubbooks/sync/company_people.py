"""A business customer's person: the company's first contact (the lowest id, the one added first; an invoice of
the company goes to it too) stands for the customer's own name and email.

HubSpot keeps no "primary contact" of a company (only a contact's primary company), so one rule picks it. A
company mapping's "contact.<property>" reads and writes that property of this contact; a company without a
contact gets one (the contact with that email when HubSpot has it, else a new one) when QuickBooks names a
person."""

from dataclasses import dataclass
from typing import Any

from hubbooks.hubspot.client import HubSpotClient
from hubbooks.mapping.fields import PERSON
from hubbooks.sync.models import hubspot_made
from hubbooks.sync.ports import StaleObjectError

CONTACT_TO_COMPANY = 279  # HubSpot's default association of a contact with a company


@dataclass(frozen=True)
class Person:
    """A company's first contact as read: its id ("" when the company has none), properties and change time."""

    contact_id: str
    properties: dict[str, str]
    updated_at: str = ""


NOBODY = Person("", {})


def as_mapped(person: Person) -> dict[str, str]:
    """A person's properties under the names company mappings give them ("email" -> "contact.email")."""
    return {f"{PERSON}{name}": value for name, value in person.properties.items()}


def first_contacts(client: HubSpotClient, company_ids: list[str]) -> dict[str, str]:
    """Each company's first contact ("" for none): one batch read of associations per 100 companies. A company a
    preview only pretends to make (its id is not HubSpot's) has none yet."""
    real = hubspot_made(company_ids)
    found = client.associations_of("companies", "contacts", real) if real else {}
    return {i: min((to for to, _kind in found.get(i, [])), key=int, default="") for i in company_ids}


class CompanyPeople:
    """Companies' people, read in bulk and written through the contacts API."""

    def __init__(self, client: HubSpotClient) -> None:
        self._client = client

    def read(self, company_ids: list[str], properties: list[str]) -> dict[str, Person]:
        """Each company's person with `properties` (NOBODY for a company without a contact): a batch read of
        associations and one of contacts, per 100."""
        firsts = first_contacts(self._client, company_ids)
        contacts = sorted({c for c in firsts.values() if c}, key=int)
        bodies = self._client.batch_read("contacts", contacts, properties) if contacts else []
        people = {
            str(body["id"]): Person(
                str(body["id"]),
                {p: str((body.get("properties") or {}).get(p) or "") for p in properties},
                str(body.get("updatedAt") or ""),
            )
            for body in bodies
        }
        return {company: people.get(contact, NOBODY) for company, contact in firsts.items()}

    def companies_of(self, contact_id: str) -> list[str]:
        """The companies whose first contact this contact is."""
        companies = self._client.associated("contacts", contact_id, "companies")
        return [c for c, first in first_contacts(self._client, companies).items() if first == contact_id]

    def write(
        self, company_id: str, properties: dict[str, str], expected: Person | None, names: list[str]
    ) -> Person | None:
        """Give the company's person these property values, if it is still the person `expected` (as read when the
        change was planned) with the same values: a contact keeps its own history, which the company's write
        check does not read, so a person's edit made since is not written over (StaleObjectError). A company with
        no contact gets one: the contact with the email, when HubSpot has one, else a new contact. Answers the
        contact taken by its email, as it now is (its `names`), for it may hold values nobody planned with."""
        now = self.read([company_id], list(properties))[company_id]
        if expected is not None and (
            now.contact_id != expected.contact_id
            or any(now.properties.get(p, "") != expected.properties.get(p, "") for p in properties)
        ):
            raise StaleObjectError(f"company {company_id}: its contact changed since it was read")
        if now.contact_id:
            self._update(now, properties)
            return None
        if not any(properties.values()):
            return None
        found = self._by_email(properties.get("email", ""), sorted({*names, *properties}))
        if found is not None:
            self._update(found, properties)
            self._client.associate("contacts", found.contact_id, "companies", company_id)
            return Person(found.contact_id, found.properties | properties)
        to_company = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": CONTACT_TO_COMPANY}
        made = {p: v for p, v in properties.items() if v}
        self._client.create("contacts", made, [{"to": {"id": company_id}, "types": [to_company]}])
        return None

    def _update(self, person: Person, properties: dict[str, str]) -> None:
        changed = {p: v for p, v in properties.items() if person.properties.get(p, "") != v}
        if changed:
            self._client.update("contacts", person.contact_id, changed)

    def _by_email(self, email: str, properties: list[str]) -> Person | None:
        if not email:
            return None
        filters: list[dict[str, Any]] = [{"propertyName": "email", "operator": "EQ", "value": email}]
        found = self._client.search("contacts", filters, properties, limit=1)
        if not found:
            return None
        props = found[0].get("properties") or {}
        return Person(str(found[0]["id"]), {p: str(props.get(p) or "") for p in properties})
