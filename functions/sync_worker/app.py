"""The sync worker: signals from the FIFO queue, each made into agreement between both sides."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from hubbooks.config import get_settings
from hubbooks.errors import RateLimitedError, UnavailableError, loggable
from hubbooks.models.signals import SyncSignal
from hubbooks.sync.dispatch import dispatch
from hubbooks.sync.engine import Outcome
from hubbooks.tracing import TRACED_MODULES
from hubbooks.wiring import WiredServices, give_back

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"hubbooks"})  # retries, budget waits
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()
processor = SqsFifoPartialProcessor(skip_group_on_error=True)
persistence = DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table_name)
idempotency = IdempotencyConfig(expires_after_seconds=3600)
services = WiredServices()


@idempotent_function(  # type: ignore[untyped-decorator]
    data_keyword_argument="signal", config=idempotency, persistence_store=persistence
)
def handle_signal(signal: dict[str, Any]) -> dict[str, Any]:
    """Exactly once per signal in effect; throttles, outages and races raise so the message is retried."""
    parsed = SyncSignal.model_validate(signal)
    handled = dispatch(parsed, services)
    result = handled.result
    if handled.is_batch:
        metrics.add_metric(name="BackfillRecords", unit=MetricUnit.Count, value=handled.counts.get("done", 0))
        return {"outcome": "batch", **handled.counts}
    if result.detail == "the connection is gone or paused":
        metrics.add_metric(name="SignalsForGoneConnections", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name=f"Records{result.outcome.value.capitalize()}", unit=MetricUnit.Count, value=1)
    if result.outcome is Outcome.FAILED:
        category = result.detail.split(":", 1)[0] or "unknown"
        metrics.add_metric(name=f"SyncErrors_{category}", unit=MetricUnit.Count, value=1)
    if result.conflicts:
        metrics.add_metric(name="Conflicts", unit=MetricUnit.Count, value=result.conflicts)
    logger.info(
        "signal handled",
        extra={
            "pair": parsed.pair,
            "side": parsed.side,
            "record_id": parsed.record_id,
            "outcome": result.outcome,
            # A failure's words can quote QuickBooks data (a name, an email): its category only.
            "detail": result.detail.split(":", 1)[0] if result.outcome is Outcome.FAILED else result.detail,
        },
    )
    return {"outcome": result.outcome.value, "detail": result.detail, "conflicts": result.conflicts}


def record_handler(record: SQSRecord) -> None:
    try:
        handle_signal(signal=record.json_body)
    except Exception as exc:
        # Retried after the visibility timeout (a throttle or outage is never a failure of the record); the
        # reason is logged so a signal that ends in the dead-letter queue can be explained.
        if isinstance(exc, RateLimitedError | UnavailableError):
            kind = "Throttles" if isinstance(exc, RateLimitedError) else "Unavailable"
            metrics.add_metric(name=f"{kind}{exc.provider.capitalize()}", unit=MetricUnit.Count, value=1)
        if isinstance(exc, RateLimitedError):  # back when the connection's budget allows, not before
            give_back(record.receipt_handle, exc.retry_after)
        logger.warning(
            "signal to be retried",
            extra={
                "error": loggable(exc),
                "receive": record.attributes.approximate_receive_count,
                **record.json_body,
            },
        )
        raise


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
