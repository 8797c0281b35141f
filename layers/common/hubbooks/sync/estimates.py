"""QuickBooks estimates from HubSpot deals and quotes: the "Create a QuickBooks estimate" and "Convert estimate
to invoice" workflow actions, and each estimate's number, status and total shown on its deal and quote as they
change in QuickBooks (accepted, rejected, closed by its invoice)."""

from datetime import date, timedelta
from functools import partial
from typing import Any

from pydantic import Field

from hubbooks.errors import ValidationFaultError
from hubbooks.hubspot import app_properties
from hubbooks.mapping.transforms import money
from hubbooks.models.signals import Reason
from hubbooks.models.sync_config import QboId
from hubbooks.sync.action_common import (
    SUCCESS,
    CannotBillError,
    Inputs,
    Outputs,
    after_made,
    check_belongs,
    invoice_outputs,
    request_id,
)
from hubbooks.sync.engine import Outcome, Result
from hubbooks.sync.invoice_action import CreateInvoiceAction, InvoiceChoices


def estimate_properties(estimate: dict[str, Any]) -> dict[str, str]:
    """What a deal and a quote show of their estimate."""
    return {
        "qbo_estimate_id": str(estimate["Id"]),
        "qbo_estimate_number": str(estimate.get("DocNumber") or ""),
        "qbo_estimate_status": str(estimate.get("TxnStatus") or "Pending").lower(),
        "qbo_estimate_total": money(estimate.get("TotalAmt", 0)),
        "qbo_estimate_expires": str(estimate.get("ExpirationDate") or ""),
    }


class EstimateMirror:
    """An estimate's figures onto the deal and quote it was made from (remembered when the action made it)."""

    def __init__(self, action: CreateInvoiceAction) -> None:
        self.hubspot, self.qbo, self.billing = action.hubspot, action.qbo, action.billing
        self.schema_key = action.invoices.schema_key

    def handle(self, estimate_id: str) -> Result:
        targets = self.billing.estimate_targets(estimate_id)
        if not targets:
            return Result(Outcome.SKIPPED, f"estimate {estimate_id} was not made from HubSpot")
        estimate = self.qbo.read_or_none("Estimate", estimate_id)
        shown = estimate_properties(estimate) if estimate else {"qbo_estimate_status": "deleted"}
        for object_type, object_id in targets.items():
            self.show(object_type, object_id, shown)
        return Result(Outcome.UPDATED, f"estimate {estimate_id}: {shown['qbo_estimate_status']}")

    def show(self, object_type: str, object_id: str, shown: dict[str, str]) -> None:
        app_properties.ensure(self.hubspot, f"{object_type}/estimates", self.schema_key)
        try:
            self.hubspot.update(object_type, object_id, shown)
        except ValidationFaultError as fault:
            if fault.status != 404:  # a deal or quote deleted since keeps nothing to show
                raise


class EstimateInputs(InvoiceChoices):
    """Inputs of "Create a QuickBooks estimate" (all values may arrive as strings)."""

    expires_in_days: int | None = Field(default=None, ge=0, le=3650)
    memo: str = Field(default="", max_length=1000)


class CreateEstimateAction:
    """A deal's or quote's line items as a QuickBooks estimate, to the customer linked to its contact."""

    inputs = EstimateInputs

    def __init__(self, action: CreateInvoiceAction, mirror: EstimateMirror) -> None:
        self.action, self.mirror = action, mirror

    def run(self, callback_id: str, object_type: str, object_id: str, inputs: EstimateInputs, today: date) -> Outputs:
        sale = self.action.sale(object_type, object_id)
        body = self.action.form_body(sale, inputs, inputs.memo, today)
        if inputs.expires_in_days is not None:
            body["ExpirationDate"] = (today + timedelta(days=inputs.expires_in_days)).isoformat()
        elif sale.expires:
            body["ExpirationDate"] = sale.expires
        connection = self.action.engine.connection_id
        estimate = self.action.qbo.write("Estimate", body, request_id(connection, callback_id, "est"))
        targets = {"deals": sale.deal_id, object_type: object_id}
        shown = {kind: str(target) for kind, target in targets.items() if target}
        self.action.billing.set_estimate_targets(str(estimate["Id"]), shown)
        figures = estimate_properties(estimate)
        warnings = [
            after_made(f"showing it on the {kind[:-1]}", partial(self.mirror.show, kind, target, figures))
            for kind, target in shown.items()
        ]
        warnings.append(self.action.difference(estimate, sale.lines, kind="estimate", source=sale.noun))
        return Outputs(SUCCESS, figures, " ".join(w for w in warnings if w))


class ConvertInputs(Inputs):
    """Inputs of "Convert estimate to invoice": the estimate (blank: the deal's), and the invoice's terms."""

    estimate_id: QboId | None = None
    due_in_days: int | None = Field(default=None, ge=0, le=3650)
    memo: str = Field(default="", max_length=1000)


_SALE_FIELDS = (
    "CustomerRef",
    "CurrencyRef",
    "GlobalTaxCalculation",
    "ApplyTaxAfterDiscount",
    "BillEmail",
    "BillAddr",
    "ShipAddr",
    "CustomerMemo",
    "SalesTermRef",
)


