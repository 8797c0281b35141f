"""QBO's Fault envelopes and timestamps."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sandbox.http import ApiError

# Companies in the emulator keep Pacific time, as most sandbox companies do.
COMPANY_TZ = timezone(timedelta(hours=-8))


def qbo_time(epoch_ms: int | None = None) -> str:
    """Envelope time: 2026-11-28T16:24:24.123-08:00."""
    moment = datetime.now(UTC) if epoch_ms is None else datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return moment.astimezone(COMPANY_TZ).isoformat(timespec="milliseconds")


def meta_time(epoch_ms: int) -> str:
    """MetaData times have second precision: 2026-11-28T16:24:24-08:00."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).astimezone(COMPANY_TZ).isoformat(timespec="seconds")


def company_date(epoch_ms: int | None = None, days: int = 0) -> str:
    moment = datetime.now(UTC) if epoch_ms is None else datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return (moment.astimezone(COMPANY_TZ) + timedelta(days=days)).date().isoformat()


def fault_body(
    message: str, detail: str, code: str | int, kind: str = "ValidationFault", element: str = ""
) -> dict[str, Any]:
    return {
        "Fault": {
            "Error": [{"Message": message, "Detail": detail, "code": str(code), "element": element}],
            "type": kind,
        },
        "time": qbo_time(),
    }


def fault(
    message: str,
    detail: str,
    code: str | int,
    *,
    status: int = 400,
    kind: str = "ValidationFault",
    element: str = "",
) -> ApiError:
    return ApiError(status, fault_body(message, detail, code, kind, element))


def required_missing(name: str) -> ApiError:
    return fault(
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {name} is missing in the request",
        2020,
        element=name,
    )


def duplicate_name(name: str, what: str = "customer, vendor or employee") -> ApiError:
    return fault(
        "Duplicate Name Exists Error",
        f"The name supplied already exists. : Another {what} is already using this name ({name}). "
        "Please use a different name.",
        6240,
    )


def not_found(entity: str, entity_id: str) -> ApiError:
    return fault(
        "Object Not Found",
        f"Object Not Found : Something you're trying to use has been made inactive. Check the fields with "
        f"accounts, customers, items, vendors or employees. ({entity} {entity_id})",
        610,
    )


def stale(entity: str, entity_id: str) -> ApiError:
    return fault(
        "Stale Object Error",
        f"Stale Object Error : You and another user were working on the same thing. Please try again. "
        f"({entity} {entity_id})",
        5010,
    )


def invalid_reference(detail: str) -> ApiError:
    return fault("Invalid Reference Id", f"Invalid Reference Id : {detail}", 2500)


def business_rule(detail: str, code: int = 6000) -> ApiError:
    return fault(
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
        code,
    )


def bad_length(name: str, maximum: int, supplied: int) -> ApiError:
    return fault(
        "String length is either shorter or longer than supported by specification",
        f"String length specified does not match the supported length. Min:0 Max:{maximum} supplied length:{supplied}",
        2050,
        element=name,
    )


def unsupported_property(entity: str, name: str) -> ApiError:
    return fault(
        "Request has invalid or unsupported property",
        f'Property Name:Unrecognized field "{name}" (class com.intuit.schema.finance.v3.{entity}), not '
        "marked as ignorable",
        2010,
    )
