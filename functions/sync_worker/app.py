"""The sync worker: signals from the FIFO queue, each made into agreement between both sides."""

import contextvars
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
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
from hubbooks.models.signals import SyncSignal, records_of
from hubbooks.retries import GivenBack, backoff
from hubbooks.sync.dispatch import Handled, dispatch, together
from hubbooks.sync.engine import Outcome, Result
from hubbooks.sync.lane_pass import Delivered, LanePass, RecordKey, gather, record_key
from hubbooks.tracing import TRACED_MODULES
from hubbooks.wiring import WiredServices, count_failure, dead_letter, give_back, lane_changes, link_partners

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"hubbooks"})  # retries, budget waits
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()
processor = SqsFifoPartialProcessor(skip_group_on_error=True)
persistence = DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table_name)
idempotency = IdempotencyConfig(expires_after_seconds=3600)
services = WiredServices()


@dataclass
class Delivery:
    """This delivery's bulk pass: the lane changes it took, its results (or the throttle or outage it met) for the
    records it did not finish, and every record it reconciled."""

    lane_pass: LanePass = field(default_factory=lambda: LanePass([], [], {}, set()))
    in_bulk: dict[RecordKey, Result | RateLimitedError | UnavailableError] = field(default_factory=dict)
    reconciled: set[RecordKey] = field(default_factory=set)


this = Delivery()
_beside = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lane-side")  # lives with the container: boto3 once
given_back = GivenBack()  # this delivery's
TAKEN_BEFORE = Result(Outcome.UNCHANGED, "taken by an earlier pass of its lane")


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
    taken = this.lane_pass.taken_before(signal)
    ahead = [
        TAKEN_BEFORE if one.record_id in taken else this.in_bulk.pop(record_key(one), None)
        for one in records_of(signal)
    ]
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


def _reconciled(signal: SyncSignal, result: Result) -> None:
    this.in_bulk[record_key(signal)] = result
    this.reconciled.add(record_key(signal))


def _bulk_pass(event: dict[str, Any]) -> LanePass:
    """Live signals of one connection, pair and side in this delivery, with the changes waiting in their lanes,
    are reconciled together first (bulk reads and writes; a lane's two sides at the same time when they share
    no record); each message then takes its records' results. A throttle or outage that stops the pass backs
    its unfinished records off; what another error stopped, each message does alone."""
    delivered = []
    for raw in event.get("Records", []):
        try:
            signal = SyncSignal.model_validate_json(raw.get("body", ""))
        except ValueError:
            continue  # the message's own handling reports it
        delivered.append(Delivered(raw["messageId"], signal, SQSRecord(raw).attributes.message_group_id or ""))
    gathered = gather(delivered, lane_changes())
    for first, *others in gathered.side_by_side(together(gathered.signals), link_partners):
        # The environment of the invocation goes with it (devstack scopes a function's to its context).
        beside = [_beside.submit(contextvars.copy_context().run, _live_batch, group) for group in others]
        for group in (first, *others):
            metrics.add_metric(name="LiveRecordsInBulk", unit=MetricUnit.Count, value=len(group))
        try:
            _live_batch(first)
        finally:  # nothing of this delivery runs on after it, whatever stopped it
            for running in beside:
                running.result()
    return gathered


def _live_batch(group: list[SyncSignal]) -> None:
    try:
        services.live_batch(group, _reconciled)
    except (RateLimitedError, UnavailableError) as exc:
        for signal in group:
            this.in_bulk.setdefault(record_key(signal), exc)
    except Exception as exc:
        logger.warning("bulk pass stopped; its other records go one by one", extra={"error": loggable(exc)})


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
    this.in_bulk.clear()
    this.reconciled.clear()
    given_back.clear()
    this.lane_pass = _bulk_pass(event)
    every = {str(r["messageId"]) for r in event.get("Records", [])}
    try:
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    except BatchProcessingError:  # every message failed (Lambda retries them all)
        _give_back_skipped(event, every)
        _forget_taken(set())
        raise
    failed = {str(failure["itemIdentifier"]) for failure in response.get("batchItemFailures", [])}
    _give_back_skipped(event, failed)
    _forget_taken(every - failed)
    return response


def _forget_taken(succeeded: set[str]) -> None:
    """Delete the lane changes this delivery finished; if that fails they stay, and a later pass looks at their
    records again (a read, nothing to write), which is no reason to run the delivery again."""
    try:
        lane_changes().taken(this.lane_pass.done(this.reconciled, succeeded))
    except Exception as exc:
        logger.warning("lane changes not forgotten; a later pass reads them again", extra={"error": loggable(exc)})