def invoice_of(estimate: dict[str, Any]) -> dict[str, Any]:
    """An invoice with the estimate's customer, currency, lines (bundles by their item and quantity, the
    discount as it was asked) and tax, linked to the estimate."""
    lines = []
    for line in estimate.get("Line") or []:
        kind = line.get("DetailType")
        if kind == "SubTotalLineDetail":
            continue
        copied = {k: v for k, v in line.items() if k not in ("Id", "LineNum")}
        if kind == "GroupLineDetail":
            group = line["GroupLineDetail"]
            copied["GroupLineDetail"] = {"GroupItemRef": group["GroupItemRef"], "Quantity": group.get("Quantity", 1)}
            copied.pop("Amount", None)
        lines.append(copied)
    body = {k: estimate[k] for k in _SALE_FIELDS if k in estimate}
    code = (estimate.get("TxnTaxDetail") or {}).get("TxnTaxCodeRef")
    if code:
        body["TxnTaxDetail"] = {"TxnTaxCodeRef": code}
    number = estimate.get("DocNumber") or estimate["Id"]
    body.update(
        Line=lines,
        LinkedTxn=[{"TxnId": str(estimate["Id"]), "TxnType": "Estimate"}],
        PrivateNote=f"From estimate {number}. {estimate.get('PrivateNote') or ''}".strip()[:4000],
    )
    return body


class ConvertEstimateAction:
    """An accepted estimate becomes a QuickBooks invoice linked to it, billed from the deal like the action's."""

    inputs = ConvertInputs

    def __init__(self, action: CreateInvoiceAction, mirror: EstimateMirror) -> None:
        self.action, self.mirror = action, mirror

    def run(self, callback_id: str, object_type: str, deal_id: str, inputs: ConvertInputs, today: date) -> Outputs:
        estimate = self._estimate(deal_id, inputs.estimate_id)
        estimate_id, number = str(estimate["Id"]), str(estimate.get("DocNumber") or estimate["Id"])
        state = str(estimate.get("TxnStatus") or "Pending")
        if state in ("Pending", "Rejected"):
            raise CannotBillError(
                f"Estimate {number} is {state.lower()} in QuickBooks; only an accepted estimate becomes an invoice. "
                "Mark it accepted in QuickBooks (or have the customer accept it), then run again."
            )
        # One conversion per estimate: the run that claims it first (a closed estimate nobody here claimed was
        # converted or closed in QuickBooks). The claim's own run may write again: QuickBooks replays requestid.
        holder = self.action.billing.conversion(estimate_id)
        if holder is None and state != "Closed":
            holder = self.action.billing.claim_conversion(estimate_id, callback_id)
        if holder != callback_id:
            raise CannotBillError(self._converted(estimate, number, state))
        body = invoice_of(estimate)
        body["TxnDate"] = today.isoformat()
        if inputs.due_in_days is not None:
            body["DueDate"] = (today + timedelta(days=inputs.due_in_days)).isoformat()
        if inputs.memo:
            body["CustomerMemo"] = {"value": inputs.memo}
        connection = self.action.engine.connection_id
        try:
            invoice = self.action.qbo.write("Invoice", body, request_id(connection, callback_id, "conv"))
        except ValidationFaultError:
            self.action.billing.release_conversion(estimate_id)  # refused: nothing made, another run may convert
            raise
        invoice_id = str(invoice["Id"])
        self.action.billing.set_invoice_deal(invoice_id, deal_id)
        warnings = (
            after_made("showing it on the deal", lambda: self.action.invoices.mirror(invoice_id, Reason.ACTION)),
            after_made("showing the estimate closed", lambda: self.mirror.handle(estimate_id)),
        )
        outputs = {**invoice_outputs(invoice, today), "qbo_estimate_number": number}
        return Outputs(SUCCESS, outputs, " ".join(w for w in warnings if w))

    def _converted(self, estimate: dict[str, Any], number: str, state: str) -> str:
        made = [t["TxnId"] for t in estimate.get("LinkedTxn") or [] if t.get("TxnType") == "Invoice"]
        if not made and state != "Closed":
            return f"Estimate {number} is being converted by another run of the workflow; it becomes one invoice."
        if not made:
            return f"Estimate {number} is closed in QuickBooks, so it is not turned into an invoice."
        numbers = [str((self.action.qbo.read_or_none("Invoice", i) or {}).get("DocNumber") or i) for i in made]
        return (
            f"Estimate {number} was converted already, to invoice {', '.join(numbers)}; an estimate becomes one "
            "invoice."
        )

    def _estimate(self, deal_id: str, given: str | None) -> dict[str, Any]:
        estimate_id = given
        if estimate_id is None:
            deal = self.action.hubspot.get("deals", deal_id, ["qbo_estimate_id"])
            if deal is None:
                raise CannotBillError(f"The deal {deal_id} no longer exists in HubSpot.")
            estimate_id = (deal.get("properties") or {}).get("qbo_estimate_id") or None
        if not estimate_id:
            raise CannotBillError(
                'The deal has no QuickBooks estimate. Run "Create a QuickBooks estimate" on it first, or give the '
                "estimate's ID."
            )
        estimate = self.action.qbo.read_or_none("Estimate", str(estimate_id))
        if estimate is None:
            raise CannotBillError(f"QuickBooks has no estimate {estimate_id} (deleted?).")
        if given is not None:
            made_for = self.action.billing.estimate_targets(given).get("deals")
            check_belongs(
                self.action.hubspot,
                self.action.store,
                deal_id,
                estimate,
                made_for=made_for,
                noun="estimate",
                customers=self.action.customers,
            )
        return estimate
