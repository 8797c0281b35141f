"""The engine's store port on DynamoDB: pair settings, links (both items in one transaction), sync errors,
history. Every key starts with the connection's partition."""

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from hubbooks.models.signals import Pair, Side
from hubbooks.models.sync_config import SyncConfig
from hubbooks.store.keys import (
    connection_pk,
    decision_sk,
    error_sk,
    errors_prefix,
    exclusion_sk,
    history_sk,
    intent_sk,
    last_part,
    link_sk,
)
from hubbooks.store.links import LinkLookup
from hubbooks.store.sync_settings import SyncSettingsRepository
from hubbooks.store.table import Table
from hubbooks.sync.models import (
    BatchCreate,
    Conflicts,
    Decision,
    IntentNote,
    Link,
    Noted,
    PairSettings,
    SyncFailure,
    ours_noted,
)
from hubbooks.sync.ports import LinkConflictError

HISTORY_DAYS = 30
INTENT_DAYS = 7  # a sync that stopped between its writes and the link is retried well within this
TRANSACTION = 100  # items in one TransactWriteItems
LINKS_PER_TRANSACTION = TRANSACTION // 2  # a link is two items


class DynamoSyncStore:
    def __init__(self, table: Table, connection_id: str) -> None:
        self.table = table
        self.connection_id = connection_id
        self.pk = connection_pk(connection_id)
        self._configs: dict[Pair, SyncConfig] = {}

    def settings(self, pair: Pair) -> PairSettings:
        return self.config(pair).pair_settings()

    def config(self, pair: Pair) -> SyncConfig:
        """The pair's settings, read once per store (a store lives for one signal or one batch)."""
        if pair not in self._configs:
            self._configs[pair] = SyncSettingsRepository(self.table, self.connection_id).get(pair)
        return self._configs[pair]

    def configs(self, pairs: tuple[Pair, ...]) -> dict[Pair, SyncConfig]:
        """Several pairs' settings, those not read yet in one read."""
        if unread := tuple(p for p in pairs if p not in self._configs):
            self._configs |= SyncSettingsRepository(self.table, self.connection_id).get_many(unread)
        return {pair: self._configs[pair] for pair in pairs}

    def link_of(self, pair: Pair, side: Side, record_id: str) -> Link | None:
        item = self.table.resource.get_item(
            Key={"PK": self.pk, "SK": link_sk(pair, side, record_id)}, ConsistentRead=True
        ).get("Item")
        return None if item is None else _link(pair, side, record_id, item)

    def links_of(self, pair: Pair, side: Side, record_ids: list[str]) -> dict[str, Link | None]:
        """The links of many records of one side at once (None for records not linked)."""
        found: dict[str, Link | None] = dict.fromkeys(record_ids)
        for item in LinkLookup(self.table).items(self.connection_id, pair, side, record_ids, consistent=True):
            record_id = last_part(item["SK"])
            found[record_id] = _link(pair, side, record_id, item)
        return found

    def _link_item(self, link: Link, side: Side, version: int) -> dict[str, Any]:
        own, other = (link.hubspot_id, link.qbo_id) if side is Side.HUBSPOT else (link.qbo_id, link.hubspot_id)
        return {
            "PK": self.pk,
            "SK": link_sk(link.pair, side, own),
            "other_id": other,
            "base": link.base,
            "seen": link.seen,
            "version": version,
            "updated_at": datetime.now(UTC).isoformat(),
        }

    def save_link(self, link: Link, previous: Link | None) -> Link:
        """Write both link items, only if nobody changed them since `previous` was read."""
        saved = link.at((previous.version if previous else 0) + 1)
        self._transact(self._link_puts(saved, previous.version if previous else None), f"{link.pair} {link.hubspot_id}")
        return saved

    def save_links(self, links: list[tuple[Link, int | None]]) -> list[Link]:
        """Save links, each at its own version and only if its items still hold the version it was read at (None:
        no record of it was linked), 50 to a transaction; answers those that could not be saved because another
        worker saved a link of one of their records meanwhile. A transaction that meets such a link is cancelled
        whole, and its links are then saved one by one."""
        conflicted: list[Link] = []
        for start in range(0, len(links), LINKS_PER_TRANSACTION):
            chunk = links[start : start + LINKS_PER_TRANSACTION]
            try:
                self._transact([put for one in chunk for put in self._link_puts(*one)], f"{len(chunk)} links")
                continue
            except LinkConflictError:
                pass
            for link, held in chunk:
                try:
                    self._transact(self._link_puts(link, held), f"{link.pair} {link.hubspot_id}")
                except LinkConflictError:
                    conflicted.append(link)
        return conflicted

    def _link_puts(self, link: Link, held: int | None) -> list[dict[str, Any]]:
        """Both items of a link at its version, if they are this link at version `held` (None: if they do not
        exist): a record linked elsewhere meanwhile, even at that version, is not written over."""

        def put(side: Side) -> dict[str, Any]:
            item = {"TableName": self.table.name, "Item": self._link_item(link, side, link.version)}
            if held is None:
                return item | {"ConditionExpression": "attribute_not_exists(PK)"}
            values = {":v": held, ":o": link.other(side)}
            return item | {"ConditionExpression": "version = :v AND other_id = :o", "ExpressionAttributeValues": values}

        return [{"Put": put(side)} for side in (Side.HUBSPOT, Side.QUICKBOOKS)]

    def decision(self, pair: Pair, side: Side, record_id: str) -> Decision | None:
        item = self.table.resource.get_item(Key={"PK": self.pk, "SK": decision_sk(pair, side, record_id)}).get("Item")
        return None if item is None else Decision(str(item["choice"]), str(item.get("other_id", "")))

    def decisions_of(self, pair: Pair, side: Side, record_ids: list[str]) -> dict[str, Decision | None]:
        """The decisions of many records of one side at once (None for records without one)."""
        keys = [{"PK": self.pk, "SK": decision_sk(pair, side, i)} for i in dict.fromkeys(record_ids)]
        found: dict[str, Decision | None] = dict.fromkeys(record_ids)
        for item in self.table.get_many(keys):
            found[last_part(item["SK"])] = Decision(str(item["choice"]), str(item.get("other_id", "")))
        return found

    def decide(self, pair: Pair, side: Side, record_id: str, decision: Decision | None) -> None:
        """Store a person's decision for a record (None: take it back)."""
        key = {"PK": self.pk, "SK": decision_sk(pair, side, record_id)}
        if decision is None:
            self.table.resource.delete_item(Key=key)
        else:
            self.table.resource.put_item(Item=key | {"choice": decision.choice, "other_id": decision.other_id})

    def record_exclusion(self, pair: Pair, side: Side, record_id: str, reason: str, name: str) -> None:
        self.table.resource.put_item(
            Item={
                "PK": self.pk,
                "SK": exclusion_sk(pair, side, record_id),
                "pair": str(pair),
                "side": str(side),
                "record_id": record_id,
                "name": name,
                "reason": reason,
                "at": datetime.now(UTC).isoformat(),
                "ttl": int(time.time()) + HISTORY_DAYS * 86400,
            }
        )

    def forget_exclusion(self, pair: Pair, side: Side, record_id: str) -> None:
        self.table.resource.delete_item(Key={"PK": self.pk, "SK": exclusion_sk(pair, side, record_id)})

    def save_intent(
        self, link: Link, writes: dict[str, dict[str, str]], qbo_token: str, conflicts: Conflicts = ()
    ) -> None:
        """One item per linked pair, one attribute per side: a sync writing one side leaves the other's note."""
        self.save_intents([(link, writes, qbo_token, conflicts)])

    def save_intents(self, intents: list[IntentNote]) -> None:
        """The intents of many links, as save_intent notes one: transactions of 100 updates (one item once a
        transaction: the last note of a pair wins); a transaction that is cancelled (another write to one of its
        items meanwhile) is written update by update."""
        updates = list({u["Key"]["SK"]: u for one in intents if (u := self._intent_update(*one))}.values())
        for start in range(0, len(updates), TRANSACTION):
            chunk = updates[start : start + TRANSACTION]
            if len(chunk) > 1:
                try:
                    items = [{"Update": {"TableName": self.table.name, **u}} for u in chunk]
                    self.table.client.transact_write_items(TransactItems=items)
                    continue
                except ClientError as exc:
                    if exc.response["Error"]["Code"] != "TransactionCanceledException":
                        raise
            for update in chunk:
                self.table.resource.update_item(**update)

    def _intent_update(
        self, link: Link, writes: dict[str, dict[str, str]], qbo_token: str, conflicts: Conflicts
    ) -> dict[str, Any]:
        noted = {
            side: {"values": values, "version": link.version, "qbo_id": link.qbo_id, "token": qbo_token}
            | ({"conflicts": [dict(c) for c in conflicts]} if conflicts else {})
            for side, values in writes.items()
            if values
        }
        if not noted:
            return {}
        names = {f"#{n}": f"intent_{side}" for n, side in enumerate(noted)}
        values: dict[str, Any] = {f":{n}": note for n, note in enumerate(noted.values())}
        return {
            "Key": {"PK": self.pk, "SK": intent_sk(link.pair, link.hubspot_id)},
            "UpdateExpression": "SET " + ", ".join(f"#{n} = :{n}" for n in range(len(noted))) + ", #ttl = :ttl",
            "ExpressionAttributeNames": names | {"#ttl": "ttl"},
            "ExpressionAttributeValues": values | {":ttl": int(time.time()) + INTENT_DAYS * 86400},
        }

    def note_creation(self, pair: Pair, hubspot_id: str, values: dict[str, str]) -> BatchCreate | None:
        note = _creation_note(values)
        if self._notes_if(pair, {hubspot_id: (note, {})}, "attribute_not_exists(#q.#b)"):
            return None
        return _batch_of(self._intent_item(pair, hubspot_id))

    def claim_creations(
        self, pair: Pair, creations: dict[str, tuple[dict[str, str], BatchCreate]]
    ) -> dict[str, BatchCreate]:
        """Claimed together, a transaction of up to 100 records a call. A record another batch claimed cancels
        its whole transaction; that transaction's records are then claimed one by one (a conditional write each),
        and a record claimed before answers the earlier batch."""
        condition = "attribute_not_exists(#q) OR #q.#b.request_id = :r"
        entries = list(creations.items())
        claimed: dict[str, BatchCreate] = {}
        for start in range(0, len(entries), TRANSACTION):
            chunk = dict(entries[start : start + TRANSACTION])
            notes = {
                i: (_creation_note(values, batch), {":r": batch.request_id}) for i, (values, batch) in chunk.items()
            }
            if len(chunk) > 1 and self._notes_if(pair, notes, condition):
                claimed |= {i: batch for i, (_, batch) in chunk.items()}
                continue
            for hubspot_id, (note, values) in notes.items():
                if self._notes_if(pair, {hubspot_id: (note, values)}, condition):
                    claimed[hubspot_id] = chunk[hubspot_id][1]
                elif (earlier := _batch_of(self._intent_item(pair, hubspot_id))) is not None:
                    claimed[hubspot_id] = earlier
        return claimed

    def _notes_if(self, pair: Pair, notes: dict[str, tuple[dict[str, Any], dict[str, Any]]], condition: str) -> bool:
        """Write QuickBooks' side of each record's intent (note, condition's values) if `condition` holds for every
        one (one record: a conditional write; more: a transaction); answers whether they were written."""
        expires = int(time.time()) + INTENT_DAYS * 86400
        updates = [
            {
                "Key": {"PK": self.pk, "SK": intent_sk(pair, hubspot_id)},
                "UpdateExpression": "SET #q = :n, #ttl = :ttl",
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#q": f"intent_{Side.QUICKBOOKS}", "#b": "batch", "#ttl": "ttl"},
                "ExpressionAttributeValues": values | {":n": note, ":ttl": expires},
            }
            for hubspot_id, (note, values) in notes.items()
        ]
        try:
            if len(updates) == 1:
                self.table.resource.update_item(**updates[0])
            else:
                items = [{"Update": {"TableName": self.table.name, **update}} for update in updates]
                self.table.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code not in ("ConditionalCheckFailedException", "TransactionCanceledException"):
                raise
            return False
        return True

    def _intent_item(self, pair: Pair, hubspot_id: str) -> dict[str, Any]:
        key = {"PK": self.pk, "SK": intent_sk(pair, hubspot_id)}
        return self.table.resource.get_item(Key=key, ConsistentRead=True).get("Item") or {}

    def _notes(self, link: Link) -> dict[str, Any]:
        item = self.table.resource.get_item(
            Key={"PK": self.pk, "SK": intent_sk(link.pair, link.hubspot_id)}, ConsistentRead=True
        ).get("Item")
        return {side: (item or {}).get(f"intent_{side}") for side in (Side.HUBSPOT.value, Side.QUICKBOOKS.value)}

    def noted(self, link: Link, qbo_token: str) -> Noted:
        return ours_noted(self._notes(link), link, qbo_token)

    def intent(self, link: Link, qbo_token: str) -> dict[str, dict[str, str]]:
        return self.noted(link, qbo_token).writes

    def delete_link(self, link: Link) -> None:
        """Delete both link items, only if they still are this link as read: an item another worker rewrote
        meanwhile (a link moved by a merge) must not lose its other half."""
        items = [
            {
                "Delete": {
                    "TableName": self.table.name,
                    "Key": {"PK": self.pk, "SK": link_sk(link.pair, side, own)},
                    "ConditionExpression": "version = :v AND other_id = :o",
                    "ExpressionAttributeValues": {":v": link.version, ":o": other},
                }
            }
            for side, own, other in (
                (Side.HUBSPOT, link.hubspot_id, link.qbo_id),
                (Side.QUICKBOOKS, link.qbo_id, link.hubspot_id),
            )
        ]
        self._transact(items, f"{link.pair} {link.hubspot_id}: changed since it was read")

    def _transact(self, items: list[dict[str, Any]], conflict: str) -> None:
        """Both items of a link at once; a condition that fails means another worker changed the link."""
        try:
            self.table.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                raise LinkConflictError(conflict) from exc
            raise

    def record_failure(self, pair: Pair, side: Side, record_id: str, failure: SyncFailure) -> None:
        now = datetime.now(UTC).isoformat()
        self.table.resource.update_item(
            Key={"PK": self.pk, "SK": error_sk(pair, side, record_id)},
            UpdateExpression="SET category = :c, message = :m, fix = :f, last_seen = :now, "
            "first_seen = if_not_exists(first_seen, :now), attempts = if_not_exists(attempts, :zero) + :one, "
            "pair = :p, side = :s, record_id = :r",
            ExpressionAttributeValues={
                ":c": failure.category,
                ":m": failure.message[:1000],
                ":f": failure.fix,
                ":now": now,
                ":zero": 0,
                ":one": 1,
                ":p": str(pair),
                ":s": str(side),
                ":r": record_id,
            },
        )

    def failure(self, pair: Pair, side: Side, record_id: str) -> SyncFailure | None:
        item = self.table.resource.get_item(Key={"PK": self.pk, "SK": error_sk(pair, side, record_id)}).get("Item")
        return SyncFailure(str(item["category"]), str(item["message"]), str(item["fix"])) if item else None

    def clear_failure(self, pair: Pair, side: Side, record_id: str) -> None:
        try:
            self.table.resource.delete_item(
                Key={"PK": self.pk, "SK": error_sk(pair, side, record_id)}, ConditionExpression="attribute_exists(PK)"
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def failing(self, pair: Pair) -> set[tuple[str, str]]:
        """(side, record id) of every record of the pair with a sync error."""
        return {
            (str(item["side"]), str(item["record_id"])) for item in self.table.partition(self.pk, errors_prefix(pair))
        }

    def _history_item(self, entry: dict[str, Any]) -> dict[str, Any]:
        clean = {k: (str(v) if isinstance(v, float) else v) for k, v in entry.items()}
        return {
            "PK": self.pk,
            "SK": history_sk(datetime.now(UTC).isoformat(), uuid.uuid4().hex[:8]),
            "ttl": int(time.time()) + HISTORY_DAYS * 86400,
            **clean,
        }

    def add_history(self, entry: dict[str, Any]) -> None:
        self.table.resource.put_item(Item=self._history_item(entry))

    def add_histories(self, entries: list[dict[str, Any]]) -> None:
        with self.table.resource.batch_writer() as batch:
            for entry in entries:
                batch.put_item(Item=self._history_item(entry))


def _link(pair: Pair, side: Side, record_id: str, item: dict[str, Any]) -> Link:
    hubspot_id, qbo_id = (
        (record_id, str(item["other_id"])) if side is Side.HUBSPOT else (str(item["other_id"]), record_id)
    )
    return Link(
        pair,
        hubspot_id,
        qbo_id,
        {k: str(v) for k, v in (item.get("base") or {}).items()},
        int(item.get("version", 0)),
        {k: str(v) for k, v in (item.get("seen") or {}).items()},
    )


def _creation_note(values: dict[str, str], batch: BatchCreate | None = None) -> dict[str, Any]:
    """QuickBooks' side of the intent noted before a create (link version 0, no record yet), with its batch."""
    note: dict[str, Any] = {"values": values, "version": 0, "qbo_id": "", "token": "0"}
    if batch is not None:
        note["batch"] = {"request_id": batch.request_id, "bid": batch.bid}
    return note


def _batch_of(item: dict[str, Any]) -> BatchCreate | None:
    batch = (item.get(f"intent_{Side.QUICKBOOKS}") or {}).get("batch")
    return None if not batch else BatchCreate(str(batch["request_id"]), str(batch["bid"]))
