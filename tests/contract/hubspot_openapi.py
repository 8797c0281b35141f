"""Validates HubSpot emulator traffic against HubSpot's own OpenAPI specs (../shared/specs/hubspot): what the
product sends (request bodies and parameters) and what the emulator answers."""

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.validation.request.validators import V30RequestBodyValidator, V30RequestParametersValidator
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from tests.support.recording import Exchange

SPECS = Path(__file__).resolve().parents[3] / "shared" / "specs" / "hubspot"
# The same API under its other documented prefix, and objects by name or by type id as the specs write them.
_ALIASES = [
    ("/crm/v3/timeline/", "/integrators/timeline/v3/"),
    ("/crm/v3/objects/deals", "/crm/v3/objects/0-3"),
    ("/crm/v3/objects/0-1", "/crm/v3/objects/contacts"),
    ("/crm/v3/objects/0-7", "/crm/v3/objects/products"),
    ("/crm/v3/objects/0-8", "/crm/v3/objects/line_items"),
    ("/crm/v3/objects/0-53", "/crm/v3/objects/invoices"),
]
# Paths the product calls that no spec in shared/specs/hubspot covers: counted and reported at the end of the
# run, never validated. Any other path without a spec is a problem, so a new call cannot slip by unchecked.
KNOWN_UNSPECIFIED = {
    r"^/crm/v3/objects/companies(/|$)": "companies (business customers): no companies spec is shared",
    r"^/crm/v3/lists(/|$)": "Lists v3 (the list filter): HubSpot's lists spec is not among the shared specs",
    r"^/crm/v3/objects/notes(/|$)": "notes (payments without a timeline template): no notes spec is shared",
    r"^/crm/v3/objects/quotes(/|$)": "quotes (estimates made from them): no quotes spec is shared",
    r"^/oauth/authorize$": "the consent page a browser is sent to, not an API",
    r"^/tax-rates/v1/tax-rates(/|$)": "tax rates (the deal's tax as HubSpot computes it): no tax rates spec is shared",
}


