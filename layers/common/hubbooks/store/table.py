"""The single DynamoDB table: the queries every repository needs (key layouts live in `keys`)."""

from collections.abc import Iterator
from typing import Any

from boto3.dynamodb.conditions import Key

BATCH_GET = 100  # keys in one BatchGetItem


class Table:
    """A thin wrapper over a boto3 Table resource with the queries every repository needs."""

    def __init__(self, resource: Any) -> None:
        self.resource = resource
        self.client = resource.meta.client
        self.name: str = resource.name

    def partition(self, pk: str, prefix: str | None = None, consistent: bool = True) -> Iterator[dict[str, Any]]:
        condition = Key("PK").eq(pk) & Key("SK").begins_with(prefix) if prefix else Key("PK").eq(pk)
        kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "ConsistentRead": consistent}
        while True:
            page = self.resource.query(**kwargs)
            yield from page["Items"]
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def delete_partition(self, pk: str) -> int:
        deleted = 0
        with self.resource.batch_writer() as batch:
            for item in self.partition(pk):
                batch.delete_item(Key={"PK": item["PK"], "SK": item["SK"]})
                deleted += 1
        return deleted

    def get_many(
        self, keys: list[dict[str, str]], projection: str | None = None, *, consistent: bool = False
    ) -> list[dict[str, Any]]:
        """The items of many keys that exist (BatchGetItem, 100 keys a call, unprocessed keys asked again)."""
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH_GET):
            wanted: dict[str, Any] = {"Keys": keys[start : start + BATCH_GET], "ConsistentRead": consistent}
            request: dict[str, Any] = {self.name: wanted | ({"ProjectionExpression": projection} if projection else {})}
            while request:
                answer = self.resource.meta.client.batch_get_item(RequestItems=request)
                items += answer["Responses"].get(self.name, [])
                request = answer.get("UnprocessedKeys") or {}
        return items

    def count(self, pk: str, prefix: str) -> int:
        """How many items of the partition begin with `prefix` (counted by DynamoDB, not read)."""
        kwargs: dict[str, Any] = {"KeyConditionExpression": Key("PK").eq(pk) & Key("SK").begins_with(prefix)}
        total = 0
        while True:
            page = self.resource.query(Select="COUNT", **kwargs)
            total += int(page["Count"])
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def page(
        self,
        pk: str,
        prefix: str,
        *,
        limit: int,
        start: dict[str, Any] | None = None,
        newest_first: bool = False,
        filters: Any = None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of the items beginning with `prefix`, and the key to continue from (None at the end)."""
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("PK").eq(pk) & Key("SK").begins_with(prefix),
            "ScanIndexForward": not newest_first,
            "Limit": limit,
        }
        if filters is not None:
            kwargs["FilterExpression"] = filters
        if start:
            kwargs["ExclusiveStartKey"] = start
        answer = self.resource.query(**kwargs)
        return answer["Items"], answer.get("LastEvaluatedKey")

    def delete_prefixes(self, pk: str, prefixes: dict[str, str]) -> dict[str, int]:
        """Delete the items under each named prefix of one partition; answers how many of each went."""
        removed = dict.fromkeys(prefixes, 0)
        with self.resource.batch_writer() as batch:
            for name, prefix in prefixes.items():
                for item in self.partition(pk, prefix):
                    batch.delete_item(Key={"PK": item["PK"], "SK": item["SK"]})
                    removed[name] += 1
        return removed
