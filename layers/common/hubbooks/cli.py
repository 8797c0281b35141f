"""Operator commands against a deployed stack or devstack (set AWS_ENDPOINT_URL for devstack):

python -m hubbooks.cli --stack NAME status            connections, syncs, links, errors, jobs
python -m hubbooks.cli --stack NAME errors            the sync health table with fixes
python -m hubbooks.cli --stack NAME resync CID PAIR SIDE ID   sync one record again
python -m hubbooks.cli --stack NAME replay-dlq        move dead-lettered signals back to the queue
python -m hubbooks.cli register-action --actions-url https://<api>/actions   every workflow action
"""

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

from hubbooks.http import make_session
from hubbooks.hubspot.developer import DeveloperClient
from hubbooks.models.signals import Pair, Side, SyncSignal
from hubbooks.models.sync_config import CONFIGURABLE
from hubbooks.queue import SignalQueue
from hubbooks.store.connections import ConnectionRepository
from hubbooks.store.table import Table
from hubbooks.sync.settings_service import SettingsService

HUBSPOT_API = "https://api.hubapi.com"
Out = Callable[[str], None]


def register_actions(*, api_base: str, app_id: str, developer_key: str, actions_url: str) -> dict[str, str]:
    """Every workflow action's definition id by name, each registered when the app has none at its URL."""
    developer = DeveloperClient(make_session(), api_base=api_base, app_id=app_id, api_key=developer_key, timeout=30.0)
    return developer.ensure_actions(actions_url.rstrip("/"))


@dataclass(frozen=True)
class Stack:
    """Where a deployed hubbooks keeps its state (from the stack's outputs)."""

    table: Table
    sqs: Any
    queue_url: str
    dead_letter_url: str

    @classmethod
    def named(cls, name: str) -> "Stack":
        outputs = {
            o["OutputKey"]: o["OutputValue"]
            for o in boto3.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0].get("Outputs", [])
        }
        return cls(
            Table(boto3.resource("dynamodb").Table(outputs["TableName"])),
            boto3.client("sqs"),
            outputs["SyncQueueUrl"],
            outputs["SyncDeadLetterQueueUrl"],
        )

    def service(self, connection_id: str) -> SettingsService:
        def offline(*_: Any) -> Any:
            raise RuntimeError("this needs the provider APIs: use the settings API")

        return SettingsService(connection_id, self.table, offline, offline, self.send)

    def send(self, signals: list[SyncSignal]) -> int:
        return SignalQueue(self.sqs, self.queue_url).send(signals, lambda s: s.default_group())


def status(stack: Stack, out: Out) -> None:
    for connection in ConnectionRepository(stack.table).all_connections():
        out(
            f"{connection.connection_id}  portal {connection.portal_id} <-> realm {connection.realm_id or '-'} "
            f"({connection.company_name or '-'}): {connection.status.value}"
        )
        service = stack.service(connection.connection_id)
        for pair in CONFIGURABLE:
            state = service.status(pair)
            job = state["job"]
            progress = f"job {job['status']} {job['done']}/{job['total']}" if job else "no job"
            out(
                f"  {pair.value:9} {state['state'].replace('_', ' '):10}  {state['linked']:6} linked  "
                f"{state['errors']:4} errors  {progress}"
            )


def errors(stack: Stack, out: Out) -> None:
    for connection in ConnectionRepository(stack.table).all_connections():
        cursor: str | None = None
        while True:
            page = stack.service(connection.connection_id).errors(
                pair=None, side=None, category=None, limit=100, cursor=cursor
            )
            for e in page.items:
                record = f"{connection.connection_id} {e['pair']} {e['side']} {e['record_id']}"
                out(f"{record}  [{e['category']}] {e['message']}")
                out(f"    fix: {e['fix']}  (attempts {e['attempts']}, last {e['last_seen']})")
            cursor = page.cursor
            if cursor is None:
                break


def history(stack: Stack, out: Out, connection_id: str, record: tuple[Pair, Side, str]) -> None:
    """What happened to one record (pair, side, id), newest first, in sentences."""
    pair, side, record_id = record
    cursor: str | None = None
    shown = 0
    while True:
        page = stack.service(connection_id).history(limit=100, cursor=cursor, pair=pair, record=(side, record_id))
        for entry in page.items:
            when = datetime.fromtimestamp(float(entry["at"]), UTC).strftime("%Y-%m-%d %H:%M:%S")
            out(f"{when}  {entry['text']}")
            shown += 1
        cursor = page.cursor
        if cursor is None:
            break
    if not shown:
        out(f"nothing recorded for {pair} {side} {record_id} (history is kept 30 days)")


