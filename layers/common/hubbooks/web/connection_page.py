"""The settings page's connection summary (the full page with syncs arrives with the settings issue)."""

from html import escape

from hubbooks.models.connection import Connection, ConnectionStatus
from hubbooks.web.pages import page


def connection_page(connection: Connection | None) -> str:
    if connection is None:
        return page(
            "Open hubbooks from HubSpot",
            "Your session has ended or was never started. Open hubbooks from "
            "the HubSpot app marketplace, or install it again to connect QuickBooks.",
            body_html='<p><a href="/connect/hubspot">Install from HubSpot</a></p>',
        )
    rows = [
        ("HubSpot account", str(connection.portal_id)),
        (
            "QuickBooks company",
            f"{connection.company_name or '-'} ({connection.realm_id or 'not connected'})",
        ),
        ("Status", connection.status.value.replace("_", " ")),
    ]
    table = "".join(f'<tr><th scope="row">{escape(k)}</th><td>{escape(v)}</td></tr>' for k, v in rows)
    warnings = "".join(f'<li role="alert">{escape(w.message)}</li>' for w in connection.warnings)
    extra = f"<table>{table}</table>"
    if connection.status_reason:
        extra += f'<p role="alert">{escape(connection.status_reason)}</p>'
    if warnings:
        extra += f"<h2>Warnings</h2><ul>{warnings}</ul>"
    if connection.status != ConnectionStatus.ACTIVE:
        extra += '<p><a href="/connect/quickbooks">Connect QuickBooks</a></p>'
    extra += f'<p><a href="/connections/{escape(connection.connection_id)}/disconnect">Disconnect</a></p>'
    return page("hubbooks settings", "HubSpot and QuickBooks Online, kept in sync.", body_html=extra)
