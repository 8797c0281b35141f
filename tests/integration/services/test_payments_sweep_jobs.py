"""Payments on timelines, the sweep and the initial sync's planning, each run as a service on its own."""

from datetime import UTC, date, datetime, timedelta

from hubbooks.models.signals import Change, Pair, Reason, Side
from hubbooks.store.cursors import CursorRepository
from hubbooks.store.jobs import JobRepository
from hubbooks.store.links import LinkLookup
from hubbooks.sync.engine import Outcome
from hubbooks.sync.jobs import InitialSync
from hubbooks.sync.sweep import Sweeper
from tests.integration.services.conftest import Wired, customer_with_contact, item, pay, sales_line


def _notes(wired: Wired) -> list[str]:
    return sorted(str(n["properties"].get("hs_note_body", "")) for n in wired.hubspot.admin.records("notes"))


def _paid_invoice(wired: Wired, amount: float, method: str = "Check") -> tuple[str, str, str]:
    """An invoice of 50 for a linked customer, mirrored, and a payment of `amount` on it: (invoice, payment,
    contact)."""
    customer, contact = customer_with_contact(wired, "Quin")
    invoice = wired.quickbooks.admin.create(
        "Invoice", {"CustomerRef": {"value": customer}, "Line": [sales_line(item(wired, "Hours"), 1)]}
    )
    wired.invoices().handle(invoice["Id"], Reason.WEBHOOK)
    return str(invoice["Id"]), pay(wired, customer, invoice["Id"], amount, method), contact


def test_without_a_developer_key_a_payment_is_a_note_on_the_contact_and_told_again_only_when_edited(
    wired: Wired,
) -> None:
    invoice, payment, contact = _paid_invoice(wired, 20)
    assert wired.payments().handle(payment, Reason.WEBHOOK).detail == "1 timeline events"
    assert _notes(wired) == [
        f"Payment of 20 USD received for invoice {_number(wired, invoice)} (Check); remaining balance 30."
    ]
    note = wired.hubspot.admin.records("notes")[0]
    assert wired.hubspot.admin.associated("notes", note["id"], "contacts") == [contact]
    assert wired.payments().handle(payment, Reason.WEBHOOK).outcome is Outcome.UNCHANGED  # the same version
    wired.quickbooks.admin.update(
        "Payment",
        payment,
        {"TotalAmt": 25, "Line": [{"Amount": 25, "LinkedTxn": [{"TxnId": invoice, "TxnType": "Invoice"}]}]},
    )
    wired.payments().handle(payment, Reason.WEBHOOK)
    assert len(_notes(wired)) == 2
    assert any("25 USD updated" in n and "remaining balance 25" in n for n in _notes(wired))


def _number(wired: Wired, invoice: str) -> str:
    return str(next(i for i in wired.quickbooks.admin.records("Invoice") if i["Id"] == invoice)["DocNumber"])


def test_the_sweep_signals_what_changed_since_its_watermark_and_moves_it(wired: Wired) -> None:
    cursors = CursorRepository(wired.table, wired.cid)
    started = datetime.now(UTC) - timedelta(minutes=1)
    fresh = wired.quickbooks.admin.create("Customer", {"DisplayName": "Swept One"})
    contact = wired.hubspot.admin.create("contacts", {"email": "swept@example.com"})
    result = wired.sweeper().run(first_since=started)
    signalled = {(s.pair, s.side, s.record_id, s.reason) for s in wired.queued()}
    assert (Pair.CONTACTS, Side.QUICKBOOKS, fresh["Id"], Reason.SWEEP) in signalled
    assert (Pair.CONTACTS, Side.HUBSPOT, contact["id"], Reason.SWEEP) in signalled
    assert result.signals == len(signalled)
    watermark = cursors.get("quickbooks", "cdc")
    assert watermark is not None
    assert watermark > started


def test_the_sweep_leaves_out_records_still_as_the_last_sync_left_them(wired: Wired) -> None:
    customer = wired.quickbooks.admin.create("Customer", {"DisplayName": "Left As Is"})
    edited = wired.quickbooks.admin.create("Customer", {"DisplayName": "Edited Since"})
    wired.link(Pair.CONTACTS, "901", customer["Id"], qbo=str(customer["SyncToken"]))
    wired.link(Pair.CONTACTS, "902", edited["Id"], qbo=str(edited["SyncToken"]))
    wired.quickbooks.admin.update("Customer", edited["Id"], {"CompanyName": "Acme"})
    wired.sweeper().run(first_since=datetime.now(UTC) - timedelta(minutes=1))
    swept = [s for s in wired.queued() if s.side is Side.QUICKBOOKS and s.pair is Pair.CONTACTS]
    assert [(s.record_id, s.change) for s in swept] == [(edited["Id"], Change.UPSERT)]


