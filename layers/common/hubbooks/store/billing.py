"""What billing remembers between signals: the deal an invoice was billed from, the payments already on a
timeline, workflow action runs by callbackId; and the app's timeline templates."""

import json
import time
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from hubbooks.store.keys import (
    APP_PK,
    TIMELINE,
    action_sk,
    connection_pk,
    conversion_sk,
    estimate_sk,
    invoice_deal_sk,
    payment_sk,
)
from hubbooks.store.table import Table

ACTION_DAYS = 30


@dataclass
class PaymentMemo:
    """A payment as hubbooks last put it on timelines: a deleted payment can no longer be read from QBO."""

    version: str
    applied: dict[str, float]  # invoice id -> amount
    details: dict[str, Any] = field(default_factory=dict)  # CurrencyRef, TxnDate, PaymentMethodRef


@dataclass
class ActionRun:
    callback_id: str
    object_id: str
    inputs: dict[str, Any]
    state: str  # running, blocked, done
    outputs: dict[str, Any] = field(default_factory=dict)
    kind: str = "create-invoice"  # which action (runs recorded before there were others made invoices)
    object_type: str = "deals"


class BillingStore:
    def __init__(self, table: Table, connection_id: str) -> None:
        self.table = table
        self.pk = connection_pk(connection_id)

    def _get(self, sk: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.table.resource.get_item(
            Key={"PK": self.pk, "SK": sk}, ConsistentRead=True
        ).get("Item")
        return item

    # -- invoice -> deal it was billed from -------------------------------------------------------

    def set_invoice_deal(self, invoice_id: str, deal_id: str) -> None:
        self.table.resource.put_item(Item={"PK": self.pk, "SK": invoice_deal_sk(invoice_id), "deal_id": deal_id})

    def invoice_deal(self, invoice_id: str) -> str | None:
        item = self._get(invoice_deal_sk(invoice_id))
        return str(item["deal_id"]) if item else None

    # -- estimate -> the deal and quote it was made from ------------------------------------------

    def set_estimate_targets(self, estimate_id: str, targets: dict[str, str]) -> None:
        self.table.resource.put_item(Item={"PK": self.pk, "SK": estimate_sk(estimate_id), "targets": targets})

    def estimate_targets(self, estimate_id: str) -> dict[str, str]:
        """Object type -> id of the HubSpot records that show the estimate (none: not made from HubSpot)."""
        item = self._get(estimate_sk(estimate_id))
        return {str(k): str(v) for k, v in (item or {}).get("targets", {}).items()}

    def conversion(self, estimate_id: str) -> str | None:
        """The workflow run (callbackId) that converts the estimate into an invoice, if one does."""
        item = self._get(conversion_sk(estimate_id))
        return str(item["callback_id"]) if item else None

    def claim_conversion(self, estimate_id: str, callback_id: str) -> str:
        """The run that converts the estimate: this one when none did before (recorded now), else the earlier."""
        try:
            self.table.resource.put_item(
                Item={"PK": self.pk, "SK": conversion_sk(estimate_id), "callback_id": callback_id},
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return self.conversion(estimate_id) or callback_id
        return callback_id

    def release_conversion(self, estimate_id: str) -> None:
        """The claiming run made nothing (QuickBooks refused it): another run may convert the estimate."""
        self.table.resource.delete_item(Key={"PK": self.pk, "SK": conversion_sk(estimate_id)})

    # -- payments ---------------------------------------------------------------------------------

    def payment(self, payment_id: str) -> PaymentMemo | None:
        item = self._get(payment_sk(payment_id))
        if item is None:
            return None
        return PaymentMemo(
            str(item["version"]),
            {k: float(v) for k, v in json.loads(str(item["applied"])).items()},
            json.loads(str(item.get("details") or "{}")),
        )

    def save_payment(self, payment_id: str, memo: PaymentMemo) -> None:
        self.table.resource.put_item(
            Item={
                "PK": self.pk,
                "SK": payment_sk(payment_id),
                "version": memo.version,
                "applied": json.dumps(memo.applied),
                "details": json.dumps(memo.details),
            }
        )

    def forget_payment(self, payment_id: str) -> None:
        self.table.resource.delete_item(Key={"PK": self.pk, "SK": payment_sk(payment_id)})

    # -- workflow action runs ---------------------------------------------------------------------

    def start_action(self, run: ActionRun) -> ActionRun | None:
        """Record a new run; answers the earlier run instead when this callbackId was seen before."""
        try:
            self.table.resource.put_item(
                Item={
                    "PK": self.pk,
                    "SK": action_sk(run.callback_id),
                    "deal_id": run.object_id,  # its first name, kept for runs stored before other objects
                    "kind": run.kind,
                    "object_type": run.object_type,
                    "inputs": json.dumps(run.inputs),
                    "state": run.state,
                    "outputs": "{}",
                    "ttl": int(time.time()) + ACTION_DAYS * 86400,
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return self.action(run.callback_id)
        return None

    def action(self, callback_id: str) -> ActionRun | None:
        item = self._get(action_sk(callback_id))
        if item is None:
            return None
        return ActionRun(
            callback_id,
            str(item["deal_id"]),
            json.loads(str(item["inputs"])),
            str(item["state"]),
            json.loads(str(item.get("outputs") or "{}")),
            str(item.get("kind") or "create-invoice"),
            str(item.get("object_type") or "deals"),
        )

    def finish_action(self, callback_id: str, state: str, outputs: dict[str, Any]) -> None:
        self.table.resource.update_item(
            Key={"PK": self.pk, "SK": action_sk(callback_id)},
            UpdateExpression="SET #s = :s, outputs = :o",
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues={":s": state, ":o": json.dumps(outputs)},
        )


class TimelineTemplates:
    """The app's payment event template ids, one set for every connection."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self) -> dict[str, str]:
        item = self.table.resource.get_item(Key={"PK": APP_PK, "SK": TIMELINE}, ConsistentRead=True).get("Item")
        return {str(k): str(v) for k, v in (item or {}).get("templates", {}).items()}

    def save(self, templates: dict[str, str]) -> None:
        self.table.resource.put_item(Item={"PK": APP_PK, "SK": TIMELINE, "templates": templates})
