"""A local HTTP API gateway: HTTP requests in, API Gateway HTTP API (payload 2.0) events to handlers."""

import base64
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from devstack.topology import RouteSpec

logger = logging.getLogger(__name__)

Invoke = Callable[[str, dict[str, Any]], Any]
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
_TEXT_TYPES = re.compile(
    r"^(text/.*|application/(json|.*\+json|xml|.*\+xml|javascript|x-www-form-urlencoded|text))(;.*)?$",
    re.IGNORECASE,
)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True)
class _CompiledRoute:
    spec: RouteSpec
    pattern: re.Pattern[str]
    literal_length: int


def _compile(spec: RouteSpec) -> _CompiledRoute:
    parts: list[str] = []
    for segment in spec.path.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("+}"):
            parts.append(f"(?P<{segment[1:-2]}>.+)")
        elif segment.startswith("{") and segment.endswith("}"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    literal_length = len(re.sub(r"\{[^}]+\}", "", spec.path))
    return _CompiledRoute(spec, re.compile("^/" + "/".join(parts) + "/?$"), literal_length)


class RouteTable:
    """Matches requests the way HTTP APIs do: the most specific route wins, ANY after exact methods."""

    def __init__(self, routes: Iterable[RouteSpec]) -> None:
        self._routes = sorted(
            (_compile(r) for r in routes),
            key=lambda r: (-r.literal_length, r.spec.method == "ANY"),
        )

    def match(self, method: str, path: str) -> tuple[RouteSpec, dict[str, str]] | None:
        for route in self._routes:
            if route.spec.method not in (method, "ANY"):
                continue
            found = route.pattern.match(path)
            if found is not None:
                return route.spec, found.groupdict()
        return None


def build_event(
    route: RouteSpec,
    *,
    path_parameters: dict[str, str],
    method: str,
    raw_path: str,
    raw_query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
) -> dict[str, Any]:
    """An HTTP API payload-2.0 event, as API Gateway builds it."""
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    # Text arrives as text; anything else, and "text" that is not valid UTF-8, arrives base64-encoded.
    # API Gateway tells the function the scheme the client used (here plain HTTP on loopback).
    merged["x-forwarded-proto"] = "http"
    is_text = _TEXT_TYPES.match(merged.get("content-type", "text/plain")) is not None and _is_utf8(body)
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": merged,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "devstack",
            "domainName": merged.get("host", "localhost"),
            "domainPrefix": merged.get("host", "localhost").split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex[:16],
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": bool(body) and not is_text,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        event["body"] = body.decode("utf-8") if is_text else base64.b64encode(body).decode("ascii")
    return event


@dataclass(frozen=True)
class GatewayResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def shape_response(result: Any) -> GatewayResponse:
    """Turn a handler's return value into HTTP, including HTTP APIs' inference for plain values."""
    if not (isinstance(result, dict) and "statusCode" in result):
        text = result if isinstance(result, str) else json.dumps(result)
        return GatewayResponse(200, [("content-type", "application/json")], text.encode("utf-8"))
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((name, str(v)) for v in values)
    headers.extend(("set-cookie", cookie) for cookie in result.get("cookies") or [])
    raw = result.get("body") or ""
    payload = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode("utf-8")
    return GatewayResponse(int(result["statusCode"]), headers, payload)


def _json_error(status: int, message: str) -> GatewayResponse:
    return GatewayResponse(status, [("content-type", "application/json")], json.dumps({"message": message}).encode())


class Gateway:
    """Serves the template's HttpApi routes on 127.0.0.1."""

    def __init__(self, routes: Iterable[RouteSpec], invoke: Invoke, port: int = 0) -> None:
        self.table = RouteTable(routes)
        self._invoke = invoke
        # Powertools keeps the event being resolved on its router class (one per process, as a Lambda process
        # runs one invocation at a time); devstack runs every function in one process, so two HTTP invocations
        # at once would read each other's event. One at a time then, on one lasting thread: the server starts a
        # thread per connection, and what the functions keep per thread (their boto3 resources, with their
        # connections) would otherwise be built again for every connection.
        self._invoker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gateway-invoke")
        gateway = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One buffered write per response and no Nagle delay: keep-alive clients otherwise wait
            # ~40 ms for a delayed ACK between the header and body segments.
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                gateway._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                logger.debug("gateway: " + format, *args)

        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="gateway", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._invoker.shutdown(wait=False)

    def dispatch(self, request: BaseHTTPRequestHandler, body: bytes) -> GatewayResponse:
        split = urlsplit(request.path)
        matched = self.table.match(request.command, split.path)
        if matched is None:
            return _json_error(404, "Not Found")
        route, parameters = matched
        event = build_event(
            route,
            path_parameters=parameters,
            method=request.command,
            raw_path=split.path,
            raw_query=split.query,
            headers=list(request.headers.items()),
            body=body,
            source_ip=request.client_address[0],
        )
        try:
            return shape_response(self._invoker.submit(self._invoke, route.function, event).result())
        except Exception:
            logger.exception("function %s failed for %s", route.function, route.route_key)
            return _json_error(500, "Internal Server Error")

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("content-length") or 0)
        started = time.monotonic()
        if length > MAX_BODY_BYTES:
            response = _json_error(413, "Request Entity Too Large")
            request.close_connection = True
        else:
            response = self.dispatch(request, request.rfile.read(length) if length else b"")
        request.send_response(response.status)
        for name, value in response.headers:
            request.send_header(name, value)
        request.send_header("content-length", str(len(response.body)))
        request.send_header("apigw-requestid", uuid.uuid4().hex[:16])
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(response.body)
        logger.debug(
            "%s %s -> %s in %.1f ms",
            request.command,
            request.path,
            response.status,
            (time.monotonic() - started) * 1000,
        )
