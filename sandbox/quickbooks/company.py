"""One QuickBooks Online company: its entities and the business rules QBO enforces on them."""

import copy
import itertools
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sandbox.clock import now_ms
from sandbox.quickbooks import books
from sandbox.quickbooks import faults as qf
from sandbox.quickbooks.fields import COMPUTED, ENVELOPE, KNOWN

BOOKS = ("TaxAgency", "TaxRate", "TaxCode", "CompanyCurrency")  # read-only lists, from the company's region
SALES = ("Invoice", "Estimate", "SalesReceipt")
ENTITIES = ("Customer", "Item", *SALES, "Payment", "Account", "Vendor", "Employee", "Term", "PaymentMethod", *BOOKS)
ESTIMATE_STATUSES = ("Pending", "Accepted", "Closed", "Rejected")
NUMBERED_AS = {"SalesReceipt": "Invoice"}  # invoices and sales receipts share one sequence; estimates keep their own
TERMS = (("1", "Due on receipt", 0), ("2", "Net 15", 15), ("3", "Net 30", 30), ("4", "Net 60", 60))
TERM_NET_30 = "3"
PAYMENT_METHODS = (
    ("1", "Cash", "NON_CREDIT_CARD"),
    ("2", "Credit card", "CREDIT_CARD"),
    ("3", "Check", "NON_CREDIT_CARD"),
)
UNDEPOSITED_FUNDS = "4001"
WRITABLE = ("Customer", "Item", *SALES, "Payment")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LENGTHS = {
    "Customer": {
        "DisplayName": 500,
        "GivenName": 100,
        "MiddleName": 100,
        "FamilyName": 100,
        "CompanyName": 100,
        "Title": 16,
        "Suffix": 16,
        "Notes": 2000,
    },
    "Item": {"Name": 100, "Sku": 100, "Description": 4000, "PurchaseDesc": 1000},
}
_NESTED_LENGTHS = {
    ("PrimaryEmailAddr", "Address"): 100,
    ("PrimaryPhone", "FreeFormNumber"): 30,
    ("Mobile", "FreeFormNumber"): 30,
}
INACTIVE_SUFFIX = " (deleted)"
MAX_SUB_LEVEL = 4  # a sub-customer's deepest Level: five levels of customers in all
USD = {"value": "USD", "name": "United States Dollar"}


@dataclass
class Change:
    """One event a change produces: a webhook and an entry in the CDC log."""

    entity: str
    entity_id: str
    operation: str  # created, updated, deleted, merged, voided, emailed
    at_ms: int
    deleted_id: str | None = None


Emit = Callable[[list[Change]], None]


def _default_accounts() -> list[dict[str, Any]]:
    rows = [
        ("1", "Services", "Income", "ServiceFeeIncome", "Revenue"),
        ("79", "Sales of Product Income", "Income", "SalesOfProductIncome", "Revenue"),
        ("4", "Checking", "Bank", "Checking", "Asset"),
        ("84", "Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable", "Asset"),
        ("81", "Inventory Asset", "Other Current Asset", "Inventory", "Asset"),
        ("80", "Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs", "Expense"),
        ("4001", "Undeposited Funds", "Other Current Asset", "UndepositedFunds", "Asset"),
        ("7", "Advertising", "Expense", "AdvertisingPromotional", "Expense"),
    ]
    return [
        {
            "Name": name,
            "SyncToken": "0",
            "SubAccount": False,
            "FullyQualifiedName": name,
            "Active": True,
            "Classification": classification,
            "AccountType": kind,
            "AccountSubType": sub,
            "CurrentBalance": 0,
            "CurrentBalanceWithSubAccounts": 0,
            "CurrencyRef": USD,
            "Id": account_id,
        }
        for account_id, name, kind, sub, classification in rows
    ]


def _money(value: Any, currency: str = "USD") -> float:
    """An amount as QuickBooks keeps it: a number, rounded half up to the currency's decimals."""
    try:
        return books.rounded(float(value), currency)
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise qf.fault("Invalid Number", f"Invalid Number : {value}", 2040) from exc


