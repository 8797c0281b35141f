"""Connect: install from HubSpot and connect the QuickBooks company, through the gateway, as a browser."""

import html
import re
from urllib.parse import urlsplit

from demo.report import Report
from devstack.browser import Browser
from devstack.sandboxed import SandboxedProduct


def run(product: SandboxedProduct, report: Report) -> Browser:
    report.section("Connect: OAuth install from HubSpot, then QuickBooks; encrypted tokens; a session")
    browser = Browser()
    asked, final = product.connect(browser)
    for hop in browser.history:
        report.say(f"{hop.status_code}  {urlsplit(hop.url).netloc}{urlsplit(hop.url).path}")
    question = re.search(r"<p>(Connect QuickBooks company [^<]*?\?)", html.unescape(asked.text))
    report.check(
        "the person confirms which company joins which account",
        question is not None and final.status_code == 200,
        (question.group(1) if question else "no question asked") + " Answered: Connect",
    )
    connection = browser.get(f"{product.devstack.gateway_url}/api/connection").json()
    report.facts["connection"] = connection
    warnings = ", ".join(w["code"] for w in connection.get("warnings", [])) or "none"
    report.check(
        "connection active",
        final.status_code == 200 and connection.get("status") == "active",
        f"portal {connection.get('portal_id')} <-> realm {connection.get('realm_id')} "
        f"({connection.get('company_name')}), warnings: {warnings}",
    )
    tokens = product.devstack.client("dynamodb").query(
        TableName=product.devstack.physical["Table"],
        KeyConditionExpression="PK = :pk AND begins_with(SK, :t)",
        ExpressionAttributeValues={":pk": {"S": f"CONN#{connection.get('connection_id')}"}, ":t": {"S": "TOKEN#"}},
    )["Items"]
    plaintext = {*product.hubspot_app.oauth.access, *product.quickbooks_app.oauth.access}
    leaked = [t for t in tokens if any(p in str(t) for p in plaintext)]
    report.check(
        "tokens encrypted at rest",
        len(tokens) == 2 and not leaked,
        f"{len(tokens)} token items, KMS ciphertext only; plaintext found in {len(leaked)}",
    )
    return browser
