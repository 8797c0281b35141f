"""Webhooks: edits made in each sandbox arrive, signed, at the gateway and become queued signals."""

import time

from demo.report import Report
from devstack.sandboxed import SandboxedProduct


def run(product: SandboxedProduct, report: Report) -> None:
    report.section("Webhooks: signed deliveries from both sandboxes become signals on the FIFO queue")
    hubspot, quickbooks = product.hubspot_admin, product.quickbooks_admin
    product.connect_webhooks()
    worker = product.devstack.runtimes["SyncWorkerFunction"]
    handled_before = len(worker.invocations)
    contact = hubspot.records("contacts")[0]
    customer = quickbooks.records("Customer")[0]
    started = time.monotonic()
    hubspot.update("contacts", contact["id"], {"jobtitle": "Head of Finance"})
    quickbooks.update("Customer", customer["Id"], {"Notes": "Prefers email"})
    flushed = hubspot.flush_webhooks() and quickbooks.flush_webhooks()
    elapsed_ms = (time.monotonic() - started) * 1000
    deliveries = hubspot.webhooks()["deliveries"] + quickbooks.webhooks()["deliveries"]
    for delivery in deliveries:
        report.say(f"delivery of {delivery['events']} event(s), attempt {delivery['attempt']}: {delivery['status']}")
    report.check(
        "sandbox edits delivered and accepted",
        flushed and bool(deliveries) and all(d["status"] == 200 for d in deliveries),
        f"{len(deliveries)} signed deliveries answered 200 within {elapsed_ms:.0f} ms",
    )
    product.settle()
    batches = worker.invocations[handled_before:]
    report.check(
        "signals queued and handled",
        bool(batches) and all(b.error is None for b in batches),
        f"the sync worker took {len(batches)} batch(es) of signals off the FIFO queue",
    )
