"""What each synced pair is, in one place: the objects on both sides, how records are matched and named,
and the default field mappings. The adapters, the engine, the settings service and the test fakes read it."""

from collections.abc import Callable
from dataclasses import dataclass

from hubbooks.mapping.fields import COMPANY_FIELDS, CONTACT_FIELDS, PARENT, PERSON, PRODUCT_FIELDS, FieldMapping
from hubbooks.models.connection import CustomerMode
from hubbooks.models.signals import Pair


@dataclass(frozen=True)
class MatchKey:
    """A field two records are matched by: its canonical (HubSpot) name and the QuickBooks field queried (None:
    QuickBooks cannot filter by it, so only HubSpot is searched by it, and the bulk reads compare it)."""

    field: str
    qbo_field: str | None


def display_names(values: dict[str, str]) -> list[str]:
    """DisplayName candidates for a new customer: the person's name, else company, else email; then the same
    with the email (or company) added to tell it apart from a namesake."""
    name = " ".join(v for v in (values.get("firstname", ""), values.get("lastname", "")) if v)
    first = name or values.get("company", "") or values.get("email", "")
    tag = values.get("email") or values.get("company") or ""
    names = [first] if first else []
    if first and tag and tag != first:
        names.append(f"{first} ({tag})")
    return names


def company_names(values: dict[str, str]) -> list[str]:
    """DisplayName candidates for a new business customer: the company's name, then with its domain. QuickBooks
    keeps ":" for the path of a sub-customer's name (FullyQualifiedName), so a name's colons become dashes."""
    name = values.get("name", "").replace(":", " -")
    domain = values.get("domain", "")
    return [name, f"{name} ({domain})"] if name and domain else [name] if name else []


@dataclass(frozen=True)
class PairSpec:
    pair: Pair
    entity: str  # the QuickBooks entity
    hubspot_object: str  # the HubSpot object's API name
    object_type_id: str  # the HubSpot object's type id (lists, associations)
    id_property: str  # the app's unique HubSpot property holding the QuickBooks id
    match_keys: tuple[MatchKey, ...]  # tried in order: the first key with a value decides
    match_words: str  # the keys as a person reads them, for sync errors
    read_properties: tuple[str, ...]  # HubSpot properties read beside the mapped ones (filters, creation)
    defaults: tuple[FieldMapping, ...]
    # Joined names the mapping editor offers (any fields joined with + are accepted): HubSpot and QBO side.
    joined_names: tuple[tuple[str, str], tuple[str, str]] | None = None
    # Names a new QuickBooks record may take, in order of preference (empty: the entity needs none).
    new_names: Callable[[dict[str, str]], list[str]] = lambda values: []
    needs_name: bool = False  # a HubSpot record without a name in `new_names` cannot become a QuickBooks one
    nouns: tuple[str, str] = ("record", "record")  # a HubSpot record and a QuickBooks one, as a person says them
    stands_for: str = "record"  # what both records of a link are ("the same person")
    email: str = ""  # the field holding the customer's email, which invoices are emailed to

    def email_of(self, agreed: dict[str, str]) -> str:
        """The customer's email as a link agreed on it ("" for none)."""
        return agreed.get(self.email, "") if self.email else ""

    def match_value(self, values: dict[str, str]) -> str:
        """The value a record is matched by: its first match key that has one."""
        return next((values[k.field] for k in self.match_keys if values.get(k.field)), "")


SPECS: dict[Pair, PairSpec] = {
    Pair.CONTACTS: PairSpec(
        pair=Pair.CONTACTS,
        entity="Customer",
        hubspot_object="contacts",
        object_type_id="0-1",
        id_property="qbo_customer_id",
        match_keys=(MatchKey("email", "PrimaryEmailAddr"),),
        match_words="email",
        read_properties=("lifecyclestage",),
        defaults=CONTACT_FIELDS,
        joined_names=(
            ("firstname+lastname", "First and last name"),
            ("GivenName+FamilyName", "Given and family name"),
        ),
        new_names=display_names,
        nouns=("contact", "customer"),
        stands_for="person",
        email="email",
    ),
    Pair.COMPANIES: PairSpec(
        pair=Pair.COMPANIES,
        entity="Customer",
        hubspot_object="companies",
        object_type_id="0-2",
        id_property="qbo_customer_id",
        match_keys=(MatchKey("domain", None), MatchKey("name", "DisplayName")),
        match_words="domain or name",
        read_properties=(),
        defaults=COMPANY_FIELDS,
        new_names=company_names,
        needs_name=True,
        nouns=("company", "customer"),
        stands_for="business",
        email=f"{PERSON}email",  # its person's
    ),
    Pair.PRODUCTS: PairSpec(
        pair=Pair.PRODUCTS,
        entity="Item",
        hubspot_object="products",
        object_type_id="0-7",
        id_property="qbo_item_id",
        match_keys=(MatchKey("hs_sku", "Sku"), MatchKey("name", "Name")),
        match_words="SKU or name",
        read_properties=("hs_product_type",),
        defaults=PRODUCT_FIELDS,
        nouns=("product", "item"),
        stands_for="product",
    ),
}
DEFAULTS: dict[Pair, tuple[FieldMapping, ...]] = {pair: spec.defaults for pair, spec in SPECS.items()}
# The QuickBooks entity and HubSpot object of every pair, the one-way ones too.
QBO_ENTITY = {**{pair: s.entity for pair, s in SPECS.items()}, Pair.INVOICES: "Invoice", Pair.PAYMENTS: "Payment"}
HUBSPOT_OBJECT = {**{pair: s.hubspot_object for pair, s in SPECS.items()}, Pair.INVOICES: "invoices"}


def spec(pair: Pair) -> PairSpec:
    return SPECS[pair]


# QuickBooks customers sync with HubSpot contacts or with companies, as the connection's mode says.
CUSTOMER_PAIRS = {CustomerMode.PEOPLE: Pair.CONTACTS, CustomerMode.BUSINESS: Pair.COMPANIES}


def customer_pair(mode: CustomerMode) -> Pair:
    return CUSTOMER_PAIRS[mode]


def nameless(pair: Pair, values: dict[str, str]) -> bool:
    """A HubSpot record of a pair whose QuickBooks records need a name, without one."""
    return spec(pair).needs_name and not spec(pair).new_names(values)


def has_parent(pair: Pair, values: dict[str, str]) -> bool:
    """A record under a parent: synced by the engine one at a time, its parent first (never in a bulk write)."""
    return pair is Pair.COMPANIES and bool(values.get(PARENT))
