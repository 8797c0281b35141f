"""Named value transforms: each turns a provider's value into the canonical text both sides compare."""

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

Transform = Callable[[Any], str]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def identity(value: Any) -> str:
    return _text(value)


def trim(value: Any) -> str:
    return " ".join(_text(value).split())


def lower(value: Any) -> str:
    return trim(value).lower()


def money(value: Any) -> str:
    """Amounts compare as numbers: "10", 10.0 and "10.00" are the same price."""
    text = trim(value)
    if not text:
        return ""
    try:
        number = Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation:
        return text
    return format(number.normalize(), "f") if number == number.to_integral() else format(number, "f")


def boolean(value: Any) -> str:
    text = _text(value).strip().lower()
    if text in ("true", "1", "yes"):
        return "true"
    if text in ("false", "0", "no"):
        return "false"
    return ""


REGISTRY: dict[str, Transform] = {"identity": identity, "trim": trim, "lower": lower, "money": money, "bool": boolean}


def get(name: str) -> Transform:
    try:
        return REGISTRY[name]
    except KeyError as exc:
        raise ValueError(f"unknown transform {name!r}; known: {', '.join(sorted(REGISTRY))}") from exc
