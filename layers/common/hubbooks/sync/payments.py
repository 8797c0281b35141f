"""QuickBooks payments on HubSpot timelines: each invoice a payment applies to is mirrored again (balance,
status), and its deal and contact get an event — received, updated, voided or deleted."""

import html
import time
from datetime import UTC, datetime
from typing import Any

from hubbooks.errors import UnavailableError, ValidationFaultError
from hubbooks.hubspot.client import HubSpotClient
from hubbooks.hubspot.developer import TIMELINE_KINDS, DeveloperClient, template_key
from hubbooks.mapping import invoices as mapping
from hubbooks.models.signals import Pair, Reason
from hubbooks.quickbooks.client import QboClient
from hubbooks.store.billing import BillingStore, PaymentMemo, TimelineTemplates
from hubbooks.store.sync_store import DynamoSyncStore
from hubbooks.sync.engine import Outcome, Result
from hubbooks.sync.invoices import ATTEMPTS, InvoiceMirror
from hubbooks.sync.ports import LinkConflictError

DETAILS = ("CurrencyRef", "TxnDate", "PaymentMethodRef")
NOTE_TYPES = {"deals": 214, "contacts": 202, "companies": 190}  # note -> deal, contact, company
NOTES = {  # without templates: a note says what the event would
    "payment": "Payment of {amount} {currency} {status} for invoice {invoice_number} ({method}); remaining balance "
    "{balance}.",
    "sales_receipt": "Sales receipt {number}: {amount} {currency} paid ({method}).",
}


class PaymentTimeline:
    """Timeline events from the app's templates; without a developer key (no templates), notes instead."""

    WANTED = tuple(template_key(kind, object_type) for kind in TIMELINE_KINDS for object_type in NOTE_TYPES)

    def __init__(self, hubspot: HubSpotClient, templates: TimelineTemplates, developer: DeveloperClient | None) -> None:
        self.hubspot = hubspot
        self._templates = templates
        self.developer = developer

    def templates(self) -> dict[str, str]:
        templates = self._templates.get()
        if self.developer is not None and not set(self.WANTED) <= set(templates):  # none yet, or a kind added
            try:
                templates = self.developer.ensure_timeline_templates()
            except (ValidationFaultError, UnavailableError):
                if not templates:
                    raise
                return templates  # the kinds made before still post; the new ones are notes until HubSpot answers
            self._templates.save(templates)
        return templates

    def post(
        self, object_type: str, object_id: str, event_id: str, tokens: dict[str, str], kind: str = "payment"
    ) -> bool:
        """One event on one record; False when it was already there."""
        template = self.templates().get(template_key(kind, object_type))
        if template is not None:
            body = {"eventTemplateId": template, "objectId": object_id, "id": event_id, "tokens": tokens}
            return self.hubspot.timeline_event(body)
        # A note's body is HTML: QuickBooks' text (invoice number, payment method) goes in escaped.
        shown = {key: html.escape(str(value)) for key, value in tokens.items()}
        text = NOTES[kind].format(**shown)
        association = {
            "to": {"id": object_id},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TYPES[object_type]}],
        }
        moment = str(int(datetime.now(UTC).timestamp() * 1000))
        self.hubspot.create("notes", {"hs_note_body": text, "hs_timestamp": moment}, [association])
        return True


class PaymentMirror:
    def __init__(
        self,
        qbo: QboClient,
        store: DynamoSyncStore,
        billing: BillingStore,
        invoices: InvoiceMirror,
        timeline: PaymentTimeline,
    ) -> None:
        self.qbo = qbo
        self.store = store
        self.billing = billing
        self.invoices = invoices
        self.timeline = timeline

    def handle(self, payment_id: str, reason: Reason) -> Result:
        if not self.store.settings(Pair.PAYMENTS).enabled:
            return Result(Outcome.SKIPPED, "the payments sync is off")
        memo = self.billing.payment(payment_id)
        payment = self.qbo.read_or_none("Payment", payment_id)
        if payment is None:
            if memo is None:
                return Result(Outcome.SKIPPED, f"payment {payment_id} is gone and was never shown")
            state, version, amounts, details = "deleted", f"deleted-{memo.version}", memo.applied, memo.details
        else:
            version = str(payment.get("SyncToken", ""))
            if memo is not None and memo.version == version:
                return Result(Outcome.UNCHANGED)
            voided = mapping.is_voided(payment)
            state = "voided" if voided else ("updated" if memo else "received")
            amounts = memo.applied if voided and memo else mapping.applied(payment)
            details = {k: payment[k] for k in DETAILS if k in payment}
        posted = 0
        for invoice_id, amount in sorted(amounts.items()):
            posted += self._post(payment_id, version, invoice_id, amount, details=details, state=state, reason=reason)
        if payment is None:
            self.billing.forget_payment(payment_id)
        else:
            self.billing.save_payment(payment_id, PaymentMemo(version, mapping.applied(payment) or amounts, details))
        self.store.add_history(
            {
                "pair": Pair.PAYMENTS.value,
                "action": f"payment_{state}",
                "hubspot_id": "",
                "qbo_id": payment_id,
                "fields": sorted(amounts),
                "direction": "->hubspot",
                "at": time.time(),
                "events": posted,
            }
        )
        return Result(Outcome.UPDATED, f"{posted} timeline events")

    def _post(
        self,
        payment_id: str,
        version: str,
        invoice_id: str,
        amount: float,
        *,
        details: dict[str, Any],
        state: str,
        reason: Reason,
    ) -> int:
        """Mirror the invoice (its balance now), then tell its deal and contact; answers events created. A
        contact deleted meanwhile is made again by the mirror's next try, and told then."""
        event_id = f"qbo-payment-{payment_id}-{invoice_id}-{version}"
        posted = 0
        for _ in range(ATTEMPTS):
            invoice = self.invoices.mirror(invoice_id, reason)
            if invoice is None:
                return posted
            tokens = mapping.payment_tokens(details, amount, invoice.properties, state)
            if invoice.deal_id:
                posted += self.timeline.post("deals", invoice.deal_id, event_id, tokens)
            people = (("companies", invoice.company_id), ("contacts", invoice.contact_id))
            try:
                for object_type, record_id in ((kind, i) for kind, i in people if i):
                    with self.invoices.to_record(object_type, record_id, reason):
                        posted += self.timeline.post(object_type, record_id, event_id, tokens)
            except LinkConflictError:
                continue
            return posted
        raise LinkConflictError(f"payment {payment_id}: the contact of invoice {invoice_id} kept changing")
