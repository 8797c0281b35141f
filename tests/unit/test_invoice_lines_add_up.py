"""Whatever QuickBooks puts on an invoice (items, bundles, a discount, tax excluded or included, any region and
currency), its HubSpot line items add up to its total: invoices priced by the QuickBooks emulator's own books."""

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubbooks.mapping.invoices import line_item_properties
from sandbox.quickbooks import books
from sandbox.quickbooks.company import Company

MODES = ("TaxExcluded", "TaxInclusive", "NotApplicable")


def _company(country: str) -> Company:
    company = Company("1", lambda changes: None)
    company.set_books(books.REGIONS[country], [c for c in books.CURRENCIES if c != books.REGIONS[country].home])
    return company


def _codes(company: Company) -> list[str]:
    if company.region.automated:
        return [books.US_TAXABLE, books.US_NON_TAXABLE]
    return [c.code_id for c in company.region.codes if c.active]


@st.composite
def invoices(draw: st.DrawFn) -> dict[str, Any]:
    company = _company(draw(st.sampled_from(sorted(books.REGIONS))))
    currency = draw(st.sampled_from([company.region.home, *company.currencies]))
    customer = company.create("Customer", {"DisplayName": "Buyer", "CurrencyRef": {"value": currency}})
    prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)
    codes = st.sampled_from(_codes(company))

    def item(name: str) -> dict[str, Any]:
        body = {"Name": name, "Type": "Service", "UnitPrice": float(draw(prices)), "IncomeAccountRef": {"value": "1"}}
        return company.create("Item", body)

    lines: list[dict[str, Any]] = []
    for n in range(draw(st.integers(min_value=1, max_value=5))):
        quantity = float(draw(st.decimals(min_value=Decimal("0.5"), max_value=Decimal("40"), places=1)))
        if draw(st.booleans()):
            sales = {
                "ItemRef": {"value": item(f"Item {n}")["Id"]},
                "Qty": quantity,
                "TaxCodeRef": {"value": draw(codes)},
            }
            lines.append({"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": sales})
        else:
            parts = [{"ItemRef": {"value": item(f"Part {n}.{p}")["Id"]}, "Qty": 1 + p} for p in range(2)]
            bundle = company.create(
                "Item", {"Name": f"Bundle {n}", "Type": "Group", "ItemGroupDetail": {"ItemGroupLine": parts}}
            )
            inner = [
                {
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {
                        **part,
                        "Qty": part["Qty"] * quantity,
                        "TaxCodeRef": {"value": draw(codes)},
                    },
                }
                for part in parts
            ]
            detail = {"GroupItemRef": {"value": bundle["Id"]}, "Quantity": quantity, "Line": inner}
            lines.append({"DetailType": "GroupLineDetail", "GroupLineDetail": detail})
    if draw(st.booleans()):
        percent = float(draw(st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2)))
        lines.append(
            {
                "DetailType": "DiscountLineDetail",
                "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": percent},
            }
        )
    body = {
        "CustomerRef": {"value": customer["Id"]},
        "Line": lines,
        "GlobalTaxCalculation": draw(st.sampled_from(MODES)),
        "ApplyTaxAfterDiscount": draw(st.booleans()),
    }
    return company.create("Invoice", body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(invoices())
def test_line_items_add_up_to_the_invoice_total(invoice: dict[str, Any]) -> None:
    lines = line_item_properties(invoice, {})
    total = sum(Decimal(p["quantity"]) * Decimal(p["price"]) for p in lines.values())
    assert total == Decimal(str(invoice["TotalAmt"]))
    assert {p["hs_line_item_currency_code"] for p in lines.values()} == {invoice["CurrencyRef"]["value"]}
