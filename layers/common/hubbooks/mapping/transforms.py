"""Named value transforms: each turns a provider's value into the canonical text both sides compare."""

from collections.abc import Callable
from datetime import UTC, datetime
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


def domain(value: Any) -> str:
    """Web addresses compare as their host: "https://www.Acme.com/about" == "acme.com"."""
    text = lower(value)
    host = text.split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0]
    return host.removeprefix("www.")


def boolean(value: Any) -> str:
    text = _text(value).strip().lower()
    if text in ("true", "1", "yes"):
        return "true"
    if text in ("false", "0", "no"):
        return "false"
    return ""


def phone_e164(value: Any) -> str:
    """+<country><number> digits only; ten digits are taken as a North American number. Text that is not a
    phone number is kept as it is."""
    text = trim(value)
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits or len(digits) < 7 or any(ch.isalpha() for ch in text):
        return text
    if text.startswith("+"):
        return f"+{digits}"
    if text.startswith("00"):
        return f"+{digits[2:]}"
    return f"+1{digits}" if len(digits) == 10 else f"+{digits}"


_COUNTRIES = {
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "canada": "CA",
    "united kingdom": "GB",
    "great britain": "GB",
    "uk": "GB",
    "australia": "AU",
    "new zealand": "NZ",
    "ireland": "IE",
    "india": "IN",
    "germany": "DE",
    "france": "FR",
    "spain": "ES",
    "italy": "IT",
    "netherlands": "NL",
    "mexico": "MX",
    "brazil": "BR",
    "japan": "JP",
    "singapore": "SG",
    "south africa": "ZA",
}


def country_code(value: Any) -> str:
    """Country names and codes compare as ISO 3166 alpha-2 codes ("United States" == "US")."""
    text = trim(value)
    if len(text) == 2 and text.isalpha():
        return text.upper()
    return _COUNTRIES.get(text.lower(), text)


def day(value: Any) -> str:
    """Dates compare as YYYY-MM-DD: ISO dates and times, or epoch milliseconds as HubSpot sends them."""
    text = trim(value)
    if not text:
        return ""
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC).date().isoformat()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return text


REGISTRY: dict[str, Transform] = {
    "identity": identity,
    "trim": trim,
    "join_split_name": trim,  # several name fields joined with spaces, split again when written back
    "lower": lower,
    "money": money,
    "bool": boolean,
    "domain": domain,
    "phone_e164": phone_e164,
    "country_code": country_code,
    "date": day,
}


def get(name: str) -> Transform:
    try:
        return REGISTRY[name]
    except KeyError as exc:
        raise ValueError(f"unknown transform {name!r}; known: {', '.join(sorted(REGISTRY))}") from exc
