"""Pair settings items (`SYNC#{pair}`): read with defaults, written only over the version the editor read."""

import json
from typing import Any

from botocore.exceptions import ClientError

from hubbooks.models.signals import Pair
from hubbooks.models.sync_config import SyncConfig
from hubbooks.store.keys import connection_pk, settings_sk
from hubbooks.store.table import Table


class StaleSettingsError(Exception):
    """Someone saved these settings after the editor read them."""


class SyncSettingsRepository:
    def __init__(self, table: Table, connection_id: str) -> None:
        self.table = table
        self.pk = connection_pk(connection_id)

    def get(self, pair: Pair) -> SyncConfig:
        item = self.table.resource.get_item(Key={"PK": self.pk, "SK": settings_sk(pair)}, ConsistentRead=True).get(
            "Item"
        )
        return self.from_item(pair, item)

    def get_many(self, pairs: tuple[Pair, ...]) -> dict[Pair, SyncConfig]:
        """Several pairs' settings in one read."""
        items = self.table.get_many([{"PK": self.pk, "SK": settings_sk(p)} for p in pairs], consistent=True)
        by_sk = {str(item["SK"]): item for item in items}
        return {pair: self.from_item(pair, by_sk.get(settings_sk(pair))) for pair in pairs}

    @staticmethod
    def from_item(pair: Pair, item: dict[str, Any] | None) -> SyncConfig:
        if item is None:  # a connection made before set-up existed syncs as it did; companies came later
            return SyncConfig.not_set_up(pair) if pair is Pair.COMPANIES else SyncConfig.default(pair)
        body = json.loads(str(item["config"])) if "config" in item else {}
        if not body.get("mappings"):
            body["mappings"] = SyncConfig.default(pair).model_dump()["mappings"]
        return SyncConfig.model_validate({**body, "pair": pair, "version": int(item.get("version", 0))})

    def create_not_set_up(self, pairs: tuple[Pair, ...]) -> list[dict[str, Any]]:
        """The put items of a new connection's pairs, not set up (written with the connection itself)."""
        return [self._item(SyncConfig.not_set_up(pair).model_copy(update={"version": 1})) for pair in pairs]

    def set_up_as_is(self, pairs: tuple[Pair, ...]) -> list[Pair]:
        """Mark pairs not set up as set up and on, with the settings they hold, as connections made before
        set-up existed are (an operator's step, without a preview); answers the pairs marked."""
        marked = []
        for pair in pairs:
            current = self.get(pair)
            if not current.set_up:
                self.save(current.model_copy(update={"set_up": True, "enabled": True}), current.version)
                marked.append(pair)
        return marked

    def _item(self, config: SyncConfig) -> dict[str, Any]:
        return {
            "PK": self.pk,
            "SK": settings_sk(config.pair),
            "version": config.version,
            "enabled": config.syncing,
            "config": config.model_dump_json(exclude={"pair", "version"}),
        }

    def save(self, config: SyncConfig, read_version: int) -> SyncConfig:
        """Store `config` as version read_version + 1, unless another save came first."""
        saved = config.model_copy(update={"version": read_version + 1})
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(PK) OR version = :v", "ExpressionAttributeValues": {":v": 0}}
            if read_version == 0
            else {"ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": read_version}}
        )
        try:
            self.table.resource.put_item(Item=self._item(saved), **condition)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise StaleSettingsError(str(config.pair)) from exc
            raise
        return saved
