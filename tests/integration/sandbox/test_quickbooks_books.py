"""QuickBooks emulator: books by region (tax codes and rates, discounts, bundles, currencies) over real HTTP."""

from typing import Any

import pytest

from tests.conftest import Sandbox
from tests.integration.sandbox.test_quickbooks_entities import _base, _fault_code, _item, _ok, _post


def _customer(quickbooks: Sandbox, name: str, currency: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"DisplayName": name}
    if currency:
        body["CurrencyRef"] = {"value": currency}
    return _ok(_post(quickbooks, "customer", body), "Customer")


def _line(item: dict[str, Any], qty: float, code: str | None = None, **detail: Any) -> dict[str, Any]:
    sales: dict[str, Any] = {"ItemRef": {"value": item["Id"]}, "Qty": qty, **detail}
    if code:
        sales["TaxCodeRef"] = {"value": code}
    return {"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": sales}


def _discount(percent: float) -> dict[str, Any]:
    return {
        "DetailType": "DiscountLineDetail",
        "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": percent},
    }


def _invoice(quickbooks: Sandbox, customer: dict[str, Any], lines: list[dict[str, Any]], **body: Any) -> Any:
    return _post(quickbooks, "invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": lines, **body})


def _query(quickbooks: Sandbox, sql: str) -> list[dict[str, Any]]:
    response = quickbooks.api().post(
        f"{_base(quickbooks)}/query", data=sql, headers={"Content-Type": "application/text"}
    )
    assert response.status_code == 200, response.text
    return next((v for v in response.json()["QueryResponse"].values() if isinstance(v, list)), [])


def test_a_uk_company_has_vat_codes_and_adds_vat_after_a_discount(quickbooks: Sandbox) -> None:
    quickbooks.admin.set_company(Country="GB")
    assert {c["Name"] for c in _query(quickbooks, "select * from TaxCode")} >= {"20.0% S", "5.0% R", "Exempt"}
    prefs = quickbooks.api().get(f"{_base(quickbooks)}/preferences").json()["Preferences"]
    assert prefs["CurrencyPrefs"]["HomeCurrency"]["value"] == "GBP"
    assert prefs["TaxPrefs"]["PartnerTaxEnabled"] is False
    buyer = _customer(quickbooks, "Ada Ltd")
    assert buyer["CurrencyRef"]["value"] == "GBP"
    invoice = _ok(
        _invoice(
            quickbooks,
            buyer,
            [
                _line(_item(quickbooks, "Consulting", 100), 1, "2"),
                _line(_item(quickbooks, "Books", 25), 2, "3"),
                _discount(10),
            ],
        ),
        "Invoice",
    )
    # 100 at 20% and 50 at 5%, 10% off each before VAT: 18.00 + 2.25
    assert invoice["GlobalTaxCalculation"] == "TaxExcluded"
    assert invoice["TxnTaxDetail"]["TotalTax"] == 20.25
    assert [t["Amount"] for t in invoice["TxnTaxDetail"]["TaxLine"]] == [18.0, 2.25]
    assert invoice["TotalAmt"] == invoice["Balance"] == 155.25
    kinds = [line["DetailType"] for line in invoice["Line"]]
    assert kinds == ["SalesItemLineDetail", "SalesItemLineDetail", "SubTotalLineDetail", "DiscountLineDetail"]
    assert invoice["Line"][2]["Amount"] == 150.0
    assert invoice["Line"][3]["Amount"] == 15.0


def test_tax_included_prices_keep_the_total_and_split_out_the_vat(quickbooks: Sandbox) -> None:
    quickbooks.admin.set_company(Country="GB")
    invoice = _ok(
        _invoice(
            quickbooks,
            _customer(quickbooks, "Inclusive Ltd"),
            [_line(_item(quickbooks, "Course", 120), 1, "2")],
            GlobalTaxCalculation="TaxInclusive",
        ),
        "Invoice",
    )
    line = invoice["Line"][0]
    assert line["SalesItemLineDetail"]["TaxInclusiveAmt"] == 120.0
    assert line["Amount"] == 100.0
    assert invoice["TxnTaxDetail"]["TotalTax"] == 20.0
    assert invoice["TotalAmt"] == 120.0


