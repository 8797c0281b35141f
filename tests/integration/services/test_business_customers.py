"""Business customers: HubSpot companies ⇔ QuickBooks customers, with sub-customers ⇔ child companies, through
the engine, over HTTP to both emulators."""

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from hubbooks.hubspot.client import HubSpotClient
from hubbooks.models.signals import Change, Pair, Reason, Side, SyncSignal
from hubbooks.quickbooks.client import QboClient
from hubbooks.sync.adapters import HubSpotAdapter, QboAdapter
from hubbooks.sync.batch import run_batch
from hubbooks.sync.dry_run import Captured, DryRunHubSpot, DryRunQbo, PreviewStore
from hubbooks.sync.engine import Outcome
from hubbooks.sync.hierarchy import CHILD_TO_PARENT, company_tree
from hubbooks.sync.models import DeleteBehaviour, Link
from hubbooks.sync.ports import StaleObjectError
from hubbooks.sync.preview import RowKind, preview_batch
from tests.integration.services.conftest import Wired, item


@pytest.fixture
def business(wired: Wired) -> Wired:
    wired.save_settings(Pair.COMPANIES, set_up=True, enabled=True)
    wired.customers = Pair.COMPANIES
    return wired


def customer(wired: Wired, name: str, parent: str | None = None, **more: Any) -> str:
    body: dict[str, Any] = {"DisplayName": name, "CompanyName": name, **more}
    if parent:
        body |= {"ParentRef": {"value": parent}, "Job": True}
    return str(wired.quickbooks.admin.create("Customer", body)["Id"])


def company(wired: Wired, name: str, parent: str | None = None, **more: str) -> str:
    made = str(wired.hubspot.admin.create("companies", {"name": name, **more})["id"])
    if parent:
        wired.hubspot.admin.associate("companies", made, "companies", parent, CHILD_TO_PARENT)
    return made


def parent_of(wired: Wired, company_id: str) -> str:
    found = wired.hs.associations_of("companies", "companies", [company_id])[company_id]
    return next((to for to, kind in found if kind == CHILD_TO_PARENT), "")


def sync(wired: Wired, side: Side, record_id: str) -> Outcome:
    return wired.engine().handle(wired.changed(Pair.COMPANIES, side, record_id)).outcome


def partner(wired: Wired, side: Side, record_id: str) -> str:
    link = wired.linked(Pair.COMPANIES, side, record_id)
    assert link is not None, f"{side} {record_id} is not linked"
    return link.other(side)


def test_a_sub_sub_customer_brings_its_parents_first_and_the_tree_follows_in_hubspot(business: Wired) -> None:
    acme = customer(business, "Acme")
    site = customer(business, "Leeds site", acme)
    job = customer(business, "Roof job", site)

    assert sync(business, Side.QUICKBOOKS, job) is Outcome.CREATED

    companies = {side_id: partner(business, Side.QUICKBOOKS, side_id) for side_id in (acme, site, job)}
    assert parent_of(business, companies[job]) == companies[site]
    assert parent_of(business, companies[site]) == companies[acme]
    assert parent_of(business, companies[acme]) == ""
    names = {c["id"]: c["properties"]["name"] for c in business.hubspot.admin.records("companies")}
    assert [names[companies[i]] for i in (acme, site, job)] == ["Acme", "Leeds site", "Roof job"]
    assert sync(business, Side.QUICKBOOKS, job) is Outcome.UNCHANGED  # agreed: nothing more to write


def test_child_companies_become_sub_customers_three_levels_deep(business: Wired) -> None:
    globex = company(business, "Globex", domain="globex.com")
    berlin = company(business, "Globex Berlin", globex)
    site = company(business, "Site 4", berlin)

    assert sync(business, Side.HUBSPOT, site) is Outcome.CREATED

    customers = {c["Id"]: c for c in business.quickbooks.admin.records("Customer")}
    made = customers[partner(business, Side.HUBSPOT, site)]
    assert made["FullyQualifiedName"] == "Globex:Globex Berlin:Site 4"
    assert made["Job"] is True
    assert made["Level"] == 2
    top = customers[partner(business, Side.HUBSPOT, globex)]
    assert top["WebAddr"]["URI"] == "globex.com"
    assert top["CompanyName"] == "Globex"


