"""Operator commands. `python -m hubbooks.cli register-action --action-url https://<api>/actions/create-invoice`
registers the "Create a QuickBooks invoice" workflow action with the HubSpot app (idempotent)."""

import argparse
import os
import sys

from hubbooks.http import make_session
from hubbooks.hubspot.developer import DeveloperClient

HUBSPOT_API = "https://api.hubapi.com"


def register_action(*, api_base: str, app_id: str, developer_key: str, action_url: str) -> str:
    """The workflow action's definition id, registered when the app has none for `action_url`."""
    developer = DeveloperClient(make_session(), api_base=api_base, app_id=app_id, api_key=developer_key, timeout=30.0)
    return developer.ensure_invoice_action(action_url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hubbooks.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    register = commands.add_parser("register-action", help="register the workflow action with the HubSpot app")
    register.add_argument("--action-url", required=True, help="https://<api>/actions/create-invoice")
    register.add_argument("--api-base", default=os.environ.get("HUBSPOT_API_BASE", HUBSPOT_API))
    register.add_argument("--app-id", default=os.environ.get("HUBSPOT_APP_ID", ""))
    register.add_argument("--developer-key", default=os.environ.get("HUBSPOT_DEVELOPER_API_KEY", ""))
    args = parser.parse_args(argv)
    if args.command == "register-action":
        if not args.app_id or not args.developer_key:
            parser.error("the HubSpot app id and developer API key are needed (--app-id/--developer-key or env)")
        definition_id = register_action(
            api_base=args.api_base, app_id=args.app_id, developer_key=args.developer_key, action_url=args.action_url
        )
        print(f"workflow action definition {definition_id} -> {args.action_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
