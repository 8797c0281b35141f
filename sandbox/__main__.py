"""Command line: `python -m sandbox hubspot ...` or `python -m sandbox quickbooks ...`.

Prints `ready http://127.0.0.1:<port>` once serving, then runs until interrupted.
"""

import argparse
import contextlib
import signal
import sys
import threading

from sandbox.http import Emulator, serve
from sandbox.hubspot.app import HubSpotEmulator
from sandbox.quickbooks.app import QuickBooksEmulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    emulators = parser.add_subparsers(dest="emulator", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--port", type=int, default=0, help="0 picks a free port")
    common.add_argument("--dev-token", required=True, help="accepted as a Bearer access token")
    common.add_argument("--client-id")
    common.add_argument("--client-secret")
    common.add_argument("--webhook-url")
    common.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiplies rate-limit windows and webhook retry delays (0.1 = ten times faster)",
    )
    common.add_argument("--seed", type=int, default=0, help="seed for injected faults")
    hubspot = emulators.add_parser("hubspot", parents=[common], help="the HubSpot emulator")
    hubspot.add_argument("--portal-id", type=int, required=True)
    quickbooks = emulators.add_parser("quickbooks", parents=[common], help="the QuickBooks Online emulator")
    quickbooks.add_argument("--realm-id", required=True)
    quickbooks.add_argument("--verifier-token")
    quickbooks.add_argument(
        "--legacy-webhooks",
        action="store_true",
        help="send the legacy eventNotifications format instead of CloudEvents",
    )
    return parser


def build(args: argparse.Namespace) -> Emulator:
    if args.emulator == "hubspot":
        return HubSpotEmulator(
            portal_id=args.portal_id,
            dev_token=args.dev_token,
            client_id=args.client_id,
            client_secret=args.client_secret,
            webhook_url=args.webhook_url,
            time_scale=args.time_scale,
            seed=args.seed,
        )
    return QuickBooksEmulator(
        realm_id=args.realm_id,
        dev_token=args.dev_token,
        client_id=args.client_id,
        client_secret=args.client_secret,
        webhook_url=args.webhook_url,
        verifier_token=args.verifier_token,
        legacy_webhooks=args.legacy_webhooks,
        time_scale=args.time_scale,
        seed=args.seed,
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    server = serve(build(args), port=args.port)
    print(f"ready {server.url}", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with contextlib.suppress(KeyboardInterrupt):
        stopped.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
