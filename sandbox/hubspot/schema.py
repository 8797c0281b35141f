"""HubSpot's object types, their built-in properties, and the default association types between them."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ObjectType:
    name: str  # path name: contacts
    type_id: str  # 0-1
    singular: str  # webhook prefix: contact
    created_property: str
    modified_property: str


OBJECT_TYPES = {
    t.name: t
    for t in (
        ObjectType("contacts", "0-1", "contact", "createdate", "lastmodifieddate"),
        ObjectType("companies", "0-2", "company", "createdate", "hs_lastmodifieddate"),
        ObjectType("deals", "0-3", "deal", "createdate", "hs_lastmodifieddate"),
        ObjectType("products", "0-7", "product", "createdate", "hs_lastmodifieddate"),
        ObjectType("line_items", "0-8", "line_item", "createdate", "hs_lastmodifieddate"),
        ObjectType("invoices", "0-53", "invoice", "hs_createdate", "hs_lastmodifieddate"),
        ObjectType("notes", "0-46", "note", "hs_createdate", "hs_lastmodifieddate"),
        ObjectType("quotes", "0-14", "quote", "hs_createdate", "hs_lastmodifieddate"),
        ObjectType("commerce_payments", "0-101", "commerce_payment", "hs_createdate", "hs_lastmodifieddate"),
    )
}
_ALIASES = (
    {t.type_id: t.name for t in OBJECT_TYPES.values()}
    | {t.singular: t.name for t in OBJECT_TYPES.values()}
    | {"line_item": "line_items", "lineitems": "line_items", "line items": "line_items"}
)


def object_type(name: str) -> ObjectType | None:
    key = name.lower()
    return OBJECT_TYPES.get(_ALIASES.get(key, key))


# (type, fieldType) of HubSpot's property types.
_STRING = ("string", "text")
_NUMBER = ("number", "number")
_DATETIME = ("datetime", "date")
_DATE = ("date", "date")
_ENUM = ("enumeration", "select")
_BOOL = ("bool", "booleancheckbox")


# What HubSpot shows for an option whose value runs words together (the others read as their value, capitalised).
OPTION_LABELS = {
    "marketingqualifiedlead": "Marketing Qualified Lead",
    "salesqualifiedlead": "Sales Qualified Lead",
    "appointmentscheduled": "Appointment Scheduled",
    "qualifiedtobuy": "Qualified To Buy",
    "presentationscheduled": "Presentation Scheduled",
    "decisionmakerboughtin": "Decision Maker Bought-In",
    "contractsent": "Contract Sent",
    "closedwon": "Closed Won",
    "closedlost": "Closed Lost",
    "default": "Sales Pipeline",
}


def option_label(value: str) -> str:
    return OPTION_LABELS.get(value, value.capitalize())


@dataclass(frozen=True)
class BuiltIn:
    name: str
    label: str
    kind: tuple[str, str]
    options: tuple[str, ...] = ()
    read_only: bool = False
    unique: bool = False


_COMMON = (
    BuiltIn("hs_object_id", "Record ID", _NUMBER, read_only=True),
    BuiltIn("hs_lastmodifieddate", "Last Modified Date", _DATETIME, read_only=True),
    BuiltIn("hs_createdate", "Create Date", _DATETIME, read_only=True),
    BuiltIn("createdate", "Create Date", _DATETIME, read_only=True),
)
BUILT_IN: dict[str, tuple[BuiltIn, ...]] = {
    "contacts": (
        BuiltIn("email", "Email", _STRING, unique=True),
        BuiltIn("firstname", "First Name", _STRING),
        BuiltIn("lastname", "Last Name", _STRING),
        BuiltIn("phone", "Phone Number", _STRING),
        BuiltIn("mobilephone", "Mobile Phone Number", _STRING),
        BuiltIn("company", "Company Name", _STRING),
        BuiltIn("jobtitle", "Job Title", _STRING),
        BuiltIn("website", "Website URL", _STRING),
        BuiltIn("address", "Street Address", _STRING),
        BuiltIn("city", "City", _STRING),
        BuiltIn("state", "State/Region", _STRING),
        BuiltIn("zip", "Postal Code", _STRING),
        BuiltIn("country", "Country/Region", _STRING),
        BuiltIn(
            "lifecyclestage",
            "Lifecycle Stage",
            _ENUM,
            (
                "subscriber",
                "lead",
                "marketingqualifiedlead",
                "salesqualifiedlead",
                "opportunity",
                "customer",
                "evangelist",
                "other",
            ),
        ),
        BuiltIn("lastmodifieddate", "Last Modified Date", _DATETIME, read_only=True),
    ),
    "companies": (
        BuiltIn("name", "Company name", _STRING),
        BuiltIn("domain", "Company Domain Name", _STRING),
        BuiltIn("phone", "Phone Number", _STRING),
        BuiltIn("city", "City", _STRING),
        BuiltIn("country", "Country/Region", _STRING),
    ),
    "deals": (
        BuiltIn("dealname", "Deal Name", _STRING),
        BuiltIn("amount", "Amount", _NUMBER),
        BuiltIn(
            "dealstage",
            "Deal Stage",
            _ENUM,
            (
                "appointmentscheduled",
                "qualifiedtobuy",
                "presentationscheduled",
                "decisionmakerboughtin",
                "contractsent",
                "closedwon",
                "closedlost",
            ),
        ),
        BuiltIn("pipeline", "Pipeline", _ENUM, ("default",)),
        BuiltIn("closedate", "Close Date", _DATETIME),
        BuiltIn("deal_currency_code", "Currency", _STRING),
        BuiltIn("hubspot_owner_id", "Deal owner", _STRING),
    ),
    "products": (
        BuiltIn("name", "Name", _STRING),
        BuiltIn("description", "Description", _STRING),
        BuiltIn("price", "Unit price", _NUMBER),
        BuiltIn("hs_sku", "SKU", _STRING),
        BuiltIn("hs_cost_of_goods_sold", "Unit cost", _NUMBER),
        BuiltIn("hs_product_type", "Product type", _ENUM, ("inventory", "non_inventory", "service")),
        BuiltIn("hs_recurring_billing_period", "Term", _STRING),
    ),
    "line_items": (
        BuiltIn("name", "Name", _STRING),
        BuiltIn("description", "Description", _STRING),
        BuiltIn("quantity", "Quantity", _NUMBER),
        BuiltIn("price", "Unit price", _NUMBER),
        BuiltIn("amount", "Net price", _NUMBER, read_only=True),
        BuiltIn("hs_product_id", "Product ID", _NUMBER),
        BuiltIn("hs_sku", "SKU", _STRING),
        BuiltIn("discount", "Unit discount", _NUMBER),
        BuiltIn("hs_discount_percentage", "Discount percentage", _NUMBER),
        BuiltIn("hs_tax_rate_group_id", "Tax rate", _STRING),
        BuiltIn("hs_line_item_currency_code", "Currency", _STRING),
    ),
    "invoices": (
        BuiltIn("hs_currency", "Currency", _STRING),
        BuiltIn("hs_invoice_date", "Invoice date", _DATETIME),
        BuiltIn("hs_due_date", "Due date", _DATETIME),
        BuiltIn("hs_invoice_status", "Invoice status", _ENUM, ("draft", "open", "paid", "voided")),
        BuiltIn("hs_invoice_billable", "Billable", _BOOL),
        BuiltIn("hs_title", "Title", _STRING),
        BuiltIn("hs_number", "Number", _STRING, read_only=True),
        BuiltIn("hs_comments", "Comments", _STRING),
        BuiltIn("hs_amount_billed", "Amount billed", _NUMBER, read_only=True),
        BuiltIn("hs_balance_due", "Balance due", _NUMBER, read_only=True),
    ),
    "notes": (
        BuiltIn("hs_note_body", "Note body", _STRING),
        BuiltIn("hs_timestamp", "Activity date", _DATETIME),
    ),
    "quotes": (
        BuiltIn("hs_title", "Quote name", _STRING),
        BuiltIn("hs_expiration_date", "Expiration date", _DATETIME),
        BuiltIn(
            "hs_status",
            "Quote approval status",
            _ENUM,
            ("DRAFT", "APPROVAL_NOT_NEEDED", "PENDING_APPROVAL", "APPROVED", "REJECTED"),
        ),
        BuiltIn("hs_currency", "Currency", _STRING),
        BuiltIn("hs_quote_amount", "Quote amount", _NUMBER, read_only=True),
        BuiltIn("hs_comments", "Comments", _STRING),
    ),
    "commerce_payments": (
        BuiltIn("hs_initial_amount", "Gross amount", _NUMBER),
        BuiltIn("hs_currency_code", "Currency", _STRING),
        BuiltIn("hs_payment_method", "Payment method", _STRING),
        BuiltIn("hs_latest_status", "Status", _ENUM, ("processing", "succeeded", "failed", "refunded")),
        BuiltIn("hs_customer_email", "Customer email", _STRING),
        BuiltIn("hs_initiated_date", "Payment date", _DATETIME),
    ),
}
for _name, _own in BUILT_IN.items():
    BUILT_IN[_name] = _own + _COMMON

# HubSpot-defined types between two records of one object, each the other's reverse: a company's parent (13, from
# the parent) and child (14, from the child). A company has one parent at most.
PARENT_TO_CHILD_COMPANY, CHILD_TO_PARENT_COMPANY = 13, 14
PAIRED_TYPES = {PARENT_TO_CHILD_COMPANY: CHILD_TO_PARENT_COMPANY, CHILD_TO_PARENT_COMPANY: PARENT_TO_CHILD_COMPANY}

# HUBSPOT_DEFINED default association type ids, from HubSpot's published list.
DEFAULT_ASSOCIATIONS: dict[tuple[str, str], int] = {
    ("contacts", "companies"): 279,
    ("companies", "contacts"): 280,
    ("deals", "contacts"): 3,
    ("contacts", "deals"): 4,
    ("deals", "companies"): 341,
    ("companies", "deals"): 342,
    ("deals", "line_items"): 19,
    ("line_items", "deals"): 20,
    ("invoices", "deals"): 175,
    ("deals", "invoices"): 176,
    ("invoices", "contacts"): 177,
    ("contacts", "invoices"): 178,
    ("invoices", "companies"): 179,
    ("companies", "invoices"): 180,
    ("invoices", "line_items"): 409,
    ("line_items", "invoices"): 410,
    ("notes", "contacts"): 202,
    ("contacts", "notes"): 201,
    ("notes", "deals"): 214,
    ("deals", "notes"): 213,
    ("notes", "companies"): 190,
    ("companies", "notes"): 189,
    ("quotes", "companies"): 71,
    ("companies", "quotes"): 72,
    ("commerce_payments", "companies"): 389,
    ("companies", "commerce_payments"): 390,
    ("quotes", "deals"): 64,
    ("deals", "quotes"): 63,
    ("quotes", "line_items"): 67,
    ("line_items", "quotes"): 68,
    ("quotes", "contacts"): 69,
    ("contacts", "quotes"): 70,
    ("commerce_payments", "contacts"): 387,
    ("contacts", "commerce_payments"): 388,
    ("commerce_payments", "deals"): 391,
    ("deals", "commerce_payments"): 392,
    ("commerce_payments", "line_items"): 395,
    ("line_items", "commerce_payments"): 396,
}
