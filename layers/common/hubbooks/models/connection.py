"""A connection: one HubSpot portal and one QuickBooks company kept in sync."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

Provider = Literal["hubspot", "quickbooks"]


class ConnectionStatus(StrEnum):
    PENDING_QUICKBOOKS = "pending_quickbooks"  # HubSpot installed, QuickBooks not yet connected
    ACTIVE = "active"
    NEEDS_REAUTH = "needs_reauth"  # a provider refused our tokens; syncs are paused


class CustomerMode(StrEnum):
    """What a QuickBooks customer stands for in HubSpot: a person (a contact) or a business (a company)."""

    PEOPLE = "people"
    BUSINESS = "business"


class ConnectionWarning(BaseModel):
    code: str
    message: str


def utc_now() -> datetime:
    return datetime.now(UTC)


class Connection(BaseModel):
    connection_id: str
    portal_id: int
    realm_id: str | None = None
    company_name: str | None = None
    status: ConnectionStatus = ConnectionStatus.PENDING_QUICKBOOKS
    status_reason: str | None = None
    warnings: list[ConnectionWarning] = Field(default_factory=list)
    customer_mode: CustomerMode = CustomerMode.PEOPLE
    company_checked_at: datetime | None = None  # when the company's preferences were last read for warnings
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)

    @property
    def syncs_paused(self) -> bool:
        return self.status != ConnectionStatus.ACTIVE