def test_a_change_of_parent_follows_both_ways_and_a_customer_on_its_own_loses_it(business: Wired) -> None:
    north, south = customer(business, "North"), customer(business, "South")
    branch = customer(business, "Branch", north)
    assert sync(business, Side.QUICKBOOKS, branch) is Outcome.CREATED
    companies = {i: partner(business, Side.QUICKBOOKS, i) for i in (north, branch)}
    south_company = company(business, "South")  # matched by name when it is synced first
    assert sync(business, Side.HUBSPOT, south_company) is Outcome.LINKED
    assert partner(business, Side.HUBSPOT, south_company) == south

    # A person moves the branch under South in HubSpot: QuickBooks follows.
    business.hs.disassociate("companies", companies[branch], "companies", companies[north])
    business.hubspot.admin.associate("companies", companies[branch], "companies", south_company, CHILD_TO_PARENT)
    assert sync(business, Side.HUBSPOT, companies[branch]) is Outcome.UPDATED
    moved = business.qbo.read("Customer", branch)
    assert moved["ParentRef"]["value"] == south
    assert moved["FullyQualifiedName"] == "South:Branch"

    # The bookkeeper makes it a customer of its own in QuickBooks: HubSpot's parent goes.
    business.quickbooks.admin.update("Customer", branch, {"Job": False})
    assert sync(business, Side.QUICKBOOKS, branch) is Outcome.UPDATED
    assert parent_of(business, companies[branch]) == ""
    assert business.qbo.read("Customer", branch)["Level"] == 0


def test_matching_goes_by_domain_then_name_and_two_companies_of_one_domain_wait_for_a_person(
    business: Wired,
) -> None:
    known = customer(business, "Initech Ltd", WebAddr={"URI": "https://www.initech.com/"})
    by_domain = company(business, "Initech", domain="initech.com")
    assert sync(business, Side.HUBSPOT, by_domain) is Outcome.LINKED
    assert partner(business, Side.HUBSPOT, by_domain) == known

    shared = customer(business, "Hooli", WebAddr={"URI": "hooli.com"})
    company(business, "Hooli", domain="hooli.com")
    company(business, "Hooli Europe", domain="hooli.com")
    assert sync(business, Side.QUICKBOOKS, shared) is Outcome.FAILED
    failure = business.store().failure(Pair.COMPANIES, Side.QUICKBOOKS, shared)
    assert failure is not None
    assert failure.category == "ambiguous_match"
    assert "2 HubSpot companies share domain or name hooli.com" in failure.message
    assert len(business.quickbooks.admin.records("Customer")) == 2  # nothing made


def test_names_quickbooks_cannot_take_and_companies_without_one(business: Wired) -> None:
    colon = company(business, "Acme: West")
    assert sync(business, Side.HUBSPOT, colon) is Outcome.CREATED
    assert business.qbo.read("Customer", partner(business, Side.HUBSPOT, colon))["DisplayName"] == "Acme - West"

    nameless = company(business, "", domain="nameless.io")
    assert sync(business, Side.HUBSPOT, nameless) is Outcome.FAILED
    failure = business.store().failure(Pair.COMPANIES, Side.HUBSPOT, nameless)
    assert failure is not None
    assert failure.category == "missing_name"
    assert "needs a name" in failure.message


