"""A pass's settings of every two-way pair come in one read (moto in this process)."""

import pytest

from hubbooks.models.signals import Pair
from hubbooks.models.sync_config import MAPPED, SyncConfig
from hubbooks.store.sync_settings import SyncSettingsRepository
from hubbooks.store.sync_store import DynamoSyncStore
from hubbooks.store.table import Table
from tests.support.aws import table_in_process


def test_the_pairs_settings_are_read_together_once_and_a_pair_never_saved_reads_as_its_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with table_in_process(monkeypatch) as resource:
        table = Table(resource)
        saved = SyncConfig.default(Pair.PRODUCTS).model_copy(update={"enabled": False})
        SyncSettingsRepository(table, "c1").save(saved, 0)
        calls: list[str] = []
        client = resource.meta.client
        monkeypatch.setattr(resource, "get_item", lambda **kw: calls.append("GetItem") or pytest.fail("one by one"))
        batch = client.batch_get_item
        monkeypatch.setattr(client, "batch_get_item", lambda **kw: calls.append("BatchGetItem") or batch(**kw))
        store = DynamoSyncStore(table, "c1")
        configs = store.configs(MAPPED)
        assert (configs[Pair.PRODUCTS].enabled, configs[Pair.PRODUCTS].version) == (False, 1)
        assert configs[Pair.CONTACTS] == SyncSettingsRepository.from_item(Pair.CONTACTS, None)
        assert not configs[Pair.COMPANIES].set_up  # never saved: companies came later, and are not set up
        assert store.settings(Pair.PRODUCTS) == configs[Pair.PRODUCTS].pair_settings()  # read already
        assert calls == ["BatchGetItem"]
