"""A company's books by region, as QuickBooks keeps them: tax agencies, rates and codes, currencies, and the
arithmetic of an invoice (its lines, a discount, tax excluded or included, rounding to the currency)."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.quickbooks import faults as qf

# Code, name, decimals, value in US dollars (fixed: the sandbox's exchange rates do not move).
CURRENCIES: dict[str, tuple[str, int, str]] = {
    "USD": ("United States Dollar", 2, "1"),
    "GBP": ("British Pound Sterling", 2, "1.27"),
    "EUR": ("Euro", 2, "1.08"),
    "CAD": ("Canadian Dollar", 2, "0.73"),
    "AUD": ("Australian Dollar", 2, "0.66"),
    "JPY": ("Japanese Yen", 0, "0.0067"),
}
US_TAXABLE, US_NON_TAXABLE = "TAX", "NON"  # a US line's only codes; the rate comes from the transaction's


@dataclass(frozen=True)
class TaxRate:
    rate_id: str
    name: str
    percent: str
    agency_id: str = "1"


@dataclass(frozen=True)
class TaxCode:
    code_id: str
    name: str
    description: str
    rates: tuple[str, ...]  # rate ids; none: exempt or out of scope
    active: bool = True


@dataclass(frozen=True)
class Region:
    country: str
    name: str
    home: str
    agency: str
    rates: tuple[TaxRate, ...]
    codes: tuple[TaxCode, ...]
    default_code: str  # US: the combined code automated sales tax applies; elsewhere an item's default
    time_zone: str
    automated: bool = False  # US automated sales tax: lines say TAX or NON, the transaction says the rate

    def code(self, code_id: str) -> TaxCode | None:
        return next((c for c in self.codes if c.code_id == code_id), None)

    def rate(self, rate_id: str) -> TaxRate:
        return next(r for r in self.rates if r.rate_id == rate_id)


REGIONS: dict[str, Region] = {
    "US": Region(
        "US",
        "Sandbox Company US",
        "USD",
        "California Department of Tax and Fee Administration",
        (TaxRate("1", "California", "7.25"), TaxRate("2", "San Francisco County", "1.375")),
        (
            TaxCode(US_TAXABLE, US_TAXABLE, "Taxable", ()),
            TaxCode(US_NON_TAXABLE, US_NON_TAXABLE, "Non-taxable", ()),
            TaxCode("2", "San Francisco", "California and San Francisco County", ("1", "2")),
        ),
        "2",
        "America/Los_Angeles",
        automated=True,
    ),
    "GB": Region(
        "GB",
        "Sandbox Company UK",
        "GBP",
        "HM Revenue & Customs",
        (TaxRate("1", "20.0% S", "20"), TaxRate("2", "5.0% R", "5"), TaxRate("3", "0.0% Z", "0")),
        (
            TaxCode("2", "20.0% S", "Standard rated", ("1",)),
            TaxCode("3", "5.0% R", "Reduced rated", ("2",)),
            TaxCode("4", "0.0% Z", "Zero rated", ("3",)),
            TaxCode("5", "Exempt", "Exempt from VAT", ()),
            TaxCode("6", "No VAT", "Outside the scope of VAT", (), active=False),
        ),
        "2",
        "Europe/London",
    ),
    "CA": Region(
        "CA",
        "Sandbox Company CA",
        "CAD",
        "Canada Revenue Agency",
        (TaxRate("1", "GST", "5"), TaxRate("2", "HST ON", "13")),
        (
            TaxCode("2", "GST", "GST only", ("1",)),
            TaxCode("3", "HST ON", "Ontario HST", ("2",)),
            TaxCode("4", "Exempt", "Exempt from GST/HST", ()),
        ),
        "2",
        "America/Toronto",
    ),
    "AU": Region(
        "AU",
        "Sandbox Company AU",
        "AUD",
        "Australian Taxation Office",
        (TaxRate("1", "GST", "10"), TaxRate("2", "GST free", "0")),
        (TaxCode("2", "GST", "GST on sales", ("1",)), TaxCode("3", "FRE", "GST free", ("2",))),
        "2",
        "Australia/Sydney",
    ),
}


def decimals(currency: str) -> int:
    return CURRENCIES[currency][1]


def rounded(value: Decimal | float | str, currency: str) -> float:
    """An amount rounded half up to the currency's decimals, as QuickBooks rounds."""
    step = Decimal(1).scaleb(-decimals(currency))
    return float(Decimal(str(value)).quantize(step, rounding=ROUND_HALF_UP))


def exchange_rate(currency: str, home: str) -> float:
    """Home currency per unit of `currency`."""
    return float((Decimal(CURRENCIES[currency][2]) / Decimal(CURRENCIES[home][2])).quantize(Decimal("0.000001")))


