"""The settings page and API of a connection; every route needs the session issued at install."""

import json
import re
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError, UnauthorizedError
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from hubbooks.auth.sessions import Session
from hubbooks.errors import ProviderError, RateLimitedError
from hubbooks.models.connection import Connection, CustomerMode
from hubbooks.models.signals import Pair, Side
from hubbooks.models.sync_config import CONFIGURABLE, EDITABLE_MAPPINGS, MAPPED, SyncChanges
from hubbooks.store.health import InvalidCursorError, Page
from hubbooks.store.sync_settings import StaleSettingsError
from hubbooks.sync.preview import RowKind
from hubbooks.sync.settings_service import (
    InvalidSettingsError,
    RefusedError,
    ReviewDecisions,
    SettingsService,
    StartSync,
)
from hubbooks.tracing import TRACED_MODULES
from hubbooks.web.assets import asset
from hubbooks.web.connection_page import connection_page
from hubbooks.web.edge import same_origin, secure_answers, session_connection, signed_in
from hubbooks.wiring import sessions, settings_service

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"hubbooks"})  # retries, budget waits
tracer = Tracer(patch_modules=TRACED_MODULES)
app = APIGatewayHttpResolver(enable_validation=True)
RECORD_ID = re.compile(r"\d{1,19}")  # both providers' ids are digits; anything else never reaches a path


def _signed_in() -> tuple[Connection, Session]:
    """The live session and its connection; asking for another connection's data is refused."""
    found = signed_in(app.current_event)
    if found is None:
        raise UnauthorizedError("A session is required: open hubbooks from HubSpot.")
    connection, session = found
    if app.current_event.request_context.http.method != "GET" and not same_origin(app.current_event):
        raise ServiceError(403, "Send this from the hubbooks page: requests from other sites are refused.")
    asked = (app.current_event.query_string_parameters or {}).get("connection_id")
    if asked and asked != connection.connection_id:
        raise ServiceError(403, "This session belongs to another connection.")
    return connection, session


def _session() -> Connection:
    return _signed_in()[0]


def _service() -> SettingsService:
    connection, session = _signed_in()
    return settings_service(connection, session.session_id)


def _pair(pair: str, allowed: tuple[Pair, ...] = CONFIGURABLE) -> Pair:
    if pair not in {p.value for p in allowed}:
        raise NotFoundError(f"No sync called '{pair}'; there are {', '.join(p.value for p in allowed)}.")
    return Pair(pair)


def _page(page: Page) -> dict[str, Any]:
    return {"items": page.items, "cursor": page.cursor}


@app.exception_handler(StaleSettingsError)  # type: ignore[untyped-decorator]
def _stale(exc: StaleSettingsError) -> Response[str]:
    body = {"message": "These settings changed since you loaded them; reload and apply your change again."}
    return Response(409, content_types.APPLICATION_JSON, json.dumps(body))


@app.exception_handler(InvalidSettingsError)  # type: ignore[untyped-decorator]
def _invalid(exc: InvalidSettingsError) -> Response[str]:
    errors = [{"field": p.field, "message": p.message} for p in exc.problems]
    return Response(422, content_types.APPLICATION_JSON, json.dumps({"message": "Not saved.", "errors": errors}))


@app.exception_handler(InvalidCursorError)  # type: ignore[untyped-decorator]
def _bad_request(exc: InvalidCursorError) -> Response[str]:
    return Response(400, content_types.APPLICATION_JSON, json.dumps({"message": str(exc)}))


@app.exception_handler(RefusedError)  # type: ignore[untyped-decorator]
def _refused(exc: RefusedError) -> Response[str]:
    return Response(exc.status, content_types.APPLICATION_JSON, json.dumps({"message": str(exc)}))


@app.exception_handler(ProviderError)  # type: ignore[untyped-decorator]
def _provider_busy(exc: ProviderError) -> Response[str]:
    """HubSpot or QuickBooks cannot answer now (a throttle, an outage): say so, never a 500."""
    wait = exc.retry_after if isinstance(exc, RateLimitedError) else 30.0
    body = {"message": f"{exc.provider.capitalize()} is busy or not answering; try again in {wait:.0f} s."}
    return Response(503, content_types.APPLICATION_JSON, json.dumps(body), headers={"Retry-After": f"{wait:.0f}"})


