"""hubbooks' services wired as the functions wire them, without a devstack: the real clients over HTTP to the
two emulators, and the store and queue on DynamoDB and SQS in moto, in this process. A service test costs
milliseconds of set-up, where a devstack costs a deploy."""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
import requests

from hubbooks.hubspot.client import HubSpotClient
from hubbooks.models.signals import Pair, Reason, Side, SyncSignal
from hubbooks.queue import GroupedSender, SignalQueue
from hubbooks.quickbooks.client import QboClient
from hubbooks.store.billing import BillingStore, TimelineTemplates
from hubbooks.store.cursors import CursorRepository
from hubbooks.store.lane_changes import LaneChanges
from hubbooks.store.links import LinkLookup
from hubbooks.store.sync_settings import SyncSettingsRepository
from hubbooks.store.sync_store import DynamoSyncStore
from hubbooks.store.table import Table
from hubbooks.sync.adapters import HubSpotAdapter, QboAdapter
from hubbooks.sync.billing import Billing
from hubbooks.sync.engine import SyncEngine
from hubbooks.sync.hierarchy import company_tree
from hubbooks.sync.invoice_action import CreateInvoiceAction
from hubbooks.sync.invoices import InvoiceMirror
from hubbooks.sync.models import Link
from hubbooks.sync.payments import PaymentMirror, PaymentTimeline
from hubbooks.sync.sweep import Sweeper
from tests.conftest import DEV_TOKEN, REALM_ID, Sandbox
from tests.support.aws import REGION, table_in_process


@dataclass
class Wired:
    hubspot: Sandbox
    quickbooks: Sandbox
    hs: HubSpotClient
    qbo: QboClient
    table: Table
    sqs: Any
    queue_url: str
    # A connection of its own per test: HubSpot's app properties are made once per process and connection,
    # and each test starts from freshly reset emulators.
    cid: str = field(default_factory=lambda: f"c-{uuid.uuid4().hex[:8]}")
    customers: Pair = Pair.CONTACTS  # the connection's customer mode, as its pair

    def store(self) -> DynamoSyncStore:
        return DynamoSyncStore(self.table, self.cid)

    def engine(self) -> SyncEngine:
        store = self.store()
        hubspot = HubSpotAdapter(self.hs, self.cid, tree=company_tree(self.hs, store))
        return SyncEngine(self.cid, hubspot, QboAdapter(self.qbo), store)

    def invoices(self) -> InvoiceMirror:
        store = self.store()
        return InvoiceMirror(
            self.hs,
            self.qbo,
            store,
            BillingStore(self.table, self.cid),
            self.engine(),
            schema_key=self.cid,
            customers=self.customers,
        )

    def payments(self) -> PaymentMirror:
        """Without a developer key, as an operator may run it: payments become notes."""
        timeline = PaymentTimeline(self.hs, TimelineTemplates(self.table), None)
        return PaymentMirror(self.qbo, self.store(), BillingStore(self.table, self.cid), self.invoices(), timeline)

    def billing(self) -> Billing:
        invoices, store = self.invoices(), self.store()
        return Billing(
            connection_id=self.cid,
            hubspot=self.hs,
            store=BillingStore(self.table, self.cid),
            failures=store,
            invoices=invoices,
            payments=self.payments(),
            action=CreateInvoiceAction(invoices),
            send=self.sender().send,
        )

    def sweeper(self, *, hubspot_invoices: bool = False) -> Sweeper:
        """The connection's sweep, over its own watermarks, queueing onto the test's queue."""
        return Sweeper(
            self.cid,
            self.qbo,
            self.hs,
            CursorRepository(self.table, self.cid),
            self.sender(),
            links=LinkLookup(self.table),
            hubspot_invoices=hubspot_invoices,
            customers=self.customers,
        )

    def sender(self) -> GroupedSender:
        return GroupedSender(LinkLookup(self.table), SignalQueue(self.sqs, self.queue_url), LaneChanges(self.table))

    def queued(self) -> list[SyncSignal]:
        """Every signal on the queue, taken off it."""
        signals: list[SyncSignal] = []
        while messages := self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages"):
            signals += [SyncSignal.model_validate_json(m["Body"]) for m in messages]
            entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)]
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        return signals

    def save_settings(self, pair: Pair, **updates: Any) -> None:
        """Change a pair's stored settings as a saved edit would."""
        repository = SyncSettingsRepository(self.table, self.cid)
        config = repository.get(pair)
        repository.save(config.model_copy(update=updates), config.version)

    def changed(self, pair: Pair, side: Side, record_id: str) -> SyncSignal:
        """The signal a webhook for one record's change gives."""
        return SyncSignal(
            connection_id=self.cid, pair=pair, side=side, record_id=record_id, reason=Reason.WEBHOOK, source_version="1"
        )

    def link(self, pair: Pair, hubspot_id: str, qbo_id: str, **seen: str) -> Link:
        return self.store().save_link(Link(pair, hubspot_id, qbo_id, {}, 0, seen), None)

    def linked(self, pair: Pair, side: Side, record_id: str) -> Link | None:
        return self.store().link_of(pair, side, record_id)


@pytest.fixture
def wired(hubspot: Sandbox, quickbooks: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Wired]:
    session = requests.Session()
    hs = HubSpotClient(session, api_base=hubspot.url, tokens=lambda _: DEV_TOKEN, timeout=10)
    qbo = QboClient(
        session, api_base=quickbooks.url, realm_id=REALM_ID, tokens=lambda _: DEV_TOKEN, minor_version=75, timeout=10
    )
    with table_in_process(monkeypatch) as table:
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName="sync.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        yield Wired(hubspot, quickbooks, hs, qbo, Table(table), sqs, queue_url)


def customer_with_contact(wired: Wired, name: str, currency: str | None = None) -> tuple[str, str]:
    """A QuickBooks customer (in `currency`, else the company's own) and its HubSpot contact, linked; answers
    (customer, contact)."""
    email = f"{name.lower()}@example.com"
    body: dict[str, Any] = {"DisplayName": name, "GivenName": name, "PrimaryEmailAddr": {"Address": email}}
    if currency:
        body["CurrencyRef"] = {"value": currency}
    customer = wired.quickbooks.admin.create("Customer", body)
    contact = wired.hubspot.admin.create("contacts", {"email": email, "firstname": name})
    wired.store().save_link(Link(Pair.CONTACTS, contact["id"], customer["Id"], {"email": email}), None)
    return str(customer["Id"]), str(contact["id"])


def pay(wired: Wired, customer: str, invoice: str, amount: float, method: str | None = None) -> str:
    """A payment of `amount` on one invoice, as a person records it in QuickBooks; its id."""
    body: dict[str, Any] = {
        "CustomerRef": {"value": customer},
        "TotalAmt": amount,
        "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": invoice, "TxnType": "Invoice"}]}],
    }
    if method:
        body["PaymentMethodRef"] = {"value": "1", "name": method}
    return str(wired.quickbooks.admin.create("Payment", body)["Id"])


def item(wired: Wired, name: str) -> str:
    income = next(a for a in wired.quickbooks.admin.records("Account") if a.get("AccountType") == "Income")
    body = {"Name": name, "Type": "Service", "UnitPrice": 50, "IncomeAccountRef": {"value": income["Id"]}}
    return str(wired.quickbooks.admin.create("Item", body)["Id"])


def sales_line(item_id: str, qty: float) -> dict[str, Any]:
    return {"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": item_id}, "Qty": qty}}
