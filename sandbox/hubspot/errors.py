"""HubSpot's error bodies: {"status": "error", "message", "correlationId", "category", ...}."""

import json
from typing import Any

from sandbox.http import ApiError, correlation_id


def hubspot_error(status: int, message: str, category: str, **extra: Any) -> ApiError:
    body = {"status": "error", "message": message, "correlationId": correlation_id(), "category": category}
    return ApiError(status, body | extra)


def not_found(kind: str, object_id: str) -> ApiError:
    return hubspot_error(
        404, f"Object not found.  objectId are usually numeric. ({kind} {object_id})", "OBJECT_NOT_FOUND"
    )


def invalid_properties(errors: list[dict[str, Any]]) -> ApiError:
    """HubSpot's answer to property values it refuses: one VALIDATION_ERROR listing each problem."""
    return hubspot_error(
        400,
        f"Property values were not valid: {json.dumps(errors)}",
        "VALIDATION_ERROR",
        errors=[
            {"message": e["message"], "code": e["error"], "context": {"propertyName": [e["name"]]}} for e in errors
        ],
    )


def property_problem(name: str, error: str, message: str) -> dict[str, Any]:
    return {
        "isValid": False,
        "message": message,
        "error": error,
        "name": name,
        "localizedErrorMessage": message,
    }
