"""Connections on DynamoDB (moto): a save racing a disconnect does not bring the connection back, and a realm is
found through its pointer, read consistently."""

from collections.abc import Iterator

import pytest

from hubbooks.models.connection import Connection
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
