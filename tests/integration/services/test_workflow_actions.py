"""The workflow actions beside "Create a QuickBooks invoice": estimates from deals and quotes (their status back
on both), converting an accepted estimate, sales receipts from deals and HubSpot payments, sending and voiding
invoices. Each is run as HubSpot runs it: once per callback, BLOCK under throttling and finished by the worker,
and refused in plain words with nothing made."""

from collections.abc import Callable
from typing import Any

import pytest
import requests

from hubbooks.hubspot.developer import DeveloperClient, action_definition
from hubbooks.models.signals import Pair, Reason, Side
from hubbooks.sync.engine import Outcome
from tests.conftest import DEV_TOKEN
from tests.integration.services.conftest import Wired, customer_with_contact, pay

FAIL = "FAIL_CONTINUE"


def _lines(wired: Wired, to: str, to_id: str, *prices: str) -> None:
    for price in prices:
        product = wired.hubspot.admin.create("products", {"name": f"Part {price}", "price": price})
        line = wired.hubspot.admin.create(
            "line_items", {"name": f"Part {price}", "quantity": "2", "price": price, "hs_product_id": product["id"]}
        )
        wired.hubspot.admin.associate("line_items", line["id"], to, to_id)


def _deal(wired: Wired, contact: str | None, *prices: str) -> str:
    deal = wired.hubspot.admin.create("deals", {"dealname": "Order", "dealstage": "closedwon", "pipeline": "default"})
    if contact:
        wired.hubspot.admin.associate("deals", deal["id"], "contacts", contact)
    _lines(wired, "deals", deal["id"], *prices)
    return str(deal["id"])


def _billed_deal(wired: Wired, name: str, *prices: str) -> str:
    _, contact = customer_with_contact(wired, name)
    return _deal(wired, contact, *prices)


def _records(wired: Wired, entity: str) -> list[dict[str, Any]]:
    return wired.quickbooks.admin.records(entity)


def _one(wired: Wired, entity: str, record_id: str) -> dict[str, Any]:
    return next(r for r in _records(wired, entity) if r["Id"] == record_id)


def _props(wired: Wired, object_type: str, object_id: str) -> dict[str, str]:
    return dict(next(r for r in wired.hubspot.admin.records(object_type) if r["id"] == object_id)["properties"])


def _estimate_changed(wired: Wired, estimate_id: str) -> Outcome:
    return wired.billing().estimate(wired.changed(Pair.ESTIMATES, Side.QUICKBOOKS, estimate_id)).outcome


def _billed(wired: Wired, deal: str, callback: str = "bill") -> dict[str, str]:
    outputs = wired.billing().run_action(callback, deal, {})
    assert outputs["hs_execution_state"] == "SUCCESS", outputs
    return outputs


def test_an_estimate_of_a_deal_shows_on_it_and_follows_quickbooks(wired: Wired) -> None:
    deal = _billed_deal(wired, "Ann", "40", "5")
    outputs = wired.billing().run_action("est-1", deal, {"expires_in_days": "14"}, kind="create-estimate")
    assert outputs["hs_execution_state"] == "SUCCESS", outputs
    estimate = _one(wired, "Estimate", outputs["qbo_estimate_id"])
    assert (estimate["TotalAmt"], estimate["TxnStatus"], outputs["qbo_estimate_status"]) == (90.0, "Pending", "pending")
    shown = _props(wired, "deals", deal)
    assert (shown["qbo_estimate_number"], shown["qbo_estimate_status"]) == (estimate["DocNumber"], "pending")
    assert shown["qbo_estimate_expires"]
    wired.quickbooks.admin.update("Estimate", estimate["Id"], {"TxnStatus": "Accepted"})  # the customer accepts
    assert _estimate_changed(wired, estimate["Id"]) is Outcome.UPDATED
    assert _props(wired, "deals", deal)["qbo_estimate_status"] == "accepted"


def test_an_estimate_of_a_quote_takes_its_expiry_and_shows_on_the_quote_and_its_deal(wired: Wired) -> None:
    _, contact = customer_with_contact(wired, "Bo")
    deal = _deal(wired, contact)  # the quote's own line items are estimated, not the deal's
    quote = wired.hubspot.admin.create("quotes", {"hs_title": "Bo's fit-out", "hs_expiration_date": "2027-03-31"})
    wired.hubspot.admin.associate("quotes", quote["id"], "deals", deal)
    wired.hubspot.admin.associate("quotes", quote["id"], "contacts", contact)
    _lines(wired, "quotes", quote["id"], "300")
    outputs = wired.billing().run_action("est-q", quote["id"], {}, kind="create-estimate", object_type="quotes")
    estimate = _one(wired, "Estimate", outputs["qbo_estimate_id"])
    assert (estimate["TotalAmt"], estimate["ExpirationDate"]) == (600.0, "2027-03-31")
    assert "HubSpot quote" in estimate["PrivateNote"]
    for object_type, object_id in (("quotes", quote["id"]), ("deals", deal)):
        assert _props(wired, object_type, object_id)["qbo_estimate_number"] == estimate["DocNumber"]
    assert wired.billing().store.estimate_targets(estimate["Id"]) == {"deals": deal, "quotes": quote["id"]}


