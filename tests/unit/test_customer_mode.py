"""A connection's customer mode: QuickBooks customers are HubSpot contacts (people) or companies (business), never
both; the mode changes only while neither customers sync is set up (on DynamoDB in moto)."""

from collections.abc import Iterator

import pytest

from hubbooks.models.connection import Connection, CustomerMode
from hubbooks.models.signals import Pair
from hubbooks.store.connections import ConnectionRepository
from hubbooks.store.sync_settings import SyncSettingsRepository
from hubbooks.store.table import Table
from hubbooks.sync.settings_service import RefusedError, SettingsService
from tests.support.aws import table_in_process


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[SettingsService]:
    with table_in_process(monkeypatch) as resource:
        table = Table(resource)
        ConnectionRepository(table).create(Connection(connection_id="c1", portal_id=1))
        yield SettingsService(
            "c1", table, lambda: pytest.fail("no account read"), lambda pair, since: "job", lambda signals: 0
        )


def _set_up(service: SettingsService, pair: Pair) -> None:
    current = service.configs.get(pair)
    service.configs.save(current.model_copy(update={"set_up": True, "enabled": True}), current.version)


def test_a_new_connection_syncs_people_and_refuses_to_set_companies_up(service: SettingsService) -> None:
    assert service.customer_mode() is CustomerMode.PEOPLE
    with pytest.raises(RefusedError) as refused:
        service.preview(Pair.COMPANIES)
    assert refused.value.status == 409
    assert "choose business customers first" in str(refused.value)


def test_business_mode_sets_companies_up_and_refuses_contacts(service: SettingsService) -> None:
    assert service.set_customer_mode(CustomerMode.BUSINESS) == {"customer_mode": "business", "pair": "companies"}
    assert service.customer_mode() is CustomerMode.BUSINESS
    assert service.preview(Pair.COMPANIES)  # a preview job starts
    with pytest.raises(RefusedError, match="choose people customers first"):
        service.start(Pair.CONTACTS, service.get(Pair.CONTACTS).version)
    assert [e["action"] for e in service.history(limit=10, pair=Pair.COMPANIES).items][-1] == "customer_mode_changed"


def test_the_mode_is_refused_while_a_customers_sync_is_set_up_and_free_once_it_is_deleted(
    service: SettingsService,
) -> None:
    _set_up(service, Pair.CONTACTS)
    service.configs.save(
        service.get(Pair.CONTACTS).model_copy(update={"enabled": False}), service.get(Pair.CONTACTS).version
    )
    with pytest.raises(RefusedError) as refused:
        service.set_customer_mode(CustomerMode.BUSINESS)  # off is not enough: its links pair people
    assert refused.value.status == 409
    assert "delete it" in str(refused.value)
    service.delete(Pair.CONTACTS)
    assert service.set_customer_mode(CustomerMode.BUSINESS)["pair"] == "companies"
    assert service.set_customer_mode(CustomerMode.BUSINESS)["pair"] == "companies"  # the same again: no change


def test_connections_stored_before_companies_existed_do_not_sync_them(service: SettingsService) -> None:
    stored_before = SyncSettingsRepository.from_item(Pair.COMPANIES, None)
    assert not stored_before.set_up
    assert SyncSettingsRepository.from_item(Pair.CONTACTS, None).set_up  # as they always did
