"""Which webhook events become signals: HubSpot contacts, companies and products always, deals only when
associations change (invoices attached or removed), invoices when a person changes them; QuickBooks customers
as the connection's mode says; our own writes do not come back as work."""

from hubbooks.hubspot.webhooks import parse_batch, to_signal
from hubbooks.models.signals import Change, Pair
from hubbooks.quickbooks import webhooks as qbo_webhooks


def _event(kind: str, object_id: int = 7) -> dict[str, object]:
    return {
        "eventId": 1,
        "portalId": 42,
        "occurredAt": 1_795_910_400_000,
        "subscriptionType": kind,
        "objectId": object_id,
        "propertyName": "qbo_invoice_status",
    }


def test_deal_signals_come_only_from_association_changes() -> None:
    events = parse_batch([_event("deal.propertyChange"), _event("deal.associationChange"), _event("deal.creation")])
    signals = [to_signal(e, "c1") for e in events]
    assert [s.pair if s else None for s in signals] == [None, Pair.DEALS, None]


def test_contact_company_and_product_changes_all_become_signals() -> None:
    events = parse_batch([_event("contact.propertyChange"), _event("product.deletion"), _event("company.creation")])
    pairs = [s.pair if (s := to_signal(e, "c1")) else None for e in events]
    assert pairs == [Pair.CONTACTS, Pair.PRODUCTS, Pair.COMPANIES]


def _family(kind: str, **more: object) -> dict[str, object]:
    """A company association change as HubSpot sends it: the records are `fromObjectId` and `toObjectId`."""
    return {
        "eventId": 2,
        "portalId": 42,
        "occurredAt": 1_795_910_400_000,
        "subscriptionType": "company.associationChange",
        "associationType": kind,
        "fromObjectId": 301,
        "toObjectId": 302,
        "associationRemoved": False,
        "isPrimaryAssociation": False,
        **more,
    } | {"changeSource": "CRM_UI", "sourceId": "userId:1", **more}


def test_a_parent_company_set_or_removed_by_a_person_syncs_the_company_it_is_from() -> None:
    events = parse_batch(
        [
            _family("CHILD_TO_PARENT_COMPANY"),
            _family("PARENT_TO_CHILD_COMPANY", associationRemoved=True),
            _family("COMPANY_TO_CONTACT"),  # its first contact may be another now: the customer's person
            _family("COMPANY_TO_DEAL"),  # a company's deals are not what its customer syncs
            _family("CHILD_TO_PARENT_COMPANY", changeSource="INTEGRATION", appId=9, sourceId="9"),  # the app's own
        ]
    )
    signals = [to_signal(e, "c1") for e in events]
    assert [(s.pair, s.record_id) if s else None for s in signals] == [
        (Pair.COMPANIES, "301"),
        (Pair.COMPANIES, "301"),
        (Pair.COMPANIES, "301"),
        None,
        None,
    ]


def test_business_customers_a_persons_edit_of_a_contacts_name_or_email_is_news_for_its_companies() -> None:
    """In business mode a contact is synced as its companies' person: an edit of its name or email becomes a
    person signal (the worker finds the companies); its other properties, its association events (the
    company's tell), and the app's own writes are no work. In people mode the contact is the customer."""
    person = {"changeSource": "CRM_UI", "sourceId": "userId:1"}
    kinds = [
        {**_event("contact.propertyChange"), **person, "propertyName": "firstname"},
        {**_event("contact.propertyChange"), **person, "propertyName": "email"},
        {**_event("contact.propertyChange"), **person, "propertyName": "jobtitle"},
        {
            **_event("contact.propertyChange"),
            "propertyName": "lastname",
            "changeSource": "INTEGRATION",
            "appId": 9,
            "sourceId": "9",
        },
        {**_event("contact.creation"), **person},
        {**_family("CONTACT_TO_COMPANY"), "subscriptionType": "contact.associationChange"},
    ]
    events = parse_batch(kinds)
    business = [to_signal(e, "c1", Pair.COMPANIES) for e in events]
    assert [(s.pair, s.change, s.record_id) if s else None for s in business] == [
        (Pair.COMPANIES, Change.PERSON, "7"),
        (Pair.COMPANIES, Change.PERSON, "7"),
        None,
        None,
        None,
        None,
    ]
    people = [s.pair if (s := to_signal(e, "c1")) else None for e in events]
    assert people == [Pair.CONTACTS, Pair.CONTACTS, Pair.CONTACTS, Pair.CONTACTS, Pair.CONTACTS, None]


def test_the_apps_own_write_to_its_own_property_is_no_work_but_anyone_elses_is() -> None:
    """The write-back of a new link (the QuickBooks id on the contact) is the app's: HubSpot names the app as the
    change's source. The same property changed by a person, or the app's change to a synced field, is read."""
    ours = {"propertyName": "qbo_customer_id", "changeSource": "INTEGRATION", "appId": 9, "sourceId": "9"}
    kinds = [
        ours,
        {**ours, "changeSource": "CRM_UI", "sourceId": "userId:1"},
        {**ours, "appId": 8},
        {**ours, "propertyName": "firstname"},
        {**ours, "propertyName": "qbo_item_id"},
    ]
    events = parse_batch([{**_event("contact.propertyChange"), **kind} for kind in kinds])
    assert [to_signal(e, "c1") is not None for e in events] == [False, True, True, True, False]


def test_invoice_events_a_person_causes_become_signals_and_the_mirrors_own_do_not() -> None:
    invoice = {**_event("object.propertyChange"), "objectTypeId": "0-53", "propertyName": "hs_invoice_status"}
    person = {"changeSource": "CRM_UI", "sourceId": "userId:1"}
    mirror = {"changeSource": "INTEGRATION", "appId": 9, "sourceId": "9"}
    kinds = [
        {**invoice, **person},
        {**invoice, **mirror},
        {**invoice, **person, "subscriptionType": "object.creation"},
        {**invoice, **person, "subscriptionType": "object.deletion"},
        {**invoice, **person, "objectTypeId": "0-46"},  # notes
    ]
    signals = [to_signal(e, "c1") for e in parse_batch(kinds)]
    assert [(s.pair, s.side.value) if s else None for s in signals] == [
        (Pair.INVOICES, "hs"),
        None,
        (Pair.INVOICES, "hs"),
        None,
        None,
    ]


def test_a_quickbooks_customer_is_a_contact_or_a_company_as_the_connections_mode_says() -> None:
    body = {
        "eventNotifications": [
            {
                "realmId": "9130",
                "dataChangeEvent": {
                    "entities": [
                        {"name": "Customer", "id": "58", "operation": "Update", "lastUpdated": "2026-12-07T06:00:00Z"},
                        {"name": "Item", "id": "4", "operation": "Update", "lastUpdated": "2026-12-07T06:00:00Z"},
                    ]
                },
            }
        ]
    }
    events = qbo_webhooks.parse_batch(body)
    people = [s.pair for e in events if (s := qbo_webhooks.to_signal(e, "c1"))]
    business = [s.pair for e in events if (s := qbo_webhooks.to_signal(e, "c1", Pair.COMPANIES))]
    assert people == [Pair.CONTACTS, Pair.PRODUCTS]
    assert business == [Pair.COMPANIES, Pair.PRODUCTS]
