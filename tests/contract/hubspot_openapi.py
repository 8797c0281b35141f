"""Validates HubSpot emulator responses against HubSpot's own OpenAPI specs (../shared/specs/hubspot)."""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from tests.support.recording import Exchange

SPECS = Path(__file__).resolve().parents[3] / "shared" / "specs" / "hubspot"
# The same API under its other documented prefix.
_ALIASES = [("/crm/v3/timeline/", "/integrators/timeline/v3/")]


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


@dataclass
class HubSpotContract:
    specs: list[_Spec] = field(default_factory=list)
    unvalidated: set[str] = field(default_factory=set)
    validated: int = 0

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

    def check(self, exchange: Exchange) -> str | None:
        """None when the response validates (or no spec covers the path); otherwise why it does not."""
        path = exchange.path
        for alias, canonical in _ALIASES:
            path = path.replace(alias, canonical, 1) if path.startswith(alias) else path
        spec = self._spec_for(path)
        if spec is None:
            self.unvalidated.add(re.sub(r"/\d+", "/{id}", exchange.path))
            return None
        if not exchange.body and exchange.status == 204:
            if spec.declares(path, exchange.method, 204):
                self.validated += 1
                return None
            return f"{exchange.method} {exchange.path} -> 204 is not a response the spec declares"
        environ = EnvironBuilder(
            method=exchange.method, path=path, query_string=exchange.query, base_url="https://api.hubapi.com"
        ).get_environ()
        response = Response(exchange.body, status=exchange.status, content_type=exchange.content_type or None)
        try:
            spec.api.validate_response(WerkzeugOpenAPIRequest(Request(environ)), WerkzeugOpenAPIResponse(response))
        except Exception as exc:
            reasons = getattr(exc, "schema_errors", None) or getattr(exc.__cause__, "schema_errors", None) or ()
            detail = "; ".join(str(getattr(r, "message", r)) for r in reasons) or str(exc)
            where = f"{exchange.method} {exchange.path} -> {exchange.status}"
            return f"{where}: {type(exc).__name__}: {detail[:600]}"
        self.validated += 1
        return None
