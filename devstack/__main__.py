"""`python -m devstack up`: run template.yaml on this machine until Ctrl-C; `python -m devstack invoke`: run
one function on a sample event, as `sam local invoke` does with Docker."""

import argparse
import contextlib
import json
import signal
import sys
import time
from pathlib import Path

from devstack import events
from devstack.sandboxed import AppCredentials, SandboxedProduct
from devstack.stack import ROOT, Devstack


def _parameters(pairs: list[str]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--param expects Name=Value, got {pair!r}")
        parsed[name] = value
    return parsed


class _StopRequestedError(Exception):
    """Raised in the main thread by the SIGINT or SIGTERM handler."""


def _stop(signum: int, frame: object) -> None:
    raise _StopRequestedError(signal.Signals(signum).name)


def _wait_for_stop(ready: str) -> None:
    """Say `ready` (the handlers are in place from then on), then sleep until SIGINT or SIGTERM. The handler only
    raises: a handler runs on the main thread between bytecodes, so one that took a lock (Event.set) could wait
    forever on a lock the main thread holds."""
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    with contextlib.suppress(_StopRequestedError):
        print(ready, flush=True)
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
        for name, definition_id in product.register_actions().items():
            print(f"workflow action     definition {definition_id} -> {gateway}/actions/{name}")
        cli = f"AWS_ENDPOINT_URL={product.devstack.endpoint} python -m hubbooks.cli --stack {stack_name}"
        print(f"operator CLI        {cli} status")
        _wait_for_stop("devstack is up with both sandboxes; Ctrl-C stops it")
    return 0


def _invoke(function: str, event: Path, *, as_is: bool) -> int:
    # What the functions log goes to stderr, as `sam local invoke` shows it; the answer alone to stdout.
    with contextlib.redirect_stdout(sys.stderr), events.invoke_product() as product:
        known = sorted(product.devstack.runtimes)
        if function not in known:
            raise SystemExit(f"no function {function}; the template has {', '.join(known)}")
        answer = events.invoke(product, function, events.load(event), as_is=as_is)
    print(json.dumps(answer, indent=2, default=str))
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
    invoke = commands.add_parser("invoke", help="deploy the template with both sandboxes, run one function on an event")
    invoke.add_argument("function", help="the function's logical id, e.g. WebhookFunction")
    invoke.add_argument("--event", type=Path, required=True, help="a JSON event, e.g. events/webhook-hubspot.json")
    invoke.add_argument("--as-is", action="store_true", help="send the event's signatures unchanged")
    sign = commands.add_parser("sign", help="print an event signed again with your app's secrets and the time now")
    sign.add_argument("event", type=Path)
    sign.add_argument("--hubspot-client-secret", default=AppCredentials.hubspot_client_secret)
    sign.add_argument("--qbo-verifier-token", default=AppCredentials.qbo_verifier_token)
    args = parser.parse_args(argv)
    if args.command == "invoke":
        return _invoke(args.function, args.event, as_is=args.as_is)
    if args.command == "sign":
        credentials = AppCredentials(
            hubspot_client_secret=args.hubspot_client_secret, qbo_verifier_token=args.qbo_verifier_token
        )
        print(json.dumps(events.resign(events.load(args.event), credentials), indent=2))
        return 0
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
        _wait_for_stop("devstack is up; Ctrl-C stops it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
