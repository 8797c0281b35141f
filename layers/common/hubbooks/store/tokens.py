"""Encrypted tokens per connection and provider, with the lease that serialises refreshes."""

import time
from dataclasses import dataclass
from decimal import Decimal

from botocore.exceptions import ClientError

from hubbooks.models.connection import Provider
from hubbooks.store.keys import connection_pk, token_sk
from hubbooks.store.table import Table


@dataclass(frozen=True)
class StoredTokens:
    ciphertext: str
    expires_at: float
    version: int
    lease_until: float


def _key(connection_id: str, provider: Provider) -> dict[str, str]:
    return {"PK": connection_pk(connection_id), "SK": token_sk(provider)}


class TokenRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, connection_id: str, provider: Provider) -> StoredTokens | None:
        item = self.table.resource.get_item(Key=_key(connection_id, provider), ConsistentRead=True).get("Item")
        if item is None:
            return None
        return StoredTokens(
            str(item["ciphertext"]),
            float(item["expires_at"]),
            int(item["version"]),
            float(item.get("lease_until", 0)),
        )

    def put(self, connection_id: str, provider: Provider, ciphertext: str, expires_at: float) -> None:
        """Store freshly granted tokens (a new install or reconnect), replacing whatever was there."""
        self.table.resource.update_item(
            Key=_key(connection_id, provider),
            UpdateExpression="SET ciphertext = :c, expires_at = :e, version = if_not_exists(version, :zero) + :one "
            "REMOVE lease_owner, lease_until",
            ExpressionAttributeValues={
                ":c": ciphertext,
                ":e": Decimal(str(round(expires_at, 3))),
                ":zero": 0,
                ":one": 1,
            },
        )

    def acquire_lease(self, connection_id: str, provider: Provider, owner: str, seconds: float) -> bool:
        now = time.time()
        try:
            self.table.resource.update_item(
                Key=_key(connection_id, provider),
                UpdateExpression="SET lease_owner = :me, lease_until = :until",
                ConditionExpression=(
                    "attribute_exists(PK) AND (attribute_not_exists(lease_until) OR lease_until < :now)"
                ),
                ExpressionAttributeValues={
                    ":me": owner,
                    ":until": Decimal(str(round(now + seconds, 3))),
                    ":now": Decimal(str(round(now, 3))),
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def replace_under_lease(
        self, connection_id: str, provider: Provider, owner: str, ciphertext: str, expires_at: float
    ) -> bool:
        """Write refreshed tokens only while still holding the lease; releases it."""
        try:
            self.table.resource.update_item(
                Key=_key(connection_id, provider),
                UpdateExpression="SET ciphertext = :c, expires_at = :e, version = version + :one "
                "REMOVE lease_owner, lease_until",
                ConditionExpression="lease_owner = :me",
                ExpressionAttributeValues={
                    ":c": ciphertext,
                    ":e": Decimal(str(round(expires_at, 3))),
                    ":one": 1,
                    ":me": owner,
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release(self, connection_id: str, provider: Provider, owner: str) -> None:
        try:
            self.table.resource.update_item(
                Key=_key(connection_id, provider),
                UpdateExpression="REMOVE lease_owner, lease_until",
                ConditionExpression="lease_owner = :me",
                ExpressionAttributeValues={":me": owner},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def delete(self, connection_id: str, provider: Provider) -> None:
        self.table.resource.delete_item(Key=_key(connection_id, provider))
