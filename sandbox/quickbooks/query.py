"""The subset of QBO's query language that integrations use: SELECT ... FROM ... WHERE ... ORDER BY ...
STARTPOSITION ... MAXRESULTS ..."""

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.clock import parse_iso
from sandbox.http import ApiError
from sandbox.quickbooks import faults as qf

MAX_RESULTS = 1000
_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*')|(?P<number>-?\d+(?:\.\d+)?)|(?P<op><=|>=|!=|=|<|>)|"
    r"(?P<punct>[(),*])|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)
_LEAF_KEYS = ("Address", "FreeFormNumber", "value", "URI")
_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T")  # a date and time: compared as the instant it names


def parse_error(detail: str) -> ApiError:
    return qf.fault("Error parsing query", f"QueryParserError: {detail}", 4000)


@dataclass
class Condition:
    path: str
    operator: str
    values: list[Any]


@dataclass
class Query:
    entity: str
    count: bool = False
    conditions: list[Condition] = field(default_factory=list)
    order_by: str | None = None
    descending: bool = False
    start: int = 1
    limit: int = 100

    @property
    def mentions_active(self) -> bool:
        return any(c.path.lower() == "active" for c in self.conditions)


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    position = 0
    text = text.strip().rstrip(";")
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise parse_error(f'Encountered "{text[position : position + 10]}" at column {position + 1}')
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


def _literal(kind: str, value: str) -> Any:
    if kind == "string":
        return value[1:-1].replace("\\'", "'").replace("\\\\", "\\")
    if kind == "number":
        return float(value)
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise parse_error(f"Expected a value, found {value}")


def parse(text: str) -> Query:  # noqa: C901, PLR0912, PLR0915 - a small recursive-descent parser
    tokens = _tokens(text)
    position = 0

    def peek(offset: int = 0) -> tuple[str, str]:
        return tokens[position + offset] if position + offset < len(tokens) else ("end", "")

    def take() -> tuple[str, str]:
        nonlocal position
        token = peek()
        position += 1
        return token

    def keyword(word: str) -> bool:
        kind, value = peek()
        if kind == "word" and value.upper() == word:
            take()
            return True
        return False

    if not keyword("SELECT"):
        raise parse_error("A query starts with SELECT")
    count = False
    if peek() == ("punct", "*"):
        take()
        while peek() == ("punct", ","):  # SELECT *, Sku FROM Item
            take()
            take()
    elif peek()[1].upper() == "COUNT":
        take()
        if [take()[1] for _ in range(3)] != ["(", "*", ")"]:
            raise parse_error("Expected COUNT(*)")
        count = True
    else:
        while True:
            if take()[0] != "word":
                raise parse_error("Expected a field name")
            if peek() != ("punct", ","):
                break
            take()
    if not keyword("FROM"):
        raise parse_error("Expected FROM")
    kind, entity = take()
    if kind != "word":
        raise parse_error("Expected an entity after FROM")
    query = Query(entity=entity, count=count)
    if keyword("WHERE"):
        while True:
            path_kind, path = take()
            if path_kind != "word":
                raise parse_error(f"Expected a field, found {path}")
            if keyword("IN"):
                if take() != ("punct", "("):
                    raise parse_error("Expected ( after IN")
                values = []
                while True:
                    values.append(_literal(*take()))
                    separator = take()
                    if separator == ("punct", ")"):
                        break
                    if separator != ("punct", ","):
                        raise parse_error("Expected , or ) in IN list")
                query.conditions.append(Condition(path, "IN", values))
            elif keyword("LIKE"):
                query.conditions.append(Condition(path, "LIKE", [_literal(*take())]))
            else:
                op_kind, operator = take()
                if op_kind != "op" or operator == "!=":
                    raise parse_error(f"Unsupported operator {operator}")
                query.conditions.append(Condition(path, operator, [_literal(*take())]))
            if not keyword("AND"):
                break
    if keyword("ORDERBY") or (keyword("ORDER") and keyword("BY")):
        query.order_by = take()[1]
        if keyword("DESC"):
            query.descending = True
        else:
            keyword("ASC")
    if keyword("STARTPOSITION"):
        query.start = int(float(take()[1]))
    if keyword("MAXRESULTS"):
        query.limit = int(float(take()[1]))
    if peek()[0] != "end":
        raise parse_error(f"Unexpected {peek()[1]!r}")
    if query.limit > MAX_RESULTS:
        raise qf.fault(
            "Invalid query",
            f"QueryValidationError: value {query.limit} is too large. Max allowed value is {MAX_RESULTS}",
            4001,
        )
    if query.start < 1:
        raise qf.fault("Invalid query", "QueryValidationError: STARTPOSITION must be at least 1", 4001)
    return query