def test_an_accepted_estimate_becomes_one_invoice_linked_to_it_and_closes(wired: Wired) -> None:
    deal = _billed_deal(wired, "Cid", "25")
    estimate = wired.billing().run_action("est-2", deal, {}, kind="create-estimate")["qbo_estimate_id"]
    pending = wired.billing().run_action("conv-0", deal, {}, kind="convert-estimate")
    assert pending["hs_execution_state"] == FAIL
    assert "pending in QuickBooks; only an accepted estimate" in pending["error_message"]
    wired.quickbooks.admin.update("Estimate", estimate, {"TxnStatus": "Accepted"})
    outputs = wired.billing().run_action("conv-1", deal, {"due_in_days": "7"}, kind="convert-estimate")
    assert outputs["hs_execution_state"] == "SUCCESS", outputs
    invoice = _one(wired, "Invoice", outputs["qbo_invoice_id"])
    assert invoice["LinkedTxn"] == [{"TxnId": estimate, "TxnType": "Estimate"}]
    assert invoice["TotalAmt"] == 50.0
    assert _one(wired, "Estimate", estimate)["TxnStatus"] == "Closed"
    shown = _props(wired, "deals", deal)
    assert (shown["qbo_estimate_status"], shown["qbo_invoice_number"]) == ("closed", invoice["DocNumber"])
    again = wired.billing().run_action("conv-2", deal, {}, kind="convert-estimate")
    assert again["hs_execution_state"] == FAIL
    assert f"converted already, to invoice {invoice['DocNumber']};" in again["error_message"]
    assert len(_records(wired, "Invoice")) == 1


def test_a_sales_receipt_of_a_deal_is_paid_and_shows_on_its_timelines(wired: Wired) -> None:
    deal = _billed_deal(wired, "Dee", "60")
    outputs = wired.billing().run_action("rcpt-1", deal, {"payment_method": "Cash"}, kind="create-sales-receipt")
    assert outputs["hs_execution_state"] == "SUCCESS", outputs
    receipt = _one(wired, "SalesReceipt", outputs["qbo_sales_receipt_id"])
    assert (receipt["TotalAmt"], receipt["Balance"], outputs["qbo_sales_receipt_total"]) == (120.0, 0, "120")
    assert receipt["PaymentMethodRef"]["value"] == "1"  # QuickBooks' own "Cash"
    notes = [n["properties"]["hs_note_body"] for n in wired.hubspot.admin.records("notes")]
    assert notes == [f"Sales receipt {receipt['DocNumber']}: 120 USD paid (Cash)."] * 2  # deal and contact


def test_a_sales_receipt_of_a_hubspot_payment_bills_its_deal_on_its_day(wired: Wired) -> None:
    _, contact = customer_with_contact(wired, "Eve")
    deal = _deal(wired, contact, "15")
    payment = wired.hubspot.admin.create(
        "commerce_payments",
        {
            "hs_initial_amount": "30",
            "hs_currency_code": "USD",
            "hs_payment_method": "Card",
            "hs_initiated_date": "2026-11-20T10:00:00Z",
        },
    )
    wired.hubspot.admin.associate("commerce_payments", payment["id"], "deals", deal)
    outputs = wired.billing().run_action(
        "rcpt-2", payment["id"], {}, kind="create-sales-receipt", object_type="commerce_payments"
    )
    receipt = _one(wired, "SalesReceipt", outputs["qbo_sales_receipt_id"])
    assert (receipt["TxnDate"], receipt["TotalAmt"], receipt["PaymentRefNum"]) == (
        "2026-11-20",
        30.0,
        f"HubSpot {payment['id']}",
    )


def test_an_invoice_is_emailed_to_the_address_given(wired: Wired) -> None:
    deal = _billed_deal(wired, "Fay", "10")
    billed = _billed(wired, deal)
    outputs = wired.billing().run_action("send-1", deal, {"send_to": "ap@fay.example"}, kind="send-invoice")
    assert (outputs["hs_execution_state"], outputs["sent_to"]) == ("SUCCESS", "ap@fay.example")
    invoice = _one(wired, "Invoice", billed["qbo_invoice_id"])
    assert (invoice["EmailStatus"], invoice["BillEmail"]["Address"]) == ("EmailSent", "ap@fay.example")


