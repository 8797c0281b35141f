"""`python -m devstack up`: run template.yaml on this machine until Ctrl-C."""

import argparse
import contextlib
import signal
import sys
import time
from pathlib import Path

from devstack.sandboxed import SandboxedProduct
from devstack.stack import ROOT, Devstack


def _parameters(pairs: list[str]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--param expects Name=Value, got {pair!r}")
        parsed[name] = value
    return parsed


class _Stop(Exception):
    """Raised in the main thread by the SIGINT or SIGTERM handler."""


def _stop(signum: int, frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


def _wait_for_stop() -> None:
    """Sleep until SIGINT or SIGTERM. The handler only raises: a handler runs on the main thread between
    bytecodes, so one that took a lock (Event.set) could wait forever on a lock the main thread holds."""
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    with contextlib.suppress(_Stop):
        while True:
            time.sleep(3600)
    # A second signal while the stack stops ends the process at once, as people expect of a second Ctrl-C.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _up_with_sandbox(stack_name: str) -> int:
    with SandboxedProduct(stack_name=stack_name, schedule_scale=0.05) as product:
        gateway = product.devstack.gateway_url
        print(f"HubSpot sandbox     {product.hubspot.url if product.hubspot else ''}  (admin: /_sandbox/...)")
        print(f"QuickBooks sandbox  {product.quickbooks.url if product.quickbooks else ''}")
        print(f"gateway             {gateway}")
        print(f"install             {gateway}/connect/hubspot   (then the settings page at {gateway}/)")
        print(f"workflow action     definition {product.register_invoice_action()} -> {gateway}/actions/create-invoice")
        cli = f"AWS_ENDPOINT_URL={product.devstack.endpoint} python -m hubbooks.cli --stack {stack_name}"
        print(f"operator CLI        {cli} status")
        print("devstack is up with both sandboxes; Ctrl-C stops it", flush=True)
        _wait_for_stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="deploy the template into moto and serve it until Ctrl-C")
    up.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    up.add_argument("--stack-name", default="hubbooks-dev")
    up.add_argument("--port", type=int, default=0, help="gateway port (0 picks a free one)")
    up.add_argument("--time-scale", type=float, default=1.0, help="multiplies schedule periods and retries")
    up.add_argument("--param", action="append", default=[], metavar="Name=Value")
    up.add_argument(
        "--sandbox",
        action="store_true",
        help="also run both sandbox emulators, wired to the stack (the app's credentials filled in)",
    )
    args = parser.parse_args(argv)
    if args.sandbox:
        return _up_with_sandbox(args.stack_name)

    stack = Devstack(
        template=args.template,
        stack_name=args.stack_name,
        parameters=_parameters(args.param),
        time_scale=args.time_scale,
        gateway_port=args.port,
    )
    with stack:
        print(f"moto (AWS APIs)   {stack.endpoint}")
        print(f"gateway           {stack.gateway_url}")
        for route in stack.routes:
            print(f"  {route.method:6} {stack.gateway_url}{route.path}  -> {route.function}")
        for mapping in stack.queue_mappings:
            print(f"  queue  {mapping.queue_url} -> {mapping.function} (batch {mapping.batch_size})")
        for schedule in stack.schedules:
            print(f"  every  {stack.scheduler.period(schedule.name):g}s -> {schedule.function}")
        print("devstack is up; Ctrl-C stops it", flush=True)
        _wait_for_stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