def test_a_parent_that_cannot_sync_leaves_its_child_a_clear_error_and_a_cycle_across_the_apps_is_refused(
    business: Wired,
) -> None:
    nameless = company(business, "")
    child = company(business, "Child of nobody", nameless)
    assert sync(business, Side.HUBSPOT, child) is Outcome.FAILED
    failure = business.store().failure(Pair.COMPANIES, Side.HUBSPOT, child)
    assert failure is not None
    assert failure.category == "parent_not_synced"
    assert f"HubSpot company {nameless}" in failure.message

    top, under = customer(business, "Top"), customer(business, "Under")
    for record in (top, under):
        assert sync(business, Side.QUICKBOOKS, record) is Outcome.CREATED
    top_company, under_company = (partner(business, Side.QUICKBOOKS, i) for i in (top, under))
    business.hubspot.admin.associate("companies", top_company, "companies", under_company, CHILD_TO_PARENT)
    business.quickbooks.admin.update("Customer", under, {"ParentRef": {"value": top}, "Job": True})
    outcomes = [sync(business, Side.HUBSPOT, top_company), sync(business, Side.QUICKBOOKS, under)]
    assert Outcome.FAILED in outcomes  # one of the two parents stands; the other is a sync error that says why
    errors = [
        business.store().failure(Pair.COMPANIES, side, record)
        for side, record in ((Side.HUBSPOT, top_company), (Side.QUICKBOOKS, under))
    ]
    assert any(e is not None and "own parent" in e.message.lower() + e.fix.lower() for e in errors)


def test_an_initial_sync_in_business_mode_links_each_record_once_and_keeps_both_trees(business: Wired) -> None:
    acme = customer(business, "Acme", WebAddr={"URI": "acme.com"})
    site = customer(business, "Leeds site", acme)
    job = customer(business, "Roof job", site)
    lone = customer(business, "Umbrella")
    acme_company = company(business, "ACME Corporation", domain="www.acme.com")  # the same business, by domain
    globex = company(business, "Globex")
    berlin = company(business, "Berlin office", globex)
    store = business.store()
    hubspot = HubSpotAdapter(business.hs, business.cid, tree=company_tree(business.hs, store))
    qbo = QboAdapter(business.qbo)
    job_id = "job-1"
    for side, ids in ((Side.HUBSPOT, [acme_company, globex, berlin]), (Side.QUICKBOOKS, [acme, site, job, lone])):
        batch = SyncSignal(
            connection_id=business.cid,
            pair=Pair.COMPANIES,
            side=side,
            record_id=ids[0],
            reason=Reason.BACKFILL,
            source_version=job_id,
            record_ids=ids,
            job_id=job_id,
        )
        counts = run_batch(batch, hubspot, qbo, store)
        assert counts["failed"] == 0, counts

    companies = business.hubspot.admin.records("companies")
    customers = business.quickbooks.admin.records("Customer")
    assert len(companies) == len(customers) == 6  # 7 records, 2 of them one business: nothing doubled
    assert partner(business, Side.QUICKBOOKS, acme) == acme_company
    assert parent_of(business, partner(business, Side.QUICKBOOKS, job)) == partner(business, Side.QUICKBOOKS, site)
    assert parent_of(business, partner(business, Side.QUICKBOOKS, site)) == acme_company
    berlin_customer = business.qbo.read("Customer", partner(business, Side.HUBSPOT, berlin))
    assert berlin_customer["FullyQualifiedName"] == "Globex:Berlin office"


def _person(wired: Wired, email: str, company_id: str) -> str:
    name = email.split("@", maxsplit=1)[0]
    contact = str(wired.hubspot.admin.create("contacts", {"email": email, "firstname": name})["id"])
    wired.hubspot.admin.associate("contacts", contact, "companies", company_id)
    return contact


