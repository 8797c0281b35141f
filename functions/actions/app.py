"""HubSpot workflow actions (invoices, estimates, sales receipts, sending and voiding) and their dropdowns,
signed by HubSpot (v3 only)."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hubbooks.errors import RateLimitedError, UnavailableError
from hubbooks.hubspot.developer import ACTIONS, action_object_type
from hubbooks.hubspot.webhooks import SignatureError
from hubbooks.sync.action_common import FAIL, Outputs
from hubbooks.tracing import TRACED_MODULES
from hubbooks.web.edge import json_response, raw_body, verify_hubspot
from hubbooks.wiring import accounts, billing, connections

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"hubbooks"})  # retries, budget waits
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()
app = APIGatewayHttpResolver()

MAX_BODY_BYTES = 1_048_576
OUTCOME_METRICS = {"SUCCESS": "ActionsSucceeded", "FAIL_CONTINUE": "ActionsFailed", "BLOCK": "ActionsBlocked"}


class _Origin(BaseModel):
    portal_id: int = Field(alias="portalId")


class _Object(BaseModel):
    object_id: int = Field(alias="objectId")
    object_type: str = Field(alias="objectType")


class ActionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    callback_id: str = Field(alias="callbackId", min_length=1, max_length=200)
    origin: _Origin
    object: _Object
    input_fields: dict[str, Any] = Field(default_factory=dict, alias="inputFields")


class OptionsRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    origin: _Origin
    input_field_name: str = Field(alias="inputFieldName", max_length=100)
    fetch_options: dict[str, Any] = Field(default_factory=dict, alias="fetchOptions")


def _failed(message: str) -> Response[str]:
    return json_response(200, {"outputFields": Outputs(FAIL, error=message).as_fields()})


def _signed[M: BaseModel](model: type[M], what: str) -> M | Response[str]:
    """The request as `model` when HubSpot signed it (v3 only: older signatures cover no time, so a copy would
    replay forever), else the answer that refuses it."""
    raw = raw_body(app.current_event)
    if len(raw) > MAX_BODY_BYTES:
        return json_response(413, {"message": "The request is too large."})
    try:
        verify_hubspot(app.current_event, raw, allow_legacy=False)
    except SignatureError as exc:
        metrics.add_metric(name="RejectedSignature", unit=MetricUnit.Count, value=1)
        logger.info("action refused", extra={"reason": str(exc)})
        return json_response(401, {"message": "The request is not signed by HubSpot."})
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        return json_response(400, {"message": f"Not {what}: {exc.error_count()} problems"})


@app.post("/actions/options")
def options() -> Response[str]:
    """An action's dropdown (terms, tax codes, items), as the workflow editor asks through optionsUrl."""
    request = _signed(OptionsRequest, "an options request")
    if isinstance(request, Response):
        return request
    connection = connections().by_portal(request.origin.portal_id)
    reader = accounts(connection.connection_id) if connection is not None else None
    if reader is None:
        return json_response(200, {"options": [], "searchable": False})
    try:
        found = reader.action_options(request.input_field_name, str(request.fetch_options.get("q") or ""))
    except (RateLimitedError, UnavailableError):
        return json_response(503, {"message": "QuickBooks cannot answer just now; open the dropdown again shortly."})
    if found is None:
        return json_response(404, {"message": f"{request.input_field_name} has no options."})
    return json_response(200, {"options": found, "searchable": True})


@app.post("/actions/<name>")
def run_action(name: str) -> Response[str]:
    if name not in ACTIONS:
        return json_response(404, {"message": f"No workflow action {name}."})
    request = _signed(ActionRequest, "a workflow action request")
    if isinstance(request, Response):
        return request
    object_type = action_object_type(request.object.object_type)
    if object_type not in ACTIONS[name]:
        return _failed(f"This action does not run on a {request.object.object_type.lower()}.")
    connection = connections().by_portal(request.origin.portal_id)
    service = billing(connection.connection_id) if connection is not None else None
    if service is None:
        return _failed("hubbooks is not connected to QuickBooks for this HubSpot account, or the connection is paused.")
    outputs = service.run_action(
        request.callback_id, str(request.object.object_id), request.input_fields, kind=name, object_type=object_type
    )
    metrics.add_metric(name=OUTCOME_METRICS[outputs["hs_execution_state"]], unit=MetricUnit.Count, value=1)
    logger.info(
        "action answered",
        extra={"action": name, "callback_id": request.callback_id, "state": outputs["hs_execution_state"]},
    )
    return json_response(200, {"outputFields": outputs})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
