"""The operator CLI against devstack (boto3 through AWS_ENDPOINT_URL, as for any stack): status, errors,
resync of a record, and replaying the dead-letter queue."""

import json
from typing import Any

import pytest

from devstack.sandboxed import SandboxedProduct
from hubbooks import cli
from tests.support.product import connect_webhooks, customer_of, install, settle

pytestmark = [pytest.mark.devstack, pytest.mark.slow]


@pytest.fixture(scope="module")
def connection(product: SandboxedProduct) -> dict[str, Any]:
    connect_webhooks(product)
    return install(product)[1]


def _run(product: SandboxedProduct, *args: str) -> list[str]:
    lines: list[str] = []
    assert cli.main(["--stack", product.stack_name, *args], out=lines.append) == 0
    return lines


def test_status_and_errors_show_each_connection_its_syncs_and_fixes(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    product.hubspot_admin.create("contacts", {"email": "ok.cli@example.com", "firstname": "Cli"})
    failing = product.hubspot_admin.create("contacts", {"email": "long.cli@example.com", "firstname": "C" * 120})
    settle(product)
    status = _run(product, "status")
    assert status[0].startswith(f"{connection['connection_id']}  portal {product.credentials.portal_id}")
    contacts = next(line for line in status if line.strip().startswith("contacts"))
    assert contacts.split()[1:7] == ["on", "1", "linked", "1", "errors", "no"]
    errors = _run(product, "errors")
    assert f"contacts hs {failing['id']}  [invalid_value]" in errors[0]
    assert "Shorten" in errors[1]


def test_a_record_resynced_and_a_dead_letter_replayed_are_applied(
    product: SandboxedProduct, connection: dict[str, Any]
) -> None:
    cid = connection["connection_id"]
    contact = product.hubspot_admin.create("contacts", {"email": "replay@example.com", "firstname": "Re"})
    settle(product)
    product.hubspot_admin.configure_webhooks(enabled=False)
    product.hubspot_admin.update("contacts", contact["id"], {"firstname": "Resynced"})
    assert _run(product, "resync", cid, "contacts", "hs", contact["id"]) == ["1 signal queued"]
    settle(product)
    assert customer_of(product, contact["id"])["GivenName"] == "Resynced"
    story = [line.split("  ", 1)[1] for line in _run(product, "history", cid, "contacts", "hs", contact["id"])]
    assert story == [
        "Resynced <replay@example.com>: firstname copied to QuickBooks",  # the latest first, named as it was then
        "Re <replay@example.com>: created in QuickBooks from HubSpot",
    ]

    product.hubspot_admin.update("contacts", contact["id"], {"firstname": "Replayed"})
    # A live change of its lane: its note went when it was dead-lettered, and the replay is read all the same.
    signal = {
        "connection_id": cid,
        "pair": "contacts",
        "side": "hs",
        "record_id": contact["id"],
        "reason": "webhook",
        "source_version": "dead-1",
        "in_lane": True,
    }
    sqs = product.devstack.client("sqs")
    dead_letters = product.devstack.physical["SyncDeadLetterQueue"]
    sqs.send_message(
        QueueUrl=dead_letters,
        MessageBody=json.dumps(signal),
        MessageGroupId=f"{cid}:contacts:live",
        MessageDeduplicationId="dead-1",
    )
    assert _run(product, "replay-dlq") == ["1 dead-lettered signal(s) sent back to the sync queue"]
    settle(product)
    assert customer_of(product, contact["id"])["GivenName"] == "Replayed"
    product.hubspot_admin.configure_webhooks(enabled=True)
