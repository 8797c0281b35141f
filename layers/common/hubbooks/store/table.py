"""The single DynamoDB table: key helpers and whole-partition operations."""

from collections.abc import Iterator
from typing import Any

from boto3.dynamodb.conditions import Key


def connection_pk(connection_id: str) -> str:
    return f"CONN#{connection_id}"


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
