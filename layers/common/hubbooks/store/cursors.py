"""The sweep's watermarks, one per connection, provider and object."""

from datetime import datetime

from hubbooks.store.keys import connection_pk, cursor_sk
from hubbooks.store.table import Table


class CursorRepository:
    def __init__(self, table: Table, connection_id: str) -> None:
        self.table = table
        self.pk = connection_pk(connection_id)

    def get(self, provider: str, name: str) -> datetime | None:
        item = self.table.resource.get_item(
            Key={"PK": self.pk, "SK": cursor_sk(provider, name)}, ConsistentRead=True
        ).get("Item")
        return datetime.fromisoformat(str(item["watermark"])) if item else None

    def put(self, provider: str, name: str, watermark: datetime) -> None:
        self.table.resource.put_item(
            Item={"PK": self.pk, "SK": cursor_sk(provider, name), "watermark": watermark.isoformat()}
        )