def _json_media(node: Any) -> Any:
    """HubSpot's specs declare error bodies as */*; they are JSON, so validate them as JSON."""
    if isinstance(node, dict):
        return {("application/json" if k == "*/*" else k): _json_media(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_json_media(v) for v in node]
    return node


@dataclass
class _Spec:
    api: OpenAPI
    patterns: list[re.Pattern[str]]
    document: dict[str, Any]

    def declares(self, path: str, method: str, status: int) -> bool:
        for template, operations in self.document["paths"].items():
            if re.match("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$", path):
                responses = operations.get(method.lower(), {}).get("responses", {})
                if str(status) in responses:
                    return True
        return False


# Request fields HubSpot's generated specs mark required that HubSpot's own documentation leaves out of its
# examples and its API accepts missing: a request without them is not counted as breaking the contract.
SPEC_REQUIRED_BUT_OPTIONAL = frozenset(
    {
        "after",  # search: the first page has no cursor
        "sorts",  # search
        "propertiesWithHistory",  # batch read
        "options",  # action input fields and timeline tokens that are not enumerations
        "externalOptions",  # action input fields
        "schema",  # action input fields
        "useChirp",  # action input fields
    }
)
# Request fields whose shape HubSpot's guides and its API take although the generated specs type them otherwise.
SPEC_TYPED_OTHERWISE = {
    "sorts": "the search guide sends {propertyName, direction} objects; the spec types each sort as a string",
}
_REQUIRED = re.compile(r"^'([^']+)' is a required property$")


def _canonical(path: str) -> str:
    for alias, canonical in _ALIASES:
        if path == alias or path.startswith(alias + "/") or (alias.endswith("/") and path.startswith(alias)):
            return canonical + path[len(alias) :]
    return path


@dataclass
class HubSpotContract:
    specs: list[_Spec] = field(default_factory=list)
    unvalidated: Counter[str] = field(default_factory=Counter)
    validated: int = 0
    requests_validated: int = 0

    @classmethod
    def load(cls) -> "HubSpotContract":
        contract = cls()
        for path in sorted(SPECS.glob("*-v*.json")):
            document: dict[str, Any] = json.loads(path.read_text())
            if not document.get("paths"):
                continue
            document = _json_media(document)
            document["servers"] = [{"url": "/"}]
            patterns = [re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$") for p in document["paths"]]
            contract.specs.append(_Spec(OpenAPI.from_dict(document), patterns, document))
        return contract

    def _spec_for(self, path: str) -> _Spec | None:
        return next((s for s in self.specs if any(p.match(path) for p in s.patterns)), None)

    def check(self, exchange: Exchange, *, requests: bool = True) -> str | None:
        """None when the request and the response validate (or a known unspecified path was called); otherwise
        why they do not. `requests=False` for tests that send odd requests to the emulator on purpose."""
        path = _canonical(exchange.path)
        spec = self._spec_for(path)
        if spec is None:
            template = re.sub(r"/\d+", "/{id}", exchange.path)
            if any(re.search(pattern, path) for pattern in KNOWN_UNSPECIFIED):
                self.unvalidated[template] += 1
                return None
            return f"{exchange.method} {template}: no spec covers this path (add one, or list it in KNOWN_UNSPECIFIED)"
        request = WerkzeugOpenAPIRequest(Request(self._environ(exchange, path)))
        problem = (self._check_request(spec, request, exchange) if requests else None) or self._check_response(
            spec, request, exchange, path
        )
        if problem is None:
            self.validated += 1
        return problem

    @staticmethod
    def _environ(exchange: Exchange, path: str) -> dict[str, Any]:
        return EnvironBuilder(
            method=exchange.method,
            path=path,
            query_string=exchange.query,
            base_url="https://api.hubapi.com",
            data=exchange.request_body,
            content_type=exchange.request_content_type or None,
        ).get_environ()

    def _check_request(self, spec: _Spec, request: WerkzeugOpenAPIRequest, exchange: Exchange) -> str | None:
        """What the product sent: its parameters, and its body where the operation takes one."""
        validators: list[type[V30RequestParametersValidator | V30RequestBodyValidator]] = [
            V30RequestParametersValidator
        ]
        if exchange.request_body:
            validators.append(V30RequestBodyValidator)
        for validator in validators:
            try:
                validator(spec.api.spec).validate(request)
            except Exception as exc:
                if _only_spec_quirks(exc):
                    continue
                return f"{exchange.method} {exchange.path} request: {_reasons(exc)}"
        self.requests_validated += 1
        return None

    def _check_response(
        self, spec: _Spec, request: WerkzeugOpenAPIRequest, exchange: Exchange, path: str
    ) -> str | None:
        if not exchange.body and exchange.status == 204:
            if spec.declares(path, exchange.method, 204):
                return None
            return f"{exchange.method} {exchange.path} -> 204 is not a response the spec declares"
        response = Response(exchange.body, status=exchange.status, content_type=exchange.content_type or None)
        try:
            spec.api.validate_response(request, WerkzeugOpenAPIResponse(response))
        except Exception as exc:
            return f"{exchange.method} {exchange.path} -> {exchange.status}: {_reasons(exc)}"
        return None


def _schema_errors(exc: Exception) -> tuple[Any, ...]:
    return tuple(getattr(exc, "schema_errors", None) or getattr(exc.__cause__, "schema_errors", None) or ())


def _leaves(errors: tuple[Any, ...]) -> list[Any]:
    """The innermost errors: oneOf/anyOf failures are judged by what each alternative missed."""
    found: list[Any] = []
    for error in errors:
        found += _leaves(tuple(error.context)) if getattr(error, "context", None) else [error]
    return found


def _only_spec_quirks(exc: Exception) -> bool:
    """Whether every reason a request was refused is a field in SPEC_REQUIRED_BUT_OPTIONAL left out."""
    leaves = _leaves(_schema_errors(exc))
    return bool(leaves) and all(_spec_quirk(error) for error in leaves)


def _spec_quirk(error: Any) -> bool:
    missing = _REQUIRED.match(str(getattr(error, "message", "")))
    if missing is not None:
        return missing.group(1) in SPEC_REQUIRED_BUT_OPTIONAL
    where = list(getattr(error, "absolute_path", []) or [])
    return bool(where) and where[0] in SPEC_TYPED_OTHERWISE and getattr(error, "validator", "") == "type"


def _reasons(exc: Exception) -> str:
    detail = "; ".join(str(getattr(r, "message", r)) for r in _leaves(_schema_errors(exc))) or str(exc)
    return f"{type(exc).__name__}: {detail[:600]}"
