"""The merge table: every combination of who changed a field, under each policy and direction."""

import pytest

from hubbooks.mapping.fields import Direction, FieldMapping
from hubbooks.models.signals import Side
from hubbooks.sync.merge import merge
from hubbooks.sync.models import Policy, Record

FIELD = (FieldMapping("firstname", "GivenName"),)
ONE_WAY = (FieldMapping("qbo_customer_id", "Id", Direction.TO_HUBSPOT),)


def _records(h: str, q: str, hubspot_newer: bool = True) -> tuple[Record, Record]:
    return (
        Record(Side.HUBSPOT, "1", {"firstname": h}, 20.0 if hubspot_newer else 10.0),
        Record(Side.QUICKBOOKS, "2", {"firstname": q}, 10.0 if hubspot_newer else 20.0),
    )


# (base, hubspot, qbo) -> expected (to_hubspot, to_qbo, agreed, conflict?) for direction BOTH
CASES = {
    "unchanged": ("Ann", "Ann", "Ann"),
    "hubspot changed": ("Ann", "Anna", "Ann"),
    "qbo changed": ("Ann", "Ann", "Annie"),
    "both changed alike": ("Ann", "Anna", "Anna"),
    "both changed apart": ("Ann", "Anna", "Annie"),
    "hubspot cleared": ("Ann", "", "Ann"),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("policy", list(Policy))
@pytest.mark.parametrize("hubspot_newer", [True, False])
def test_merge_table_both_ways(case: str, policy: Policy, hubspot_newer: bool) -> None:
    base, h, q = CASES[case]
    hubspot, qbo = _records(h, q, hubspot_newer)
    plan = merge(FIELD, {"firstname": base}, hubspot, qbo, policy=policy, pair_direction=Direction.BOTH)
    if h == q:
        assert plan.empty
        assert plan.agreed == {"firstname": h}
        assert not plan.conflicts
    elif h != base and q == base:
        assert (plan.to_qbo, plan.to_hubspot) == ({"firstname": h}, {})
    elif q != base and h == base:
        assert (plan.to_hubspot, plan.to_qbo) == ({"firstname": q}, {})
    else:
        winner = {Policy.HUBSPOT: Side.HUBSPOT, Policy.QBO: Side.QUICKBOOKS}.get(
            policy, Side.HUBSPOT if hubspot_newer else Side.QUICKBOOKS
        )
        assert [c.winner for c in plan.conflicts] == [winner]
        expected = h if winner is Side.HUBSPOT else q
        assert plan.agreed == {"firstname": expected}
        assert (plan.to_qbo if winner is Side.HUBSPOT else plan.to_hubspot) == {"firstname": expected}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("direction", [Direction.TO_QBO, Direction.TO_HUBSPOT])
def test_one_way_pairs_only_write_one_side(case: str, direction: Direction) -> None:
    base, h, q = CASES[case]
    hubspot, qbo = _records(h, q)
    plan = merge(FIELD, {"firstname": base}, hubspot, qbo, policy=Policy.LATEST, pair_direction=direction)
    if direction is Direction.TO_QBO:
        assert plan.to_hubspot == {}
        assert plan.to_qbo == ({} if h == q else {"firstname": h})
    else:
        assert plan.to_qbo == {}
        assert plan.to_hubspot == ({} if h == q else {"firstname": q})
    assert not plan.conflicts


def test_first_sight_fills_empty_fields_and_settles_real_differences_by_policy() -> None:
    fields = (
        FieldMapping("firstname", "GivenName"),
        FieldMapping("phone", "PrimaryPhone.FreeFormNumber"),
        FieldMapping("company", "CompanyName"),
    )
    hubspot = Record(Side.HUBSPOT, "1", {"firstname": "Ann", "phone": "", "company": "Acme"}, 5.0)
    qbo = Record(Side.QUICKBOOKS, "2", {"firstname": "Ann", "phone": "555", "company": "Acme Ltd"}, 9.0)
    plan = merge(fields, None, hubspot, qbo, policy=Policy.LATEST, pair_direction=Direction.BOTH)
    assert plan.to_hubspot == {"phone": "555", "company": "Acme Ltd"}
    assert plan.to_qbo == {}
    assert [c.field for c in plan.conflicts] == ["company"]


def test_a_one_way_field_follows_its_source_even_against_the_pair_direction_of_the_other_side() -> None:
    hubspot = Record(Side.HUBSPOT, "1", {"qbo_customer_id": ""}, 5.0)
    qbo = Record(Side.QUICKBOOKS, "2", {"qbo_customer_id": "2"}, 1.0)
    plan = merge(ONE_WAY, {"qbo_customer_id": "2"}, hubspot, qbo, policy=Policy.HUBSPOT, pair_direction=Direction.BOTH)
    assert plan.to_hubspot == {"qbo_customer_id": "2"}
    assert plan.to_qbo == {}
    blocked = merge(ONE_WAY, None, hubspot, qbo, policy=Policy.LATEST, pair_direction=Direction.TO_QBO)
    assert blocked.empty
