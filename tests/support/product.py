"""Helpers for tests that drive the whole product (install flow, table access, function environments)."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from devstack.browser import Browser
from devstack.runtime import function_environment
from devstack.sandboxed import SandboxedProduct


def install(product: SandboxedProduct, browser: Browser | None = None) -> tuple[Browser, dict[str, Any]]:
    """Run the install flow in a browser; answers the browser (holding the session) and /api/connection."""
    browser = browser or Browser()
    final = browser.get(f"{product.devstack.gateway_url}/connect/hubspot")
    assert final.status_code == 200, final.text
    connection = browser.get(f"{product.devstack.gateway_url}/api/connection")
    assert connection.status_code == 200, connection.text
    return browser, connection.json()


def table_items(product: SandboxedProduct) -> list[dict[str, Any]]:
    client = product.devstack.client("dynamodb")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": product.devstack.physical["Table"]}
    while True:
        page = client.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def customer_of(product: SandboxedProduct, contact_id: str) -> dict[str, Any]:
    """The QuickBooks customer a HubSpot contact is linked to."""
    link = next(i for i in table_items(product) if i["SK"]["S"] == f"LINK#contacts#hs#{contact_id}")
    return next(c for c in product.quickbooks_admin.records("Customer") if c["Id"] == link["other_id"]["S"])


def signing_key(product: SandboxedProduct) -> str:
    secret = product.devstack.client("secretsmanager").get_secret_value(SecretId=product.devstack.physical["AppSecret"])
    return str(json.loads(secret["SecretString"])["signing_key"])


@contextmanager
def as_function(product: SandboxedProduct, logical_id: str = "OAuthFunction") -> Iterator[None]:
    """Run test code with a function's environment, to call hubbooks services as that function would."""
    with function_environment(product.devstack.runtimes[logical_id].spec.environment):
        yield


def settle(product: SandboxedProduct, timeout: float = 60.0) -> None:
    product.settle(timeout)


def connect_webhooks(product: SandboxedProduct) -> None:
    product.connect_webhooks()


def deal_with_contact(product: SandboxedProduct, contact_id: str, name: str, stage: str = "contractsent") -> str:
    """A HubSpot deal associated with one contact; answers its id."""
    deal = product.hubspot_admin.create("deals", {"dealname": name, "dealstage": stage, "pipeline": "default"})
    product.hubspot_admin.associate("deals", deal["id"], "contacts", contact_id)
    return str(deal["id"])


def billable_deal(product: SandboxedProduct, name: str) -> tuple[str, str]:
    """A HubSpot deal with a contact and a line item of a synced product; answers (deal, contact)."""
    contact = product.hubspot_admin.create(
        "contacts", {"email": f"{name.lower()}@example.com", "firstname": name, "lastname": "Buyer"}
    )
    product_record = product.hubspot_admin.create("products", {"name": f"{name} widget", "price": "40"})
    settle(product)
    deal_id = deal_with_contact(product, contact["id"], f"{name} order", stage="closedwon")
    line = product.hubspot_admin.create(
        "line_items", {"name": f"{name} widget", "quantity": "3", "price": "40", "hs_product_id": product_record["id"]}
    )
    product.hubspot_admin.associate("line_items", line["id"], "deals", deal_id)
    return deal_id, contact["id"]
