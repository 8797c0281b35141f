"""Connecting a QuickBooks company: what the install reads of it, and how it answers a person when QuickBooks
is busy, down, or refuses, in words and with a status, never a crash."""

from typing import Any

import pytest

from hubbooks.auth.install import InstallError, InstallService
from hubbooks.store.connections import ConnectionRepository
from hubbooks.store.states import StateRepository
from tests.conftest import DEV_TOKEN, REALM_ID
from tests.integration.services.conftest import Wired


def _install(wired: Wired) -> InstallService:
    """The install with what its QuickBooks step uses; the OAuth parts stay unused here."""
    none: Any = None
    return InstallService(
        connections=ConnectionRepository(wired.table),
        states=StateRepository(wired.table, "key"),
        tokens=none,
        hubspot=none,
        intuit=none,
        qbo_client=lambda cid, realm, token: wired.qbo,
        sessions=none,
        signing_key="key",
        pending=none,
    )


def test_the_company_name_and_the_custom_numbers_warning_are_read(wired: Wired) -> None:
    wired.quickbooks.admin.set_company(CustomTxnNumbers=True)
    name, warnings = _install(wired)._inspect_company(wired.cid, REALM_ID, DEV_TOKEN)
    assert name == "Sandbox Company US"
    assert [w.code for w in warnings] == ["custom_transaction_numbers"]


@pytest.mark.parametrize(
    ("fault", "status", "title"),
    [("429", 503, "QuickBooks is busy"), ("503", 503, "QuickBooks is not answering")],
    ids=["throttled", "down"],
)
def test_a_company_that_cannot_be_read_now_is_a_plain_answer_to_try_again(
    wired: Wired, fault: str, status: int, title: str
) -> None:
    wired.quickbooks.admin.add_fault(fault, rate=1.0, method="GET")
    with pytest.raises(InstallError) as refused:
        _install(wired)._inspect_company(wired.cid, REALM_ID, DEV_TOKEN)
    assert (refused.value.status, refused.value.title) == (status, title)
    assert "again" in refused.value.message


@pytest.mark.parametrize("answer", [403, 401], ids=["403 ApplicationAuthorizationFailed", "401 AuthenticationFailed"])
def test_a_sandbox_company_is_refused_however_the_production_host_refuses_it(wired: Wired, answer: int) -> None:
    """Intuit documents where sandbox companies answer (the sandbox host), not how the production host refuses
    them: any refusal of the access just granted is taken as a sandbox company."""
    wired.quickbooks.admin.set_company(sandbox=True, sandbox_status=answer)
    with pytest.raises(InstallError) as refused:
        _install(wired)._inspect_company(wired.cid, REALM_ID, DEV_TOKEN)
    assert (refused.value.status, refused.value.title) == (400, "QuickBooks sandbox companies cannot be connected")
    assert "production QuickBooks company" in refused.value.message
