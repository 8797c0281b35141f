"""Each workflow action's input model and its definition agree, and every input HubSpot sends empty is taken as
not given (an optional field left empty in the workflow editor arrives as "")."""

import pytest
from pydantic import BaseModel

from hubbooks.hubspot.developer import ACTION_NAMES, definition
from hubbooks.sync.estimates import ConvertEstimateAction, CreateEstimateAction
from hubbooks.sync.invoice_action import CreateInvoiceAction
from hubbooks.sync.invoice_followups import SendInvoiceAction, VoidInvoiceAction
from hubbooks.sync.sales_receipts import CreateSalesReceiptAction

MODELS: dict[str, type[BaseModel]] = {
    "create-invoice": CreateInvoiceAction.inputs,
    "create-estimate": CreateEstimateAction.inputs,
    "convert-estimate": ConvertEstimateAction.inputs,
    "create-sales-receipt": CreateSalesReceiptAction.inputs,
    "send-invoice": SendInvoiceAction.inputs,
    "void-invoice": VoidInvoiceAction.inputs,
}


@pytest.mark.parametrize("name", ACTION_NAMES)
def test_the_definition_offers_what_the_model_takes_and_empty_means_not_given(name: str) -> None:
    fields = [f["typeDefinition"]["name"] for f in definition(f"{name.replace('-', '_')}_action")["inputFields"]]
    model = MODELS[name]
    assert sorted(fields) == sorted(model.model_fields)
    empty = model.model_validate(dict.fromkeys(fields, ""))
    assert empty == model(), empty
