"""AWS in this process (moto), for tests of one repository or service without a devstack."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devstack.cfn_yaml import load_template
from devstack.stack import ROOT

REGION = "us-east-1"


@contextmanager
def table_in_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The single table as template.yaml defines it (keys and indexes) on moto in this process; yields the boto3
    Table resource."""
    for name, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # a devstack run in this process must not catch these
    with mock_aws():
        defined = load_template(ROOT / "template.yaml")["Resources"]["Table"]["Properties"]
        yield boto3.resource("dynamodb", region_name=REGION).create_table(
            TableName="hubbooks",
            BillingMode="PAY_PER_REQUEST",
            **{k: defined[k] for k in ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes")},
        )
