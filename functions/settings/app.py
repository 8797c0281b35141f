"""The settings page and API of a connection; every route needs the session issued at install."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from hubbooks.models.connection import Connection
from hubbooks.web.connection_page import connection_page
from hubbooks.wiring import connections, sessions

logger = Logger()
tracer = Tracer()
app = APIGatewayHttpResolver()


def _connection() -> Connection | None:
    connection_id = sessions().connection_of(app.current_event.cookies)
    return connections().get(connection_id) if connection_id else None


@app.get("/")
def settings_page() -> Response[str]:
    connection = _connection()
    if connection is None:
        return Response(
            status_code=401,
            content_type="text/html; charset=utf-8",
            body=connection_page(None),
            headers={"Cache-Control": "no-store"},
        )
    return Response(
        status_code=200,
        content_type="text/html; charset=utf-8",
        body=connection_page(connection),
        headers={"Cache-Control": "no-store"},
    )


@app.get("/api/connection")
def connection_api() -> dict[str, Any]:
    connection = _connection()
    if connection is None:
        raise UnauthorizedError("A session is required: open hubbooks from HubSpot.")
    return {
        "connection_id": connection.connection_id,
        "portal_id": connection.portal_id,
        "realm_id": connection.realm_id,
        "company_name": connection.company_name,
        "status": connection.status.value,
        "status_reason": connection.status_reason,
        "warnings": [w.model_dump() for w in connection.warnings],
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
