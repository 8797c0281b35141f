"""Which OAuth scope each HubSpot endpoint needs, as HubSpot's scope reference lists them: a call whose token
lacks it is answered 403 MISSING_SCOPES, so an app that forgets a scope fails here as it would there.

Only endpoints the product and its tests call are listed; anything else is let through."""

import re

from werkzeug import Request

from sandbox.http import ApiError
from sandbox.hubspot.errors import hubspot_error

_OBJECT_SCOPES = {
    "contacts": ("crm.objects.contacts.read", "crm.objects.contacts.write"),
    "deals": ("crm.objects.deals.read", "crm.objects.deals.write"),
    "invoices": ("crm.objects.invoices.read", "crm.objects.invoices.write"),
    "quotes": ("crm.objects.quotes.read", "crm.objects.quotes.write"),
    "commerce_payments": ("crm.objects.commercepayments.read", "crm.objects.commercepayments.write"),
    "products": ("e-commerce", "e-commerce"),
    "line_items": ("e-commerce", "e-commerce"),
}
_READ_POSTS = re.compile(r"/(search|batch/read)$")
_OBJECTS = re.compile(r"^/crm/v3/objects/(?P<otype>[a-z_]+)(?P<rest>/.*)?$")
_LISTS = re.compile(r"^/crm/v3/lists(/.*)?$")


def required(request: Request) -> str | None:
    """The scope the call needs (None: not checked)."""
    path, method = request.path, request.method
    if found := _OBJECTS.match(path):
        scopes = _OBJECT_SCOPES.get(found["otype"])
        if scopes is None:
            return None
        reads = method == "GET" or (method == "POST" and _READ_POSTS.search(path) is not None)
        return scopes[0] if reads else scopes[1]
    if path.startswith("/tax-rates/"):
        return "tax_rates.read"
    if _LISTS.match(path):
        reads = method == "GET" or (method == "POST" and path.endswith("/search"))
        return "crm.lists.read" if reads else "crm.lists.write"
    return None


def check(request: Request, granted: list[str]) -> None:
    """Refuse the call as HubSpot does when the token was not granted the scope it needs."""
    needed = required(request)
    if needed is None or needed in granted:
        return
    raise missing(needed)


def missing(needed: str) -> ApiError:
    return hubspot_error(
        403,
        "The app was not granted every scope this call needs; see the app's scope settings.",
        "MISSING_SCOPES",
        errors=[{"message": "One of these scopes is needed.", "context": {"requiredGranularScopes": [needed]}}],
        links={"scopes": "https://developers.hubspot.com/scopes"},
    )
