"""A rate budget per connection and provider, shared by every concurrent Lambda through DynamoDB.

Each limit is a token bucket (capacity C, refill R per second): in any window of T seconds it admits at
most C + R*T calls, so the buckets below stay under the providers' sliding-window limits with headroom.
Calls wait for budget instead of collecting 429s; a 429 that still happens blocks the whole connection.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from botocore.exceptions import ClientError

from hubbooks.errors import RateLimitedError
from hubbooks.store.keys import connection_pk, rate_sk
from hubbooks.store.table import Table


@dataclass(frozen=True)
class Bucket:
    name: str
    capacity: float
    per_second: float


# Each keeps a call's worth of room below its limit, for the time between taking a token and the call's arrival.
# QBO: 10/s and 500/min per realm (1 + 8*1 = 9; 1 + 8*60 = 481); batch: 40/min (1 + 38 = 39, and 38 a minute
# sustained: 95% of the batch ceiling, which an import through the live path runs at).
# HubSpot: 110 per 10 s (5 + 10*10 = 105); search 5/s (1 + 3.5 = 4.5).
BUDGETS: dict[str, dict[str, tuple[Bucket, ...]]] = {
    "quickbooks": {
        "default": (Bucket("calls", 1, 8),),
        "batch": (Bucket("calls", 1, 8), Bucket("batch", 1, 38 / 60)),
    },
    "hubspot": {
        "default": (Bucket("calls", 5, 10),),
        "search": (Bucket("calls", 5, 10), Bucket("search", 1, 3.5)),
    },
}
# A longer wait gives the work back (a signal returns to the queue, a person is asked to retry) instead of
# holding a worker that other connections' signals need.
GIVE_BACK_SECONDS = 5.0
DRAINED = "no token left"
TOKEN_EPSILON = 1e-6  # tokens are stored to six decimals: a refill that lands a hair short is a whole token
_log = logging.getLogger(__name__)


class RateBudget:
    def __init__(
        self,
        table: Table,
        connection_id: str,
        provider: str,
        *,
        time_scale: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._table = table
        self._pk = connection_pk(connection_id)
        self._provider = provider
        self._scale = time_scale
        self._sleep = sleep
        self._clock = clock

    def _key(self, name: str) -> dict[str, str]:
        return {"PK": self._pk, "SK": rate_sk(self._provider, name)}

    def acquire(self, kind: str = "default") -> None:
        """Take a token from every bucket of `kind`, waiting for them a few seconds at most; a longer wait
        (a connection blocked after a 429, a drained budget) raises RateLimitedError with how long."""
        for bucket in BUDGETS[self._provider][kind]:
            self._acquire(bucket)

    def try_acquire(self, kind: str) -> bool:
        """Take a token from every bucket of `kind` if its scarcest one (the last) has one now; False, and
        nothing taken, if not. The others are waited for as `acquire` waits."""
        *others, scarcest = BUDGETS[self._provider][kind]
        if self._take(scarcest) is not None:
            return False
        for bucket in others:
            self._acquire(bucket)
        return True

    def _acquire(self, bucket: Bucket) -> None:
        waited = 0.0
        while (wait := self._take(bucket)) is not None:
            seconds, why = wait
            if waited + seconds > GIVE_BACK_SECONDS:
                _log.debug("rate budget wait given back", extra={"provider": self._provider, "why": why})
                raise RateLimitedError(self._provider, seconds, budget=why == DRAINED)
            self._wait(bucket, seconds, why)
            waited += seconds

    def _take(self, bucket: Bucket) -> tuple[float, str] | None:
        """None once a token is taken; else how long to wait for one, and why."""
        now = self._clock()
        item = self._table.resource.get_item(Key=self._key(bucket.name), ConsistentRead=True).get("Item") or {}
        blocked = float(item.get("blocked_until", 0))
        if blocked > now:
            return blocked - now, "blocked after a 429"
        rate = bucket.per_second / self._scale
        at = float(item.get("at", now))
        tokens = min(bucket.capacity, float(item.get("tokens", bucket.capacity)) + (now - at) * rate)
        if tokens < 1 - TOKEN_EPSILON:
            return (1 - tokens) / rate, DRAINED
        condition = "attribute_not_exists(#at)" if "at" not in item else "#at = :old"
        values = {
            ":t": Decimal(str(round(tokens - 1, 6))),
            ":now": Decimal(str(round(now, 6))),
            ":ttl": int(now) + 3600,
        }
        if "at" in item:
            values[":old"] = item["at"]
        try:
            self._table.resource.update_item(
                Key=self._key(bucket.name),
                UpdateExpression="SET tokens = :t, #at = :now, #ttl = :ttl",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#at": "at", "#ttl": "ttl"},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return 0.0, "another caller took a token meanwhile"  # look again at once
            raise
        return None

    def _wait(self, bucket: Bucket, seconds: float, why: str) -> None:
        _log.debug(
            "waiting for the rate budget",
            extra={"provider": self._provider, "bucket": bucket.name, "why": why, "wait_seconds": round(seconds, 3)},
        )
        self._sleep(seconds)

    def block(self, seconds: float) -> None:
        """After a 429, hold every call of this connection to the provider for `seconds`."""
        until = Decimal(str(round(self._clock() + seconds * self._scale, 6)))
        for name in {b.name for buckets in BUDGETS[self._provider].values() for b in buckets}:
            self._table.resource.update_item(
                Key=self._key(name), UpdateExpression="SET blocked_until = :u", ExpressionAttributeValues={":u": until}
            )
