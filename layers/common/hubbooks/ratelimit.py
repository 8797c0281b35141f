"""A rate budget per connection and provider, shared by every concurrent Lambda through DynamoDB.

Each limit is a token bucket (capacity C, refill R per second): in any window of T seconds it admits at
most C + R*T calls, so the buckets below stay under the providers' sliding-window limits with headroom.
Callers reserve their turn (a bucket goes below zero by the turns reserved) and wait once for it, in the order
they came, instead of collecting 429s; a 429 that still happens blocks the whole connection.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

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
# QBO: 10/s and 500/min per realm (2 + 7*1 = 9; 2 + 7*60 = 422: two at once, as a pass reads and writes one
# record, then seven a second); batch: 40/min (1 + 38 = 39, and 38 a minute sustained: 95% of the batch
# ceiling, which an import through the live path runs at).
# HubSpot: 110 per 10 s (5 + 10*10 = 105); search 5/s (1 + 3.5 = 4.5).
BUDGETS: dict[str, dict[str, tuple[Bucket, ...]]] = {
    "quickbooks": {
        "default": (Bucket("calls", 2, 7),),
        "batch": (Bucket("calls", 2, 7), Bucket("batch", 1, 38 / 60)),
    },
    "hubspot": {
        "default": (Bucket("calls", 5, 10),),
        "search": (Bucket("calls", 5, 10), Bucket("search", 1, 3.5)),
    },
}
# A longer wait gives the work back (a signal returns to the queue, a person is asked to retry) instead of
# holding a worker that other connections' signals need.
GIVE_BACK_SECONDS = 5.0
TOKEN_EPSILON = 1e-6  # tokens are stored to six decimals: a refill that lands a hair short is a whole token
_log = logging.getLogger(__name__)
# Each bucket as this process last wrote it (table, key): the next reservation writes over it without reading it
# first, on the condition that no other caller wrote it (nor blocked the connection) since; if one did, it reads.
_written: dict[tuple[str, str, str], dict[str, Any]] = {}


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
        """Reserve a token in every bucket of `kind` and wait until they are due, a few seconds at most; a longer
        wait (a connection blocked after a 429, a budget reserved further ahead) raises RateLimitedError with how
        long, having waited for nothing."""
        *others, scarcest = BUDGETS[self._provider][kind]
        self._wait_for(kind, self._reserve(scarcest, GIVE_BACK_SECONDS), others)  # the scarcest first

    def try_acquire(self, kind: str, within: float = 0.0) -> bool:
        """Take a token from every bucket of `kind` if its scarcest one (the last) has a turn due within
        `within` seconds; False, and nothing taken, if not. The others are waited for as `acquire` waits."""
        *others, scarcest = BUDGETS[self._provider][kind]
        try:
            first = self._reserve(scarcest, within)
        except RateLimitedError:
            return False
        self._wait_for(kind, first, others)
        return True

    def _wait_for(self, kind: str, due: float, others: list[Bucket]) -> None:
        """Reserve the other buckets' turns too, then wait for the latest; a 429 met meanwhile blocked the
        connection, and the turns are not used."""
        due = max([due, *(self._reserve(bucket, GIVE_BACK_SECONDS) for bucket in others)])
        if due <= 0:
            return
        self._wait(kind, due)
        now, item = self._read(BUDGETS[self._provider][kind][0])
        if (blocked := float(item.get("blocked_until", 0))) > now:
            raise RateLimitedError(self._provider, blocked - now)

    def _read(self, bucket: Bucket) -> tuple[float, dict[str, Any]]:
        """The clock, and the bucket's item as stored now."""
        now = self._clock()
        return now, self._table.resource.get_item(Key=self._key(bucket.name), ConsistentRead=True).get("Item") or {}

    def _reserve(self, bucket: Bucket, longest: float) -> float:
        """Take the bucket's next token, free now or due later: the seconds until it is due. Callers queue in the
        order they reserve, each waiting once for its own turn (a bucket's tokens go below zero by the turns
        reserved). A turn further off than `longest`, or a connection blocked after a 429 for longer, takes
        nothing and raises RateLimitedError. The bucket as this process last wrote it is not read again: the
        write is conditional on it still being so."""
        key = (self._table.name, self._pk, rate_sk(self._provider, bucket.name))
        known = _written.pop(key, None)
        while True:
            now, item = (self._clock(), known) if known is not None else self._read(bucket)
            blocked = float(item.get("blocked_until", 0))
            rate = bucket.per_second / self._scale
            at = float(item.get("at", now))
            tokens = min(bucket.capacity, float(item.get("tokens", bucket.capacity)) + (now - at) * rate)
            due = 0.0 if tokens >= 1 - TOKEN_EPSILON else (1 - tokens) / rate
            if known is not None and (blocked > now or due > longest):
                known = None  # a wait is told from the bucket as it is, not as this process left it
                continue
            if blocked > now:  # after a 429: a short block is waited out, then the turn is reserved
                if blocked - now > longest:
                    raise RateLimitedError(self._provider, blocked - now)
                self._sleep(blocked - now)
                longest -= blocked - now
                continue
            if due > longest:
                raise RateLimitedError(self._provider, due, budget=True)
            known = self._store(bucket, item, tokens - 1, now)
            if known is not None:
                _written[key] = known
                return due

    def seconds_for(self, calls: int) -> float:
        """How long `calls` single calls take at the budget's per-call rate (its `default` bucket)."""
        return calls * self._scale / BUDGETS[self._provider]["default"][0].per_second

    def turn(self, kind: str) -> float:
        """Seconds between two turns of the scarcest bucket of `kind`, once its burst is spent."""
        return self._scale / BUDGETS[self._provider][kind][-1].per_second

    def _store(self, bucket: Bucket, item: dict[str, Any], tokens: float, now: float) -> dict[str, Any] | None:
        """Write the bucket's new level if no other caller wrote it (nor blocked the connection) since `item`:
        the item as written, or None if another did."""
        level = {"tokens": Decimal(str(round(tokens, 6))), "at": Decimal(str(round(now, 6)))}
        values = {":t": level["tokens"], ":now": level["at"], ":ttl": int(now) + 3600}
        conditions = ["attribute_not_exists(#at)" if "at" not in item else "#at = :old AND tokens = :held"]
        if "at" in item:
            values |= {":old": item["at"], ":held": item["tokens"]}
        if "blocked_until" in item:
            conditions.append("blocked_until = :blocked")
            values[":blocked"] = item["blocked_until"]
        else:
            conditions.append("attribute_not_exists(blocked_until)")
        try:
            self._table.resource.update_item(
                Key=self._key(bucket.name),
                UpdateExpression="SET tokens = :t, #at = :now, #ttl = :ttl",
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeNames={"#at": "at", "#ttl": "ttl"},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return {**item, **level}

    def _wait(self, kind: str, seconds: float) -> None:
        _log.debug(
            "waiting for the rate budget",
            extra={"provider": self._provider, "kind": kind, "wait_seconds": round(seconds, 3)},
        )
        self._sleep(seconds)

    def block(self, seconds: float) -> None:
        """After a 429, hold every call of this connection to the provider for `seconds`."""
        until = Decimal(str(round(self._clock() + seconds * self._scale, 6)))
        for name in {b.name for buckets in BUDGETS[self._provider].values() for b in buckets}:
            self._table.resource.update_item(
                Key=self._key(name), UpdateExpression="SET blocked_until = :u", ExpressionAttributeValues={":u": until}
            )