def test_an_initial_sync_counts_both_sides_and_queues_batches_of_at_most_90(wired: Wired) -> None:
    wired.hubspot.admin.seed({"contacts": [{"email": f"p{n}@example.com"} for n in range(150)]})
    wired.quickbooks.admin.seed({"Customer": [{"DisplayName": f"Customer {n}"} for n in range(30)]})
    jobs = JobRepository(wired.table, wired.cid)
    job_id = InitialSync(wired.cid, wired.hs, wired.qbo, jobs, wired.sender()).start(Pair.CONTACTS)
    batches = wired.queued()
    assert sorted((b.side, len(b.record_ids)) for b in batches) == [
        (Side.HUBSPOT, 60),
        (Side.HUBSPOT, 90),
        (Side.QUICKBOOKS, 30),
    ]
    assert {(b.job_id, b.reason) for b in batches} == {(job_id, Reason.BACKFILL)}
    progress = jobs.get(Pair.CONTACTS, job_id)
    assert progress is not None
    assert (progress.status, progress.total, progress.done) == ("running", 180, 0)


def test_quickbooks_text_in_a_payment_note_is_shown_as_text_not_markup(wired: Wired) -> None:
    _, payment, _ = _paid_invoice(wired, 10, method="<img src=x onerror=alert(1)>")
    wired.payments().handle(payment, Reason.WEBHOOK)
    [note] = _notes(wired)
    assert "<img" not in note
    assert "&lt;img src=x onerror=alert(1)&gt;" in note


def test_an_open_invoice_turns_overdue_by_the_date_alone_once_a_day_and_paid_after_a_payment(wired: Wired) -> None:
    today = datetime.now(UTC).date()
    customer, _ = customer_with_contact(wired, "Dora")
    hours = item(wired, "Hours")

    def invoice(due: date) -> str:
        body = {"CustomerRef": {"value": customer}, "Line": [sales_line(hours, 1)], "DueDate": due.isoformat()}
        return str(wired.quickbooks.admin.create("Invoice", body)["Id"])

    due_today, long_due, later = invoice(today), invoice(today - timedelta(days=5)), invoice(today + timedelta(days=3))
    mirror = wired.invoices()
    for invoice_id in (due_today, long_due, later):
        mirror.handle(invoice_id, Reason.WEBHOOK)

    def status(invoice_id: str) -> str:
        mirrored = wired.hubspot.admin.records("invoices")
        return next(
            str(i["properties"]["qbo_invoice_status"])
            for i in mirrored
            if i["properties"]["qbo_invoice_id"] == invoice_id
        )

    invoice(today - timedelta(days=9))  # open and past due, but never mirrored (older than the sync brings)
    assert [status(i) for i in (due_today, long_due, later)] == ["open", "overdue", "open"]
    cursors = CursorRepository(wired.table, wired.cid)

    def sweep(day: date) -> set[str]:
        noon = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
        sweeper = Sweeper(
            wired.cid, wired.qbo, wired.hs, cursors, wired.sender(), links=LinkLookup(wired.table), now=lambda: noon
        )
        sweeper.run(first_since=noon - timedelta(minutes=5))
        return {s.record_id for s in wired.queued() if (s.source_version or "").startswith("overdue-")}

    # The first look: every mirrored open invoice already past due (one never mirrored stays out).
    assert sweep(today) == {long_due}
    assert sweep(today) == set()  # once a day
    tomorrow = today + timedelta(days=1)
    assert sweep(tomorrow) == {due_today}  # fell due since the last look; nothing in QuickBooks changed
    mirror.today = lambda: tomorrow
    mirror.handle(due_today, Reason.SWEEP)
    assert status(due_today) == "overdue"
    pay(wired, customer, due_today, 50)
    mirror.handle(due_today, Reason.WEBHOOK)
    assert status(due_today) == "paid"
    assert sweep(tomorrow + timedelta(days=1)) == set()  # paid: no longer open
