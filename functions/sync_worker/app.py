"""The sync worker: signals from the FIFO queue, each made into agreement between both sides."""

from collections import Counter
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
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
from hubbooks.retries import GivenBack, backoff
from hubbooks.sync.dispatch import Handled, dispatch, records_of, together
from hubbooks.sync.engine import Outcome, Result
from hubbooks.tracing import TRACED_MODULES
from hubbooks.wiring import WiredServices, count_failure, dead_letter, give_back

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"hubbooks"})  # retries, budget waits
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()
processor = SqsFifoPartialProcessor(skip_group_on_error=True)
persistence = DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table_name)
idempotency = IdempotencyConfig(expires_after_seconds=3600)
services = WiredServices()
# This delivery's results from its bulk pass; a throttle or outage it met, for the records it did not finish.
in_bulk: dict[tuple[str, str, str, str], Result | RateLimitedError | UnavailableError] = {}
given_back = GivenBack()  # this delivery's


@idempotent_function(  # type: ignore[untyped-decorator]
    data_keyword_argument="signal", config=idempotency, persistence_store=persistence
)
def handle_signal(signal: dict[str, Any]) -> dict[str, Any]:
    """Exactly once per signal in effect; throttles, outages and races raise so the message is retried."""
    parsed = SyncSignal.model_validate(signal)
    handled = _from_bulk(parsed) or dispatch(parsed, services)
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


def _from_bulk(signal: SyncSignal) -> Handled | None:
    """What this delivery's bulk pass made of the signal's record (or of every record of a batch message of live
    changes); None when it did not reach them all, and the signal goes its own way."""
    if signal.job_id is not None:
        return None
    ahead = [in_bulk.pop(_record_key(one), None) for one in records_of(signal)]
    for met in ahead:
        if isinstance(met, (RateLimitedError, UnavailableError)):
            raise met  # the bulk pass met it: these records back off instead of trying again at once
    results = [r for r in ahead if isinstance(r, Result)]
    if len(results) < len(ahead):
        return None
    if not signal.record_ids:
        return Handled(results[0])
    counts = Counter(r.outcome.tally for r in results) + Counter(done=len(results))
    return Handled(Result(Outcome.UPDATED, f"{len(results)} records"), counts)


def _record_key(signal: SyncSignal) -> tuple[str, str, str, str]:
    return (signal.connection_id, signal.pair, signal.side, signal.record_id)


def _bulk_pass(event: dict[str, Any]) -> None:
    """Live signals of one connection, pair and side in this delivery are reconciled together first (bulk
    reads and writes); each message then takes its record's result. A throttle or outage that stops the pass
    backs its unfinished records off; what another error stopped, each message does alone."""
    signals = []
    for raw in event.get("Records", []):
        try:
            signals.append(SyncSignal.model_validate_json(raw.get("body", "")))
        except ValueError:
            continue  # the message's own handling reports it
    for group in together(signals):
        try:
            services.live_batch(group, lambda signal, result: in_bulk.__setitem__(_record_key(signal), result))
        except (RateLimitedError, UnavailableError) as exc:
            for signal in group:
                in_bulk.setdefault(_record_key(signal), exc)
        except Exception as exc:
            logger.warning("bulk pass stopped; its other records go one by one", extra={"error": loggable(exc)})
        metrics.add_metric(name="LiveRecordsInBulk", unit=MetricUnit.Count, value=len(group))


def _fields(record: SQSRecord) -> dict[str, Any]:
    """The signal's fields for a log line (none for a body that is not a signal)."""
    try:
        body = record.json_body
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def record_handler(record: SQSRecord) -> None:
    receive = int(record.attributes.approximate_receive_count)
    try:
        handle_signal(signal=record.json_body)
    except (RateLimitedError, UnavailableError) as exc:
        # Never a failure of the record: it backs off (doubling, at least as long as a 429 asked) and the
        # attempt is not counted towards the dead-letter queue.
        kind = "Throttles" if isinstance(exc, RateLimitedError) else "Unavailable"
        metrics.add_metric(name=f"{kind}{exc.provider.capitalize()}", unit=MetricUnit.Count, value=1)
        asked, budget = (exc.retry_after, exc.budget) if isinstance(exc, RateLimitedError) else (None, False)
        wait = backoff(receive, asked, budget=budget)
        _give_back(record, wait)
        logger.warning("signal backs off", extra={"error": loggable(exc), "receive": receive, "wait": wait})
        raise
    except Exception as exc:
        failures = count_failure(record.message_id)
        fields = {"error": loggable(exc), "receive": receive, "failures": failures, **_fields(record)}
        if failures >= get_settings().failures_before_dead_letter:
            # Explained where an operator looks: the dead-letter queue, with the reason on the message.
            dead_letter(record.body, record.attributes.message_group_id or "", record.message_id, loggable(exc))
            metrics.add_metric(name="SignalsDeadLettered", unit=MetricUnit.Count, value=1)
            logger.error("signal dead-lettered", extra=fields)
            return
        # Soon, doubling, rather than after the queue's visibility timeout: the group waits for it meanwhile.
        _give_back(record, backoff(failures))
        logger.warning("signal to be retried", extra=fields)
        raise


def _give_back(record: SQSRecord, seconds: float) -> None:
    give_back(record.receipt_handle, seconds)
    given_back.add(record.message_id, record.attributes.message_group_id or "", seconds)


def _give_back_skipped(event: dict[str, Any], failed: set[str]) -> None:
    """Messages skipped after a failure of their group go back with it (see GivenBack.skipped)."""
    records = {r["messageId"]: SQSRecord(r) for r in event.get("Records", []) if r["messageId"] in failed}
    skipped = given_back.skipped([(m, r.attributes.message_group_id or "") for m, r in records.items()])
    for message_id, seconds in skipped:
        give_back(records[message_id].receipt_handle, seconds)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    idempotency.register_lambda_context(context)
    in_bulk.clear()
    given_back.clear()
    _bulk_pass(event)
    try:
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    except BatchProcessingError:  # every message failed (Lambda retries them all)
        _give_back_skipped(event, {r["messageId"] for r in event.get("Records", [])})
        raise
    _give_back_skipped(event, {str(failure["itemIdentifier"]) for failure in response.get("batchItemFailures", [])})
    return response
