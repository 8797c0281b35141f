"""How QuickBooks invoices and payments read in HubSpot: statuses, line items, the deal's invoice figures."""

from datetime import date

from hubbooks.mapping import invoices

TODAY = date(2026, 11, 29)


def _invoice(**fields: object) -> dict[str, object]:
    return {"Id": "7", "TotalAmt": 100.0, "Balance": 100.0, "DueDate": "2026-12-29", **fields}


def test_status_follows_balance_due_date_and_void() -> None:
    assert invoices.status(_invoice(), TODAY) == "open"
    assert invoices.status(_invoice(Balance=40.0), TODAY) == "partially_paid"
    assert invoices.status(_invoice(Balance=0.0), TODAY) == "paid"
    assert invoices.status(_invoice(DueDate="2026-11-28"), TODAY) == "overdue"
    assert invoices.status(_invoice(Balance=40.0, DueDate="2026-11-01"), TODAY) == "overdue"
    assert invoices.status(_invoice(TotalAmt=0.0, Balance=0.0, PrivateNote="Voided"), TODAY) == "voided"
    assert invoices.status(_invoice(TotalAmt=0.0, Balance=0.0), TODAY) == "open"  # a zero invoice is not void


def test_hubspot_status_never_claims_paid_and_opens_only_when_ready() -> None:
    assert invoices.hubspot_status("paid", ready_to_open=True) == "open"
    assert invoices.hubspot_status("open", ready_to_open=False) == "draft"
    assert invoices.hubspot_status("voided", ready_to_open=False) == "voided"


def test_invoice_properties_use_epoch_midnights_and_canonical_money() -> None:
    props = invoices.invoice_properties(
        _invoice(
            TxnDate="2026-11-29",
            DocNumber="1042",
            TotalAmt=1250.5,
            Balance=250.0,
            CustomerRef={"value": "3", "name": "Ada Co"},
            MetaData={"LastUpdatedTime": "2026-11-29T10:00:00-08:00"},
        ),
        TODAY,
    )
    assert props["hs_invoice_date"] == "1795910400000"
    assert props["qbo_invoice_total"] == "1250.50"
    assert props["qbo_invoice_balance"] == "250"
    assert props["qbo_invoice_status"] == "partially_paid"
    assert props["qbo_last_updated"] == "1795975200000"
    assert props["hs_invoice_billable"] == "false"


def test_line_items_are_keyed_by_invoice_and_line_and_tied_to_linked_products() -> None:
    invoice = _invoice(
        Line=[
            {
                "Id": "1",
                "Amount": 30.0,
                "DetailType": "SalesItemLineDetail",
                "Description": "Hours",
                "SalesItemLineDetail": {"ItemRef": {"value": "5", "name": "Consulting"}, "Qty": 2, "UnitPrice": 15},
            },
            {
                "Id": "2",
                "Amount": 9.0,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": "6", "name": "Fee"}},
            },
            {"Amount": 39.0, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}},
        ]
    )
    lines = invoices.line_item_properties(invoice, {"5": "901"})
    assert list(lines) == ["7:1", "7:2"]
    assert lines["7:1"] == {
        "qbo_invoice_line": "7:1",
        "name": "Consulting",
        "description": "Hours",
        "quantity": "2",
        "price": "15",
        "hs_product_id": "901",
        "hs_line_item_currency_code": "USD",
    }
    assert (lines["7:2"]["quantity"], lines["7:2"]["price"], "hs_product_id" in lines["7:2"]) == ("1", "9", False)


def test_the_deal_takes_the_invoice_updated_last_in_quickbooks() -> None:
    older = {
        "qbo_invoice_id": "1",
        "qbo_last_updated": "2026-11-28T10:00:00Z",
        "qbo_invoice_total": "100",
        "qbo_customer_name": "Bo",
        "qbo_invoice_number": "1001",
        "qbo_invoice_status": "open",
        "hs_due_date": "1795910400000",
    }
    newer = older | {"qbo_invoice_id": "2", "qbo_last_updated": "1795975200000", "qbo_invoice_number": "1002"}
    assert invoices.deal_properties([older, newer])["qbo_invoice_number"] == "1002"
    assert invoices.deal_properties([newer, older])["qbo_invoice_number"] == "1002"
    assert invoices.deal_properties([older])["qbo_invoice_due_date"] == "1795910400000"
    same_second = older | {"qbo_invoice_id": "3", "qbo_invoice_number": "1003", "hs_lastmodifieddate": "5"}
    touched_later = older | {"hs_lastmodifieddate": "9"}
    assert invoices.deal_properties([same_second, touched_later])["qbo_invoice_number"] == "1001"
    assert invoices.deal_properties([]) == dict.fromkeys(invoices.DEAL_FIELDS, "")


def test_a_payment_applies_per_invoice_and_reads_as_timeline_tokens() -> None:
    payment = {
        "TxnDate": "2026-11-29",
        "CurrencyRef": {"value": "EUR"},
        "Line": [
            {"Amount": 20.0, "LinkedTxn": [{"TxnId": "7", "TxnType": "Invoice"}]},
            {"Amount": 5.0, "LinkedTxn": [{"TxnId": "8", "TxnType": "Invoice"}]},
            {"Amount": 1.0, "LinkedTxn": [{"TxnId": "8", "TxnType": "Invoice"}]},
        ],
    }
    assert invoices.applied(payment) == {"7": 20.0, "8": 6.0}
    tokens = invoices.payment_tokens(
        payment, 20.0, {"qbo_invoice_number": "1042", "qbo_invoice_balance": "80"}, "received"
    )
    assert tokens == {
        "amount": "20",
        "currency": "EUR",
        "payment_date": "1795910400000",
        "method": "unspecified method",
        "invoice_number": "1042",
        "balance": "80",
        "status": "received",
    }


def test_the_mirror_owns_every_property_it_writes_on_an_invoice() -> None:
    assert set(invoices.invoice_properties(_invoice(), TODAY)) | {"hs_invoice_status"} <= invoices.MIRRORED


def test_a_rate_two_tax_codes_apply_is_one_line_of_their_sum() -> None:
    gst = {"TaxRateRef": {"value": "1", "name": "GST"}}
    invoice = _invoice(
        TotalAmt=10.5,
        TxnTaxDetail={
            "TotalTax": 0.5,
            "TaxLine": [{"Amount": 0.25, "TaxLineDetail": gst}, {"Amount": 0.25, "TaxLineDetail": gst}],
        },
        Line=[{"Id": "1", "Amount": 10.0, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"Qty": 1}}],
    )
    lines = invoices.line_item_properties(invoice, {})
    assert [(p["name"], p["price"]) for p in lines.values()] == [("Item", "10"), ("GST", "0.50")]