def _order(wired: Wired, company_id: str, contact: str, product: str) -> str:
    deal = wired.hubspot.admin.create("deals", {"dealname": "Order", "dealstage": "closedwon", "pipeline": "default"})
    wired.hubspot.admin.associate("deals", deal["id"], "companies", company_id)
    wired.hubspot.admin.associate("deals", deal["id"], "contacts", contact)
    line = wired.hubspot.admin.create(
        "line_items", {"name": "Survey", "quantity": "1", "price": "250", "hs_product_id": product}
    )
    wired.hubspot.admin.associate("line_items", line["id"], "deals", deal["id"])
    return str(deal["id"])


def test_two_people_of_one_company_order_and_both_bill_the_companys_one_customer(business: Wired) -> None:
    acme = company(business, "Acme Roofing", domain="acme-roofing.com")
    ann, bob = (_person(business, f"{n}@acme-roofing.com", acme) for n in ("ann", "bob"))
    product = str(business.hubspot.admin.create("products", {"name": "Survey", "price": "250"})["id"])
    outcomes = [
        business.billing().run_action(f"cb-{n}", _order(business, acme, p, product), {})
        for n, p in (("ann", ann), ("bob", bob))
    ]
    assert [o["hs_execution_state"] for o in outcomes] == ["SUCCESS", "SUCCESS"], outcomes
    invoices = business.quickbooks.admin.records("Invoice")
    customer_id = partner(business, Side.HUBSPOT, acme)
    assert {i["CustomerRef"]["value"] for i in invoices} == {customer_id}  # one customer: no second "Acme"
    assert sorted(i["BillEmail"]["Address"] for i in invoices) == ["ann@acme-roofing.com", "bob@acme-roofing.com"]
    assert [c["DisplayName"] for c in business.quickbooks.admin.records("Customer")] == ["Acme Roofing"]
    assert business.linked(Pair.CONTACTS, Side.HUBSPOT, ann) is None  # people are not customers here


def test_a_sub_customers_invoice_and_payment_land_on_its_child_company_and_its_person(business: Wired) -> None:
    parent = customer(business, "Globex")
    site = customer(business, "Globex Berlin", parent, PrimaryEmailAddr={"Address": "berlin@globex.com"})
    assert sync(business, Side.QUICKBOOKS, site) is Outcome.CREATED
    site_company = partner(business, Side.QUICKBOOKS, site)
    # The customer's person came over as the company's (first) contact; another person of it is added after.
    (person,) = business.hubspot.admin.associated("companies", site_company, "contacts")
    other = _person(business, "alex@globex.com", site_company)
    line = {
        "DetailType": "SalesItemLineDetail",
        "Amount": 300,
        "SalesItemLineDetail": {"ItemRef": {"value": item(business, "Audit")}, "Qty": 1, "UnitPrice": 300},
    }
    body = {"CustomerRef": {"value": site}, "Line": [line], "BillEmail": {"Address": "berlin@globex.com"}}
    invoice_id = str(business.quickbooks.admin.create("Invoice", body)["Id"])
    mirrored = business.invoices().mirror(invoice_id, Reason.WEBHOOK)
    assert mirrored is not None
    assert (mirrored.company_id, mirrored.contact_id) == (site_company, person)  # not `other`: the billed email
    assert mirrored.properties["hs_invoice_status"] == "open"
    assert business.hubspot.admin.associated("invoices", mirrored.hubspot_id, "companies") == [site_company]
    assert business.hubspot.admin.associated("invoices", mirrored.hubspot_id, "contacts") == [person]
    assert other != person
    payment = {
        "CustomerRef": {"value": site},
        "TotalAmt": 300,
        "Line": [{"Amount": 300, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}],
    }
    paid = str(business.quickbooks.admin.create("Payment", payment)["Id"])
    business.payments().handle(paid, Reason.WEBHOOK)
    noted = {
        kind: business.hubspot.admin.associated(kind, site_company if kind == "companies" else person, "notes")
        for kind in ("companies", "contacts")
    }
    assert all(len(notes) == 1 for notes in noted.values()), noted  # the payment on the company's timeline too


