"""Webhook deliveries to queued signals: route each event to its connection, drop the rest, count all."""

from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

from hubbooks.hubspot import webhooks as hubspot_webhooks
from hubbooks.models.connection import Connection, ConnectionStatus
from hubbooks.models.signals import Side, SyncSignal, collapse
from hubbooks.queue import SignalQueue
from hubbooks.quickbooks import webhooks as qbo_webhooks
from hubbooks.store.connections import ConnectionRepository
from hubbooks.store.links import LinkLookup

_ROUTABLE = (ConnectionStatus.ACTIVE, ConnectionStatus.NEEDS_REAUTH)
E = TypeVar("E")
K = TypeVar("K", bound=Hashable)


@dataclass
class IngestResult:
    received: int
    queued: int = 0
    dropped: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {"received": self.received, "queued": self.queued, "dropped": dict(self.dropped)}


class WebhookIngest:
    def __init__(self, connections: ConnectionRepository, links: LinkLookup, queue: SignalQueue) -> None:
        self._connections = connections
        self._links = links
        self._queue = queue

    def _send(self, signals: list[SyncSignal], result: IngestResult) -> IngestResult:
        signals = collapse(signals)
        groups: dict[tuple[str, str, str], str] = {}
        for (connection_id, pair), ids in _qbo_ids_by_pair(signals).items():
            for qbo_id, hubspot_id in self._links.hubspot_ids(connection_id, pair, ids).items():  # type: ignore[arg-type]
                groups[(connection_id, pair, qbo_id)] = f"{connection_id}:{pair}:{Side.HUBSPOT}:{hubspot_id}"

        def group_of(signal: SyncSignal) -> str:
            if signal.side is Side.QUICKBOOKS:
                return groups.get((signal.connection_id, signal.pair, signal.record_id), signal.default_group())
            return signal.default_group()

        result.queued = self._queue.send(signals, group_of)
        return result

    def _route(
        self,
        events: list[E],
        tenant_of: Callable[[E], K],
        lookup: Callable[[K], Connection | None],
        to_signal: Callable[[E, str], SyncSignal | None],
    ) -> IngestResult:
        """Route each event to its connection (looked up once per tenant), drop the rest, queue the signals."""
        result = IngestResult(received=len(events))
        tenants: dict[K, Connection | None] = {}
        signals: list[SyncSignal] = []
        for event in events:
            key = tenant_of(event)
            if key not in tenants:
                tenants[key] = lookup(key)
            connection = tenants[key]
            if connection is None or connection.status not in _ROUTABLE:
                result.dropped["unknown_or_disconnected_tenant"] += 1
                continue
            signal = to_signal(event, connection.connection_id)
            if signal is None:
                result.dropped["not_synced"] += 1
                continue
            signals.append(signal)
        return self._send(signals, result)

    def hubspot(self, events: list[hubspot_webhooks.HubSpotEvent]) -> IngestResult:
        return self._route(events, lambda e: e.portal_id, self._connections.by_portal, hubspot_webhooks.to_signal)

    def quickbooks(self, events: list[qbo_webhooks.QboEvent]) -> IngestResult:
        return self._route(events, lambda e: e.realm_id, self._connections.by_realm, qbo_webhooks.to_signal)


def _qbo_ids_by_pair(signals: list[SyncSignal]) -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for signal in signals:
        if signal.side is Side.QUICKBOOKS:
            found.setdefault((signal.connection_id, signal.pair), []).append(signal.record_id)
    return found