def field_value(body: dict[str, Any], path: str) -> Any:
    """Read a dotted path case-insensitively (Metadata.LastUpdatedTime reads MetaData)."""
    value: Any = body
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        key = part if part in value else next((k for k in value if k.lower() == part.lower()), None)
        value = value.get(key) if key else None
    if isinstance(value, dict):
        return next((value[k] for k in _LEAF_KEYS if k in value), None)
    return value


def _comparable(value: Any, other: Any) -> tuple[Any, Any]:
    if isinstance(other, bool) or isinstance(value, bool):
        return str(value).lower(), str(other).lower()
    if isinstance(other, float):
        try:
            return float(value), other
        except (TypeError, ValueError):
            return None, other
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return float(value), float(other)
        except ValueError:
            return None, other
    text, wanted = str(value or ""), str(other)
    if _MOMENT.match(wanted) and _MOMENT.match(text):
        return parse_iso(text), parse_iso(wanted)
    return text.lower(), wanted.lower()


def matches(body: dict[str, Any], condition: Condition) -> bool:
    value = field_value(body, condition.path)
    if condition.operator == "IN":
        texts = _texts(tuple(condition.values))
        if texts is not None and isinstance(value, str):
            return value.lower() in texts
        return any(_equal(value, v) for v in condition.values)
    if condition.operator == "LIKE":
        pattern = "^" + re.escape(str(condition.values[0]).lower()).replace("%", ".*") + "$"
        return re.match(pattern, str(value or "").lower()) is not None
    left, right = _comparable(value, condition.values[0])
    if left is None:
        return False
    match condition.operator:
        case "=":
            return bool(left == right)
        case "<":
            return bool(left < right)
        case ">":
            return bool(left > right)
        case "<=":
            return bool(left <= right)
        case ">=":
            return bool(left >= right)
    return False


@functools.lru_cache(maxsize=64)
def _texts(values: tuple[Any, ...]) -> frozenset[str] | None:
    """An IN list's values in lower case, when text compares with each of them as plain text (no number, truth
    value or moment among them); None otherwise."""
    if all(isinstance(v, str) and not _MOMENT.match(v) for v in values):
        return frozenset(v.lower() for v in values)
    return None


def _equal(value: Any, wanted: Any) -> bool:
    left, right = _comparable(value, wanted)
    return left is not None and left == right


def run(
    query: Query,
    records: list[dict[str, Any]],
    render: Callable[[dict[str, Any]], dict[str, Any]] = lambda r: r,
) -> dict[str, Any]:
    """The QueryResponse for `query` over an entity's stored records; only the answered page is rendered."""
    selected = [r for r in records if all(matches(r, c) for c in query.conditions)]
    if not query.mentions_active:
        selected = [r for r in selected if r.get("Active", True) is not False]
    if query.count:
        return {"totalCount": len(selected)}
    if query.order_by:
        order_by = query.order_by

        def key(record: dict[str, Any]) -> tuple[int, float, str]:
            value = field_value(record, order_by)
            try:
                return (0, float(value), "")
            except (TypeError, ValueError):
                return (1, 0.0, str(value or "").lower())

        selected.sort(key=key, reverse=query.descending)
    else:
        selected.sort(key=lambda r: int(r["Id"]) if str(r.get("Id", "")).isdigit() else 0)
    page = [render(r) for r in selected[query.start - 1 : query.start - 1 + query.limit]]
    if not page:
        return {}
    return {query.entity: page, "startPosition": query.start, "maxResults": len(page)}