@app.exception_handler(UnicodeDecodeError)  # type: ignore[untyped-decorator]
def _not_text(exc: UnicodeDecodeError) -> Response[str]:
    return Response(400, content_types.APPLICATION_JSON, json.dumps({"message": "The body is not UTF-8 JSON."}))


# -- the page -------------------------------------------------------------------------------------------


@app.get("/", include_in_schema=False)
def settings_page() -> Response[str]:
    connection = session_connection(app.current_event)
    return Response(
        status_code=401 if connection is None else 200,
        content_type="text/html; charset=utf-8",
        body=connection_page(None) if connection is None else asset("settings.html"),
        headers={"Cache-Control": "no-store"},
    )


@app.get("/assets/<file>", include_in_schema=False)
def settings_asset(file: str) -> Response[str]:
    types = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}
    kind = file.rsplit(".", 1)[-1]
    if kind not in types or file not in ("settings.js", "settings.css"):
        raise NotFoundError(f"No asset {file}")
    return Response(200, types[kind], asset(file), headers={"Cache-Control": "no-cache"})


# -- the API --------------------------------------------------------------------------------------------


@app.get("/api/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    schema = app.get_openapi_json_schema(title="hubbooks settings API", version="1.0.0")
    return Response(200, content_types.APPLICATION_JSON, schema)


@app.post("/api/logout", summary="End this session (the cookie is cleared and the session cannot be used again)")
def logout() -> Response[str]:
    _, session = _signed_in()
    sessions().end(session)
    body = json.dumps({"signed_out": True})
    return Response(200, content_types.APPLICATION_JSON, body, cookies=[sessions().clear_cookie()])


@app.get("/api/connection", summary="The connection: portal, realm, company, status and warnings")
def connection_api() -> dict[str, Any]:
    connection = _session()
    return {
        "connection_id": connection.connection_id,
        "portal_id": connection.portal_id,
        "realm_id": connection.realm_id,
        "company_name": connection.company_name,
        "status": connection.status.value,
        "status_reason": connection.status_reason,
        "warnings": [w.model_dump() for w in connection.warnings],
        "customer_mode": connection.customer_mode.value,
    }


class ModeChoice(BaseModel):
    mode: CustomerMode


@app.put(
    "/api/connection/customer-mode",
    summary="What a QuickBooks customer is in HubSpot: a contact (people) or a company (business)",
)
def put_customer_mode(choice: Annotated[ModeChoice, Body()]) -> dict[str, Any]:
    return _service().set_customer_mode(choice.mode)


@app.get("/api/syncs", summary="Every object pair's settings and status (customers: the pair of the customer mode)")
def list_syncs() -> dict[str, Any]:
    service = _service()
    return {"syncs": [service.get(p).model_dump(mode="json") | {"status": service.status(p)} for p in service.pairs()]}


@app.get("/api/syncs/<pair>", summary="One pair's settings, with the version to send back")
def get_sync(pair: str) -> dict[str, Any]:
    return _service().get(_pair(pair)).model_dump(mode="json")


@app.put("/api/syncs/<pair>", summary="Change a pair's settings (turning it on starts an initial sync)")
def put_sync(pair: str, changes: Annotated[SyncChanges, Body()]) -> dict[str, Any]:
    return _service().update(_pair(pair), changes)


@app.delete("/api/syncs/<pair>", summary="Stop a pair and forget its links (confirm=<pair>)")
def delete_sync(pair: str, confirm: Annotated[str, Query()] = "") -> dict[str, Any]:
    chosen = _pair(pair)
    if confirm != chosen.value:
        raise ServiceError(400, f"Deleting the {pair} sync forgets every link; confirm with ?confirm={pair}.")
    return {"deleted": _service().delete(chosen)}


@app.post("/api/syncs/<pair>/preview", summary="Start a preview (dry run) of the pair's first sync")
def start_preview(pair: str) -> dict[str, Any]:
    return {"job_id": _service().preview(_pair(pair, MAPPED))}


@app.get("/api/syncs/<pair>/preview", summary="The latest preview: progress, and how many records of each kind")
def preview_summary(pair: str) -> dict[str, Any]:
    return _service().preview_summary(_pair(pair, MAPPED))


@app.get("/api/syncs/<pair>/preview/rows", summary="The latest preview's records of one kind, paged")
def preview_rows(
    pair: str,
    kind: Annotated[RowKind, Query()],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    return _page(_service().preview_page(_pair(pair, MAPPED), kind, limit=limit, cursor=cursor))


@app.get("/api/syncs/<pair>/preview.csv", summary="The latest preview's records of one kind as CSV")
def preview_csv(pair: str, kind: Annotated[RowKind, Query()]) -> Response[str]:
    chosen = _pair(pair, MAPPED)
    headers = {"Content-Disposition": f'attachment; filename="{chosen.value}-preview-{kind.value}.csv"'}
    return Response(200, "text/csv; charset=utf-8", _service().preview_csv(chosen, kind), headers=headers)


@app.post("/api/syncs/<pair>/decisions", summary="Review decisions: link a record with another, or leave it out")
def decide(pair: str, body: Annotated[ReviewDecisions, Body()]) -> dict[str, Any]:
    return _service().decide(_pair(pair, MAPPED), body.decisions)


@app.post("/api/syncs/<pair>/start", summary="Save and sync: set the pair up, turn it on and start its first sync")
def start_sync(pair: str, body: Annotated[StartSync, Body()]) -> dict[str, Any]:
    return _service().start(_pair(pair), body.version, accept_changes=body.accept_changes)


@app.post("/api/syncs/<pair>/resync", summary="Start a resync (an initial sync) of a pair")
def resync_pair(pair: str) -> dict[str, Any]:
    return {"job_id": _service().resync(_pair(pair))}


@app.get("/api/syncs/<pair>/status", summary="Counts, last change each way, job progress")
def sync_status(pair: str) -> dict[str, Any]:
    return _service().status(_pair(pair))


@app.get("/api/fields/<pair>", summary="HubSpot properties, QuickBooks fields and transforms for the mapping editor")
def fields(pair: str) -> dict[str, Any]:
    return _service().fields(_pair(pair, EDITABLE_MAPPINGS))


@app.get(
    "/api/choices/<pair>",
    summary="What the pair's settings pick from, by name: lifecycle stages and HubSpot lists (contacts); "
    "QuickBooks tax codes and items (invoices)",
)
def filter_choices(pair: str) -> dict[str, Any]:
    return _service().filter_choices(_pair(pair, EDITABLE_MAPPINGS))


@app.get("/api/errors", summary="The sync health table: records that cannot sync, why, and the fix")
def errors(
    pair: Annotated[Pair | None, Query()] = None,
    side: Annotated[Side | None, Query()] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    service = _service()
    return _page(service.named(service.errors(pair=pair, side=side, category=category, limit=limit, cursor=cursor)))


@app.post("/api/records/<pair>/<side>/<record_id>/resync", summary="Sync one record again now")
def resync_record(pair: str, side: str, record_id: str) -> dict[str, Any]:
    if side not in {s.value for s in Side} or not RECORD_ID.fullmatch(record_id):
        raise NotFoundError("Use /api/records/<pair>/hs|qbo/<id>/resync.")
    return {"queued": _service().resync_record(_pair(pair), Side(side), record_id)}


@app.get("/api/excluded/<pair>", summary="Records the pair leaves out (a filter, a person, inactive), and why")
def excluded(
    pair: str,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    return _page(_service().excluded(_pair(pair, MAPPED), limit=limit, cursor=cursor))


@app.post("/api/records/<pair>/<side>/<record_id>/include", summary="Bring over a record the filters leave out")
def include_record(pair: str, side: str, record_id: str) -> dict[str, Any]:
    if side not in {s.value for s in Side} or not RECORD_ID.fullmatch(record_id):
        raise NotFoundError("Use /api/records/<pair>/hs|qbo/<id>/include.")
    return {"queued": _service().include(_pair(pair, MAPPED), Side(side), record_id)}


@app.get("/api/history", summary="What hubbooks did, newest first, in sentences; of one record with side and record_id")
def history(
    pair: Annotated[Pair | None, Query()] = None,
    side: Annotated[Side | None, Query()] = None,
    record_id: Annotated[str | None, Query(pattern=r"^\d{1,19}$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    if (side is None) != (record_id is None):
        raise ServiceError(400, "Ask for one record's history with both side (hs or qbo) and record_id.")
    record = (side, record_id) if side is not None and record_id is not None else None
    return _page(_service().history(limit=limit, cursor=cursor, pair=pair, record=record))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@secure_answers
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
