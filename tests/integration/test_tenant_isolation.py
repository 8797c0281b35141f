"""One tenant cannot stall the others: while one connection's QuickBooks budget is blocked (as after a 429)
and its changes keep coming, another connection's change still goes through at once, because a worker gives
a throttled signal back to the queue instead of sleeping on it."""

from collections.abc import Iterator
from typing import Any

import pytest

from devstack.browser import Browser
from devstack.sandboxed import SandboxedProduct
from hubbooks import wiring
from hubbooks.ratelimit import RateBudget
from tests.support.product import as_function, checked_product, install, wait_until

pytestmark = [pytest.mark.devstack, pytest.mark.slow, pytest.mark.security]
PORTAL_B, REALM_B = 4_455_002, "9130355500002"


@pytest.fixture(scope="module")
def product() -> Iterator[SandboxedProduct]:
    with checked_product("iso") as running:
        yield running


def _customers(admin: Any) -> set[str]:
    return {str((c.get("PrimaryEmailAddr") or {}).get("Address", "")) for c in admin.records("Customer")}


def test_a_throttled_tenant_does_not_hold_back_another_tenants_change(product: SandboxedProduct) -> None:
    product.connect_webhooks()
    _, throttled = install(product)
    hubspot_b, quickbooks_b = product.add_accounts(PORTAL_B, REALM_B)
    other = Browser()
    product.sign_in(other, PORTAL_B, REALM_B)
    install(product, other)
    with as_function(product, "SyncWorkerFunction"):  # ten real minutes, whatever the sandbox's time scale
        RateBudget(wiring.table(), throttled["connection_id"], "quickbooks").block(600)
    flood = [f"flood{n}@example.com" for n in range(20)]
    for email in flood:
        product.hubspot_admin.create("contacts", {"email": email, "firstname": "Flood"})
    product.hubspot_admin.flush_webhooks()
    hubspot_b.create("contacts", {"email": "quiet@example.com", "firstname": "Quiet"})
    wait_until(lambda: "quiet@example.com" in _customers(quickbooks_b), 60, "the other tenant's customer arriving")
    assert not set(flood) & _customers(product.quickbooks_admin)  # still held back: the block stands