def test_the_preview_of_business_customers_shows_the_tree_it_would_make_and_writes_nothing(business: Wired) -> None:
    acme = customer(business, "Acme")
    site = customer(business, "Leeds site", acme)
    existing = company(business, "Acme", domain="acme.com")
    captured = Captured()
    store = PreviewStore(business.table, business.cid, business.store().config(Pair.COMPANIES))
    dry_hubspot = cast(HubSpotClient, DryRunHubSpot(business.hs, captured))
    hubspot = HubSpotAdapter(dry_hubspot, f"{business.cid}:preview", tree=company_tree(dry_hubspot, store))
    batch = SyncSignal(
        connection_id=business.cid,
        pair=Pair.COMPANIES,
        side=Side.QUICKBOOKS,
        record_id=acme,
        reason=Reason.PREVIEW,
        source_version="p1",
        record_ids=[acme, site],
        job_id="p1",
    )
    rows = preview_batch(batch, hubspot, QboAdapter(cast(QboClient, DryRunQbo(business.qbo, captured))), store)
    assert [(r.record_id, r.kind, r.other_id) for r in rows] == [
        (acme, RowKind.LINK, existing),
        (site, RowKind.CREATE_IN_HUBSPOT, rows[1].other_id),
    ]
    assert [c["id"] for c in business.hubspot.admin.records("companies")] == [existing]  # nothing made
    assert parent_of(business, existing) == ""
    assert business.linked(Pair.COMPANIES, Side.QUICKBOOKS, acme) is None


def test_the_sweep_of_business_customers_signals_customers_companies_and_parents_not_contacts(
    business: Wired,
) -> None:
    parent, child = company(business, "Holding"), company(business, "Branch")
    for record in (parent, child):
        assert sync(business, Side.HUBSPOT, record) is Outcome.CREATED
    started = datetime.now(UTC) - timedelta(minutes=1)
    fresh = customer(business, "Swept Ltd")
    made = company(business, "Swept Inc")
    business.hubspot.admin.create("contacts", {"email": "nobody@swept.com"})
    # A parent set in HubSpot whose webhook was lost: the company's modified time does not move.
    modified = business.hs.get("companies", child, ["hs_lastmodifieddate"])
    business.hubspot.admin.associate("companies", child, "companies", parent, CHILD_TO_PARENT)
    assert business.hs.get("companies", child, ["hs_lastmodifieddate"]) == modified
    business.sweeper().run(first_since=started)
    signalled = {(s.pair, s.side, s.record_id) for s in business.queued() if s.pair is not Pair.PRODUCTS}
    assert signalled == {
        (Pair.COMPANIES, Side.QUICKBOOKS, fresh),
        (Pair.COMPANIES, Side.HUBSPOT, made),
        (Pair.COMPANIES, Side.HUBSPOT, child),
    }
    assert sync(business, Side.HUBSPOT, child) is Outcome.UPDATED
    moved = business.qbo.read("Customer", partner(business, Side.HUBSPOT, child))
    assert moved["FullyQualifiedName"] == "Holding:Branch"


def test_companies_merged_in_hubspot_keep_one_link_and_a_deleted_one_makes_its_customer_inactive(
    business: Wired,
) -> None:
    kept, merged = company(business, "Stark Industries"), company(business, "Stark Ind.")
    for record in (kept, merged):
        assert sync(business, Side.HUBSPOT, record) is Outcome.CREATED
    merged_customer = partner(business, Side.HUBSPOT, merged)
    business.hubspot.admin.merge("companies", kept, merged)
    signal = business.changed(Pair.COMPANIES, Side.HUBSPOT, kept).model_copy(
        update={"change": Change.MERGE, "merged_ids": [merged]}
    )
    business.engine().handle(signal)
    assert business.linked(Pair.COMPANIES, Side.HUBSPOT, merged) is None
    failure = business.store().failure(Pair.COMPANIES, Side.QUICKBOOKS, merged_customer)
    assert failure is not None
    assert failure.category == "merged_elsewhere"  # its customer waits for the bookkeeper to merge it too
    assert "same business" in failure.fix

    business.save_settings(Pair.COMPANIES, on_hubspot_delete=DeleteBehaviour.DEACTIVATE)
    gone = company(business, "Wayne Enterprises")
    assert sync(business, Side.HUBSPOT, gone) is Outcome.CREATED
    customer_id = partner(business, Side.HUBSPOT, gone)
    business.hubspot.admin.delete("companies", gone)
    deleted = business.changed(Pair.COMPANIES, Side.HUBSPOT, gone).model_copy(update={"change": Change.DELETE})
    assert business.engine().handle(deleted).outcome is Outcome.UNLINKED
    assert business.qbo.read("Customer", customer_id)["Active"] is False


