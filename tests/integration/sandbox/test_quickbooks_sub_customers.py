"""QuickBooks emulator: sub-customers (ParentRef, Job, BillWithParent, Level, FullyQualifiedName) and their rules,
over real HTTP."""

from typing import Any

from tests.conftest import Sandbox
from tests.integration.sandbox.test_quickbooks_entities import _fault_code, _ok, _post


def _customer(quickbooks: Sandbox, name: str, parent: dict[str, Any] | None = None, **body: Any) -> Any:
    if parent is not None:
        body["ParentRef"] = {"value": parent["Id"]}
    return _post(quickbooks, "customer", {"DisplayName": name, **body})


def _update(quickbooks: Sandbox, customer: dict[str, Any], **changes: Any) -> Any:
    body = {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": True, **changes}
    return _post(quickbooks, "customer", body)


def _current(quickbooks: Sandbox, customer_id: str) -> dict[str, Any]:
    return next(c for c in quickbooks.admin.records("Customer") if c["Id"] == customer_id)


def test_sub_customers_nest_with_their_parents_names(quickbooks: Sandbox) -> None:
    acme = _ok(_customer(quickbooks, "Acme"), "Customer")
    site = _ok(_customer(quickbooks, "Leeds site", acme, BillWithParent=True), "Customer")
    job = _ok(_customer(quickbooks, "Roof job", site), "Customer")
    assert (acme["Job"], acme["Level"], acme["FullyQualifiedName"]) == (False, 0, "Acme")
    assert (site["Job"], site["BillWithParent"], site["ParentRef"]) == (
        True,
        True,
        {"value": acme["Id"], "name": "Acme"},
    )
    assert (job["Level"], job["FullyQualifiedName"]) == (2, "Acme:Leeds site:Roof job")
    _ok(_update(quickbooks, acme, DisplayName="Acme Ltd"), "Customer")
    assert _current(quickbooks, job["Id"])["FullyQualifiedName"] == "Acme Ltd:Leeds site:Roof job"
    moved = _ok(_update(quickbooks, _current(quickbooks, job["Id"]), ParentRef={"value": acme["Id"]}), "Customer")
    assert (moved["Level"], moved["FullyQualifiedName"]) == (1, "Acme Ltd:Roof job")
    top = _ok(_update(quickbooks, moved, ParentRef=None), "Customer")
    assert (top["Job"], top["Level"], "ParentRef" in top) == (False, 0, False)


def test_sub_customer_rules(quickbooks: Sandbox) -> None:
    chain = [_ok(_customer(quickbooks, "L0"), "Customer")]
    for level in range(1, 5):
        chain.append(_ok(_customer(quickbooks, f"L{level}", chain[-1]), "Customer"))
    assert chain[-1]["FullyQualifiedName"] == "L0:L1:L2:L3:L4"
    assert _fault_code(_customer(quickbooks, "L5", chain[-1])) == "6000"  # five levels at most
    assert _fault_code(_update(quickbooks, chain[0], ParentRef={"value": chain[2]["Id"]})) == "6000"  # a cycle
    assert _fault_code(_update(quickbooks, chain[1], ParentRef={"value": chain[1]["Id"]})) == "6000"  # itself
    assert _fault_code(_customer(quickbooks, "Orphan", {"Id": "999"})) == "2500"
    inactive = _update(quickbooks, chain[3], Active=False)
    assert _fault_code(inactive) == "6000"
    assert "has active sub-customers" in inactive.json()["Fault"]["Error"][0]["Detail"]
    _ok(_update(quickbooks, chain[4], Active=False), "Customer")
    _ok(_update(quickbooks, _current(quickbooks, chain[3]["Id"]), Active=False), "Customer")
    assert _fault_code(_customer(quickbooks, "Under an inactive one", chain[3])) == "2500"


def test_job_false_makes_a_sub_customer_a_customer_of_its_own_and_names_keep_their_colons_out(
    quickbooks: Sandbox,
) -> None:
    acme = _ok(_customer(quickbooks, "Acme"), "Customer")
    site = _ok(_customer(quickbooks, "Leeds site", acme), "Customer")
    alone = _ok(_update(quickbooks, site, Job=False), "Customer")
    assert (alone["Job"], alone["Level"], alone["FullyQualifiedName"]) == (False, 0, "Leeds site")
    assert "ParentRef" not in alone
    again = _ok(_update(quickbooks, alone, Job=True, ParentRef={"value": acme["Id"]}), "Customer")
    assert again["FullyQualifiedName"] == "Acme:Leeds site"
    colon = _customer(quickbooks, "Acme: West")
    assert _fault_code(colon) == "6000"
    assert "may not contain ':'" in colon.text
