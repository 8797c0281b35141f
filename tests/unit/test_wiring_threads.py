"""devstack runs several invocations of a function in one process, each on its own thread; boto3 resources
are not thread-safe, so each thread builds the table on a resource of its own (and keeps it)."""

import threading

import pytest

from hubbooks import wiring


def test_each_thread_keeps_a_table_resource_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    mine = wiring._table("hubbooks-test")
    assert wiring._table("hubbooks-test") is mine
    theirs: list[object] = []
    thread = threading.Thread(target=lambda: theirs.append(wiring._table("hubbooks-test").resource))
    thread.start()
    thread.join()
    assert theirs
    assert theirs[0] is not mine.resource
