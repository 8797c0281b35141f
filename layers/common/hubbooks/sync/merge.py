"""The three-way merge: per field, against the values both sides last agreed on."""

from dataclasses import dataclass, field

from hubbooks.mapping.fields import Direction, FieldMapping
from hubbooks.models.signals import Side
from hubbooks.sync.models import Conflict, Policy, Record


@dataclass
class MergePlan:
    to_hubspot: dict[str, str] = field(default_factory=dict)
    to_qbo: dict[str, str] = field(default_factory=dict)
    agreed: dict[str, str] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.to_hubspot and not self.to_qbo


def _winner(policy: Policy, hubspot_at: float, qbo: Record) -> Side:
    if policy is Policy.HUBSPOT:
        return Side.HUBSPOT
    if policy is Policy.QBO:
        return Side.QUICKBOOKS
    return Side.HUBSPOT if hubspot_at >= qbo.updated_at else Side.QUICKBOOKS


def merge(
    mappings: tuple[FieldMapping, ...],
    base: dict[str, str] | None,
    hubspot: Record,
    qbo: Record,
    *,
    policy: Policy,
    pair_direction: Direction,
    hubspot_times: dict[str, float] | None = None,
) -> MergePlan:
    """What to write where so both sides agree; `base` is None for a pair seen together for the first time.
    `hubspot_times`: when HubSpot fields got their values (else the record's time); QuickBooks has no time
    per field, so its record's time stands for each."""
    plan = MergePlan()
    for mapping in mappings:
        key = mapping.hubspot
        h, q = hubspot.values.get(key, ""), qbo.values.get(key, "")
        to_qbo = mapping.direction.allows(True) and pair_direction.allows(True)
        to_hubspot = mapping.direction.allows(False) and pair_direction.allows(False)
        if h == q:
            plan.agreed[key] = h
            continue
        if not to_qbo and not to_hubspot:
            continue  # nothing may flow either way: leave both as they are
        if not to_qbo:
            plan.to_hubspot[key] = plan.agreed[key] = q
            continue
        if not to_hubspot:
            plan.to_qbo[key] = plan.agreed[key] = h
            continue
        if base is None:
            changed_h, changed_q = h != "", q != ""  # first sight: a value beats an empty field
        else:
            old = base.get(key, "")
            changed_h, changed_q = h != old, q != old
        if changed_h and not changed_q:
            plan.to_qbo[key] = plan.agreed[key] = h
        elif changed_q and not changed_h:
            plan.to_hubspot[key] = plan.agreed[key] = q
        else:
            winner = _winner(policy, (hubspot_times or {}).get(key, hubspot.updated_at), qbo)
            plan.conflicts.append(Conflict(key, h, q, winner))
            if winner is Side.HUBSPOT:
                plan.to_qbo[key] = plan.agreed[key] = h
            else:
                plan.to_hubspot[key] = plan.agreed[key] = q
    return plan