def test_us_automated_sales_tax_taxes_the_taxable_lines_at_the_combined_rate(quickbooks: Sandbox) -> None:
    buyer = _customer(quickbooks, "Tax Payer")
    lines = [_line(_item(quickbooks, "Gadget", 100), 1, "TAX"), _line(_item(quickbooks, "Service", 50), 1, "NON")]
    invoice = _ok(_invoice(quickbooks, buyer, lines), "Invoice")
    # 7.25% + 1.375% of 100: 7.25 + 1.38 (rounded half up)
    assert invoice["TxnTaxDetail"]["TxnTaxCodeRef"]["value"] == "2"
    assert invoice["TxnTaxDetail"]["TotalTax"] == 8.63
    assert invoice["TotalAmt"] == 158.63
    assert "GlobalTaxCalculation" not in invoice
    not_a_rate = _invoice(quickbooks, buyer, lines, TxnTaxDetail={"TxnTaxCodeRef": {"value": "TAX"}})
    assert _fault_code(not_a_rate) == "2500"  # a transaction's code must carry rates
    before_tax = _ok(_invoice(quickbooks, buyer, [*lines, _discount(10)]), "Invoice")  # tax on the full amount
    assert before_tax["TotalAmt"] == 143.63
    after = _ok(_invoice(quickbooks, buyer, [*lines, _discount(10)], ApplyTaxAfterDiscount=True), "Invoice")
    assert after["TxnTaxDetail"]["TotalTax"] == 7.77  # on 90: 6.53 + 1.24
    assert after["TotalAmt"] == 142.77


def test_a_bundle_bills_its_parts_times_its_quantity(quickbooks: Sandbox) -> None:
    parts = [_item(quickbooks, "Desk", 200), _item(quickbooks, "Chair", 80)]
    bundle = _ok(
        _post(
            quickbooks,
            "item",
            {
                "Name": "Office set",
                "Type": "Group",
                "ItemGroupDetail": {
                    "ItemGroupLine": [
                        {"ItemRef": {"value": p["Id"]}, "Qty": q} for p, q in zip(parts, (1, 2), strict=True)
                    ]
                },
            },
        ),
        "Item",
    )
    group = {
        "DetailType": "GroupLineDetail",
        "GroupLineDetail": {"GroupItemRef": {"value": bundle["Id"]}, "Quantity": 2},
    }
    invoice = _ok(_invoice(quickbooks, _customer(quickbooks, "Office Buyer"), [group]), "Invoice")
    billed = invoice["Line"][0]
    assert billed["Amount"] == 720.0  # 2 x (200 + 2 x 80)
    assert [p["SalesItemLineDetail"]["Qty"] for p in billed["GroupLineDetail"]["Line"]] == [2.0, 4.0]
    assert invoice["TotalAmt"] == 720.0
    empty = _post(quickbooks, "item", {"Name": "Empty set", "Type": "Group", "ItemGroupDetail": {"ItemGroupLine": []}})
    assert _fault_code(empty) == "6000"


def test_a_foreign_currency_invoice_keeps_its_rate_and_home_total(quickbooks: Sandbox) -> None:
    quickbooks.admin.set_company(Country="GB", Currencies=["EUR", "JPY"])
    assert {c["Code"] for c in _query(quickbooks, "select * from CompanyCurrency")} == {"GBP", "EUR", "JPY"}
    euro = _customer(quickbooks, "Euro Buyer", "EUR")
    invoice = _ok(_invoice(quickbooks, euro, [_line(_item(quickbooks, "Licence", 100), 1, "4")]), "Invoice")
    assert invoice["CurrencyRef"]["value"] == "EUR"
    assert invoice["ExchangeRate"] == 0.850394  # 1.08 / 1.27
    assert invoice["HomeTotalAmt"] == 85.04
    yen = _customer(quickbooks, "Yen Buyer", "JPY")
    rounded = _ok(_invoice(quickbooks, yen, [_line(_item(quickbooks, "Hours", 333.5), 3, "4")]), "Invoice")
    assert rounded["TotalAmt"] == 1001.0  # no decimals in yen, half up
    wrong = _invoice(quickbooks, euro, [_line(_item(quickbooks, "Extra", 5), 1, "4")], CurrencyRef={"value": "GBP"})
    assert _fault_code(wrong) == "6190"
    changed = _post(quickbooks, "customer", {**euro, "CurrencyRef": {"value": "GBP"}, "sparse": True})
    assert _fault_code(changed) == "6200"
    assert (
        _fault_code(_post(quickbooks, "customer", {"DisplayName": "Dollar", "CurrencyRef": {"value": "USD"}})) == "6190"
    )


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ({"code": "6"}, "2500"),  # an inactive tax code
        ({"code": "99"}, "2500"),  # no such code
        ({"code": None}, "6000"),  # no code, and the item has none
        ({"code": "2", "discount": 150}, "6000"),  # a discount over 100%
    ],
)
def test_books_refuse_bad_tax_codes_and_discounts_and_write_nothing(
    quickbooks: Sandbox, line: dict[str, Any], code: str
) -> None:
    quickbooks.admin.set_company(Country="GB")
    lines = [_line(_item(quickbooks, "Thing", 10), 1, line["code"])]
    if "discount" in line:
        lines.append(_discount(line["discount"]))
    assert _fault_code(_invoice(quickbooks, _customer(quickbooks, "Bad Input"), lines)) == code
    assert _query(quickbooks, "select * from Invoice") == []
