"""The scheduled reconciliation sweep: every active connection, changes since its watermarks, as signals."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from hubbooks.models.connection import Connection, ConnectionStatus
from hubbooks.models.signals import Pair
from hubbooks.sync.sweep import sweep_all
from hubbooks.tracing import TRACED_MODULES
from hubbooks.wiring import connections, enabled_pairs, initial_sync, recheck_company, sweeper

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"hubbooks"})  # retries, budget waits
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()
RESYNC_PAIRS = (Pair.CONTACTS, Pair.PRODUCTS, Pair.INVOICES, Pair.PAYMENTS)


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


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("action") == "initial_sync":
        return start_initial_sync(str(event["connection_id"]), Pair(event["pair"]))
    tick = sweep_all(connections().all_connections(), sweeper, _resyncs, logger, recheck_company)
    metrics.add_metric(name="SweepFailures", unit=MetricUnit.Count, value=tick.failed)
    metrics.add_metric(name="SweepSignals", unit=MetricUnit.Count, value=tick.signals)
    return {"swept": tick.swept}
