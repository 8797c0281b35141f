"""Plays Lambda's SQS event source mapping: poll, invoke with a batch, delete what succeeded.

FIFO ordering comes from SQS itself (moto holds back a message group while one of its messages is in
flight), so several pollers can run in parallel without two batches of one group running at once.
Records a handler reports as failed (ReportBatchItemFailures), or a whole batch whose invocation
raised, go back to the queue after the visibility timeout (scaled by time_scale), and moto moves them
to the dead-letter queue once maxReceiveCount is reached.
"""

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from devstack.threads import BackgroundThreads
from devstack.topology import QueueMappingSpec

logger = logging.getLogger(__name__)

Invoke = Callable[[str, dict[str, Any]], Any]


def build_sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda's SQS poller hands a function."""
    records = []
    for message in messages:
        attributes = {k: str(v) for k, v in message.get("Attributes", {}).items()}
        message_attributes = {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        }
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": attributes,
                "messageAttributes": message_attributes,
                "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def failed_message_ids(result: Any, records: list[dict[str, Any]], report_failures: bool) -> set[str]:
    """Which messages stay on the queue after an invocation that returned normally."""
    if not report_failures or not isinstance(result, dict):
        return set()
    failures = result.get("batchItemFailures") or []
    known = {r["messageId"] for r in records}
    ids = {str(f.get("itemIdentifier", "")) for f in failures if isinstance(f, dict)}
    # Lambda treats an unknown or empty identifier as a failure of the whole batch.
    return known if ids - known else ids


class QueuePump:
    """Pollers for one queue → function mapping."""

    def __init__(
        self,
        spec: QueueMappingSpec,
        sqs: Any,
        invoke: Invoke,
        *,
        region: str,
        pollers: int = 2,
        time_scale: float = 1.0,
    ) -> None:
        self.spec = spec
        self._sqs = sqs
        self._invoke = invoke
        self._region = region
        self._pollers = pollers
        self._retry_after = max(0, round(spec.visibility_timeout_seconds * time_scale))
        self._threads = BackgroundThreads()
        self.batches = 0
        self.failed_records = 0

    def start(self) -> None:
        for index in range(self._pollers):
            self._threads.start(f"pump-{self.spec.function}-{index}", self._run)

    def stop(self) -> None:
        self._threads.stop()

    def _run(self) -> None:
        while not self._threads.stopping.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception:
                logger.exception("pump for %s failed a poll", self.spec.function)
                self._threads.stopping.wait(1)

    def poll_once(self, wait_seconds: int = 0) -> int:
        """Receive one batch and run it; returns how many messages were handed to the function."""
        response = self._sqs.receive_message(
            QueueUrl=self.spec.queue_url,
            MaxNumberOfMessages=min(10, self.spec.batch_size),
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if messages:
            self._deliver(messages)
        return len(messages)

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        event = build_sqs_event(messages, self.spec.queue_arn, self._region)
        records = event["Records"]
        try:
            result = self._invoke(self.spec.function, event)
            failed = failed_message_ids(result, records, self.spec.report_batch_item_failures)
        except Exception as exc:
            # Lambda retries the whole batch; the function logged its own errors.
            # A BatchProcessingError carries each failed record's exception, as Lambda's log would show them.
            children = [info[1] for info in getattr(exc, "child_exceptions", []) if info[1] is not None]
            reasons = "; ".join(f"{type(e).__name__}: {e}" for e in children or [exc])
            logger.warning("function %s failed a batch of %d: %s", self.spec.function, len(records), reasons[:2000])
            failed = {r["messageId"] for r in records}
        self.batches += 1
        self.failed_records += len(failed)
        done = [r for r in records if r["messageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self._sqs.delete_message_batch(
                QueueUrl=self.spec.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(chunk)],
            )
        retry = [r for r in records if r["messageId"] in failed]
        if retry:
            self._sqs.change_message_visibility_batch(
                QueueUrl=self.spec.queue_url,
                Entries=[
                    {
                        "Id": str(i),
                        "ReceiptHandle": r["receiptHandle"],
                        "VisibilityTimeout": self._retry_after,
                    }
                    for i, r in enumerate(retry)
                ],
            )

    def pending(self) -> int:
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self.spec.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def wait_idle(self, timeout: float) -> bool:
        """True once the queue holds nothing, in flight included (or False at the timeout).

        A batch being handled is still in flight (not visible) until its messages are deleted.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pending() == 0:
                return True
            time.sleep(0.05)
        return False
