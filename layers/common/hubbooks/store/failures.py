"""How often a queued signal failed for a reason other than a throttle or an outage. The worker dead-letters a
signal at the limit by this count, not by the queue's receive count, which every throttle raises too."""

import time

from hubbooks.store.keys import signal_failures_pk
from hubbooks.store.table import Table

KEEP_DAYS = 4  # as long as the sync queue keeps a message


class SignalFailures:
    def __init__(self, table: Table) -> None:
        self.table = table

    def add(self, message_id: str) -> int:
        """Count one more failure of the message; answers how many it has had."""
        answer = self.table.resource.update_item(
            Key={"PK": signal_failures_pk(message_id), "SK": "FAILURES"},
            UpdateExpression="ADD failures :one SET #ttl = :ttl",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={":one": 1, ":ttl": int(time.time()) + KEEP_DAYS * 86400},
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["failures"])