@dataclass
class Company:
    realm_id: str
    emit: Emit
    name: str = "Sandbox Company US"
    custom_txn_numbers: bool = False
    region: books.Region = books.REGIONS["US"]
    currencies: list[str] = field(default_factory=list)  # besides the home currency, with multicurrency on
    lock: threading.RLock = field(default_factory=threading.RLock)
    entities: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    updated_ms: dict[tuple[str, str], int] = field(default_factory=dict)
    deleted: dict[tuple[str, str], int] = field(default_factory=dict)
    # A DisplayName in lower case -> the customers it was ever stored on: where a uniqueness check looks first
    # (each then checked as it is now: one renamed or merged away since no longer counts).
    _customers_named: dict[str, set[str]] = field(default_factory=dict)
    _ids: dict[str, Iterator[int]] = field(default_factory=dict)
    _doc_numbers: dict[str, Iterator[int]] = field(default_factory=dict)  # per kind of transaction
    created_ms: int = field(default_factory=now_ms)

    def __post_init__(self) -> None:
        self.entities = {e: {} for e in ENTITIES}
        self._ids = {e: itertools.count(1) for e in ENTITIES}
        for account in _default_accounts():
            self._store("Account", account, account["Id"], now_ms())
        self._ids["Account"] = itertools.count(5000)
        for term_id, name, days in TERMS:
            term = {"Id": term_id, "Name": name, "Active": True, "Type": "STANDARD", "DueDays": days, "SyncToken": "0"}
            self._store("Term", term, term_id, now_ms())
        for method_id, name, kind in PAYMENT_METHODS:
            method = {"Id": method_id, "Name": name, "Active": True, "Type": kind, "SyncToken": "0"}
            self._store("PaymentMethod", method, method_id, now_ms())
        self.set_books(self.region, self.currencies)

    def set_books(self, region: books.Region, currencies: list[str]) -> None:
        """The company's region (tax codes and rates, home currency) and its other currencies: multicurrency
        is on when there are any (QuickBooks cannot turn it off again; the sandbox's operator can)."""
        with self.lock:
            unknown = [c for c in currencies if c not in books.CURRENCIES]
            if unknown:
                raise qf.invalid_reference(f"Currency {unknown[0]} is not supported")
            self.region, self.currencies = region, [c for c in currencies if c != region.home]
            moment = now_ms()
            for account in self.entities["Account"].values():
                account["CurrencyRef"] = self._currency(None)
            for entity, listed in books.records(region, [region.home, *self.currencies]).items():
                self.entities[entity] = {}
                for body in listed:
                    self._store(entity, {**body, "SyncToken": "0"}, body["Id"], moment)

    @property
    def multicurrency(self) -> bool:
        return bool(self.currencies)

    def _currency(self, ref: dict[str, Any] | None) -> dict[str, str]:
        """A currency the company keeps (the home currency when none is given), as a reference."""
        code = str((ref or {}).get("value") or self.region.home)
        if code != self.region.home and code not in self.currencies:
            raise qf.business_rule(
                f"The currency {code} is not one this company uses. Turn on multicurrency and add it first", 6190
            )
        return {"value": code, "name": books.CURRENCIES[code][0]}

    # -- storage -----------------------------------------------------------------------------------

    def _store(self, entity: str, body: dict[str, Any], entity_id: str, moment: int, created: bool = True) -> None:
        meta = body.get("MetaData", {})
        body["MetaData"] = {
            "CreateTime": meta.get("CreateTime") if not created and meta else qf.meta_time(moment),
            "LastUpdatedTime": qf.meta_time(moment),
        }
        body["domain"] = "QBO"
        body["sparse"] = False
        self.entities[entity][entity_id] = body
        self.updated_ms[(entity, entity_id)] = moment
        if entity == "Customer":
            self._customers_named.setdefault(_name_key(body), set()).add(entity_id)

    def read(self, entity: str, entity_id: str) -> dict[str, Any]:
        with self.lock:
            body = self.entities[entity].get(str(entity_id))
            if body is None:
                raise qf.not_found(entity, entity_id)
            return self.render(entity, body)

    def render(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        """The entity as QBO answers it (computed values filled in)."""
        shown = copy.deepcopy(body)
        if entity == "Customer":
            balance = self._customer_balance(body["Id"])
            shown["Balance"] = balance
            shown["BalanceWithJobs"] = balance
        return shown

    def all(self, entity: str, ids: list[str] | None = None) -> list[dict[str, Any]]:
        """Every record of an entity, or those of `ids` that exist."""
        with self.lock:
            held = self.entities[entity]
            bodies = held.values() if ids is None else [held[i] for i in ids if i in held]
            return [self.render(entity, b) for b in bodies]

    def _customer_balance(self, customer_id: str) -> float:
        return round(
            sum(
                float(i.get("Balance", 0))
                for i in self.entities["Invoice"].values()
                if i.get("CustomerRef", {}).get("value") == customer_id
            ),
            2,
        )

    def _next_id(self, entity: str) -> str:
        return str(next(self._ids[entity]))

    # -- generic write path ------------------------------------------------------------------------

    def _check_fields(self, entity: str, body: dict[str, Any]) -> None:
        for name in body:
            if name not in KNOWN[entity] and name not in ENVELOPE:
                raise qf.unsupported_property(entity, name)
        for name, maximum in _LENGTHS.get(entity, {}).items():
            value = body.get(name)
            if isinstance(value, str) and len(value) > maximum:
                raise qf.bad_length(name, maximum, len(value))
        for (outer, inner), maximum in _NESTED_LENGTHS.items():
            value = (body.get(outer) or {}).get(inner)
            if isinstance(value, str) and len(value) > maximum:
                raise qf.bad_length(f"{outer}.{inner}", maximum, len(value))

    def create(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        if entity not in WRITABLE:
            raise qf.fault("Unsupported Operation", f"Operation create is not supported for {entity}", 500)
        with self.lock:
            self._check_fields(entity, body)
            clean = {
                k: copy.deepcopy(v) for k, v in body.items() if k not in ENVELOPE and k not in COMPUTED.get(entity, ())
            }
            builder: Callable[[dict[str, Any], str | None], dict[str, Any]] = getattr(self, f"_build_{entity.lower()}")
            built = builder(clean, None)
            entity_id = self._next_id(entity)
            built["Id"] = entity_id
            built["SyncToken"] = "0"
            moment = now_ms()
            self._store(entity, built, entity_id, moment)
            changes = [
                Change(entity, entity_id, "created", moment),
                *self._after_write(entity, None, built, moment),
            ]
            self.emit(changes)
            return self.render(entity, built)

    def update(self, entity: str, body: dict[str, Any], *, as_user: bool = False) -> dict[str, Any]:
        """Full or sparse update; the SyncToken must be current unless a person edits in the UI."""
        if entity not in WRITABLE:
            raise qf.fault("Unsupported Operation", f"Operation update is not supported for {entity}", 500)
        with self.lock:
            self._check_fields(entity, body)
            entity_id = str(body.get("Id", ""))
            current = self.entities[entity].get(entity_id)
            if current is None:
                raise qf.not_found(entity, entity_id)
            if not as_user and str(body.get("SyncToken", "")) != current["SyncToken"]:
                raise qf.stale(entity, entity_id)
            sparse = body.get("sparse") in (True, "true")
            incoming = {
                k: copy.deepcopy(v) for k, v in body.items() if k not in ENVELOPE and k not in COMPUTED.get(entity, ())
            }
            if sparse or as_user:
                merged = {k: copy.deepcopy(v) for k, v in current.items() if k not in ENVELOPE}
                merged.update(incoming)
            else:
                keep = {k: current[k] for k in COMPUTED.get(entity, ()) if k in current}
                merged = keep | incoming
            builder = getattr(self, f"_build_{entity.lower()}")
            built: dict[str, Any] = builder(merged, current)
            built["Id"] = entity_id
            built["SyncToken"] = str(int(current["SyncToken"]) + 1)
            built["MetaData"] = current["MetaData"]
            moment = now_ms()
            self._store(entity, built, entity_id, moment, created=False)
            changes = [
                Change(entity, entity_id, "updated", moment),
                *self._after_write(entity, current, built, moment),
            ]
            self.emit(changes)
            return self.render(entity, built)

    def _after_write(
        self, entity: str, before: dict[str, Any] | None, after: dict[str, Any] | None, moment: int
    ) -> list[Change]:
        if entity == "Payment":
            return self._apply_payment(before, after, moment)
        if entity == "Invoice" and after is not None:
            return self._close_estimates(before, after, moment)
        if entity == "Customer" and after is not None and before is not None and _moved(before, after):
            self._rename_children(after)  # only a renamed or moved customer: each look reads every customer
        return []

    # -- Customer ----------------------------------------------------------------------------------

    def _name_in_use(self, name: str, exclude: tuple[str, str] | None) -> bool:
        """Whether a customer, vendor or employee other than `exclude` has this DisplayName (any case)."""
        wanted = name.lower()
        customers = {i: self.entities["Customer"].get(i) for i in self._customers_named.get(wanted, ())}
        return any(
            (entity, entity_id) != exclude and body is not None and _name_key(body) == wanted
            for entity, named in (
                ("Customer", customers.items()),
                ("Vendor", self.entities["Vendor"].items()),
                ("Employee", self.entities["Employee"].items()),
            )
            for entity_id, body in named
        )

    def _build_customer(self, body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        display = str(body.get("DisplayName") or "").strip()
        if not display:
            parts = [body.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
            display = " ".join(str(p).strip() for p in parts if p and str(p).strip())
        if not display:
            raise qf.required_missing("DisplayName")
        if ":" in display:
            raise qf.business_rule(f"A customer's name may not contain ':' (it separates sub-customers): {display}")
        active = body.get("Active", True) not in (False, "false")
        base = display.removesuffix(INACTIVE_SUFFIX)
        display = base if active else f"{base}{INACTIVE_SUFFIX}"
        exclude = ("Customer", current["Id"]) if current else None
        if self._name_in_use(display, exclude):
            raise qf.duplicate_name(display)
        email = (body.get("PrimaryEmailAddr") or {}).get("Address")
        if email and not _EMAIL.match(str(email).strip()):
            raise qf.business_rule(f"Email Address must be a valid email address: {email}")
        currency = self._currency(body.get("CurrencyRef") or (current or {}).get("CurrencyRef"))
        if current is not None and current["CurrencyRef"]["value"] != currency["value"]:
            raise qf.business_rule(
                f"A customer's currency cannot be changed once set ({current['CurrencyRef']['value']})", 6200
            )
        leaving = not active and current is not None and current.get("Active", True)
        if leaving and current is not None and self._children(current["Id"], active_only=True):
            raise qf.business_rule(
                f"{base} has active sub-customers; make them inactive (or move them) before making it inactive", 6000
            )
        parent = self._parent(body, current, currency)
        built = {
            "Taxable": True,
            "BillWithParent": False,
            "PreferredDeliveryMethod": "Print",
            **body,
            "CurrencyRef": currency,
            "DisplayName": display,
            "PrintOnCheckName": body.get("PrintOnCheckName") or base,
            "Active": active,
            "Job": parent is not None,
            "Level": 0 if parent is None else int(parent.get("Level", 0)) + 1,
            "FullyQualifiedName": display if parent is None else f"{parent['FullyQualifiedName']}:{display}",
        }
        if parent is None:
            built.pop("ParentRef", None)
            built["BillWithParent"] = False
        else:
            built["ParentRef"] = {"value": parent["Id"], "name": parent["DisplayName"]}
        return built

    def _parent(
        self, body: dict[str, Any], current: dict[str, Any] | None, currency: dict[str, str]
    ) -> dict[str, Any] | None:
        """A sub-customer's parent: an active customer in the same currency, not the customer itself or one of
        its sub-customers, and at most four levels down (five levels in all)."""
        ref = body.get("ParentRef") or {}
        kept = ref.get("value") == ((current or {}).get("ParentRef") or {}).get("value")
        if not ref.get("value") or (kept and body.get("Job") in (False, "false")):  # Job false: its own customer
            return None
        parent = self.entities["Customer"].get(str(ref["value"]))
        if parent is None or not parent.get("Active", True):
            raise qf.invalid_reference(f"Parent customer {ref['value']} does not exist or is inactive")
        if current is not None and current["Id"] in (parent["Id"], *self._ancestors(parent["Id"])):
            raise qf.business_rule("A customer cannot be its own parent, or a sub-customer of its sub-customers")
        if int(parent.get("Level", 0)) >= MAX_SUB_LEVEL:
            raise qf.business_rule("Sub-customers can be nested five levels deep at most")
        if parent["CurrencyRef"]["value"] != currency["value"]:
            raise qf.business_rule("A sub-customer must use its parent's currency", 6190)
        return parent

    def _ancestors(self, customer_id: str) -> list[str]:
        found: list[str] = []
        customer = self.entities["Customer"].get(customer_id)
        while customer is not None and (customer.get("ParentRef") or {}).get("value"):
            found.append(str(customer["ParentRef"]["value"]))
            customer = self.entities["Customer"].get(found[-1])
        return found

    def _children(self, customer_id: str, *, active_only: bool = False) -> list[dict[str, Any]]:
        return [
            c
            for c in self.entities["Customer"].values()
            if (c.get("ParentRef") or {}).get("value") == customer_id and (c.get("Active", True) or not active_only)
        ]

    def _rename_children(self, parent: dict[str, Any]) -> None:
        """Sub-customers' names and levels follow their parent's."""
        for child in self._children(parent["Id"]):
            child["ParentRef"] = {"value": parent["Id"], "name": parent["DisplayName"]}
            child["FullyQualifiedName"] = f"{parent['FullyQualifiedName']}:{child['DisplayName']}"
            child["Level"] = int(parent.get("Level", 0)) + 1
            self._rename_children(child)

    # -- Item --------------------------------------------------------------------------------------

    def _build_item(self, body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        name = str(body.get("Name") or "").strip()
        if not name:
            raise qf.required_missing("Name")
        active = body.get("Active", True) not in (False, "false")
        base = name.removesuffix(INACTIVE_SUFFIX)
        name = base if active else f"{base}{INACTIVE_SUFFIX}"
        for item_id, other in self.entities["Item"].items():
            if (current is None or item_id != current["Id"]) and str(other.get("Name", "")).lower() == name.lower():
                raise qf.duplicate_name(name, "product or service")
        kind = body.get("Type") or "Service"
        if kind not in ("Service", "NonInventory", "Inventory", "Category", "Group"):
            raise qf.business_rule(f"Invalid Type {kind}")
        income = body.get("IncomeAccountRef")
        if kind in ("Service", "NonInventory", "Inventory"):
            if not income or not income.get("value"):
                raise qf.required_missing("IncomeAccountRef")
            account = self.entities["Account"].get(str(income["value"]))
            if account is None:
                raise qf.invalid_reference(f"Account assigned to this item does not exist ({income['value']})")
            income = {"value": account["Id"], "name": account["Name"]}
        self._item_books(body, kind)
        if kind == "Inventory" and not all(
            body.get(k) is not None for k in ("QtyOnHand", "InvStartDate", "AssetAccountRef")
        ):
            raise qf.business_rule("Inventory items need QtyOnHand, InvStartDate and AssetAccountRef")
        built = {
            "Taxable": False,
            "TrackQtyOnHand": kind == "Inventory",
            **body,
            "Name": name,
            "FullyQualifiedName": name,
            "Type": kind,
            "Active": active,
        }
        if income:
            built["IncomeAccountRef"] = income
        for money in ("UnitPrice", "PurchaseCost"):
            if money in built and built[money] not in (None, ""):
                built[money] = _money(built[money])
        return built

    def _item_books(self, body: dict[str, Any], kind: str) -> None:
        """A bundle's parts, and outside the US the item's default tax code, checked and named."""
        if kind == "Group":
            body["ItemGroupDetail"] = self._group_detail(body.get("ItemGroupDetail") or {})
        code = body.get("SalesTaxCodeRef")
        if code and not self.region.automated:
            body["SalesTaxCodeRef"] = self._tax_code(code)

    def _group_detail(self, detail: dict[str, Any]) -> dict[str, Any]:
        """A bundle's parts: items that exist and are not bundles themselves, at least one."""
        parts = []
        for part in detail.get("ItemGroupLine") or []:
            item = self._item((part.get("ItemRef") or {}).get("value"))
            if item["Type"] in ("Group", "Category"):
                raise qf.business_rule(f"A bundle cannot hold {item['Type'].lower()} {item['Name']}")
            parts.append({"ItemRef": {"value": item["Id"], "name": item["Name"]}, "Qty": float(part.get("Qty") or 1)})
        if not parts:
            raise qf.business_rule("A bundle needs at least one product or service in it")
        return {"ItemGroupLine": parts}

    def _item(self, item_id: Any) -> dict[str, Any]:
        item = self.entities["Item"].get(str(item_id or ""))
        if item is None:
            raise qf.invalid_reference(f"Item assigned to this line does not exist ({item_id})")
        return item

    def _tax_code(self, ref: dict[str, Any]) -> dict[str, str]:
        """A tax code of the company's region that is active, as a reference."""
        code = self.region.code(str(ref.get("value") or ""))
        if code is None or not code.active:
            state = "is inactive" if code else "does not exist"
            raise qf.invalid_reference(f"TaxCode {ref.get('value')} {state}")
        return {"value": code.code_id, "name": code.name}

    # -- Invoice -----------------------------------------------------------------------------------

    def _customer_ref(self, body: dict[str, Any]) -> dict[str, Any]:
        ref = body.get("CustomerRef") or {}
        if not ref.get("value"):
            raise qf.required_missing("CustomerRef")
        customer = self.entities["Customer"].get(str(ref["value"]))
        if customer is None or not customer.get("Active", True):
            raise qf.invalid_reference(
                f"Customer assigned to this transaction has been deleted or does not exist ({ref['value']})"
            )
        return {"value": customer["Id"], "name": customer["DisplayName"]}

    def _sale(self, entity: str, body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        """What an invoice, an estimate and a sales receipt share: customer, currency, lines, tax and total."""
        customer = self._customer_ref(body)
        own = self.entities["Customer"][customer["value"]]["CurrencyRef"]
        currency = self._currency(body.get("CurrencyRef") or own)
        if currency["value"] != own["value"]:
            raise qf.business_rule(
                f"The {entity.lower()}'s currency ({currency['value']}) must be its customer's ({own['value']})", 6190
            )
        code = currency["value"]
        mode = self._tax_mode(body)
        lines, leaves, discount_in = self._invoice_lines(body, code, mode)
        subtotal = books.rounded(sum(line["Amount"] for line in lines if line["DetailType"] != "DescriptionOnly"), code)
        discount = 0.0
        if discount_in is not None:
            detail = dict(discount_in.get("DiscountLineDetail") or {})
            discount = books.discount_amount(detail, discount_in.get("Amount"), subtotal, code)
        priced = books.price(
            self.region,
            [
                books.Taxed(leaf["SalesItemLineDetail"].get("TaxInclusiveAmt", leaf["Amount"]), tax)
                for leaf, tax in leaves
            ],
            discount,
            mode=mode,
            currency=code,
            txn_code=self._txn_code(body),
            tax_after_discount=body.get("ApplyTaxAfterDiscount") in (True, "true"),
        )
        for index, net in priced.net.items():
            leaves[index][0]["Amount"] = net
        for group in (line for line in lines if line["DetailType"] == "GroupLineDetail"):
            group["Amount"] = books.rounded(sum(part["Amount"] for part in group["GroupLineDetail"]["Line"]), code)
        lines.append({"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
        if discount_in is not None:
            lines.append({**discount_in, "Amount": discount, "DetailType": "DiscountLineDetail"})
        txn_date = body.get("TxnDate") or qf.company_date()
        try:
            date.fromisoformat(txn_date)
        except ValueError as exc:
            raise qf.fault("Invalid Date", f"Invalid Date : {txn_date}", 2060) from exc
        numbers = self._doc_numbers.setdefault(NUMBERED_AS.get(entity, entity), itertools.count(1001))
        doc_number = (
            body.get("DocNumber")
            if self.custom_txn_numbers
            else (current.get("DocNumber") if current else str(next(numbers)))
        )
        built = {
            "CustomField": [],
            "EmailStatus": "NotSet",
            "PrintStatus": "NotSet",
            "ApplyTaxAfterDiscount": False,
            **body,
            "CurrencyRef": currency,
            "TxnTaxDetail": priced.tax,
            "CustomerRef": customer,
            "Line": lines,
            "TxnDate": txn_date,
            "TotalAmt": priced.total,
        }
        self._books_fields(built, mode)
        if doc_number:
            built["DocNumber"] = str(doc_number)
        else:
            built.pop("DocNumber", None)
        return built

    def _build_invoice(self, body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        online = ("AllowIPNPayment", "AllowOnlinePayment", "AllowOnlineCreditCardPayment", "AllowOnlineACHPayment")
        built = self._sale("Invoice", {**dict.fromkeys(online, False), **body}, current)
        code = built["CurrencyRef"]["value"]
        payments = self._payments_for(current["Id"]) if current else []
        due = date.fromisoformat(built["TxnDate"]) + timedelta(days=self._due_days(body))
        built["DueDate"] = body.get("DueDate") or due.isoformat()
        built["Balance"] = books.rounded(built["TotalAmt"] - sum(p["amount"] for p in payments), code)
        built["LinkedTxn"] = [
            *self._estimates_of(built, current),
            *({"TxnId": p["payment"], "TxnType": "Payment"} for p in payments),
        ]
        if built["Balance"] < 0:
            raise qf.business_rule("The invoice total cannot be less than the payments applied to it")
        return built

    def _due_days(self, body: dict[str, Any]) -> int:
        """Days to the due date: the invoice's terms (SalesTermRef), else the company's default, Net 30."""
        term = self.entities["Term"].get(str((body.get("SalesTermRef") or {}).get("value") or TERM_NET_30))
        if term is None:
            raise qf.invalid_reference(f"Term {(body.get('SalesTermRef') or {}).get('value')} does not exist")
        return int(term.get("DueDays", 0))

    def _estimates_of(self, invoice: dict[str, Any], current: dict[str, Any] | None) -> list[dict[str, str]]:
        """The estimates an invoice was made from: those it had, and any it now links (each open, of its
        customer; a closed estimate was converted already and cannot be again)."""
        had = [t for t in (current or {}).get("LinkedTxn", []) if t.get("TxnType") == "Estimate"]
        known = {str(t["TxnId"]) for t in had}
        for linked in invoice.get("LinkedTxn") or []:
            estimate_id = str(linked.get("TxnId", ""))
            if linked.get("TxnType") != "Estimate" or estimate_id in known:
                continue
            estimate = self.entities["Estimate"].get(estimate_id)
            if estimate is None:
                raise qf.invalid_reference(f"Estimate {estimate_id} does not exist")
            if estimate["CustomerRef"]["value"] != invoice["CustomerRef"]["value"]:
                raise qf.business_rule(f"Estimate {estimate.get('DocNumber', estimate_id)} is another customer's")
            if estimate.get("TxnStatus") == "Closed":
                raise qf.business_rule(
                    f"Estimate {estimate.get('DocNumber', estimate_id)} is closed: it was converted to an invoice "
                    "already",
                    6000,
                )
            had.append({"TxnId": estimate_id, "TxnType": "Estimate"})
            known.add(estimate_id)
        return had

    def _close_estimates(self, before: dict[str, Any] | None, invoice: dict[str, Any], moment: int) -> list[Change]:
        """An invoice made from an estimate closes it, and the estimate links the invoice."""
        earlier = {str(t["TxnId"]) for t in (before or {}).get("LinkedTxn", []) if t.get("TxnType") == "Estimate"}
        changes = []
        for linked in invoice["LinkedTxn"]:
            if linked["TxnType"] != "Estimate" or linked["TxnId"] in earlier:
                continue
            estimate = self.entities["Estimate"][linked["TxnId"]]
            estimate["TxnStatus"] = "Closed"
            estimate["LinkedTxn"] = [*estimate.get("LinkedTxn", []), {"TxnId": invoice["Id"], "TxnType": "Invoice"}]
            self._bump("Estimate", estimate, moment)
            changes.append(Change("Estimate", estimate["Id"], "updated", moment))
        return changes

    def _build_estimate(self, body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        built = self._sale("Estimate", body, current)
        status = str(body.get("TxnStatus") or "Pending")
        if status not in ESTIMATE_STATUSES:
            raise qf.business_rule(f"Invalid TxnStatus {status}: one of {', '.join(ESTIMATE_STATUSES)}")
        if current is not None and current.get("TxnStatus") == "Closed" and status != "Closed":
            raise qf.business_rule("A closed estimate cannot be reopened while an invoice is linked to it", 6000)
        built["TxnStatus"] = status
        built["LinkedTxn"] = list((current or {}).get("LinkedTxn", []))
        if status == "Accepted" and not built.get("AcceptedDate"):
            built["AcceptedDate"] = qf.company_date()
        return built

    def _build_salesreceipt(self, body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        built = self._sale("SalesReceipt", body, current)
        ref = body.get("DepositToAccountRef") or {"value": UNDEPOSITED_FUNDS}
        account = self.entities["Account"].get(str(ref.get("value")))
        if account is None:
            raise qf.invalid_reference(f"Account {ref.get('value')} does not exist")
        built["DepositToAccountRef"] = {"value": account["Id"], "name": account["Name"]}
        built["Balance"] = 0
        return built

    def _txn_code(self, body: dict[str, Any]) -> str | None:
        """A US invoice's sales tax code (automated sales tax's default when none): an active code with rates."""
        ref = (body.get("TxnTaxDetail") or {}).get("TxnTaxCodeRef") or {}
        if not self.region.automated or not ref.get("value"):
            return None
        code = self.region.code(str(ref["value"]))
        if code is None or not code.rates:
            raise qf.invalid_reference(f"TaxCode {ref['value']} is not a sales tax code with rates")
        return self._tax_code(ref)["value"]

    def _books_fields(self, built: dict[str, Any], mode: str) -> None:
        """How tax applied (outside the US), and with multicurrency the rate and the total in home currency."""
        if self.region.automated:
            built.pop("GlobalTaxCalculation", None)
        else:
            built["GlobalTaxCalculation"] = mode
        if self.multicurrency:
            code = built["CurrencyRef"]["value"]
            rate = float(built.get("ExchangeRate") or books.exchange_rate(code, self.region.home))
            built["ExchangeRate"] = rate
            built["HomeTotalAmt"] = books.rounded(built["TotalAmt"] * rate, self.region.home)
        else:
            built.pop("ExchangeRate", None)

    def _tax_mode(self, body: dict[str, Any]) -> str:
        """How tax applies: a US company's automated sales tax is always added to the lines."""
        mode = "TaxExcluded" if self.region.automated else str(body.get("GlobalTaxCalculation") or "TaxExcluded")
        if mode not in ("TaxExcluded", "TaxInclusive", "NotApplicable"):
            raise qf.business_rule(f"Invalid GlobalTaxCalculation {mode}")
        return mode

    def _invoice_lines(
        self, body: dict[str, Any], currency: str, mode: str
    ) -> tuple[list[dict[str, Any]], list[tuple[dict[str, Any], str]], dict[str, Any] | None]:
        """The invoice's lines as built (without subtotal and discount), each sales line that bears tax with its
        tax code (a bundle's parts in its place), and the discount line asked for, if any."""
        lines: list[dict[str, Any]] = []
        leaves: list[tuple[dict[str, Any], str]] = []
        discount: dict[str, Any] | None = None
        wanted = [line for line in body.get("Line") or [] if line.get("DetailType") != "SubTotalLineDetail"]
        for line in wanted:
            kind = line.get("DetailType") or "SalesItemLineDetail"
            if kind == "DiscountLineDetail":
                if discount is not None:
                    raise qf.business_rule("An invoice can have one discount line")
                discount = line
                continue
            number = len(lines) + 1
            if kind == "GroupLineDetail":
                built = self._group_line(line, number, currency, mode)
                leaves += [(part, self._leaf_code(part)) for part in built["GroupLineDetail"]["Line"]]
            else:
                built = self._sales_line(line, number, currency, mode)
                if kind == "SalesItemLineDetail":
                    leaves.append((built, self._leaf_code(built)))
            lines.append(built)
        if not any(line["DetailType"] != "DescriptionOnly" for line in lines):
            raise qf.required_missing("Line")
        return lines, leaves, discount

    @staticmethod
    def _leaf_code(line: dict[str, Any]) -> str:
        return str((line["SalesItemLineDetail"].get("TaxCodeRef") or {}).get("value") or "")

    def _group_line(self, line: dict[str, Any], number: int, currency: str, mode: str) -> dict[str, Any]:
        """A bundle on an invoice: its parts as sales lines (those sent, or the bundle's own times its quantity)."""
        detail = dict(line.get("GroupLineDetail") or {})
        group = self._item((detail.get("GroupItemRef") or {}).get("value"))
        if group["Type"] != "Group":
            raise qf.business_rule(f"{group['Name']} is not a bundle")
        quantity = float(detail.get("Quantity") or 1)
        parts = detail.get("Line") or [
            {
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": dict(part["ItemRef"]), "Qty": part["Qty"] * quantity},
            }
            for part in group["ItemGroupDetail"]["ItemGroupLine"]
        ]
        built_parts = [self._sales_line(part, n, currency, mode) for n, part in enumerate(parts, start=1)]
        return {
            "Id": str(number),
            "LineNum": number,
            **{k: v for k, v in line.items() if k != "Id"},
            "Amount": books.rounded(sum(p["Amount"] for p in built_parts), currency),
            "DetailType": "GroupLineDetail",
            "GroupLineDetail": {
                **detail,
                "GroupItemRef": {"value": group["Id"], "name": group["Name"]},
                "Quantity": quantity,
                "Line": built_parts,
            },
        }

    def _sales_line(self, line: dict[str, Any], number: int, currency: str, mode: str) -> dict[str, Any]:
        kind = line.get("DetailType") or "SalesItemLineDetail"
        if kind == "DescriptionOnly":
            return {"Id": str(number), "LineNum": number, "Amount": 0.0, **line, "DetailType": kind}
        if kind != "SalesItemLineDetail":
            raise qf.business_rule(f"Unsupported line DetailType {kind}")
        detail = dict(line.get("SalesItemLineDetail") or {})
        item = self._item((detail.get("ItemRef") or {}).get("value"))
        if item["Type"] in ("Group", "Category"):
            raise qf.business_rule(f"{item['Name']} is a {item['Type'].lower()}: bill it on a bundle line")
        detail["ItemRef"] = {"value": item["Id"], "name": item["Name"]}
        quantity = detail.get("Qty")
        price = detail.get("UnitPrice")
        inclusive = detail.get("TaxInclusiveAmt") if mode == "TaxInclusive" else None  # the gross, when sent
        amount = line.get("Amount") if inclusive is None else inclusive
        if amount is None:
            if price is None:
                price = item.get("UnitPrice", 0)
            quantity = 1 if quantity is None else quantity
            amount = _money(Decimal(str(quantity)) * Decimal(str(price)), currency)
        elif (
            inclusive is None
            and quantity is not None
            and price is not None
            and abs(_money(Decimal(str(quantity)) * Decimal(str(price))) - _money(amount)) > 0.005
        ):
            raise qf.business_rule(f"Amount is not equal to UnitPrice * Qty. Supplied value:{amount}", code=6070)
        for key, value in (("Qty", quantity), ("UnitPrice", price)):
            if value is not None:
                detail[key] = float(value)
        code = self._line_code(detail.get("TaxCodeRef"), item, mode)
        if code is None:
            detail.pop("TaxCodeRef", None)
        else:
            detail["TaxCodeRef"] = code
        amount = _money(amount, currency)
        if mode == "TaxInclusive":
            detail["TaxInclusiveAmt"] = amount
        else:
            detail.pop("TaxInclusiveAmt", None)
        built = {
            "Id": str(number),
            "LineNum": number,
            **{k: v for k, v in line.items() if k != "Id"},
            "Amount": amount,
            "DetailType": kind,
            "SalesItemLineDetail": detail,
        }
        built.setdefault("Description", item.get("Description", ""))
        return built

    def _line_code(self, ref: dict[str, Any] | None, item: dict[str, Any], mode: str) -> dict[str, str] | None:
        """A line's tax code: in the US TAX or NON (the item's Taxable by default); elsewhere one of the
        region's active codes (the item's by default), required unless tax does not apply."""
        if self.region.automated:
            value = str((ref or {}).get("value") or (books.US_TAXABLE if item.get("Taxable") else books.US_NON_TAXABLE))
            if value not in (books.US_TAXABLE, books.US_NON_TAXABLE):
                raise qf.invalid_reference(f"TaxCode {value} is not TAX or NON")
            return {"value": value}
        chosen = ref if ref and ref.get("value") else item.get("SalesTaxCodeRef")
        if not chosen:
            if mode == "NotApplicable":
                return None
            raise qf.business_rule("Make sure all your transactions have a tax rate before you save", 6000)
        return self._tax_code(chosen)

    def _payments_for(self, invoice_id: str) -> list[dict[str, Any]]:
        found = []
        for payment in self.entities["Payment"].values():
            for line in payment.get("Line", []):
                for linked in line.get("LinkedTxn", []):
                    if linked.get("TxnType") == "Invoice" and str(linked.get("TxnId")) == invoice_id:
                        found.append({"payment": payment["Id"], "amount": float(line.get("Amount", 0))})
        return found

    def delete_invoice(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            invoice = self._current("Invoice", body)
            moment = now_ms()
            del self.entities["Invoice"][invoice["Id"]]
            self.deleted[("Invoice", invoice["Id"])] = moment
            changes = [Change("Invoice", invoice["Id"], "deleted", moment)]
            for payment in self.entities["Payment"].values():
                kept = [
                    line
                    for line in payment.get("Line", [])
                    if all(str(t.get("TxnId")) != invoice["Id"] for t in line.get("LinkedTxn", []))
                ]
                if len(kept) != len(payment.get("Line", [])):
                    payment["Line"] = kept
                    payment["UnappliedAmt"] = round(
                        float(payment["TotalAmt"]) - sum(float(li["Amount"]) for li in kept), 2
                    )
                    self._bump("Payment", payment, moment)
                    changes.append(Change("Payment", payment["Id"], "updated", moment))
            self.emit(changes)
            return {"domain": "QBO", "status": "Deleted", "Id": invoice["Id"]}

    def void_invoice(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            invoice = self._current("Invoice", body)
            if self._payments_for(invoice["Id"]):
                raise qf.business_rule(
                    "This transaction has payments applied to it; remove them before voiding", code=6540
                )
            for line in invoice["Line"]:
                line["Amount"] = 0.0
                if "SalesItemLineDetail" in line:
                    line["SalesItemLineDetail"].pop("Qty", None)
            invoice["TotalAmt"] = 0.0
            invoice["Balance"] = 0.0
            invoice["PrivateNote"] = "Voided"
            moment = now_ms()
            self._bump("Invoice", invoice, moment)
            self.emit([Change("Invoice", invoice["Id"], "voided", moment)])
            return self.render("Invoice", invoice)

    def send(self, entity: str, entity_id: str, send_to: str | None) -> dict[str, Any]:
        """Email an invoice, estimate or sales receipt to its BillEmail, or to `send_to` (its BillEmail then)."""
        with self.lock:
            form = self.entities[entity].get(entity_id)
            if form is None:
                raise qf.not_found(entity, entity_id)
            address = send_to or (form.get("BillEmail") or {}).get("Address")
            if not address:
                raise qf.business_rule(f"Email address is required to send this {entity.lower()}")
            form["EmailStatus"] = "EmailSent"
            form["BillEmail"] = {"Address": address}
            form["DeliveryInfo"] = {"DeliveryType": "Email", "DeliveryTime": qf.qbo_time()}
            moment = now_ms()
            self._bump(entity, form, moment)
            self.emit([Change(entity, form["Id"], "emailed", moment)])
            return self.render(entity, form)

    def _current(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        entity_id = str(body.get("Id", ""))
        current = self.entities[entity].get(entity_id)
        if current is None:
            raise qf.not_found(entity, entity_id)
        if "SyncToken" in body and str(body["SyncToken"]) != current["SyncToken"]:
            raise qf.stale(entity, entity_id)
        return current

    def _bump(self, entity: str, body: dict[str, Any], moment: int) -> None:
        body["SyncToken"] = str(int(body["SyncToken"]) + 1)
        body["MetaData"]["LastUpdatedTime"] = qf.meta_time(moment)
        self.updated_ms[(entity, body["Id"])] = moment

    # -- Payment -----------------------------------------------------------------------------------

    def _build_payment(self, body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        customer = self._customer_ref(body)
        if body.get("TotalAmt") in (None, ""):
            raise qf.required_missing("TotalAmt")
        total = _money(body["TotalAmt"])
        applied = 0.0
        lines = []
        for line in body.get("Line") or []:
            amount = _money(line.get("Amount", 0))
            for linked in line.get("LinkedTxn") or []:
                if linked.get("TxnType") != "Invoice":
                    raise qf.business_rule(f"Payments apply to invoices only, not {linked.get('TxnType')}")
                invoice = self.entities["Invoice"].get(str(linked.get("TxnId")))
                if invoice is None:
                    raise qf.invalid_reference(f"Invoice {linked.get('TxnId')} does not exist")
                if invoice["CustomerRef"]["value"] != customer["value"]:
                    raise qf.business_rule("The invoice belongs to another customer")
                already = sum(
                    p["amount"]
                    for p in self._payments_for(invoice["Id"])
                    if current is None or p["payment"] != current["Id"]
                )
                if amount - (float(invoice["TotalAmt"]) - already) > 0.005:
                    raise qf.business_rule(
                        f"The payment amount {amount} is more than the open balance of invoice "
                        f"{invoice.get('DocNumber', invoice['Id'])}"
                    )
            applied += amount
            lines.append({"Amount": amount, "LinkedTxn": line.get("LinkedTxn") or []})
        if applied - total > 0.005:
            raise qf.business_rule("The amounts applied are more than the payment's total")
        return {
            "CurrencyRef": self.entities["Customer"][customer["value"]]["CurrencyRef"],
            "TxnDate": body.get("TxnDate") or qf.company_date(),
            **body,
            "CustomerRef": customer,
            "TotalAmt": total,
            "Line": lines,
            "UnappliedAmt": round(total - applied, 2),
            "ProcessPayment": False,
        }

    def _apply_payment(self, before: dict[str, Any] | None, after: dict[str, Any] | None, moment: int) -> list[Change]:
        """Recompute the balance of every invoice the payment touches (before and after the change)."""
        touched: set[str] = set()
        for payment in (before, after):
            for line in (payment or {}).get("Line", []):
                touched.update(str(t.get("TxnId")) for t in line.get("LinkedTxn", []))
        changes = []
        for invoice_id in sorted(touched):
            invoice = self.entities["Invoice"].get(invoice_id)
            if invoice is None:
                continue
            payments = self._payments_for(invoice_id)
            invoice["Balance"] = round(float(invoice["TotalAmt"]) - sum(p["amount"] for p in payments), 2)
            invoice["LinkedTxn"] = [{"TxnId": p["payment"], "TxnType": "Payment"} for p in payments]
            self._bump("Invoice", invoice, moment)
            changes.append(Change("Invoice", invoice_id, "updated", moment))
        return changes

    def delete_payment(self, body: dict[str, Any], void: bool = False) -> dict[str, Any]:
        with self.lock:
            payment = self._current("Payment", body)
            moment = now_ms()
            before = copy.deepcopy(payment)
            if void:
                payment["Line"] = []
                payment["TotalAmt"] = 0.0
                payment["UnappliedAmt"] = 0.0
                payment["PrivateNote"] = "Voided"
                self._bump("Payment", payment, moment)
                changes = [Change("Payment", payment["Id"], "voided", moment)]
                result = self.render("Payment", payment)
            else:
                del self.entities["Payment"][payment["Id"]]
                self.deleted[("Payment", payment["Id"])] = moment
                changes = [Change("Payment", payment["Id"], "deleted", moment)]
                result = {"domain": "QBO", "status": "Deleted", "Id": payment["Id"]}
            changes += self._apply_payment(before, None, moment)
            self.emit(changes)
            return result

    # -- merges (a person merging two names in QBO) -------------------------------------------------

    def merge(self, entity: str, survivor_id: str, merged_id: str) -> dict[str, Any]:
        if entity not in ("Customer", "Item"):
            raise qf.business_rule(f"{entity} records cannot be merged")
        with self.lock:
            survivor = self.entities[entity].get(survivor_id)
            merged = self.entities[entity].get(merged_id)
            if survivor is None or merged is None or survivor_id == merged_id:
                raise qf.not_found(entity, merged_id if survivor else survivor_id)
            moment = now_ms()
            ref_key = "CustomerRef" if entity == "Customer" else None
            changes = []
            for txn_entity in ("Invoice", "Payment"):
                for txn in self.entities[txn_entity].values():
                    hit = False
                    if ref_key and txn.get(ref_key, {}).get("value") == merged_id:
                        txn[ref_key] = {"value": survivor_id, "name": survivor.get("DisplayName")}
                        hit = True
                    for line in txn.get("Line", []):
                        item_ref = line.get("SalesItemLineDetail", {}).get("ItemRef", {})
                        if entity == "Item" and item_ref.get("value") == merged_id:
                            line["SalesItemLineDetail"]["ItemRef"] = {
                                "value": survivor_id,
                                "name": survivor["Name"],
                            }
                            hit = True
                    if hit:
                        self._bump(txn_entity, txn, moment)
                        changes.append(Change(txn_entity, txn["Id"], "updated", moment))
            del self.entities[entity][merged_id]
            self.deleted[(entity, merged_id)] = moment
            self._bump(entity, survivor, moment)
            self.emit([Change(entity, survivor_id, "merged", moment, deleted_id=merged_id), *changes])
            return self.render(entity, survivor)

    # -- change data capture -----------------------------------------------------------------------

    def changed_since(self, entity: str, since_ms: int) -> list[dict[str, Any]]:
        with self.lock:
            found = [
                (self.updated_ms[(entity, i)], self.render(entity, b))
                for i, b in self.entities[entity].items()
                if self.updated_ms.get((entity, i), 0) >= since_ms
            ]
            found += [
                (
                    moment,
                    {
                        "domain": "QBO",
                        "status": "Deleted",
                        "Id": entity_id,
                        "MetaData": {"LastUpdatedTime": qf.meta_time(moment)},
                    },
                )
                for (kind, entity_id), moment in self.deleted.items()
                if kind == entity and moment >= since_ms
            ]
        return [body for _, body in sorted(found, key=lambda pair: pair[0])]


def _moved(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether a customer's place in the hierarchy changed (its name, its parent, its level)."""
    return (before["FullyQualifiedName"], before.get("Level")) != (after["FullyQualifiedName"], after["Level"])


def _name_key(body: dict[str, Any]) -> str:
    """A customer's, vendor's or employee's DisplayName as its uniqueness compares it (any case)."""
    return str(body.get("DisplayName") or "").strip().lower()
