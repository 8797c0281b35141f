import base64
import json

import pytest

from devstack.gateway import RouteTable, build_event, shape_response
from devstack.topology import RouteSpec

ROUTES = [
    RouteSpec("GET", "/health", "Health"),
    RouteSpec("GET", "/api/syncs/{pair}", "Settings"),
    RouteSpec("ANY", "/api/{proxy+}", "Fallback"),
    RouteSpec("POST", "/webhooks/hubspot", "Webhook"),
]


@pytest.mark.parametrize(
    ("method", "path", "function", "params"),
    [
        ("GET", "/health", "Health", {}),
        ("GET", "/api/syncs/contacts", "Settings", {"pair": "contacts"}),
        ("PUT", "/api/syncs/contacts", "Fallback", {"proxy": "syncs/contacts"}),
        ("POST", "/webhooks/hubspot", "Webhook", {}),
    ],
)
def test_routes_match_most_specific_first(method: str, path: str, function: str, params: dict[str, str]) -> None:
    matched = RouteTable(ROUTES).match(method, path)
    assert matched is not None
    route, found = matched
    assert (route.function, found) == (function, params)


def test_unknown_route_and_wrong_method_do_not_match() -> None:
    table = RouteTable(ROUTES)
    assert table.match("GET", "/nope") is None
    assert table.match("DELETE", "/health") is None


def test_event_has_http_api_v2_shape() -> None:
    event = build_event(
        RouteSpec("POST", "/webhooks/hubspot", "Webhook"),
        path_parameters={},
        method="POST",
        raw_path="/webhooks/hubspot",
        raw_query="a=1&a=2&b=",
        headers=[
            ("Host", "127.0.0.1:9"),
            ("Content-Type", "application/json"),
            ("Cookie", "s=1; t=2"),
            ("X-Multi", "x"),
            ("X-Multi", "y"),
        ],
        body=b'{"k": 1}',
        source_ip="127.0.0.1",
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /webhooks/hubspot"
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["cookies"] == ["s=1", "t=2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "x,y"
    assert event["isBase64Encoded"] is False
    assert json.loads(event["body"]) == {"k": 1}


def test_binary_body_is_base64_encoded() -> None:
    raw = bytes(range(256))
    event = build_event(
        RouteSpec("POST", "/upload", "F"),
        path_parameters={},
        method="POST",
        raw_path="/upload",
        raw_query="",
        headers=[("Content-Type", "application/octet-stream")],
        body=raw,
        source_ip="127.0.0.1",
    )
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw


def test_response_shapes() -> None:
    plain = shape_response({"ok": True})
    assert (plain.status, json.loads(plain.body)) == (200, {"ok": True})
    full = shape_response({"statusCode": 302, "headers": {"Location": "/x"}, "cookies": ["s=1; HttpOnly"], "body": ""})
    assert full.status == 302
    assert ("Location", "/x") in full.headers
    assert ("set-cookie", "s=1; HttpOnly") in full.headers
    binary = shape_response(
        {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True}
    )
    assert binary.body == b"\x00\x01"
