"""AWS in this process (moto), for tests of one repository or service without a devstack."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws

REGION = "us-east-1"


@contextmanager
def table_in_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The single table's key schema (PK, SK) on moto in this process; yields the boto3 Table resource."""
    for name, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # a devstack run in this process must not catch these
    with mock_aws():
        yield boto3.resource("dynamodb", region_name=REGION).create_table(
            TableName="hubbooks",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in ("PK", "SK")],
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        )