def contact_of(wired: Wired, company_id: str) -> dict[str, str]:
    """The company's first contact's name and email."""
    first = min(wired.hubspot.admin.associated("companies", company_id, "contacts"), key=int)
    found = wired.hs.get("contacts", first, ["firstname", "lastname", "email"])
    assert found is not None
    return {"id": first} | {k: found["properties"].get(k) or "" for k in ("firstname", "lastname", "email")}


def edited_contact(wired: Wired, contact_id: str) -> SyncSignal:
    """What a person's edit of a contact's name or email gives in business mode."""
    return wired.changed(Pair.COMPANIES, Side.HUBSPOT, contact_id).model_copy(update={"change": Change.PERSON})


def test_the_customers_person_is_its_companys_first_contact_both_ways(business: Wired) -> None:
    acme = customer(business, "Acme", GivenName="Ann", FamilyName="Lee", PrimaryEmailAddr={"Address": "Ann@Acme.com"})
    assert sync(business, Side.QUICKBOOKS, acme) is Outcome.CREATED
    company_id = partner(business, Side.QUICKBOOKS, acme)
    ann = contact_of(business, company_id)
    assert ann | {"id": ""} == {"id": "", "firstname": "Ann", "lastname": "Lee", "email": "ann@acme.com"}
    bob = _person(business, "bob@acme.com", company_id)  # a second person of the business: not its customer's

    business.hs.update("contacts", ann["id"], {"lastname": "Lee-Smith"})
    assert business.engine().handle(edited_contact(business, ann["id"])).outcome is Outcome.UPDATED
    assert business.qbo.read("Customer", acme)["FamilyName"] == "Lee-Smith"
    business.hs.update("contacts", bob, {"firstname": "Robert"})
    assert business.engine().handle(edited_contact(business, bob)).outcome is Outcome.SKIPPED
    assert business.qbo.read("Customer", acme)["GivenName"] == "Ann"

    business.quickbooks.admin.update("Customer", acme, {"PrimaryEmailAddr": {"Address": "ann.lee@acme.com"}})
    assert sync(business, Side.QUICKBOOKS, acme) is Outcome.UPDATED
    assert contact_of(business, company_id)["email"] == "ann.lee@acme.com"
    assert len(business.hubspot.admin.records("contacts")) == 2  # Ann's own contact changed: no third person

    # A company without a contact, whose customer names someone HubSpot knows: that contact is its person now.
    known = str(business.hubspot.admin.create("contacts", {"email": "cy@initech.com", "firstname": "Cy"})["id"])
    initech = company(business, "Initech")
    assert sync(business, Side.HUBSPOT, initech) is Outcome.CREATED
    initech_customer = partner(business, Side.HUBSPOT, initech)
    business.quickbooks.admin.update("Customer", initech_customer, {"PrimaryEmailAddr": {"Address": "cy@initech.com"}})
    assert sync(business, Side.QUICKBOOKS, initech_customer) is Outcome.UPDATED
    assert contact_of(business, initech) == {"id": known, "firstname": "Cy", "lastname": "", "email": "cy@initech.com"}
    assert business.qbo.read("Customer", initech_customer)["GivenName"] == "Cy"  # and Cy's name went back


