"""Webhooks: edits made in each sandbox arrive, signed, at the gateway and become queued signals."""

import time

from demo.report import Report
from devstack.sandboxed import SandboxedProduct


def run(product: SandboxedProduct, report: Report) -> None:
    report.section("Webhooks: signed deliveries from both sandboxes become signals on the FIFO queue")
    gateway = product.devstack.gateway_url
    hubspot, quickbooks = product.hubspot_admin, product.quickbooks_admin
    hubspot.configure_webhooks(url=f"{gateway}/webhooks/hubspot")
    quickbooks.configure_webhooks(url=f"{gateway}/webhooks/quickbooks")
    sqs = product.devstack.client("sqs")
    queue = product.devstack.physical["SyncQueue"]
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
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    report.check(
        "sandbox edits delivered and accepted",
        flushed and bool(deliveries) and all(d["status"] == 200 for d in deliveries),
        f"{len(deliveries)} signed deliveries answered 200 within {elapsed_ms:.0f} ms",
    )
    report.check(
        "signals queued",
        int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"]) >= 2,
        f"sync queue holds {attributes['ApproximateNumberOfMessages']} signal(s), grouped per record",
    )
