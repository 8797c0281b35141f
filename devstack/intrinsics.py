"""Resolves the intrinsic functions devstack meets when it reads a deployed template."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")

AttributeLookup = Callable[[str, str], str]


class UnresolvableError(ValueError):
    """A reference devstack cannot turn into a value."""


@dataclass(frozen=True)
class Resolver:
    """Turns Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::FindInMap and Fn::If into plain values."""

    parameters: Mapping[str, str]
    physical_ids: Mapping[str, str]
    attribute: AttributeLookup
    mappings: Mapping[str, Any] = field(default_factory=dict)
    conditions: Mapping[str, bool] = field(default_factory=dict)

    def ref(self, name: str) -> str:
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical_ids:
            return self.physical_ids[name]
        raise UnresolvableError(f"Ref {name}")

    def _sub(self, text: str, local: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in local:
                return str(self.resolve(local[name]))
            if "." in name and name.split(".", 1)[0] not in self.parameters:
                logical_id, attr = name.split(".", 1)
                return self.attribute(logical_id, attr)
            return self.ref(name)

        return _SUB_VARIABLE.sub(replace, text)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attr = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return self.attribute(logical_id, attr)
            if key == "Fn::Sub":
                text, local = (arg[0], arg[1]) if isinstance(arg, list) else (arg, {})
                return self._sub(text, local)
            if key == "Fn::Join":
                separator, parts = arg
                return separator.join(str(self.resolve(p)) for p in self.resolve(parts))
            if key == "Fn::FindInMap":
                name, top, second = (self.resolve(a) for a in arg)
                return self.mappings[name][top][second]
            if key == "Fn::If":
                condition, when_true, when_false = arg
                return self.resolve(when_true if self.conditions.get(condition) else when_false)
        return {k: self.resolve(v) for k, v in value.items()}


def evaluate_conditions(conditions: Mapping[str, Any], resolver: Resolver) -> dict[str, bool]:
    """Evaluate a template's Conditions section (Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition)."""
    results: dict[str, bool] = {}

    def evaluate(expression: Any) -> bool:
        ((key, arg),) = expression.items()
        if key == "Condition":
            if arg not in results:
                results[arg] = evaluate(conditions[arg])
            return results[arg]
        if key == "Fn::Equals":
            left, right = (resolver.resolve(a) for a in arg)
            return bool(str(left) == str(right))
        if key == "Fn::Not":
            return not evaluate(arg[0])
        if key == "Fn::And":
            return all(evaluate(a) for a in arg)
        if key == "Fn::Or":
            return any(evaluate(a) for a in arg)
        raise UnresolvableError(f"condition {key}")

    for name in conditions:
        evaluate({"Condition": name})
    return results
