"""Billing: QuickBooks invoices and payments, HubSpot deals (each signal kind routed here by `sync.dispatch`), and
workflow action runs; a run that meets throttling or an outage answers BLOCK and is finished by the worker."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from hubbooks.errors import RateLimitedError, UnavailableError, ValidationFaultError
from hubbooks.hubspot.client import HubSpotClient
from hubbooks.models.signals import Pair, Reason, Side, SyncSignal
from hubbooks.store.billing import ActionRun, BillingStore
from hubbooks.store.sync_store import DynamoSyncStore
from hubbooks.sync import failures
from hubbooks.sync.action_common import FAIL, CannotBillError, Outputs
from hubbooks.sync.engine import Outcome, Result
from hubbooks.sync.estimates import EstimateMirror
from hubbooks.sync.hubspot_invoices import HubSpotInvoices
from hubbooks.sync.invoice_action import CreateInvoiceAction
from hubbooks.sync.invoices import InvoiceMirror
from hubbooks.sync.payments import PaymentMirror
from hubbooks.sync.workflow_actions import workflow_actions

BLOCK = {"hs_execution_state": "BLOCK", "hs_expiration_duration": "P1D"}


class Billing:
    def __init__(
        self,
        *,
        connection_id: str,
        hubspot: HubSpotClient,
        store: BillingStore,
        failures: DynamoSyncStore,
        invoices: InvoiceMirror,
        payments: PaymentMirror,
        action: CreateInvoiceAction,
        send: Callable[[list[SyncSignal]], int],
    ) -> None:
        self.connection_id = connection_id
        self.hubspot = hubspot
        self.store = store
        self.failures = failures
        self.invoices = invoices
        self.payments = payments
        self.action = action
        self.send = send
        self.hubspot_invoices = HubSpotInvoices(action)
        self.estimates = EstimateMirror(action)
        self.actions = workflow_actions(action, self.estimates, payments.timeline)

    @staticmethod
    def today() -> date:
        return datetime.now(UTC).date()

    def invoice(self, signal: SyncSignal) -> Result:
        """A QuickBooks invoice changed: mirror it."""
        return self._recording(signal, lambda: self.invoices.handle(signal.record_id, signal.reason))

    def hubspot_invoice(self, signal: SyncSignal) -> Result:
        """A HubSpot invoice changed: one made open there goes to QuickBooks (when invoices go both ways)."""
        return self._recording(signal, lambda: self.hubspot_invoices.handle(signal.record_id))

    def payment(self, signal: SyncSignal) -> Result:
        """A QuickBooks payment changed: its invoices again, and their deals' and contacts' timelines."""
        return self._recording(signal, lambda: self.payments.handle(signal.record_id, signal.reason))

    def deal(self, signal: SyncSignal) -> Result:
        """A deal's invoices changed by hand (its figures follow), or a blocked action run to finish."""
        if signal.reason is Reason.ACTION:
            return self._recording(signal, lambda: self.finish_blocked(signal.event_id))
        return self._recording(signal, lambda: self._rollup(signal.record_id))

    def _rollup(self, deal_id: str) -> Result:
        return Result(Outcome.UPDATED if self.invoices.rollup.recompute(deal_id) else Outcome.UNCHANGED)

    def _recording(self, signal: SyncSignal, work: Callable[[], Result]) -> Result:
        """A refusal becomes a sync error on the record (like the engine's); throttles and outages raise."""
        try:
            return work()
        except ValidationFaultError as fault:
            failure = failures.from_fault(fault)
            self.failures.record_failure(signal.pair, signal.side, signal.record_id, failure)
            return Result(Outcome.FAILED, f"{failure.category}: {failure.message}")

    def estimate(self, signal: SyncSignal) -> Result:
        """A QuickBooks estimate changed: its status onto the deal and quote it was made from."""
        return self._recording(signal, lambda: self.estimates.handle(signal.record_id))

    # -- workflow actions -------------------------------------------------------------------------

    def run_action(
        self,
        callback_id: str,
        object_id: str,
        raw_inputs: dict[str, Any],
        kind: str = "create-invoice",
        object_type: str = "deals",
    ) -> dict[str, str]:
        """Answer a workflow action request: its output fields, or BLOCK when it has to finish later."""
        action = self.actions[kind]
        try:
            inputs = action.inputs.model_validate(raw_inputs)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            return Outputs(FAIL, error=f"The action's inputs are not valid: {problems}").as_fields()
        run = ActionRun(callback_id, object_id, inputs.model_dump(), "running", kind=kind, object_type=object_type)
        earlier = self.store.start_action(run)
        if earlier is not None and earlier.state == "done":
            return {str(k): str(v) for k, v in earlier.outputs.items()}  # a retried request: the first answer
        try:
            outputs = self._attempt(run)
        except (RateLimitedError, UnavailableError):
            self.store.finish_action(callback_id, "blocked", {})
            self.send(
                [
                    SyncSignal(
                        connection_id=self.connection_id,
                        pair=Pair.DEALS,
                        side=Side.HUBSPOT,
                        record_id=object_id,
                        reason=Reason.ACTION,
                        source_version=callback_id,
                        event_id=callback_id,
                    )
                ]
            )
            return dict(BLOCK)
        self.store.finish_action(callback_id, "done", outputs)
        return outputs

    def _attempt(self, run: ActionRun) -> dict[str, str]:
        """The action's outputs; a refusal fails it in words (nothing made), throttles and outages raise."""
        action = self.actions[run.kind]
        inputs = action.inputs.model_validate(run.inputs)
        try:
            return action.run(run.callback_id, run.object_type, run.object_id, inputs, self.today()).as_fields()
        except CannotBillError as problem:
            return Outputs(FAIL, error=str(problem)).as_fields()
        except ValidationFaultError as fault:
            failure = failures.from_fault(fault)
            return Outputs(FAIL, error=f"{failure.message}. {failure.fix}").as_fields()

    def finish_blocked(self, callback_id: str) -> Result:
        run = self.store.action(callback_id)
        if run is None or run.state == "done":
            return Result(Outcome.SKIPPED, f"action {callback_id} already finished")
        outputs = self._attempt(run)
        try:
            self.hubspot.complete_action(callback_id, outputs)
        except ValidationFaultError as fault:  # completed before a crash, or expired: nothing left to tell
            outputs["error_message"] = outputs["error_message"] or f"callback not accepted: {fault.fault_message}"
        self.store.finish_action(callback_id, "done", outputs)
        return Result(Outcome.UPDATED, f"action {callback_id}: {outputs['hs_execution_state']}")
