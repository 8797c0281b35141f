"""A pair's sync settings as a person edits them: set up or not, on/off, direction, policy, filters, delete
behaviour and field mappings, with a version so two editors cannot overwrite each other."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from hubbooks.mapping.fields import Direction, FieldMapping
from hubbooks.mapping.pairs import CUSTOMER_PAIRS, DEFAULTS
from hubbooks.models.connection import CustomerMode
from hubbooks.models.signals import Pair
from hubbooks.sync.models import DeleteBehaviour, PairSettings, Policy

CONFIGURABLE = (Pair.CONTACTS, Pair.COMPANIES, Pair.PRODUCTS, Pair.INVOICES, Pair.PAYMENTS)
MAPPED = (Pair.CONTACTS, Pair.COMPANIES, Pair.PRODUCTS)  # the two-way pairs: matched, previewed, their fields both ways
EDITABLE_MAPPINGS = (*MAPPED, Pair.INVOICES)  # invoices: QuickBooks fields copied to HubSpot invoice properties


def configurable(mode: CustomerMode) -> tuple[Pair, ...]:
    """The pairs a connection of this customer mode sets up: its own customers pair, and the rest."""
    return tuple(p for p in CONFIGURABLE if p not in CUSTOMER_PAIRS.values() or p is CUSTOMER_PAIRS[mode])


class MappingSpec(BaseModel):
    hubspot: str = Field(min_length=1, max_length=100, description="HubSpot property name")
    qbo: str = Field(min_length=1, max_length=100, description="QuickBooks field path, e.g. BillAddr.City")
    direction: Direction = Direction.BOTH
    transform: str = "trim"

    def to_mapping(self) -> FieldMapping:
        return FieldMapping(self.hubspot, self.qbo, self.direction, self.transform)


# Sizes are capped so a stored setting stays far below DynamoDB's 400 KB item; ids are digits, as HubSpot's are,
# before they reach an API path.
HubSpotId = Annotated[str, StringConstraints(pattern=r"^\d{1,19}$")]
QboId = Annotated[str, StringConstraints(pattern=r"^\d{1,19}$")]
StageName = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class Filters(BaseModel):
    lifecycle_stages: list[StageName] = Field(
        default_factory=list,
        max_length=20,
        description="Contacts only: sync only contacts in these lifecycle stages (empty: all)",
    )
    list_ids: list[HubSpotId] = Field(
        default_factory=list,
        max_length=20,
        description="Contacts only: sync only contacts in one of these HubSpot lists, by list id (empty: all)",
    )


class InvoiceDefaults(BaseModel):
    """Invoices only: what the workflow action puts on a QuickBooks invoice when a deal's line does not say."""

    tax_code: QboId | None = Field(
        default=None,
        description="QuickBooks tax code for lines whose item has none (companies outside the US; a US company "
        "taxes a line by its item's Taxable)",
    )
    custom_item: QboId | None = Field(
        default=None, description="QuickBooks item that bills line items not from HubSpot's product library"
    )


class DealMapping(BaseModel):
    """Invoices only: a deal property filled from the deal's latest invoice (beside the deal's own figures)."""

    deal: str = Field(min_length=1, max_length=100, description="HubSpot deal property")
    invoice: str = Field(min_length=1, max_length=100, description="HubSpot invoice property it takes its value from")


class SyncChanges(BaseModel):
    """What a PUT may change; `version` is the one the editor read."""

    version: int
    enabled: bool | None = None
    direction: Direction | None = None
    policy: Policy | None = None
    on_hubspot_delete: DeleteBehaviour | None = None
    on_qbo_inactive: DeleteBehaviour | None = None
    associate_open_deal: bool | None = None
    filters: Filters | None = None
    mappings: list[MappingSpec] | None = Field(default=None, max_length=100)
    bring_since: date | None = None
    invoice_defaults: InvoiceDefaults | None = None
    deal_mappings: list[DealMapping] | None = Field(default=None, max_length=50)
    hubspot_invoices: bool | None = None


class SyncConfig(BaseModel):
    pair: Pair
    version: int = 0
    # A new connection's pairs are written not set up; settings stored before set-up existed (or none stored)
    # read as set up: the connections made before it keep syncing as they did.
    set_up: bool = True
    enabled: bool = True
    bring_since: date | None = Field(
        default=None, description="Invoices and payments: bring existing ones dated from this day (empty: all)"
    )
    reviewed: bool = False  # decisions were made in the preview's review (set by saving them)
    direction: Direction = Direction.BOTH
    policy: Policy = Policy.LATEST
    on_hubspot_delete: DeleteBehaviour = DeleteBehaviour.UNLINK
    on_qbo_inactive: DeleteBehaviour = DeleteBehaviour.MARK_INACTIVE
    associate_open_deal: bool = True
    filters: Filters = Field(default_factory=Filters)
    mappings: list[MappingSpec] = Field(default_factory=list)
    invoice_defaults: InvoiceDefaults = Field(default_factory=InvoiceDefaults)
    deal_mappings: list[DealMapping] = Field(default_factory=list)
    hubspot_invoices: bool = Field(
        default=False, description="Invoices only: invoices made open in HubSpot become QuickBooks invoices too"
    )

    @classmethod
    def default(cls, pair: Pair) -> "SyncConfig":
        mappings = [
            MappingSpec(hubspot=m.hubspot, qbo=m.qbo, direction=m.direction, transform=m.transform)
            for m in DEFAULTS.get(pair, ())
        ]
        return cls(pair=pair, mappings=mappings)

    @classmethod
    def not_set_up(cls, pair: Pair) -> "SyncConfig":
        """A new connection's pair: today's defaults, waiting for a person to set it up."""
        return cls.default(pair).model_copy(update={"set_up": False, "enabled": False})

    @property
    def syncing(self) -> bool:
        return self.set_up and self.enabled

    @property
    def state(self) -> str:
        """What the page says of the pair: not set up, on or off."""
        return "on" if self.syncing else ("off" if self.set_up else "not_set_up")

    def deal_fields(self) -> dict[str, str]:
        """Deal property -> the invoice property it takes, the person's deal mappings."""
        return {m.deal: m.invoice for m in self.deal_mappings}

    def field_mappings(self) -> tuple[FieldMapping, ...]:
        return tuple(m.to_mapping() for m in self.mappings)

    def pair_settings(self) -> PairSettings:
        return PairSettings(
            self.pair,
            enabled=self.syncing,
            direction=self.direction,
            policy=self.policy,
            on_hubspot_delete=self.on_hubspot_delete,
            on_qbo_inactive=self.on_qbo_inactive,
            associate_open_deal=self.associate_open_deal,
            lifecycle_stages=tuple(self.filters.lifecycle_stages),
            list_ids=tuple(self.filters.list_ids),
            reviewed=self.reviewed,
        )

    def changed(self, changes: SyncChanges) -> "SyncConfig":
        nested = {"version", "filters", "mappings", "invoice_defaults", "deal_mappings"}
        updates = changes.model_dump(exclude_none=True, exclude=nested)
        if changes.invoice_defaults is not None:
            updates["invoice_defaults"] = changes.invoice_defaults
        if changes.deal_mappings is not None:
            updates["deal_mappings"] = changes.deal_mappings
        if changes.filters is not None:
            updates["filters"] = changes.filters
        if changes.mappings is not None:
            updates["mappings"] = changes.mappings
        return self.model_copy(update=updates)
