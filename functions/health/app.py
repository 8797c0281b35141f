"""GET /health: the gateway path end to end, plus the table and queue the other functions need."""

from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from hubbooks.config import get_settings
from hubbooks.health import CachedHealth
from hubbooks.tracing import TRACED_MODULES

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
app = APIGatewayHttpResolver()
# Clients live as long as the execution environment, so warm invocations skip their set-up.
dynamodb = boto3.client("dynamodb")
sqs = boto3.client("sqs")
cached = CachedHealth()


@app.get("/health")
@tracer.capture_method
def health() -> Response[str]:
    report = cached.report(get_settings(), dynamodb, sqs)
    return Response(
        status_code=200 if report.status == "ok" else 503,
        content_type=content_types.APPLICATION_JSON,
        body=report.model_dump_json(),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
