"""Connections, and the pointer items that make one portal ↔ one realm a rule the table enforces."""

from collections.abc import Iterator
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from hubbooks.models.connection import Connection, ConnectionStatus, utc_now
from hubbooks.models.signals import Pair
from hubbooks.models.sync_config import CONFIGURABLE
from hubbooks.store.keys import (
    ACTIVE_INDEX,
    ACTIVE_PK,
    CONNECTION_PK_PREFIX,
    META,
    connection_pk,
    lane_pk,
    live_lane,
    portal_key,
    realm_index_pk,
    realm_key,
)
from hubbooks.store.sync_settings import SyncSettingsRepository
from hubbooks.store.table import Table


class ConnectionGoneError(Exception):
    """The connection was deleted (disconnected) while it was being changed."""


class RealmTakenError(Exception):
    """The QuickBooks company is already connected to another HubSpot account."""

    def __init__(self, owner: Connection | None) -> None:
        super().__init__("realm already connected")
        self.owner = owner


class ConnectionRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def _item(self, connection: Connection) -> dict[str, Any]:
        item: dict[str, Any] = {
            "PK": connection_pk(connection.connection_id),
            "SK": META,
            **connection.model_dump(mode="json"),
        }
        if connection.realm_id:
            item |= {
                "GSI1PK": realm_index_pk(connection.realm_id),
                "GSI1SK": connection_pk(connection.connection_id),
            }
            if connection.status is ConnectionStatus.ACTIVE:
                item |= {"ActivePK": ACTIVE_PK, "ActiveSK": connection.connection_id}
        return item

    def get(self, connection_id: str) -> Connection | None:
        item = self.table.resource.get_item(
            Key={"PK": connection_pk(connection_id), "SK": META}, ConsistentRead=True
        ).get("Item")
        return None if item is None else Connection.model_validate(item)

    def by_portal(self, portal_id: int) -> Connection | None:
        pointer = self.table.resource.get_item(Key=portal_key(portal_id), ConsistentRead=True).get("Item")
        return None if pointer is None else self.get(str(pointer["connection_id"]))

    def by_realm(self, realm_id: str) -> Connection | None:
        """Through the realm's pointer item, read consistently (as portals are): the index could still show a
        connection that was deleted, or not yet show the one that took the realm."""
        pointer = self.table.resource.get_item(Key=realm_key(realm_id), ConsistentRead=True).get("Item")
        return None if pointer is None else self.get(str(pointer["connection_id"]))

    def all_connections(self) -> list[Connection]:
        """Every connection, whatever its state (the operator's listing: a scan)."""
        kwargs: dict[str, Any] = {
            "FilterExpression": Attr("SK").eq(META) & Attr("PK").begins_with(CONNECTION_PK_PREFIX)
        }
        found: list[Connection] = []
        while True:
            page = self.table.resource.scan(**kwargs)
            found += [Connection.model_validate(item) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def active(self) -> Iterator[Connection]:
        """The connections the sweep visits (active, with a company), from the sparse index: what a tick reads
        grows with them, not with the table's links, history and errors."""
        kwargs: dict[str, Any] = {"IndexName": ACTIVE_INDEX, "KeyConditionExpression": Key("ActivePK").eq(ACTIVE_PK)}
        while True:
            page = self.table.resource.query(**kwargs)
            yield from (Connection.model_validate(item) for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def create(self, connection: Connection) -> Connection:
        """Store a new connection and claim its portal (the claim fails if another connection has it), with
        every pair not set up: nothing syncs until a person has set each pair up."""
        pairs = SyncSettingsRepository(self.table, connection.connection_id).create_not_set_up(CONFIGURABLE)
        self.table.client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.table.name,
                        "Item": self._serialise(self._item(connection)),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {
                    "Put": {
                        "TableName": self.table.name,
                        "Item": self._serialise(
                            {**portal_key(connection.portal_id), "connection_id": connection.connection_id}
                        ),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                *({"Put": {"TableName": self.table.name, "Item": item}} for item in pairs),
            ]
        )
        return connection

    def save(self, connection: Connection) -> Connection:
        """Write a connection that exists; one deleted meanwhile (a disconnect) is not brought back."""
        connection.updated_at = utc_now()
        try:
            self.table.resource.put_item(Item=self._item(connection), ConditionExpression="attribute_exists(PK)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConnectionGoneError(connection.connection_id) from exc
            raise
        return connection

    def bind_realm(self, connection: Connection, realm_id: str) -> Connection:
        """Bind the realm to this connection, atomically refusing a realm another connection holds."""
        connection.realm_id = realm_id
        connection.updated_at = utc_now()
        try:
            self.table.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table.name,
                            "Item": self._serialise({**realm_key(realm_id), "connection_id": connection.connection_id}),
                            "ConditionExpression": "attribute_not_exists(PK) OR connection_id = :me",
                            "ExpressionAttributeValues": self._serialise({":me": connection.connection_id}),
                        }
                    },
                    {"Put": {"TableName": self.table.name, "Item": self._serialise(self._item(connection))}},
                ]
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            pointer = self.table.resource.get_item(Key=realm_key(realm_id), ConsistentRead=True).get("Item")
            raise RealmTakenError(self.get(str(pointer["connection_id"])) if pointer else None) from exc
        return connection

    def delete(self, connection: Connection) -> int:
        """Forget the connection and everything stored under it."""
        deleted = self.table.delete_partition(connection_pk(connection.connection_id))
        for pair in Pair:  # the live changes still noted in its lanes
            deleted += self.table.delete_partition(lane_pk(live_lane(connection.connection_id, pair)))
        self.table.resource.delete_item(
            Key=portal_key(connection.portal_id),
            ConditionExpression="connection_id = :me",
            ExpressionAttributeValues={":me": connection.connection_id},
        )
        if connection.realm_id:
            try:
                self.table.resource.delete_item(
                    Key=realm_key(connection.realm_id),
                    ConditionExpression="connection_id = :me",
                    ExpressionAttributeValues={":me": connection.connection_id},
                )
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise
        return deleted

    @staticmethod
    def _serialise(item: dict[str, Any]) -> dict[str, Any]:
        """Drop empty values; the resource's client serialises the rest for DynamoDB."""
        return {k: v for k, v in item.items() if v is not None}
