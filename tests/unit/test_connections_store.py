"""Connections on DynamoDB (moto): a save racing a disconnect does not bring the connection back, a realm is
found through its pointer, read consistently, and the sweep finds the active connections and nothing else."""

from collections.abc import Iterator

import pytest
from boto3.dynamodb.conditions import Key

from hubbooks.models.connection import Connection, ConnectionStatus
from hubbooks.store.connections import ConnectionGoneError, ConnectionRepository
from hubbooks.store.table import Table
from tests.support.aws import table_in_process


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[ConnectionRepository]:
    with table_in_process(monkeypatch) as table:
        yield ConnectionRepository(Table(table))


def test_a_save_after_a_disconnect_does_not_bring_the_connection_back(connections: ConnectionRepository) -> None:
    connection = connections.bind_realm(connections.create(Connection(connection_id="c1", portal_id=1)), "77")
    connections.delete(connection)
    connection.status_reason = "a late change"
    with pytest.raises(ConnectionGoneError):
        connections.save(connection)
    assert connections.get("c1") is None
    assert connections.by_realm("77") is None


def test_a_realm_routes_to_the_connection_that_holds_its_pointer(connections: ConnectionRepository) -> None:
    connection = connections.bind_realm(connections.create(Connection(connection_id="c2", portal_id=2)), "88")
    found = connections.by_realm("88")
    assert found is not None
    assert found.connection_id == connection.connection_id
    assert connections.by_realm("99") is None


def test_the_sweep_finds_active_connections_with_a_company_and_no_other_item(
    connections: ConnectionRepository,
) -> None:
    active = [
        connections.bind_realm(connections.create(Connection(connection_id=f"a{n}", portal_id=n)), f"r{n}")
        for n in range(3)
    ]
    for connection in active:
        connections.save(connection.model_copy(update={"status": ConnectionStatus.ACTIVE}))
    connections.create(Connection(connection_id="p1", portal_id=10))  # HubSpot connected, QuickBooks not yet
    lapsed = connections.get("a2")
    assert lapsed is not None
    connections.save(lapsed.model_copy(update={"status": ConnectionStatus.NEEDS_REAUTH}))  # leaves the index
    found = list(connections.active())
    assert sorted(c.connection_id for c in found) == ["a0", "a1"]
    index = connections.table.resource.query(
        IndexName="ActiveConnections", KeyConditionExpression=Key("ActivePK").eq("ACTIVE"), Select="COUNT"
    )
    assert index["ScannedCount"] == 2  # the index holds nothing but them
