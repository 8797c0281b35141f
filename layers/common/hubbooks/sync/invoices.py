"""QuickBooks invoices mirrored into HubSpot (one way: QuickBooks is the book of record): the invoice object,
its line items, its contact and deal, and the deal's invoice properties."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from hubbooks.errors import ValidationFaultError
from hubbooks.hubspot import app_properties
from hubbooks.hubspot.client import HubSpotClient
from hubbooks.mapping import invoices as mapping
from hubbooks.mapping.pairs import spec
from hubbooks.mapping.transforms import money
from hubbooks.models.signals import Pair, Reason, Side, SyncSignal
from hubbooks.quickbooks.client import QboClient
from hubbooks.store.billing import BillingStore
from hubbooks.store.sync_store import DynamoSyncStore
from hubbooks.sync.engine import Outcome, Result, SyncEngine
from hubbooks.sync.models import Link, SyncFailure
from hubbooks.sync.ports import LinkConflictError

ATTEMPTS = 3
LOST_STAGES = ("closedlost",)


@dataclass(frozen=True)
class MirroredInvoice:
    hubspot_id: str
    properties: dict[str, str]
    contact_id: str | None
    deal_id: str | None
    company_id: str | None = None  # business customers: the customer's company


HUBSPOT_ORIGIN = "hubspot"  # a link's base says so of an invoice made in HubSpot and brought to QuickBooks


class DealRollup:
    """A deal's invoice properties, from the invoice of that deal updated last in QuickBooks."""

    def __init__(self, hubspot: HubSpotClient, schema_key: str, more: Callable[[], dict[str, str]]) -> None:
        self.hubspot = hubspot
        self.schema_key = schema_key
        self.more = more  # a person's deal mappings: deal property -> invoice property

    def recompute(self, deal_id: str) -> bool:
        """Answers whether the deal changed."""
        app_properties.ensure(self.hubspot, "deals", self.schema_key)
        more = self.more()
        deal = self.hubspot.get("deals", deal_id, [*mapping.DEAL_FIELDS, *more])
        if deal is None:
            return False
        invoice_ids = self.hubspot.associated("deals", deal_id, "invoices")
        read = sorted({*mapping.INVOICE_READ, *more.values()})
        invoices = self.hubspot.batch_read("invoices", invoice_ids, read) if invoice_ids else []
        wanted = mapping.deal_properties([r.get("properties") or {} for r in invoices if not r.get("archived")], more)
        current = deal.get("properties") or {}
        changed = {k: v for k, v in wanted.items() if _comparable(k, current.get(k)) != v}
        if changed:
            self.hubspot.update("deals", deal_id, changed)
        return bool(changed)


def _comparable(name: str, value: str | None) -> str:
    if not value:
        return ""
    if name == "qbo_invoice_due_date":
        return mapping.epoch_ms(value)
    return money(value) if name == "qbo_invoice_amount_billed" else value