def _replayable(body: str) -> str:
    """A dead-lettered signal as it is sent back: no longer taken as noted in its lane (its notes went when it was
    dead-lettered), so its records are read again whatever the lane holds."""
    try:
        signal = json.loads(body)
    except ValueError:
        return body  # not a signal: the worker reports it again
    return json.dumps({**signal, "in_lane": False}) if isinstance(signal, dict) else body


def replay_dead_letters(stack: Stack, out: Out, limit: int) -> int:
    """Send dead-lettered signals back to the sync queue (same group, fresh deduplication id)."""
    moved = 0
    while moved < limit:
        batch = stack.sqs.receive_message(
            QueueUrl=stack.dead_letter_url,
            MaxNumberOfMessages=min(10, limit - moved),
            AttributeNames=["MessageGroupId"],
            WaitTimeSeconds=1,
        ).get("Messages", [])
        if not batch:
            break
        for message in batch:
            stack.sqs.send_message(
                QueueUrl=stack.queue_url,
                MessageBody=_replayable(message["Body"]),
                MessageGroupId=message["Attributes"]["MessageGroupId"],
                MessageDeduplicationId=f"replay-{message['MessageId']}",
            )
            stack.sqs.delete_message(QueueUrl=stack.dead_letter_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    out(f"{moved} dead-lettered signal(s) sent back to the sync queue")
    return moved


def main(argv: list[str] | None = None, out: Out = print) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hubbooks.cli", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stack", default=os.environ.get("HUBBOOKS_STACK", "hubbooks"), help="CloudFormation stack")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("status", help="connections, syncs, links, errors and jobs")
    commands.add_parser("errors", help="records that cannot sync, why, and the fix")
    resync = commands.add_parser("resync", help="sync one record again")
    resync.add_argument("connection_id")
    resync.add_argument("pair", choices=[p.value for p in CONFIGURABLE])
    resync.add_argument("side", choices=[s.value for s in Side])
    resync.add_argument("record_id")
    story = commands.add_parser("history", help="what happened to one record, in sentences")
    story.add_argument("connection_id")
    story.add_argument("pair", choices=[p.value for p in CONFIGURABLE])
    story.add_argument("side", choices=[s.value for s in Side])
    story.add_argument("record_id")
    replay = commands.add_parser("replay-dlq", help="send dead-lettered signals back to the sync queue")
    replay.add_argument("--max", type=int, default=1000)
    register = commands.add_parser("register-action", help="register the workflow actions with the HubSpot app")
    register.add_argument("--actions-url", required=True, help="https://<api>/actions")
    register.add_argument("--api-base", default=os.environ.get("HUBSPOT_API_BASE", HUBSPOT_API))
    register.add_argument("--app-id", default=os.environ.get("HUBSPOT_APP_ID", ""))
    register.add_argument("--developer-key", default=os.environ.get("HUBSPOT_DEVELOPER_API_KEY", ""))
    args = parser.parse_args(argv)
    if args.command == "register-action":
        if not args.app_id or not args.developer_key:
            parser.error("the HubSpot app id and developer API key are needed (--app-id/--developer-key or env)")
        registered = register_actions(
            api_base=args.api_base, app_id=args.app_id, developer_key=args.developer_key, actions_url=args.actions_url
        )
        for name, definition_id in registered.items():
            out(f"workflow action definition {definition_id} -> {args.actions_url.rstrip('/')}/{name}")
        return 0
    stack = Stack.named(args.stack)
    if args.command == "status":
        status(stack, out)
    elif args.command == "errors":
        errors(stack, out)
    elif args.command == "resync":
        queued = stack.service(args.connection_id).resync_record(Pair(args.pair), Side(args.side), args.record_id)
        out(f"{queued} signal queued")
    elif args.command == "history":
        history(stack, out, args.connection_id, (Pair(args.pair), Side(args.side), args.record_id))
    elif args.command == "replay-dlq":
        replay_dead_letters(stack, out, args.max)
    return 0


if __name__ == "__main__":
    sys.exit(main())
