"""Signed webhook deliveries from HubSpot and QuickBooks, turned into signals on the sync queue."""

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from hubbooks.config import get_settings
from hubbooks.hubspot import webhooks as hubspot_webhooks
from hubbooks.ingest import IngestResult
from hubbooks.queue import QueueError
from hubbooks.quickbooks import webhooks as qbo_webhooks
from hubbooks.tracing import TRACED_MODULES
from hubbooks.web.edge import json_response, raw_body, verify_hubspot
from hubbooks.wiring import secrets, webhook_ingest

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()
app = APIGatewayHttpResolver()

MAX_BODY_BYTES = {"hubspot": 1_048_576, "quickbooks": 2_097_152}
JSON_TYPES = ("application/json", "application/cloudevents+json", "application/cloudevents-batch+json")


def _reject(reason: str, status: int, message: str) -> Response[str]:
    metrics.add_metric(name=f"Rejected{reason}", unit=MetricUnit.Count, value=1)
    logger.info("webhook rejected", extra={"reason": reason, "status": status})
    return json_response(status, {"message": message})


def _precheck(provider: str, raw: bytes) -> Response[str] | None:
    if len(raw) > MAX_BODY_BYTES[provider]:
        return _reject("TooLarge", 413, f"A delivery may be at most {MAX_BODY_BYTES[provider]} bytes.")
    return None


def _parse(raw: bytes) -> Any:
    content_type = (app.current_event.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise TypeError(f"Content-Type must be JSON, not {content_type or 'missing'}")
    return json.loads(raw)


def _ingest(provider: str, raw: bytes, handle: Any) -> Response[str]:
    try:
        payload = _parse(raw)
    except TypeError as exc:
        return _reject("ContentType", 415, str(exc))
    except ValueError:
        return _reject("MalformedJson", 400, "The body is not valid JSON.")
    try:
        result: IngestResult = handle(payload)
    except (ValidationError, ValueError) as exc:
        return _reject("InvalidPayload", 400, f"The delivery is not a {provider} webhook batch: {exc}"[:500])
    except QueueError as exc:
        logger.error("signals not queued; asking the sender to retry", extra={"error": str(exc)})
        metrics.add_metric(name="QueueFailures", unit=MetricUnit.Count, value=1)
        return json_response(503, {"message": "The sync queue is unavailable; retry the delivery."})
    metrics.add_metric(name="EventsReceived", unit=MetricUnit.Count, value=result.received)
    metrics.add_metric(name="SignalsQueued", unit=MetricUnit.Count, value=result.queued)
    metrics.add_metric(name="EventsDropped", unit=MetricUnit.Count, value=sum(result.dropped.values()))
    logger.info("webhook ingested", extra={"provider": provider, **result.as_dict()})
    return json_response(200, result.as_dict())


@app.post("/webhooks/hubspot")
def hubspot() -> Response[str]:
    raw = raw_body(app.current_event)
    if (refused := _precheck("hubspot", raw)) is not None:
        return refused
    try:
        verify_hubspot(app.current_event, raw, allow_legacy=get_settings().hubspot_accept_legacy_signatures)
    except hubspot_webhooks.SignatureError as exc:
        return _reject("Signature", 401, f"Signature check failed: {exc}")
    ingest = webhook_ingest()
    return _ingest("HubSpot", raw, lambda payload: ingest.hubspot(hubspot_webhooks.parse_batch(payload)))


@app.post("/webhooks/quickbooks")
def quickbooks() -> Response[str]:
    raw = raw_body(app.current_event)
    if (refused := _precheck("quickbooks", raw)) is not None:
        return refused
    try:
        qbo_webhooks.verify(
            app.current_event.headers.get("intuit-signature"), raw, secrets().qbo_verifier_token.get_secret_value()
        )
    except qbo_webhooks.SignatureError as exc:
        return _reject("Signature", 401, f"Signature check failed: {exc}")
    ingest = webhook_ingest()
    return _ingest("QuickBooks", raw, lambda payload: ingest.quickbooks(qbo_webhooks.parse_batch(payload)))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