class InvoiceMirror:
    def __init__(
        self,
        hubspot: HubSpotClient,
        qbo: QboClient,
        store: DynamoSyncStore,
        billing: BillingStore,
        engine: SyncEngine,
        *,
        schema_key: str,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
        customers: Pair = Pair.CONTACTS,
    ) -> None:
        self.hubspot = hubspot
        self.qbo = qbo
        self.store = store
        self.billing = billing
        self.engine = engine
        self.schema_key = schema_key
        self.today = today
        self.customers = customers  # what a QuickBooks customer is in HubSpot: a contact, or a company
        self.rollup = DealRollup(hubspot, schema_key, lambda: store.config(Pair.INVOICES).deal_fields())
        self._customers_synced: set[tuple[Side, str]] = set()  # a payment over several invoices: once each

    def handle(self, invoice_id: str, reason: Reason) -> Result:
        if not self.store.settings(Pair.INVOICES).enabled:
            return Result(Outcome.SKIPPED, "the invoices sync is off")
        link = self.store.link_of(Pair.INVOICES, Side.QUICKBOOKS, invoice_id)
        mirrored = self.mirror(invoice_id, reason)
        if mirrored is None:
            return Result(Outcome.UNLINKED if link else Outcome.SKIPPED, f"invoice {invoice_id} was deleted")
        return Result(Outcome.UPDATED if link else Outcome.CREATED)

    def mirror(self, invoice_id: str, reason: Reason) -> MirroredInvoice | None:
        """Make the HubSpot invoice match QuickBooks; None when the invoice is gone (and archived here)."""
        for _ in range(ATTEMPTS):
            try:
                return self._mirror(invoice_id, reason)
            except LinkConflictError:
                continue  # another worker mirrored it meanwhile: read again
        raise LinkConflictError(f"invoice {invoice_id}: still racing after {ATTEMPTS} tries")

    def _mirror(self, invoice_id: str, reason: Reason) -> MirroredInvoice | None:
        link = self.store.link_of(Pair.INVOICES, Side.QUICKBOOKS, invoice_id)
        invoice = self.qbo.read_or_none("Invoice", invoice_id)
        if invoice is None:
            self._archive(invoice_id, link, reason)
            return None
        for object_type in ("invoices", "line_items"):
            app_properties.ensure(self.hubspot, object_type, self.schema_key)
        base = dict(link.base) if link else {}
        made_in_hubspot = base.get("origin") == HUBSPOT_ORIGIN  # its lines and billing are HubSpot's own
        customer_id = self._customer(invoice, reason)
        business = self.customers is Pair.COMPANIES
        company_id = customer_id if business else None
        contact_id = self._company_contact(invoice, customer_id) if business and customer_id else customer_id
        props = mapping.invoice_properties(invoice, self.today())
        if made_in_hubspot:
            props.pop("hs_invoice_billable")
        props |= {m.hubspot: m.from_qbo(invoice) for m in self.store.config(Pair.INVOICES).field_mappings()}
        hubspot_id = str(self.hubspot.upsert("invoices", "qbo_invoice_id", invoice_id, props)["id"])
        lines = 1 if made_in_hubspot else self._lines(invoice, hubspot_id)
        for object_type, key, now in (("contacts", "contact", contact_id), ("companies", "company", company_id)):
            with self.to_record(object_type, now or "", reason):
                self._associate(hubspot_id, object_type, base.get(key, ""), now)
        deal_id = base.get("deal") or self._deal(invoice, customer_id)
        if deal_id and deal_id != base.get("deal"):
            self.hubspot.associate("invoices", hubspot_id, "deals", deal_id)
        status = base.get("hs_invoice_status", "draft")
        wanted = mapping.hubspot_status(props["qbo_invoice_status"], bool(contact_id) and lines > 0)
        if wanted != status and not (status == "open" and wanted == "draft"):
            self.hubspot.update("invoices", hubspot_id, {"hs_invoice_status": wanted})
            status = wanted
        agreed = {"contact": contact_id or "", "deal": deal_id or "", "hs_invoice_status": status}
        if business:
            agreed["company"] = company_id or ""
        if made_in_hubspot:  # where it came from, and what HubSpot billed, stay known
            agreed = base | agreed
        seen = {Side.QUICKBOOKS.value: str(invoice.get("SyncToken", ""))}
        self.store.save_link(
            Link(Pair.INVOICES, hubspot_id, invoice_id, agreed, link.version if link else 0, seen), link
        )
        if deal_id:
            self.rollup.recompute(deal_id)
        if link is None or link.base != agreed or link.seen != seen:
            self._history("invoice_mirrored" if link else "invoice_created", hubspot_id, invoice_id, props)
        return MirroredInvoice(hubspot_id, props | {"hs_invoice_status": status}, contact_id, deal_id, company_id)

    # -- the parts of one invoice -----------------------------------------------------------------

    def _associate(self, hubspot_id: str, object_type: str, before: str, now: str | None) -> None:
        """The invoice's contact (or company) is `now`, in place of `before`; none now leaves it as it was."""
        if now and now != before:
            if before:
                self.hubspot.disassociate("invoices", hubspot_id, object_type, before)
            self.hubspot.associate("invoices", hubspot_id, object_type, now)

    def _shows_balance(self) -> bool:
        """Whether a contact property shows the customer's open balance (QuickBooks sends no customer change
        when an invoice or payment moves it)."""
        return any("Balance" in m.qbo_paths for m in self.engine.mappings.get(self.customers, ()))

    @contextmanager
    def to_record(self, object_type: str, record_id: str, reason: Reason) -> Iterator[None]:
        """Around a write to the invoice's contact or company; the caller tries again after HubSpot's 404 (it was
        deleted since). The customer's own record (its link's) is unlinked by the customers' engine first, and
        the next look at the customer makes it again, as any change of a linked-then-unlinked customer does."""
        try:
            yield
        except ValidationFaultError as exc:
            if exc.status != 404:
                raise
            self._customers_synced.clear()  # the customer is looked at again: it needs its record now
            if object_type == spec(self.customers).hubspot_object:
                self._sync_customer(Side.HUBSPOT, record_id, f"gone-{record_id}", reason)
            raise LinkConflictError(f"{object_type} {record_id} was deleted meanwhile") from exc

    def _sync_customer(self, side: Side, record_id: str, version: str, reason: Reason) -> None:
        """Let the customers' engine (contacts, or companies) reconcile the invoice's customer: links it first when
        it is not linked yet, and brings its open balance over (once per record for this mirror: one per signal)."""
        if (side, record_id) in self._customers_synced:
            return
        self._customers_synced.add((side, record_id))
        self.engine.handle(
            SyncSignal(
                connection_id=self.engine.connection_id,
                pair=self.customers,
                side=side,
                record_id=record_id,
                reason=reason,
                source_version=version,
            )
        )

    def _customer(self, invoice: dict[str, Any], reason: Reason) -> str | None:
        """The HubSpot contact (or company, of business customers) of the invoice's customer, synced first when not
        linked yet or when its open balance is shown (an initial sync reads every customer's balance itself)."""
        customer_id = str((invoice.get("CustomerRef") or {}).get("value") or "")
        link = self.store.link_of(self.customers, Side.QUICKBOOKS, customer_id)
        refresh = self._shows_balance() and reason is not Reason.BACKFILL
        if customer_id and (link is None or refresh):
            version = f"invoice-{invoice['Id']}-{invoice.get('SyncToken', '')}"
            self._sync_customer(Side.QUICKBOOKS, customer_id, version, reason)
            had, link = link, self.store.link_of(self.customers, Side.QUICKBOOKS, customer_id)
            if had is not None and link is None:  # unlinked just now, its contact deleted: make it again
                self._customers_synced.discard((Side.QUICKBOOKS, customer_id))
                self._sync_customer(Side.QUICKBOOKS, customer_id, version, reason)
                link = self.store.link_of(self.customers, Side.QUICKBOOKS, customer_id)
        if link is None:
            noun = spec(self.customers).nouns[0]
            self.store.record_failure(
                Pair.INVOICES,
                Side.QUICKBOOKS,
                str(invoice["Id"]),
                SyncFailure(
                    "customer_not_linked",
                    f"Customer {customer_id} of invoice {invoice.get('DocNumber') or invoice['Id']} has no HubSpot "
                    f"{noun}, so the invoice stays a draft without one in HubSpot",
                    f"Turn the {self.customers} sync on, or fix the customer's own sync error; the invoice follows.",
                ),
            )
            return None
        self.store.clear_failure(Pair.INVOICES, Side.QUICKBOOKS, str(invoice["Id"]))
        return link.hubspot_id

    def _company_contact(self, invoice: dict[str, Any], company_id: str) -> str | None:
        """Business customers: the contact an invoice of the company goes to (HubSpot opens an invoice with one
        contact): the company's contact with the invoice's billing email, else its first contact (lowest id)."""
        people = sorted(self.hubspot.associated("companies", company_id, "contacts"), key=int)
        email = str((invoice.get("BillEmail") or {}).get("Address") or "").strip().lower()
        if email and people:
            found = self.hubspot.search("contacts", [{"propertyName": "email", "operator": "EQ", "value": email}], [])
            billed = [str(c["id"]) for c in found if str(c["id"]) in people]
            if billed:
                return billed[0]
        return people[0] if people else None

    def _deal(self, invoice: dict[str, Any], customer_id: str | None) -> str | None:
        """The deal, in order: the one it was billed from, a custom field holding a deal id, or (when allowed)
        the customer's (its contact's, or company's) only deal that is not lost."""
        billed_from = self.billing.invoice_deal(str(invoice["Id"]))
        if billed_from:
            return billed_from
        for field in invoice.get("CustomField") or []:
            value = str(field.get("StringValue") or "").strip()
            is_deal_id = "deal" in str(field.get("Name", "")).lower() and value.isdigit()
            if is_deal_id and self.hubspot.get("deals", value, ["dealstage"]) is not None:
                return value
        if customer_id is None or not self.store.settings(Pair.INVOICES).associate_open_deal:
            return None
        deal_ids = self.hubspot.associated(spec(self.customers).hubspot_object, customer_id, "deals")
        deals = self.hubspot.batch_read("deals", deal_ids, ["dealstage"]) if deal_ids else []
        candidates = [d for d in deals if (d.get("properties") or {}).get("dealstage") not in LOST_STAGES]
        return str(candidates[0]["id"]) if len(candidates) == 1 else None

    def _lines(self, invoice: dict[str, Any], hubspot_id: str) -> int:
        """Line items matching the invoice's lines (upserted on their QBO line key); answers how many."""
        linked = self.store.links_of(Pair.PRODUCTS, Side.QUICKBOOKS, mapping.item_ids(invoice))  # one batch read
        products = {item_id: link.hubspot_id for item_id, link in linked.items() if link is not None}
        wanted = mapping.line_item_properties(invoice, products)
        existing_ids = self.hubspot.associated("invoices", hubspot_id, "line_items")
        existing = {
            (r.get("properties") or {}).get("qbo_invoice_line", ""): r
            for r in (self.hubspot.batch_read("line_items", existing_ids, mapping.LINE_READ) if existing_ids else [])
        }
        changed = [
            (key, props)
            for key, props in wanted.items()
            if key not in existing or _differs(props, existing[key].get("properties") or {})
        ]
        written = self.hubspot.batch_upsert("line_items", "qbo_invoice_line", changed) if changed else []
        new = [str(r["id"]) for r in written if str(r["id"]) not in existing_ids]
        if new:
            self.hubspot.associate_many("line_items", "invoices", [(i, hubspot_id) for i in new])
        stale = [{"id": str(r["id"])} for key, r in existing.items() if key and key not in wanted]
        if stale:
            self.hubspot.batch_write("line_items", "archive", stale)
        return len(wanted)

    def _archive(self, invoice_id: str, link: Link | None, reason: Reason) -> None:
        """Deleted in QuickBooks: archive the HubSpot invoice and its line items; the deal and the contact's
        open balance follow."""
        if link is None:
            return
        line_ids = self.hubspot.associated("invoices", link.hubspot_id, "line_items")
        if line_ids:
            self.hubspot.batch_write("line_items", "archive", [{"id": i} for i in line_ids])
        self.hubspot.archive("invoices", link.hubspot_id)
        self.store.delete_link(link)
        if link.base.get("deal"):
            self.rollup.recompute(link.base["deal"])
        customer = link.base.get("company" if self.customers is Pair.COMPANIES else "contact")
        if customer and self._shows_balance():
            self._sync_customer(Side.HUBSPOT, customer, f"invoice-{invoice_id}-deleted", reason)
        self._history("invoice_archived", link.hubspot_id, invoice_id, {})

    def _history(self, action: str, hubspot_id: str, qbo_id: str, props: dict[str, str]) -> None:
        self.store.add_history(
            {
                "pair": Pair.INVOICES.value,
                "action": action,
                "hubspot_id": hubspot_id,
                "qbo_id": qbo_id,
                "fields": sorted(props),
                "direction": "->hubspot",
                "at": time.time(),
            }
        )


def _differs(wanted: dict[str, str], current: dict[str, str]) -> bool:
    numeric = ("quantity", "price")
    return any((money(current.get(k)) if k in numeric else (current.get(k) or "")) != v for k, v in wanted.items())