def records(region: Region, currencies: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The region's read-only lists as QuickBooks answers them."""
    agency = {"Id": "1", "DisplayName": region.agency, "TaxTrackedOnSales": True, "TaxTrackedOnPurchases": True}
    rates = [
        {
            "Id": r.rate_id,
            "Name": r.name,
            "Description": r.name,
            "Active": True,
            "RateValue": float(r.percent),
            "AgencyRef": {"value": r.agency_id},
            "SpecialTaxType": "NONE",
            "DisplayType": "ReadOnly",
        }
        for r in region.rates
    ]
    codes = [
        {
            "Id": c.code_id,
            "Name": c.name,
            "Description": c.description,
            "Active": c.active,
            "Taxable": bool(c.rates) or c.code_id == US_TAXABLE,
            "TaxGroup": len(c.rates) > 1,
            "SalesTaxRateList": {
                "TaxRateDetail": [
                    {"TaxRateRef": {"value": r, "name": region.rate(r).name}, "TaxTypeApplicable": "TaxOnAmount"}
                    for r in c.rates
                ]
            },
            "PurchaseTaxRateList": {"TaxRateDetail": []},
        }
        for c in region.codes
    ]
    listed = [
        {"Id": str(n), "Code": code, "Name": CURRENCIES[code][0], "Active": True}
        for n, code in enumerate(currencies, start=1)
    ]
    return {"TaxAgency": [agency], "TaxRate": rates, "TaxCode": codes, "CompanyCurrency": listed}


@dataclass(frozen=True)
class Taxed:
    """A line's amount as it bears tax: its amount (gross when tax is included) and its tax code."""

    amount: float
    code: str


@dataclass(frozen=True)
class Priced:
    total: float
    tax: dict[str, Any]  # TxnTaxDetail
    net: dict[int, float]  # a line's index -> its amount without tax, when tax is included


def price(
    region: Region,
    lines: list[Taxed],
    discount: float,
    *,
    mode: str,
    currency: str,
    txn_code: str | None,
    tax_after_discount: bool,
) -> Priced:
    """The invoice's total and tax detail. `mode`: TaxExcluded, TaxInclusive or NotApplicable (a US company's
    automated sales tax is tax excluded, on TAX lines at the transaction code's rates)."""
    subtotal = sum(line.amount for line in lines)
    share = Decimal(str(discount)) / Decimal(str(subtotal)) if subtotal else Decimal(0)
    bases = _bases(region, lines, share, txn_code, tax_after_discount)
    tax_lines = [] if mode == "NotApplicable" else _tax_lines(region, bases, mode, currency)
    tax = rounded(sum(Decimal(str(t["Amount"])) for t in tax_lines), currency)
    detail: dict[str, Any] = {"TotalTax": tax, "TaxLine": tax_lines}
    if region.automated:
        detail["TxnTaxCodeRef"] = {"value": txn_code or region.default_code}
    added = Decimal(0) if mode == "TaxInclusive" else Decimal(str(tax))
    total = rounded(Decimal(str(subtotal)) - Decimal(str(discount)) + added, currency)
    nets = {i: _without_tax(region, line, currency) for i, line in enumerate(lines)} if mode == "TaxInclusive" else {}
    return Priced(total, detail, nets)


def _bases(
    region: Region, lines: list[Taxed], share: Decimal, txn_code: str | None, tax_after_discount: bool
) -> dict[str, Decimal]:
    """Each tax code's taxable amount: the lines it applies to, less their part of the discount."""
    bases: dict[str, Decimal] = {}
    for line in lines:
        if region.automated:  # TAX lines at the transaction's rates; the discount first only if asked
            if line.code != US_TAXABLE:
                continue
            code_id, discounted = txn_code or region.default_code, tax_after_discount
        else:  # each line at its own code's rates, always after the discount
            code_id, discounted = line.code, True
        amount = Decimal(str(line.amount)) * ((1 - share) if discounted else 1)
        bases[code_id] = bases.get(code_id, Decimal(0)) + amount
    return bases


def _tax_lines(region: Region, bases: dict[str, Decimal], mode: str, currency: str) -> list[dict[str, Any]]:
    """One tax line per rate of each code, on its taxable amount (which holds the tax when it is included)."""
    found: list[dict[str, Any]] = []
    for code_id, base in bases.items():
        code = region.code(code_id)
        for rate_id in code.rates if code else ():
            percent = Decimal(region.rate(rate_id).percent)
            taxable = base * 100 / (100 + percent) if mode == "TaxInclusive" else base
            amount = (
                rounded(base - taxable, currency) if mode == "TaxInclusive" else rounded(base * percent / 100, currency)
            )
            found.append(
                {
                    "Amount": amount,
                    "DetailType": "TaxLineDetail",
                    "TaxLineDetail": {
                        "TaxRateRef": {"value": rate_id, "name": region.rate(rate_id).name},
                        "PercentBased": True,
                        "TaxPercent": float(percent),
                        "NetAmountTaxable": rounded(taxable, currency),
                    },
                }
            )
    return found


def _without_tax(region: Region, line: Taxed, currency: str) -> float:
    """A tax-included line's amount without its tax."""
    code = region.code(line.code)
    percent = sum((Decimal(region.rate(r).percent) for r in code.rates), Decimal(0)) if code else Decimal(0)
    return rounded(Decimal(str(line.amount)) * 100 / (100 + percent), currency)


def discount_amount(detail: dict[str, Any], amount: Any, subtotal: float, currency: str) -> float:
    """A discount line's amount: a percent of the lines above it, or an amount; never more than they are."""
    if detail.get("PercentBased") in (True, "true"):
        percent = Decimal(str(detail.get("DiscountPercent") or 0))
        if not 0 <= percent <= 100:
            raise qf.business_rule(f"The discount percent must be between 0 and 100 (supplied {percent})")
        return rounded(Decimal(str(subtotal)) * percent / 100, currency)
    value = rounded(amount or 0, currency)
    if value < 0 or value > subtotal:
        raise qf.business_rule(f"The discount ({value}) must be between 0 and the subtotal ({subtotal})")
    return value
