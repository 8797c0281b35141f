"""The QuickBooks fields a person may map, per entity, with their type and whether QuickBooks computes them
(from Intuit's Customer and Item references; nested fields as dotted paths)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class QboField:
    path: str
    label: str
    type: str  # string, number, bool, date
    read_only: bool = False


def _address(prefix: str, label: str) -> tuple[QboField, ...]:
    parts = (
        ("Line1", "street"),
        ("Line2", "street, line 2"),
        ("City", "city"),
        ("CountrySubDivisionCode", "state or province"),
        ("PostalCode", "postal code"),
        ("Country", "country"),
    )
    return tuple(QboField(f"{prefix}.{key}", f"{label} {name}", "string") for key, name in parts)


QBO_FIELDS: dict[str, tuple[QboField, ...]] = {
    "Customer": (
        QboField("Id", "Customer ID", "string", read_only=True),
        QboField("DisplayName", "Display name", "string"),
        QboField("Title", "Title", "string"),
        QboField("GivenName", "First name", "string"),
        QboField("MiddleName", "Middle name", "string"),
        QboField("FamilyName", "Last name", "string"),
        QboField("Suffix", "Suffix", "string"),
        QboField("CompanyName", "Company", "string"),
        QboField("PrintOnCheckName", "Name on checks", "string"),
        QboField("PrimaryEmailAddr.Address", "Email", "string"),
        QboField("PrimaryPhone.FreeFormNumber", "Phone", "string"),
        QboField("Mobile.FreeFormNumber", "Mobile", "string"),
        QboField("AlternatePhone.FreeFormNumber", "Other phone", "string"),
        QboField("Fax.FreeFormNumber", "Fax", "string"),
        QboField("WebAddr.URI", "Website", "string"),
        *_address("BillAddr", "Billing"),
        *_address("ShipAddr", "Shipping"),
        QboField("Notes", "Notes", "string"),
        QboField("ResaleNum", "Resale number", "string"),
        QboField("BusinessNumber", "Business number", "string"),
        QboField("Taxable", "Taxable", "bool"),
        QboField("Active", "Active", "bool", read_only=True),
        QboField("Balance", "Open balance", "number", read_only=True),
        QboField("OpenBalanceDate", "Opening balance date", "date", read_only=True),
        QboField("MetaData.CreateTime", "Created", "date", read_only=True),
    ),
    "Item": (
        QboField("Id", "Item ID", "string", read_only=True),
        QboField("Name", "Name", "string"),
        QboField("Sku", "SKU", "string"),
        QboField("Description", "Sales description", "string"),
        QboField("PurchaseDesc", "Purchase description", "string"),
        QboField("UnitPrice", "Sales price", "number"),
        QboField("PurchaseCost", "Cost", "number"),
        QboField("Taxable", "Taxable", "bool"),
        QboField("Type", "Type", "string", read_only=True),
        QboField("QtyOnHand", "Quantity on hand", "number", read_only=True),
        QboField("Active", "Active", "bool", read_only=True),
        QboField("MetaData.CreateTime", "Created", "date", read_only=True),
    ),
    # Invoices come from QuickBooks: every field is QuickBooks' to write, HubSpot's to show.
    "Invoice": tuple(
        QboField(path, label, kind, read_only=True)
        for path, label, kind in (
            ("DocNumber", "Invoice number", "string"),
            ("TxnDate", "Invoice date", "date"),
            ("DueDate", "Due date", "date"),
            ("PrivateNote", "Memo (private)", "string"),
            ("CustomerMemo.value", "Message on invoice", "string"),
            ("SalesTermRef.name", "Terms", "string"),
            ("BillEmail.Address", "Billing email", "string"),
            ("ShipDate", "Ship date", "date"),
            ("ShipMethodRef.name", "Ship via", "string"),
            ("TrackingNum", "Tracking number", "string"),
            ("CurrencyRef.value", "Currency", "string"),
            ("ExchangeRate", "Exchange rate", "number"),
            ("TotalAmt", "Total", "number"),
            ("Balance", "Balance due", "number"),
            ("HomeTotalAmt", "Total in home currency", "number"),
            ("TxnTaxDetail.TotalTax", "Tax", "number"),
            ("EmailStatus", "Email status", "string"),
            ("CustomerRef.name", "Customer", "string"),
            ("ClassRef.name", "Class", "string"),
            ("DepartmentRef.name", "Location", "string"),
        )
    )
    + tuple(QboField(f.path, f.label, f.type, read_only=True) for f in _address("BillAddr", "Billing"))
    + tuple(QboField(f.path, f.label, f.type, read_only=True) for f in _address("ShipAddr", "Shipping")),
}


def qbo_field(entity: str, path: str) -> QboField | None:
    return next((f for f in QBO_FIELDS[entity] if f.path == path), None)
