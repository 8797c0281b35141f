"""Webhook deliveries to queued signals: route each event to its connection, drop the rest, count all."""

from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

from hubbooks.hubspot import webhooks as hubspot_webhooks
from hubbooks.mapping.pairs import customer_pair
from hubbooks.models.connection import Connection, ConnectionStatus
from hubbooks.models.signals import SyncSignal
from hubbooks.queue import GroupedSender
from hubbooks.quickbooks import webhooks as qbo_webhooks
from hubbooks.store.connections import ConnectionRepository

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
    def __init__(self, connections: ConnectionRepository, sender: GroupedSender) -> None:
        self._connections = connections
        self._sender = sender

    def _send(self, signals: list[SyncSignal], result: IngestResult) -> IngestResult:
        result.queued = self._sender.send(signals)
        return result

    def _route(
        self,
        events: list[E],
        tenant_of: Callable[[E], K],
        lookup: Callable[[K], Connection | None],
        to_signal: Callable[[E, Connection], SyncSignal | None],
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
            signal = to_signal(event, connection)
            if signal is None:
                result.dropped["not_synced"] += 1
                continue
            signals.append(signal)
        return self._send(signals, result)

    def hubspot(self, events: list[hubspot_webhooks.HubSpotEvent]) -> IngestResult:
        return self._route(
            events,
            lambda e: e.portal_id,
            self._connections.by_portal,
            lambda e, connection: hubspot_webhooks.to_signal(
                e, connection.connection_id, customer_pair(connection.customer_mode)
            ),
        )

    def quickbooks(self, events: list[qbo_webhooks.QboEvent]) -> IngestResult:
        return self._route(
            events,
            lambda e: e.realm_id,
            self._connections.by_realm,
            lambda e, connection: qbo_webhooks.to_signal(
                e, connection.connection_id, customer_pair(connection.customer_mode)
            ),
        )
