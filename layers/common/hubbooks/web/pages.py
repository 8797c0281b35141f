"""Plain HTML pages the OAuth flow shows a person (no scripts, no external assets)."""

import base64
import hashlib
from html import escape

_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#213343}"
    "h1{font-size:1.5rem}.box{border:1px solid #cbd6e2;border-radius:8px;padding:1rem 1.25rem}"
    "button{font:inherit;padding:.5rem 1rem;border-radius:6px;border:1px solid #075a71;background:#0b7a99;"
    "color:#fff;cursor:pointer}button.danger{background:#d0333d;border-color:#a1232b}"
    "button.secondary{background:#fff;color:#213343;border-color:#cbd6e2}"
    "a{color:#0b7a99}"
)


# The pages' one inline style, allowed by its hash in the Content-Security-Policy (no 'unsafe-inline').
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()


def page(title: str, message: str, *, detail: str = "", body_html: str = "") -> str:
    """A page with a heading, a plain-language message and optional trusted extra markup."""
    extra = f"<p>{escape(detail)}</p>" if detail else ""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)} · hubbooks</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_STYLE}</style></head>'
        f'<body><main class="box"><h1>{escape(title)}</h1><p>{escape(message)}</p>{extra}{body_html}</main>'
        "</body></html>"
    )


def confirm_disconnect(connection_id: str, company: str, portal_id: int, token: str) -> str:
    form = (
        f'<form method="post" action="/connections/{escape(connection_id)}/disconnect">'
        f'<input type="hidden" name="confirm" value="{escape(token)}">'
        '<button type="submit" class="danger">Disconnect and delete the sync data</button></form>'
        '<p><a href="/">Keep the connection</a></p>'
    )
    message = (
        f"This stops every sync between HubSpot account {portal_id} and QuickBooks company {company}, revokes "
        "hubbooks' access to both, and deletes the links, settings, errors and history hubbooks keeps. "
        "Records in HubSpot and QuickBooks stay as they are."
    )
    return page("Disconnect QuickBooks?", message, body_html=form)


def confirm_connect(company: str, realm_id: str, portal_id: int, token: str) -> str:
    """The question a person answers before a QuickBooks company is bound to a HubSpot account."""
    form = (
        '<form method="post" action="/connect/quickbooks/confirm">'
        f'<input type="hidden" name="confirm" value="{escape(token)}">'
        '<button type="submit" name="decision" value="connect">Connect</button> '
        '<button type="submit" name="decision" value="cancel" class="secondary">Cancel</button></form>'
    )
    message = (
        f"Connect QuickBooks company {company} ({realm_id}) to HubSpot account {portal_id}? hubbooks will then "
        "keep their customers and contacts, products and items, invoices and payments in sync, as you set each "
        "sync up. If you did not start this from your own HubSpot account, cancel."
    )
    return page("Connect these accounts?", message, body_html=form)