def test_an_unpaid_invoice_is_voided_and_a_paid_one_refused_in_plain_words(wired: Wired) -> None:
    customer, contact = customer_with_contact(wired, "Gus")
    unpaid, paid = _deal(wired, contact, "10"), _deal(wired, contact, "20")
    void_id = _billed(wired, unpaid, "bill-1")["qbo_invoice_id"]
    paid_id = _billed(wired, paid, "bill-2")["qbo_invoice_id"]
    pay(wired, customer, paid_id, 15.0)
    outputs = wired.billing().run_action("void-1", unpaid, {}, kind="void-invoice")
    assert (outputs["hs_execution_state"], outputs["qbo_invoice_status"]) == ("SUCCESS", "voided")
    assert _one(wired, "Invoice", void_id)["TotalAmt"] == 0
    refused = wired.billing().run_action("void-2", paid, {"invoice_id": paid_id}, kind="void-invoice")
    assert refused["hs_execution_state"] == FAIL
    assert "has payments of 15 applied" in refused["error_message"]
    assert _one(wired, "Invoice", paid_id)["TotalAmt"] == 40.0


# Each action with what it needs made first: (kind, the QuickBooks write it makes, its set-up -> deal id).
def _estimated(wired: Wired) -> str:
    deal = _billed_deal(wired, "Hal", "50")
    estimate = wired.billing().run_action("est", deal, {}, kind="create-estimate")["qbo_estimate_id"]
    wired.quickbooks.admin.update("Estimate", estimate, {"TxnStatus": "Accepted"})
    return deal


def _invoiced(wired: Wired) -> str:
    deal = _billed_deal(wired, "Ida", "50")
    _billed(wired, deal)
    return deal


ACTIONS: list[tuple[str, str, Callable[[Wired], str]]] = [
    ("create-estimate", "/estimate$", lambda wired: _billed_deal(wired, "Jo", "50")),
    ("convert-estimate", "/invoice$", _estimated),
    ("create-sales-receipt", "/salesreceipt$", lambda wired: _billed_deal(wired, "Kit", "50")),
    ("send-invoice", "/send$", _invoiced),
    ("void-invoice", "/invoice$", _invoiced),
]


def _posts(wired: Wired, path: str) -> int:
    return len([c for c in wired.quickbooks.admin.calls() if c["method"] == "POST" and c["path"].endswith(path[1:-1])])


