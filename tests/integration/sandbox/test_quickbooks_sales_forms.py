"""QuickBooks emulator: estimates (statuses, converted once into an invoice that links them), sales receipts
(paid on the spot, into Undeposited Funds) and terms, over real HTTP."""

from typing import Any

from tests.conftest import Sandbox
from tests.integration.sandbox.test_quickbooks_books import _customer, _discount, _line, _query
from tests.integration.sandbox.test_quickbooks_entities import _fault_code, _item, _ok, _post


def _estimate(quickbooks: Sandbox, customer: dict[str, Any], lines: list[dict[str, Any]], **body: Any) -> Any:
    return _post(quickbooks, "estimate", {"CustomerRef": {"value": customer["Id"]}, "Line": lines, **body})


def test_an_estimate_is_priced_like_an_invoice_and_keeps_its_status_and_expiry(quickbooks: Sandbox) -> None:
    customer, item = _customer(quickbooks, "Ada"), _item(quickbooks, price=50)
    estimate = _ok(
        _estimate(quickbooks, customer, [_line(item, 4), _discount(10)], ExpirationDate="2027-01-31"), "Estimate"
    )
    assert (estimate["TotalAmt"], estimate["TxnStatus"], estimate["ExpirationDate"]) == (180.0, "Pending", "2027-01-31")
    assert estimate["DocNumber"] == "1001"
    assert "Balance" not in estimate
    assert "DueDate" not in estimate
    body = {"Id": estimate["Id"], "SyncToken": estimate["SyncToken"], "sparse": True, "TxnStatus": "Accepted"}
    accepted = _ok(_post(quickbooks, "estimate", body), "Estimate")
    assert (accepted["TxnStatus"], accepted["SyncToken"]) == ("Accepted", "1")
    assert accepted["AcceptedDate"]
    wrong = {**body, "SyncToken": accepted["SyncToken"], "TxnStatus": "Maybe"}
    assert _fault_code(_post(quickbooks, "estimate", wrong)) == "6000"
    assert [e["Id"] for e in _query(quickbooks, "select * from Estimate where TxnStatus = 'Accepted'")] == [
        estimate["Id"]
    ]


def test_an_estimate_converts_into_one_invoice_that_links_it_and_closes_it(quickbooks: Sandbox) -> None:
    customer, other, item = _customer(quickbooks, "Bo"), _customer(quickbooks, "Cy"), _item(quickbooks)
    estimate = _ok(_estimate(quickbooks, customer, [_line(item, 2)]), "Estimate")
    link = [{"TxnId": estimate["Id"], "TxnType": "Estimate"}]
    elsewhere = _post(
        quickbooks, "invoice", {"CustomerRef": {"value": other["Id"]}, "Line": [_line(item, 2)], "LinkedTxn": link}
    )
    assert _fault_code(elsewhere) == "6000"  # another customer's estimate
    body = {"CustomerRef": {"value": customer["Id"]}, "Line": [_line(item, 2)], "LinkedTxn": link}
    invoice = _ok(_post(quickbooks, "invoice", body), "Invoice")
    assert invoice["LinkedTxn"] == link
    records = {e["Id"]: e for e in quickbooks.admin.records("Estimate")}
    assert records[estimate["Id"]]["TxnStatus"] == "Closed"
    assert records[estimate["Id"]]["LinkedTxn"] == [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]
    again = _post(quickbooks, "invoice", body)
    assert _fault_code(again) == "6000"
    assert "converted to an invoice already" in again.json()["Fault"]["Error"][0]["Detail"]


def test_a_sales_receipt_is_paid_on_the_spot_into_undeposited_funds(quickbooks: Sandbox) -> None:
    customer, item = _customer(quickbooks, "Di"), _item(quickbooks, price=12.5)
    body = {
        "CustomerRef": {"value": customer["Id"]},
        "Line": [_line(item, 2)],
        "PaymentRefNum": "HubSpot 77",
        "PaymentMethodRef": {"value": "1", "name": "Cash"},
    }
    receipt = _ok(_post(quickbooks, "salesreceipt", body), "SalesReceipt")
    assert (receipt["TotalAmt"], receipt["Balance"], receipt["PaymentRefNum"]) == (25.0, 0, "HubSpot 77")
    assert receipt["DepositToAccountRef"] == {"value": "4001", "name": "Undeposited Funds"}
    invoice = _ok(
        _post(quickbooks, "invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [_line(item, 1)]}), "Invoice"
    )
    assert int(invoice["DocNumber"]) == int(receipt["DocNumber"]) + 1  # one sequence for both
    nowhere = {**body, "DepositToAccountRef": {"value": "999"}}
    assert _fault_code(_post(quickbooks, "salesreceipt", nowhere)) == "2500"
    assert _fault_code(_post(quickbooks, "salesreceipt", {**body, "DueDate": "2027-01-01"})) == "2010"


def test_terms_set_an_invoices_due_date(quickbooks: Sandbox) -> None:
    terms = {t["Name"]: t for t in _query(quickbooks, "select * from Term where Active = true")}
    assert [terms[n]["DueDays"] for n in ("Due on receipt", "Net 15", "Net 30", "Net 60")] == [0, 15, 30, 60]
    customer, item = _customer(quickbooks, "Eli"), _item(quickbooks)
    body = {"CustomerRef": {"value": customer["Id"]}, "Line": [_line(item, 1)], "TxnDate": "2026-12-01"}
    net_15 = {**body, "SalesTermRef": {"value": terms["Net 15"]["Id"]}}
    assert _ok(_post(quickbooks, "invoice", net_15), "Invoice")["DueDate"] == "2026-12-16"
    assert _ok(_post(quickbooks, "invoice", body), "Invoice")["DueDate"] == "2026-12-31"


def test_an_estimate_and_a_sales_receipt_are_emailed_like_invoices(quickbooks: Sandbox) -> None:
    customer, item = _customer(quickbooks, "Fox"), _item(quickbooks)
    estimate = _ok(_estimate(quickbooks, customer, [_line(item, 1)]), "Estimate")
    receipt = _ok(
        _post(quickbooks, "salesreceipt", {"CustomerRef": {"value": customer["Id"]}, "Line": [_line(item, 1)]}),
        "SalesReceipt",
    )
    assert _fault_code(_post(quickbooks, f"estimate/{estimate['Id']}/send", {})) == "6000"  # no address anywhere
    for entity, form in (("estimate", estimate), ("salesreceipt", receipt)):
        sent = _post(quickbooks, f"{entity}/{form['Id']}/send", {}, sendTo="fox@example.com")
        shown = _ok(sent, "Estimate" if entity == "estimate" else "SalesReceipt")
        assert (shown["EmailStatus"], shown["BillEmail"]["Address"]) == ("EmailSent", "fox@example.com")
