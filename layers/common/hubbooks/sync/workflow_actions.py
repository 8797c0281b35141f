"""hubbooks' workflow actions by name (the last part of each one's URL, and what a run remembers), built over
one invoice action's clients, store and engine."""

from datetime import date
from typing import Any, Protocol

from pydantic import BaseModel

from hubbooks.sync.action_common import Outputs
from hubbooks.sync.estimates import ConvertEstimateAction, CreateEstimateAction, EstimateMirror
from hubbooks.sync.invoice_action import CreateInvoiceAction
from hubbooks.sync.invoice_followups import SendInvoiceAction, VoidInvoiceAction
from hubbooks.sync.payments import PaymentTimeline
from hubbooks.sync.sales_receipts import CreateSalesReceiptAction


class WorkflowAction(Protocol):
    @property
    def inputs(self) -> type[BaseModel]:
        """The model of the action's input fields."""
        ...

    def run(self, callback_id: str, object_type: str, object_id: str, inputs: Any, today: date) -> Outputs:
        """Do the action's work; refusals raise CannotBillError (or QuickBooks' fault), throttles and outages
        raise for a BLOCK."""
        ...


def workflow_actions(
    action: CreateInvoiceAction, estimates: EstimateMirror, timeline: PaymentTimeline
) -> dict[str, WorkflowAction]:
    return {
        "create-invoice": action,
        "create-estimate": CreateEstimateAction(action, estimates),
        "convert-estimate": ConvertEstimateAction(action, estimates),
        "create-sales-receipt": CreateSalesReceiptAction(action, timeline),
        "send-invoice": SendInvoiceAction(action),
        "void-invoice": VoidInvoiceAction(action),
    }
