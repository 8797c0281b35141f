"""QuickBooks emulator: entities and the business rules QBO enforces — over real HTTP."""

from typing import Any

import pytest
import requests

from tests.conftest import REALM_ID, Sandbox


def _base(quickbooks: Sandbox) -> str:
    return f"{quickbooks.url}/v3/company/{REALM_ID}"


def _post(quickbooks: Sandbox, entity: str, body: dict[str, Any], **params: str) -> requests.Response:
    return quickbooks.api().post(f"{_base(quickbooks)}/{entity}", json=body, params={"minorversion": "75", **params})


def _ok(response: requests.Response, entity: str) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()[entity]
    return body


def _fault_code(response: requests.Response) -> str:
    assert response.status_code == 400, response.text
    code: str = response.json()["Fault"]["Error"][0]["code"]
    return code


def _item(quickbooks: Sandbox, name: str = "Widget", price: float = 10) -> dict[str, Any]:
    return _ok(
        _post(
            quickbooks,
            "item",
            {"Name": name, "Type": "Service", "UnitPrice": price, "IncomeAccountRef": {"value": "1"}},
        ),
        "Item",
    )


def test_customer_create_read_and_updates(quickbooks: Sandbox) -> None:
    created = _ok(
        _post(
            quickbooks,
            "customer",
            {"GivenName": "Jane", "FamilyName": "Doe", "PrimaryEmailAddr": {"Address": "jane@example.com"}},
        ),
        "Customer",
    )
    assert created["DisplayName"] == "Jane Doe"
    assert (created["SyncToken"], created["Active"], created["Balance"]) == ("0", True, 0)
    read = _ok(quickbooks.api().get(f"{_base(quickbooks)}/customer/{created['Id']}"), "Customer")
    assert read["PrimaryEmailAddr"]["Address"] == "jane@example.com"
    sparse = _ok(
        _post(
            quickbooks,
            "customer",
            {"Id": created["Id"], "SyncToken": "0", "sparse": True, "CompanyName": "Doe Ltd"},
        ),
        "Customer",
    )
    assert (sparse["SyncToken"], sparse["CompanyName"], sparse["GivenName"]) == ("1", "Doe Ltd", "Jane")
    assert sparse["MetaData"]["CreateTime"] == created["MetaData"]["CreateTime"]
    stale = _post(quickbooks, "customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True, "Notes": "x"})
    assert _fault_code(stale) == "5010"
    full = _ok(
        _post(
            quickbooks,
            "customer",
            {"Id": created["Id"], "SyncToken": "1", "DisplayName": "Jane Doe", "sparse": False},
        ),
        "Customer",
    )
    assert "CompanyName" not in full  # a full update clears what it does not send
    assert _fault_code(quickbooks.api().get(f"{_base(quickbooks)}/customer/999")) == "610"


def test_display_names_are_unique_across_customers_vendors_and_employees(quickbooks: Sandbox) -> None:
    quickbooks.admin.seed({"Vendor": [{"DisplayName": "Supply Co"}], "Employee": [{"DisplayName": "Eve Stone"}]})
    acme = _ok(_post(quickbooks, "customer", {"DisplayName": "Acme"}), "Customer")
    for taken in ("acme", "Supply Co", "Eve Stone"):
        response = _post(quickbooks, "customer", {"DisplayName": taken})
        assert _fault_code(response) == "6240"
        assert response.json()["Fault"]["Error"][0]["Message"] == "Duplicate Name Exists Error"
    renamed = {"Id": acme["Id"], "SyncToken": acme["SyncToken"], "sparse": True, "DisplayName": "Acme Two"}
    _ok(_post(quickbooks, "customer", renamed), "Customer")
    assert _fault_code(_post(quickbooks, "customer", {"DisplayName": "ACME TWO"})) == "6240"  # its new name
    _ok(_post(quickbooks, "customer", {"DisplayName": "Acme"}), "Customer")  # its old name is free again
    assert _fault_code(_post(quickbooks, "customer", {"Notes": "no name"})) == "2020"
    assert _fault_code(_post(quickbooks, "customer", {"DisplayName": "x" * 501})) == "2050"
    assert _fault_code(_post(quickbooks, "customer", {"DisplayName": "Y", "Favourite": 1})) == "2010"
    assert (
        _fault_code(_post(quickbooks, "customer", {"DisplayName": "Z", "PrimaryEmailAddr": {"Address": "nope"}}))
        == "6000"
    )


def test_inactive_names_and_queries_that_skip_them(quickbooks: Sandbox) -> None:
    created = _ok(_post(quickbooks, "customer", {"DisplayName": "Old Co"}), "Customer")
    inactive = _ok(
        _post(quickbooks, "customer", {"Id": created["Id"], "SyncToken": "0", "sparse": True, "Active": False}),
        "Customer",
    )
    assert inactive["DisplayName"] == "Old Co (deleted)"
    _ok(_post(quickbooks, "customer", {"DisplayName": "Old Co"}), "Customer")  # the name is free again
    query = f"{_base(quickbooks)}/query"
    default = quickbooks.api().get(query, params={"query": "select * from Customer"}).json()["QueryResponse"]
    assert [c["DisplayName"] for c in default["Customer"]] == ["Old Co"]
    with_inactive = quickbooks.api().get(query, params={"query": "select * from Customer where Active = false"})
    assert [c["Id"] for c in with_inactive.json()["QueryResponse"]["Customer"]] == [created["Id"]]


def test_items_need_unique_names_and_an_income_account(quickbooks: Sandbox) -> None:
    item = _item(quickbooks)
    assert item["IncomeAccountRef"] == {"value": "1", "name": "Services"}
    assert (
        _fault_code(
            _post(quickbooks, "item", {"Name": "WIDGET", "Type": "Service", "IncomeAccountRef": {"value": "1"}})
        )
        == "6240"
    )
    assert _fault_code(_post(quickbooks, "item", {"Name": "No account", "Type": "Service"})) == "2020"
    assert (
        _fault_code(
            _post(
                quickbooks,
                "item",
                {"Name": "Bad account", "Type": "NonInventory", "IncomeAccountRef": {"value": "999"}},
            )
        )
        == "2500"
    )
    accounts = quickbooks.api().get(
        f"{_base(quickbooks)}/query", params={"query": "select * from Account where AccountType = 'Income'"}
    )
    assert {a["Name"] for a in accounts.json()["QueryResponse"]["Account"]} >= {"Services"}


def test_invoice_totals_numbers_payments_void_and_delete(quickbooks: Sandbox) -> None:
    customer = _ok(_post(quickbooks, "customer", {"DisplayName": "Payer"}), "Customer")
    item = _item(quickbooks, price=40)
    lines = [
        {
            "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 2},
        },
        {
            "DetailType": "SalesItemLineDetail",
            "Amount": 15,
            "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}},
        },
    ]
    invoice = _ok(_post(quickbooks, "invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": lines}), "Invoice")
    assert (invoice["TotalAmt"], invoice["Balance"], invoice["DocNumber"]) == (95.0, 95.0, "1001")
    assert invoice["Line"][-1]["DetailType"] == "SubTotalLineDetail"
    assert invoice["CustomerRef"] == {"value": customer["Id"], "name": "Payer"}
    second = _ok(
        _post(
            quickbooks,
            "invoice",
            {"CustomerRef": {"value": customer["Id"]}, "Line": lines[:1], "DocNumber": "MINE"},
        ),
        "Invoice",
    )
    assert second["DocNumber"] == "1002"  # assigned by QBO while custom transaction numbers are off
    partial = _ok(
        _post(
            quickbooks,
            "payment",
            {
                "CustomerRef": {"value": customer["Id"]},
                "TotalAmt": 45,
                "Line": [{"Amount": 45, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
            },
        ),
        "Payment",
    )
    after = _ok(quickbooks.api().get(f"{_base(quickbooks)}/invoice/{invoice['Id']}"), "Invoice")
    assert after["Balance"] == 50.0
    assert after["LinkedTxn"] == [{"TxnId": partial["Id"], "TxnType": "Payment"}]
    over = _post(
        quickbooks,
        "payment",
        {
            "CustomerRef": {"value": customer["Id"]},
            "TotalAmt": 60,
            "Line": [{"Amount": 60, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
        },
    )
    assert _fault_code(over) == "6000"
    balance = _ok(quickbooks.api().get(f"{_base(quickbooks)}/customer/{customer['Id']}"), "Customer")["Balance"]
    assert balance == 50.0 + 80.0
    deleted = _post(quickbooks, "payment", {"Id": partial["Id"], "SyncToken": "0"}, operation="delete")
    assert deleted.json()["Payment"]["status"] == "Deleted"
    restored = _ok(quickbooks.api().get(f"{_base(quickbooks)}/invoice/{invoice['Id']}"), "Invoice")
    assert (restored["Balance"], restored["LinkedTxn"]) == (95.0, [])
    voided = _ok(
        _post(quickbooks, "invoice", {"Id": second["Id"], "SyncToken": second["SyncToken"]}, operation="void"),
        "Invoice",
    )
    assert (voided["TotalAmt"], voided["Balance"], voided["PrivateNote"]) == (0.0, 0.0, "Voided")
    assert voided["SyncToken"] == str(int(second["SyncToken"]) + 1)
    gone = _post(quickbooks, "invoice", {"Id": invoice["Id"], "SyncToken": restored["SyncToken"]}, operation="delete")
    assert gone.json()["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": invoice["Id"]}
    assert _fault_code(quickbooks.api().get(f"{_base(quickbooks)}/invoice/{invoice['Id']}")) == "610"


def test_custom_transaction_numbers_take_the_requested_doc_number(quickbooks: Sandbox) -> None:
    quickbooks.admin.set_company(CustomTxnNumbers=True)
    prefs = quickbooks.api().get(f"{_base(quickbooks)}/preferences").json()["Preferences"]
    assert prefs["SalesFormsPrefs"]["CustomTxnNumbers"] is True
    customer = _ok(_post(quickbooks, "customer", {"DisplayName": "Custom"}), "Customer")
    item = _item(quickbooks)
    invoice = _ok(
        _post(
            quickbooks,
            "invoice",
            {
                "CustomerRef": {"value": customer["Id"]},
                "DocNumber": "INV-77",
                "Line": [
                    {
                        "Amount": 10,
                        "DetailType": "SalesItemLineDetail",
                        "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}},
                    }
                ],
            },
        ),
        "Invoice",
    )
    assert invoice["DocNumber"] == "INV-77"


def test_requestid_replays_the_first_answer(quickbooks: Sandbox) -> None:
    first = _ok(_post(quickbooks, "customer", {"DisplayName": "Once"}, requestid="req-1"), "Customer")
    again = _ok(_post(quickbooks, "customer", {"DisplayName": "Once"}, requestid="req-1"), "Customer")
    assert again["Id"] == first["Id"]
    assert len(quickbooks.admin.records("Customer")) == 1
    assert _post(quickbooks, "customer", {"DisplayName": "Long"}, requestid="x" * 51).status_code == 400


def test_clients_sending_every_attribute_are_accepted(quickbooks: Sandbox) -> None:
    body = {
        "DisplayName": "Verbose",
        "Title": "",
        "Balance": 0,
        "sparse": False,
        "SyncToken": 0,
        "domain": "QBO",
        "BillAddr": {"Line1": "", "City": ""},
        "Active": True,
    }
    assert _post(quickbooks, "customer", body).status_code == 200


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("select * from Customer where DisplayName = 'O\\'Brien'", ["O'Brien"]),
        ("SELECT * FROM Customer WHERE DisplayName LIKE 'A%'", ["Alpha", "Apex"]),
        ("select * from Customer where DisplayName in ('Alpha', 'Beta')", ["Alpha", "Beta"]),
        ("select * from Customer ORDERBY DisplayName DESC MAXRESULTS 2", ["O'Brien", "Beta"]),
        ("select * from Customer ORDER BY DisplayName STARTPOSITION 2 MAXRESULTS 2", ["Apex", "Beta"]),
        ("select * from Customer where PrimaryEmailAddr = 'A@X.EXAMPLE'", ["Alpha"]),
        (
            "select * from Customer where Metadata.LastUpdatedTime > '2000-01-01T00:00:00Z'",
            ["Alpha", "Apex", "Beta", "O'Brien"],
        ),
        ("select * from Customer where Metadata.LastUpdatedTime > '2999-01-01T00:00:00Z'", []),
    ],
)
def test_query_language(quickbooks: Sandbox, query: str, expected: list[str]) -> None:
    quickbooks.admin.seed(
        {
            "Customer": [
                {"DisplayName": "Alpha", "PrimaryEmailAddr": {"Address": "a@x.example"}},
                {"DisplayName": "Beta"},
                {"DisplayName": "Apex"},
                {"DisplayName": "O'Brien"},
            ]
        }
    )
    for method in ("GET", "POST"):
        if method == "GET":
            response = quickbooks.api().get(f"{_base(quickbooks)}/query", params={"query": query})
        else:
            response = quickbooks.api().post(
                f"{_base(quickbooks)}/query", data=query, headers={"Content-Type": "application/text"}
            )
        body = response.json()["QueryResponse"]
        names = [c["DisplayName"] for c in body.get("Customer", [])]
        assert sorted(names) == sorted(expected) if "ORDER" not in query.upper() else names == expected
        if not expected:
            assert body == {}


def test_query_count_and_refusals(quickbooks: Sandbox) -> None:
    quickbooks.admin.seed({"Customer": [{"DisplayName": f"C{n}"} for n in range(3)]})
    query = f"{_base(quickbooks)}/query"
    count = quickbooks.api().get(query, params={"query": "SELECT COUNT(*) FROM Customer"}).json()
    assert count["QueryResponse"] == {"totalCount": 3}
    with_sku = quickbooks.api().get(query, params={"query": "SELECT *, Sku FROM Item"})
    assert with_sku.status_code == 200
    assert (
        _fault_code(quickbooks.api().get(query, params={"query": "select * from Customer MAXRESULTS 1001"})) == "4001"
    )
    assert _fault_code(quickbooks.api().get(query, params={"query": "select from where"})) == "4000"