@pytest.mark.parametrize(("kind", "path", "made"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_an_action_answers_a_repeat_with_its_first_outputs_and_acts_once(
    wired: Wired, kind: str, path: str, made: Callable[[Wired], str]
) -> None:
    deal = made(wired)
    before = _posts(wired, path)
    first = wired.billing().run_action("again", deal, {}, kind=kind)
    assert first["hs_execution_state"] == "SUCCESS", first
    assert wired.billing().run_action("again", deal, {}, kind=kind) == first
    assert _posts(wired, path) == before + 1


@pytest.mark.parametrize(("kind", "path", "made"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_a_throttled_action_answers_block_and_the_worker_completes_it(
    wired: Wired, kind: str, path: str, made: Callable[[Wired], str]
) -> None:
    deal = made(wired)
    wired.queued()
    wired.quickbooks.admin.add_fault("429", count=1, method="POST", path=path)
    assert wired.billing().run_action("slow", deal, {}, kind=kind)["hs_execution_state"] == "BLOCK"
    [finish] = wired.queued()
    assert (finish.pair, finish.reason, finish.event_id) == (Pair.DEALS, Reason.ACTION, "slow")
    assert wired.billing().deal(finish).outcome is Outcome.UPDATED
    [completed] = [c for c in wired.hubspot.admin.callbacks() if c["callbackId"] == "slow"]
    assert completed["outputFields"]["hs_execution_state"] == "SUCCESS", completed


@pytest.mark.parametrize(
    ("kind", "setup", "inputs", "words"),
    [
        ("create-estimate", lambda w: _deal(w, None, "5"), {}, "has no contact"),
        ("create-sales-receipt", lambda w: _billed_deal(w, "Lu"), {}, "has no line items"),
        ("create-estimate", lambda w: _billed_deal(w, "Mo", "5"), {"tax_code": "x"}, "tax_code"),
        ("convert-estimate", lambda w: _billed_deal(w, "Ned", "5"), {}, "has no QuickBooks estimate"),
        ("send-invoice", lambda w: _billed_deal(w, "Oz", "5"), {}, "has no QuickBooks invoice yet"),
    ],
    ids=["no-contact", "no-lines", "bad-tax-code", "no-estimate", "no-invoice"],
)
def test_bad_input_fails_in_plain_words_and_makes_nothing(
    wired: Wired, kind: str, setup: Callable[[Wired], str], inputs: dict[str, str], words: str
) -> None:
    deal = setup(wired)
    outputs = wired.billing().run_action("bad", deal, inputs, kind=kind)
    assert outputs["hs_execution_state"] == FAIL
    assert words in outputs["error_message"]
    made = [c for c in wired.quickbooks.admin.calls() if c["method"] == "POST" and "/_sandbox" not in c["path"]]
    assert [c["path"] for c in made if not c["path"].endswith(("/customer", "/item"))] == []


def test_a_tax_code_quickbooks_does_not_know_is_refused_and_bills_nothing(wired: Wired) -> None:
    wired.quickbooks.admin.set_company(Country="GB")
    deal = _billed_deal(wired, "Pia", "5")
    outputs = wired.billing().run_action("bad-code", deal, {"tax_code": "999"}, kind="create-estimate")
    assert outputs["hs_execution_state"] == FAIL
    assert "TaxCode 999 does not exist. The tax code is inactive or no longer exists" in outputs["error_message"]
    assert _records(wired, "Estimate") == []


def test_a_run_blocked_after_its_document_was_made_finishes_without_a_second(wired: Wired) -> None:
    deal = _billed_deal(wired, "Quin", "20")
    wired.queued()
    # QuickBooks makes the estimate; HubSpot then cannot show it on the deal (an outage the client rides out
    # a few times, then gives up): the run BLOCKs with the estimate already made.
    wired.hubspot.admin.add_fault("503", count=6, method="PATCH", path="/crm/v3/objects/deals/")
    assert wired.billing().run_action("late", deal, {}, kind="create-estimate")["hs_execution_state"] == "BLOCK"
    assert len(_records(wired, "Estimate")) == 1
    wired.hubspot.admin.clear_faults()
    [finish] = wired.queued()
    assert wired.billing().deal(finish).outcome is Outcome.UPDATED
    [completed] = [c for c in wired.hubspot.admin.callbacks() if c["callbackId"] == "late"]
    assert completed["outputFields"]["hs_execution_state"] == "SUCCESS"
    assert [e["Id"] for e in _records(wired, "Estimate")] == [completed["outputFields"]["qbo_estimate_id"]]
    assert _props(wired, "deals", deal)["qbo_estimate_status"] == "pending"


def test_an_invoice_of_another_deal_is_not_sent_or_voided_from_this_one(wired: Wired) -> None:
    _, contact = customer_with_contact(wired, "Rex")
    theirs = _billed(wired, _billed_deal(wired, "Sam", "10"))["qbo_invoice_id"]
    ours = _deal(wired, contact, "10")
    for kind in ("send-invoice", "void-invoice"):
        outputs = wired.billing().run_action(f"{kind}-theirs", ours, {"invoice_id": theirs}, kind=kind)
        assert outputs["hs_execution_state"] == FAIL
        assert "is not this deal's (it bills Sam, from another deal)" in outputs["error_message"]
    assert _one(wired, "Invoice", theirs)["EmailStatus"] == "NotSet"


def test_a_changed_action_definition_is_brought_up_to_date_when_registered_again(wired: Wired) -> None:
    developer = DeveloperClient(
        requests.Session(),
        api_base=wired.hubspot.url,
        app_id=str(wired.hubspot.app.app_id),
        api_key=DEV_TOKEN,
        timeout=10,
    )
    url = "https://hubbooks.example/actions"
    old = action_definition("create-invoice", url)
    old["inputFields"] = [f for f in old["inputFields"] if "optionsUrl" not in f["typeDefinition"]]
    path = f"{wired.hubspot.url}/automation/v4/actions/{wired.hubspot.app.app_id}"
    first = requests.post(path, params={"hapikey": DEV_TOKEN}, json=old).json()
    ids = developer.ensure_actions(url)
    assert ids["create-invoice"] == first["id"]
    current = requests.get(f"{path}/{first['id']}", params={"hapikey": DEV_TOKEN}).json()
    assert current["revisionId"] == "2"
    options = [f["typeDefinition"].get("optionsUrl") for f in current["inputFields"]]
    assert options.count(f"{url}/options") == 3
    assert developer.ensure_actions(url) == ids
    again = requests.get(f"{path}/{first['id']}", params={"hapikey": DEV_TOKEN}).json()
    assert again["revisionId"] == "2"  # nothing changed: no new revision


def test_an_estimate_closed_by_hand_in_quickbooks_is_not_converted(wired: Wired) -> None:
    deal = _billed_deal(wired, "Tia", "5")
    estimate = wired.billing().run_action("est-3", deal, {}, kind="create-estimate")["qbo_estimate_id"]
    wired.quickbooks.admin.update("Estimate", estimate, {"TxnStatus": "Closed"})
    outputs = wired.billing().run_action("conv-3", deal, {}, kind="convert-estimate")
    assert outputs["hs_execution_state"] == FAIL
    assert "is closed in QuickBooks, so it is not turned into an invoice" in outputs["error_message"]
    assert _records(wired, "Invoice") == []
