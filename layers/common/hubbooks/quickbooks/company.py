"""What hubbooks watches in a QuickBooks company's settings: preferences that change how it must be used,
as warnings on the connection, checked at install and again each day."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from hubbooks.models.connection import Connection, ConnectionWarning, utc_now

RECHECK = timedelta(days=1)
CUSTOM_TXN_WARNING = ConnectionWarning(
    code="custom_transaction_numbers",
    message="Custom transaction numbers are on in QuickBooks: invoices created from HubSpot get the number you "
    "type in QuickBooks, not the next one in sequence. Turn them off in QuickBooks (Account and settings > "
    "Sales > Custom transaction numbers) to keep invoice numbers in order.",
)
WATCHED = {CUSTOM_TXN_WARNING.code}


def warnings_of(preferences: dict[str, Any]) -> list[ConnectionWarning]:
    """The warnings a company's preferences call for."""
    return [CUSTOM_TXN_WARNING] if (preferences.get("SalesFormsPrefs") or {}).get("CustomTxnNumbers") else []


def recheck(
    connection: Connection, preferences: Callable[[], dict[str, Any]], now: datetime | None = None
) -> Connection | None:
    """The connection with its company warnings read again, when the last check is a day old (else None)."""
    now = now or utc_now()
    if connection.company_checked_at is not None and now - connection.company_checked_at < RECHECK:
        return None
    others = [w for w in connection.warnings if w.code not in WATCHED]
    return connection.model_copy(update={"warnings": others + warnings_of(preferences()), "company_checked_at": now})
