"""The contract checks cover what they claim: the specs load, and the checks catch a broken answer."""

import json

from tests.contract.hubspot_openapi import HubSpotContract
from tests.contract.qbo_shapes import QboShapes
from tests.support.recording import Exchange


def test_every_hubspot_spec_loads(hubspot_contract: HubSpotContract) -> None:
    assert len(hubspot_contract.specs) >= 12


def test_a_broken_hubspot_answer_is_caught(hubspot_contract: HubSpotContract) -> None:
    good = {
        "id": "1",
        "properties": {},
        "createdAt": "2026-01-01T00:00:00.000Z",
        "updatedAt": "2026-01-01T00:00:00.000Z",
        "archived": False,
    }
    ok = Exchange("GET", "/crm/v3/objects/contacts/1", "", 200, "application/json", json.dumps(good).encode())
    assert hubspot_contract.check(ok) is None
    broken = {k: v for k, v in good.items() if k != "archived"}
    bad = Exchange("GET", "/crm/v3/objects/contacts/1", "", 200, "application/json", json.dumps(broken).encode())
    assert "archived" in (hubspot_contract.check(bad) or "")


def test_a_broken_qbo_answer_is_caught(qbo_shapes: QboShapes) -> None:
    customer = {"Id": 1, "SyncToken": "0", "DisplayName": "X", "Colour": "red", "MetaData": {}}
    exchange = Exchange(
        "GET",
        "/v3/company/1/customer/1",
        "",
        200,
        "application/json",
        json.dumps({"Customer": customer, "time": "t"}).encode(),
    )
    problems = qbo_shapes.problems(exchange)
    assert any("Colour" in p for p in problems)
    assert any("Id must be a string" in p for p in problems)
    fault = Exchange(
        "POST",
        "/v3/company/1/customer",
        "",
        400,
        "application/json",
        json.dumps(
            {
                "Fault": {
                    "Error": [{"Message": "m", "Detail": "d", "code": 6240}],
                    "type": "ValidationFault",
                },
                "time": "t",
            }
        ).encode(),
    )
    assert qbo_shapes.problems(fault) == ["Fault error lacks code"]