def test_a_persons_edit_of_the_contact_since_it_was_read_is_not_written_over(business: Wired) -> None:
    acme = customer(business, "Acme", GivenName="Ann", PrimaryEmailAddr={"Address": "ann@acme.com"})
    assert sync(business, Side.QUICKBOOKS, acme) is Outcome.CREATED
    company_id = partner(business, Side.QUICKBOOKS, acme)
    hubspot = HubSpotAdapter(business.hs, business.cid, tree=company_tree(business.hs, business.store()))
    assert hubspot.get(Pair.COMPANIES, company_id) is not None  # read, as a sync reads it before it plans
    business.hs.update("contacts", contact_of(business, company_id)["id"], {"firstname": "Annie"})
    with pytest.raises(StaleObjectError):
        hubspot.update(Pair.COMPANIES, company_id, {"contact.firstname": "Anne"})
    assert contact_of(business, company_id)["firstname"] == "Annie"
    # The engine reads again and merges: the person's edit goes to QuickBooks.
    assert sync(business, Side.HUBSPOT, company_id) is Outcome.UPDATED
    assert business.qbo.read("Customer", acme)["GivenName"] == "Annie"


def test_the_sweep_finds_a_contacts_edit_whose_webhook_was_lost(business: Wired) -> None:
    acme = customer(business, "Acme", GivenName="Ann", PrimaryEmailAddr={"Address": "ann@acme.com"})
    assert sync(business, Side.QUICKBOOKS, acme) is Outcome.CREATED
    company_id = partner(business, Side.QUICKBOOKS, acme)
    started = datetime.now(UTC)
    business.hs.update("contacts", contact_of(business, company_id)["id"], {"firstname": "Anna"})
    business.sweeper().run(first_since=started)
    signalled = {(s.pair, s.side, s.record_id) for s in business.queued()}
    assert (Pair.COMPANIES, Side.HUBSPOT, company_id) in signalled
    assert sync(business, Side.HUBSPOT, company_id) is Outcome.UPDATED
    assert business.qbo.read("Customer", acme)["GivenName"] == "Anna"


def test_a_hubspot_invoice_of_a_company_is_emailed_to_its_customers_person(business: Wired) -> None:
    business.save_settings(Pair.INVOICES, hubspot_invoices=True)
    acme = customer(business, "Acme", GivenName="Ann", PrimaryEmailAddr={"Address": "ann@acme.com"})
    assert sync(business, Side.QUICKBOOKS, acme) is Outcome.CREATED
    company_id = partner(business, Side.QUICKBOOKS, acme)
    hubspot = business.hubspot.admin
    invoice = str(hubspot.create("invoices", {"hs_currency": "USD"})["id"])
    hubspot.associate("invoices", invoice, "companies", company_id)
    hubspot.associate("invoices", invoice, "contacts", contact_of(business, company_id)["id"])  # HubSpot asks one
    product = str(hubspot.create("products", {"name": "Survey", "price": "250"})["id"])
    business.store().save_link(Link(Pair.PRODUCTS, product, item(business, "Survey"), {"name": "Survey"}), None)
    line = hubspot.create("line_items", {"name": "Survey", "quantity": "1", "price": "250", "hs_product_id": product})
    hubspot.associate("line_items", line["id"], "invoices", invoice)
    hubspot.update("invoices", invoice, {"hs_invoice_status": "open"})
    result = business.billing().hubspot_invoice(business.changed(Pair.INVOICES, Side.HUBSPOT, invoice))
    assert result.outcome is Outcome.CREATED, result
    (made,) = business.quickbooks.admin.records("Invoice")
    assert (made["CustomerRef"]["value"], made["BillEmail"]["Address"]) == (acme, "ann@acme.com")
