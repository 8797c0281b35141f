"""devstack's Query on moto's sorted partitions answers what DynamoDB would (key conditions, both directions,
pages, filters, projections, deletes), reading only the items its key condition selects (moto in this
process)."""

import random
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr, Key
from moto.dynamodb.models.dynamo_type import Item

from devstack import moto_queries
from tests.support.aws import table_in_process

SORT_KEYS = [f"{kind}#{n:03d}" for kind in ("ERR", "LINK", "LINKED", "STATE") for n in range(25)]


def _all_pages(table: Any, **query: Any) -> list[str]:
    """Every page of a query of five items at a time; the sort keys in the order they came."""
    found: list[str] = []
    while True:
        page = table.query(Limit=5, **query)
        found += [item["SK"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return found
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (lambda sk: sk.begins_with("LINK#"), lambda sk: sk.startswith("LINK#")),
        (lambda sk: sk.begins_with("LINK"), lambda sk: sk.startswith("LINK")),
        (lambda sk: sk.between("ERR#010", "LINK#004"), lambda sk: "ERR#010" <= sk <= "LINK#004"),
        (lambda sk: sk.eq("STATE#007"), lambda sk: sk == "STATE#007"),
        (lambda sk: sk.lt("ERR#003"), lambda sk: sk < "ERR#003"),
        (lambda sk: sk.lte("ERR#003"), lambda sk: sk <= "ERR#003"),
        (lambda sk: sk.gt("STATE#020"), lambda sk: sk > "STATE#020"),
        (lambda sk: sk.gte("STATE#020"), lambda sk: sk >= "STATE#020"),
        (lambda sk: sk.begins_with("NONE"), lambda sk: False),
    ],
)
def test_a_query_of_a_table_s_own_keys_answers_as_dynamodb_does(
    monkeypatch: pytest.MonkeyPatch, condition: Any, expected: Any
) -> None:
    moto_queries.install()
    with table_in_process(monkeypatch) as table:
        for sk in random.Random(7).sample(SORT_KEYS, len(SORT_KEYS)):  # any order of arrival
            for pk in ("CONN#a", "CONN#b"):
                table.put_item(Item={"PK": pk, "SK": sk, "n": int(sk[-3:]), "body": sk.lower()})
        for gone in ("LINK#003", "ERR#011", "STATE#024"):
            table.delete_item(Key={"PK": "CONN#a", "SK": gone})
        kept = sorted(sk for sk in SORT_KEYS if sk not in ("LINK#003", "ERR#011", "STATE#024"))
        key = Key("PK").eq("CONN#a") & condition(Key("SK"))
        wanted = [sk for sk in kept if expected(sk)]

        assert _all_pages(table, KeyConditionExpression=key) == wanted
        assert _all_pages(table, KeyConditionExpression=key, ScanIndexForward=False) == wanted[::-1]
        even = table.query(KeyConditionExpression=key, FilterExpression=Attr("n").eq(4), ProjectionExpression="SK")
        assert even["Items"] == [{"SK": sk} for sk in wanted if sk.endswith("#004")]
        assert even["ScannedCount"] == len(wanted)
        assert table.query(KeyConditionExpression=Key("PK").eq("CONN#none"))["Items"] == []


def test_a_query_weighs_only_the_items_its_key_condition_selects(monkeypatch: pytest.MonkeyPatch) -> None:
    moto_queries.install()
    with table_in_process(monkeypatch) as table:
        with table.batch_writer() as batch:
            for n in range(2_000):
                batch.put_item(Item={"PK": "CONN#a", "SK": f"LINK#{n:05d}"})
            batch.put_item(Item={"PK": "CONN#a", "SK": "ERR#1"})
        weighed: list[Item] = []
        size = Item.size

        def weigh(item: Item) -> int:
            weighed.append(item)
            return size(item)

        monkeypatch.setattr(Item, "size", weigh)
        answer = table.query(KeyConditionExpression=Key("PK").eq("CONN#a") & Key("SK").begins_with("ERR#"))
        assert [item["SK"] for item in answer["Items"]] == ["ERR#1"]
        assert len(weighed) == 1  # moto's own weighed the partition's 2,001 items
