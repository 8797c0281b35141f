"""The scheduled reconciliation sweep: a tick fans out one request per active connection; each request turns
its connection's changes since the watermarks into signals."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from hubbooks.models.connection import Connection, ConnectionStatus
from hubbooks.models.signals import Pair
from hubbooks.sync.sweep import sweep_all
from hubbooks.tracing import TRACED_MODULES
from hubbooks.wiring import connections, enabled_pairs, initial_sync, recheck_company, sweep_requests, sweeper

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"hubbooks"})  # retries, budget waits
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
RESYNC_PAIRS = (Pair.CONTACTS, Pair.COMPANIES, Pair.PRODUCTS, Pair.INVOICES, Pair.PAYMENTS)


def start_initial_sync(connection_id: str, pair: Pair) -> dict[str, Any]:
    """Page through both sides of a pair and queue every record (turning a sync on, or a resync)."""
    connection = connections().get(connection_id)
    if connection is None or connection.status is not ConnectionStatus.ACTIVE:
        return {"error": "the connection is not active"}
    job_id = initial_sync(connection).start(pair)
    logger.info("initial sync started", extra={"connection_id": connection_id, "pair": pair, "job_id": job_id})
    return {"job_id": job_id}


def _resyncs(connection: Connection) -> dict[str, Any]:
    """Full passes of the pairs that are on, for a connection the sweep can no longer catch up by CDC."""
    pairs = enabled_pairs(connection.connection_id, RESYNC_PAIRS)
    return {pair.value: start_initial_sync(connection.connection_id, pair) for pair in pairs}


def sweep_connection(connection_id: str) -> dict[str, Any]:
    """One connection's sweep (gone or inactive ones are skipped)."""
    connection = connections().get(connection_id)
    tick = sweep_all([connection] if connection else [], sweeper, _resyncs, logger, recheck_company)
    metrics.add_metric(name="SweepFailures", unit=MetricUnit.Count, value=tick.failed)
    metrics.add_metric(name="SweepSignals", unit=MetricUnit.Count, value=tick.signals)
    return tick.swept


def _requested(record: SQSRecord) -> None:
    sweep_connection(str(record.json_body["connection_id"]))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    """A tick (the schedule) queues one request per active connection; each request (from the sweep queue)
    sweeps its connection; `connection_id` given sweeps that one now and answers what it found."""
    if "Records" in event:
        return process_partial_response(event=event, record_handler=_requested, processor=processor, context=context)
    if event.get("action") == "initial_sync":
        return start_initial_sync(str(event["connection_id"]), Pair(event["pair"]))
    if event.get("connection_id"):
        return {"swept": sweep_connection(str(event["connection_id"]))}
    queued = sweep_requests().send(c.connection_id for c in connections().active())
    metrics.add_metric(name="SweepRequests", unit=MetricUnit.Count, value=queued)
    return {"queued": queued}
