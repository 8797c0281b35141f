"""OAuth: install from HubSpot, connect a QuickBooks company, disconnect."""

from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.shared.cookies import Cookie
from aws_lambda_powertools.utilities.typing import LambdaContext

from hubbooks.auth.install import InstallError
from hubbooks.auth.sessions import (
    FLOW_COOKIE,
    FLOW_SECONDS,
    INSTALL_COOKIE,
    cleared,
    cookie_values,
    host_cookie,
    new_flow,
)
from hubbooks.errors import ProviderError
from hubbooks.models.connection import Connection
from hubbooks.tracing import TRACED_MODULES
from hubbooks.web.edge import public_base, same_origin, secure_answers, session_connection
from hubbooks.web.pages import confirm_connect, confirm_disconnect, page
from hubbooks.wiring import install_service, prepare_payment_timeline, sessions

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"hubbooks"})  # retries, budget waits
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()
app = APIGatewayHttpResolver()
HTML = "text/html; charset=utf-8"


def _public_base() -> str:
    return public_base(app.current_event)


def _query() -> dict[str, str]:
    return {k: str(v) for k, v in (app.current_event.query_string_parameters or {}).items()}


def _redirect(location: str, cookies: list[Cookie] | None = None) -> Response[str]:
    return Response(status_code=302, headers={"Location": location, "Cache-Control": "no-store"}, cookies=cookies)


def _html(status: int, body: str, cookies: list[Cookie] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type=HTML,
        body=body,
        cookies=cookies,
        headers={"Cache-Control": "no-store"},
    )


@app.exception_handler(InstallError)  # type: ignore[untyped-decorator]
def _install_error(error: InstallError) -> Response[str]:
    metrics.add_metric(name="InstallRefused", unit=MetricUnit.Count, value=1)
    logger.info("install step refused", extra={"title": error.title, "status": error.status})
    return _html(error.status, page(error.title, error.message))


def _flow() -> str | None:
    """The flow secret of this browser's install, from its cookie (the OAuth states are bound to it)."""
    return next(iter(cookie_values(app.current_event.cookies, FLOW_COOKIE)), None)


@app.get("/connect/hubspot")
def connect_hubspot() -> Response[str]:
    flow = new_flow()
    location = install_service(_public_base()).start_hubspot(_public_base(), flow)
    return _redirect(location, cookies=[host_cookie(FLOW_COOKIE, flow, FLOW_SECONDS)])


@app.get("/oauth/hubspot/callback")
def hubspot_callback() -> Response[str]:
    install = install_service(_public_base()).finish_hubspot(_public_base(), _query(), _flow())
    return _redirect(
        f"{_public_base()}/connect/quickbooks", cookies=[host_cookie(INSTALL_COOKIE, install, FLOW_SECONDS)]
    )


@app.get("/connect/quickbooks")
def connect_quickbooks() -> Response[str]:
    """From the HubSpot install (its hand-off cookie) or from the settings page (the session)."""
    service = install_service(_public_base())
    session = sessions().connection_of(app.current_event.cookies)
    install = next(iter(cookie_values(app.current_event.cookies, INSTALL_COOKIE)), None)
    connection = service.connection_for_install(install, session)
    flow = _flow() or new_flow()
    location = service.start_quickbooks(_public_base(), connection, flow)
    return _redirect(location, cookies=[host_cookie(FLOW_COOKIE, flow, FLOW_SECONDS)])


@app.get("/oauth/quickbooks/callback")
def quickbooks_callback() -> Response[str]:
    """Intuit's answer: nothing is bound yet; the person is asked which company joins which account."""
    consent = install_service(_public_base()).finish_quickbooks(_public_base(), _query(), _flow())
    return _html(200, confirm_connect(consent.company_name, consent.realm_id, consent.portal_id, consent.confirm_token))


def _from_our_page() -> None:
    if not same_origin(app.current_event):
        raise InstallError(403, "Refused", "Send this from the hubbooks page: requests from other sites are refused.")


@app.post("/connect/quickbooks/confirm")
def quickbooks_confirm() -> Response[str]:
    _from_our_page()
    form = parse_qs(app.current_event.decoded_body or "")
    token, decision = form.get("confirm", [""])[0], form.get("decision", [""])[0]
    installed = install_service(_public_base()).confirm_quickbooks(token, decision == "connect", _flow())
    done = [cleared(FLOW_COOKIE), cleared(INSTALL_COOKIE)]
    if installed is None:
        return _html(200, page("Nothing was connected", "hubbooks gave QuickBooks' access back."), cookies=done)
    metrics.add_metric(name="ConnectionsActivated", unit=MetricUnit.Count, value=1)
    try:
        prepare_payment_timeline()
    except ProviderError as exc:  # payments fall back to notes until the templates can be made
        logger.warning("payment timeline templates not ready", extra={"error": str(exc)})
    return Response(
        status_code=303,
        headers={"Location": f"{_public_base()}/", "Cache-Control": "no-store"},
        cookies=[installed.session_cookie, *done],
    )


def _disconnect_page(connection: Connection) -> Response[str]:
    token = install_service(_public_base()).confirm_token(connection)
    return _html(
        200,
        confirm_disconnect(connection.connection_id, connection.company_name or "-", connection.portal_id, token),
    )


@app.get("/oauth/quickbooks/disconnect")
def quickbooks_disconnect_landing() -> Response[str]:
    """Intuit's disconnect landing URL: confirm with the person before deleting anything."""
    connection = session_connection(app.current_event)
    if connection is None or connection.realm_id != _query().get("realmId", connection.realm_id):
        return _html(
            200,
            page(
                "QuickBooks was disconnected",
                "hubbooks can no longer reach this QuickBooks "
                "company. Open the hubbooks settings from HubSpot to reconnect it or to delete the "
                "sync data.",
            ),
        )
    return _disconnect_page(connection)


def _owned(connection_id: str) -> Connection:
    connection = session_connection(app.current_event)
    if connection is None:
        raise InstallError(401, "Sign in from HubSpot", "Open hubbooks from your HubSpot account to manage it.")
    if connection.connection_id != connection_id:
        raise InstallError(403, "Not your connection", "This session belongs to another connection.")
    return connection


@app.get("/connections/<connectionId>/disconnect")
def disconnect_page(connectionId: str) -> Response[str]:  # noqa: N803 - the route's parameter name
    return _disconnect_page(_owned(connectionId))


@app.post("/connections/<connectionId>/disconnect")
def disconnect(connectionId: str) -> Response[str]:  # noqa: N803
    _from_our_page()
    connection = _owned(connectionId)
    body = app.current_event.decoded_body or ""
    confirm = parse_qs(body).get("confirm", [None])[0]
    deleted = install_service(_public_base()).disconnect(connection, confirm)
    metrics.add_metric(name="ConnectionsDisconnected", unit=MetricUnit.Count, value=1)
    message = (
        f"hubbooks no longer syncs HubSpot account {connection.portal_id} with QuickBooks; its access to both "
        f"was revoked and {deleted} stored items were deleted."
    )
    return _html(200, page("Disconnected", message), cookies=[sessions().clear_cookie()])


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
@secure_answers
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
