"""The reconciliation sweep: a change whose webhook is lost still arrives, within one sweep interval."""

import time

from demo.report import Report
from devstack.sandboxed import SandboxedProduct


def run(product: SandboxedProduct, report: Report) -> None:
    report.section("Reconciliation sweep: webhooks switched off, the change still arrives")
    hubspot, quickbooks = product.hubspot_admin, product.quickbooks_admin
    scheduler = product.devstack.scheduler
    schedule = next(name for name in scheduler.schedules if name.startswith("ReconcileFunction"))
    interval = scheduler.period(schedule)
    items = product.devstack.client("dynamodb").scan(TableName=product.devstack.physical["Table"])["Items"]
    linked = next(i for i in items if i["SK"]["S"].startswith("LINK#contacts#hs#"))
    contact_id, customer_id = linked["SK"]["S"].rsplit("#", 1)[1], linked["other_id"]["S"]
    hubspot.configure_webhooks(enabled=False)
    quickbooks.configure_webhooks(enabled=False)
    try:
        started = time.monotonic()
        hubspot.update("contacts", contact_id, {"city": "Swept City"})
        arrived = None
        while time.monotonic() - started < interval * 3 + 10:
            customer = next(c for c in quickbooks.records("Customer") if c["Id"] == customer_id)
            if (customer.get("BillAddr") or {}).get("City") == "Swept City":
                arrived = time.monotonic() - started
                break
            time.sleep(0.1)
    finally:
        hubspot.configure_webhooks(enabled=True)
        quickbooks.configure_webhooks(enabled=True)
    report.check(
        "lost webhook caught by the sweep",
        arrived is not None,
        f"webhooks off; the HubSpot edit reached QuickBooks after {arrived or 0:.1f} s through the sweep "
        f"(interval {interval:g} s here: rate(4 minutes) at devstack's time scale)",
    )
