"""The scheduled reconciliation sweep: every active connection, changes since its watermarks, as signals."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from hubbooks.models.connection import ConnectionStatus
from hubbooks.models.signals import Pair
from hubbooks.wiring import connections, enabled_pairs, initial_sync, sweeper

logger = Logger()
tracer = Tracer()
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


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("action") == "initial_sync":
        return start_initial_sync(str(event["connection_id"]), Pair(event["pair"]))
    swept: dict[str, Any] = {}
    for connection in connections().all_connections():
        if connection.status is not ConnectionStatus.ACTIVE or not connection.realm_id:
            continue
        try:
            result = sweeper(connection).run(first_since=connection.created_at)
        except Exception as exc:  # one tenant's failure must not stop the others' sweeps
            logger.exception("sweep failed", extra={"connection_id": connection.connection_id})
            swept[connection.connection_id] = {"error": type(exc).__name__}
            metrics.add_metric(name="SweepFailures", unit=MetricUnit.Count, value=1)
            continue
        resyncs: dict[str, Any] = {}
        if result.resync_needed:  # CDC cannot reach back that far: only a full pass catches up
            resyncs = {
                pair.value: start_initial_sync(connection.connection_id, pair)
                for pair in enabled_pairs(connection.connection_id, RESYNC_PAIRS)
            }
            logger.warning(
                "watermark older than CDC allows: resync jobs started",
                extra={"connection_id": connection.connection_id, "jobs": resyncs},
            )
        metrics.add_metric(name="SweepSignals", unit=MetricUnit.Count, value=result.signals)
        swept[connection.connection_id] = {
            "signals": result.signals,
            "changes": result.changes,
            "resync_needed": result.resync_needed,
            "resyncs": resyncs,
        }
    return {"swept": swept}
