"""A pair's sync settings as a person edits them: on/off, direction, policy, filters, delete behaviour and
field mappings, with a version so two editors cannot overwrite each other."""

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from hubbooks.mapping.fields import Direction, FieldMapping
from hubbooks.mapping.pairs import DEFAULTS
from hubbooks.models.signals import Pair
from hubbooks.sync.models import DeleteBehaviour, PairSettings, Policy

CONFIGURABLE = (Pair.CONTACTS, Pair.PRODUCTS, Pair.INVOICES, Pair.PAYMENTS)
MAPPED = (Pair.CONTACTS, Pair.PRODUCTS)


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


class SyncConfig(BaseModel):
    pair: Pair
    version: int = 0
    enabled: bool = True
    direction: Direction = Direction.BOTH
    policy: Policy = Policy.LATEST
    on_hubspot_delete: DeleteBehaviour = DeleteBehaviour.UNLINK
    on_qbo_inactive: DeleteBehaviour = DeleteBehaviour.MARK_INACTIVE
    associate_open_deal: bool = True
    filters: Filters = Field(default_factory=Filters)
    mappings: list[MappingSpec] = Field(default_factory=list)

    @classmethod
    def default(cls, pair: Pair) -> "SyncConfig":
        mappings = [
            MappingSpec(hubspot=m.hubspot, qbo=m.qbo, direction=m.direction, transform=m.transform)
            for m in DEFAULTS.get(pair, ())
        ]
        return cls(pair=pair, mappings=mappings)

    def field_mappings(self) -> tuple[FieldMapping, ...]:
        return tuple(m.to_mapping() for m in self.mappings)

    def pair_settings(self) -> PairSettings:
        return PairSettings(
            self.pair,
            enabled=self.enabled,
            direction=self.direction,
            policy=self.policy,
            on_hubspot_delete=self.on_hubspot_delete,
            on_qbo_inactive=self.on_qbo_inactive,
            associate_open_deal=self.associate_open_deal,
            lifecycle_stages=tuple(self.filters.lifecycle_stages),
            list_ids=tuple(self.filters.list_ids),
        )

    def changed(self, changes: SyncChanges) -> "SyncConfig":
        updates = changes.model_dump(exclude_none=True, exclude={"version", "filters", "mappings"})
        if changes.filters is not None:
            updates["filters"] = changes.filters
        if changes.mappings is not None:
            updates["mappings"] = changes.mappings
        return self.model_copy(update=updates)
