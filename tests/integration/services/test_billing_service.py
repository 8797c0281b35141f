"""Billing as a service: the workflow action's runs (once per callback, BLOCK under throttling and finished by
the worker, plain refusals) and the deal signals that recompute a deal's invoice figures."""

from hubbooks.models.signals import Pair, Reason
from hubbooks.sync.engine import Outcome
from tests.integration.services.conftest import Wired, customer_with_contact


def _deal(wired: Wired, contact: str, with_line: bool = True) -> str:
    deal = wired.hubspot.admin.create("deals", {"dealname": "Order", "dealstage": "closedwon", "pipeline": "default"})
    wired.hubspot.admin.associate("deals", deal["id"], "contacts", contact)
    if with_line:
        product = wired.hubspot.admin.create("products", {"name": "Widget", "price": "40"})
        line = wired.hubspot.admin.create(
            "line_items", {"name": "Widget", "quantity": "3", "price": "40", "hs_product_id": product["id"]}
        )
        wired.hubspot.admin.associate("line_items", line["id"], "deals", deal["id"])
    return str(deal["id"])


def _invoice_posts(wired: Wired) -> int:
    return len([c for c in wired.quickbooks.admin.calls() if c["method"] == "POST" and c["path"].endswith("/invoice")])


def test_an_action_bills_once_per_callback_and_answers_a_repeat_with_the_first_outputs(wired: Wired) -> None:
    _, contact = customer_with_contact(wired, "Rae")
    deal = _deal(wired, contact)
    first = wired.billing().run_action("cb-1", deal, {"due_in_days": "10"})
    again = wired.billing().run_action("cb-1", deal, {"due_in_days": "10"})
    assert first["hs_execution_state"] == "SUCCESS", first
    assert again == first
    assert _invoice_posts(wired) == 1
    invoice = next(i for i in wired.quickbooks.admin.records("Invoice") if i["Id"] == first["qbo_invoice_id"])
    assert invoice["TotalAmt"] == 120.0


def test_a_throttled_action_answers_block_and_the_worker_completes_it_through_the_callback(wired: Wired) -> None:
    _, contact = customer_with_contact(wired, "Sol")
    deal = _deal(wired, contact)
    wired.quickbooks.admin.add_fault("429", count=1, method="POST", path="/invoice$")
    assert wired.billing().run_action("cb-2", deal, {}) == {
        "hs_execution_state": "BLOCK",
        "hs_expiration_duration": "P1D",
    }
    [finish] = wired.queued()
    assert (finish.pair, finish.reason, finish.record_id, finish.event_id) == (Pair.DEALS, Reason.ACTION, deal, "cb-2")
    assert wired.billing().deal(finish).outcome is Outcome.UPDATED
    [completed] = wired.hubspot.admin.callbacks()
    assert completed["callbackId"] == "cb-2"
    assert completed["outputFields"]["hs_execution_state"] == "SUCCESS"
    assert wired.billing().deal(finish).outcome is Outcome.SKIPPED  # a repeat of the finish does nothing


def test_a_deal_without_line_items_is_refused_in_plain_words_and_bills_nothing(wired: Wired) -> None:
    _, contact = customer_with_contact(wired, "Tam")
    deal = _deal(wired, contact, with_line=False)
    outputs = wired.billing().run_action("cb-3", deal, {})
    assert outputs["hs_execution_state"] == "FAIL_CONTINUE"
    assert "line item" in outputs["error_message"]
    assert _invoice_posts(wired) == 0


def test_a_line_item_whose_quantity_is_not_a_number_is_refused_in_plain_words(wired: Wired) -> None:
    _, contact = customer_with_contact(wired, "Una")
    deal = _deal(wired, contact)
    [line] = wired.hubspot.admin.associated("deals", deal, "line_items")
    wired.hubspot.admin.update("line_items", line, {"quantity": "NaN"})
    outputs = wired.billing().run_action("cb-4", deal, {})
    assert outputs["hs_execution_state"] == "FAIL_CONTINUE"
    assert "quantity 'NaN', which is not a number" in outputs["error_message"]
    assert _invoice_posts(wired) == 0
