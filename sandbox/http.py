"""The WSGI plumbing both emulators share: routing, call log, injected faults, admin API, server."""

import json
import logging
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from sandbox.accounts import Accounts
from sandbox.clock import ScaledTime, now_ms
from sandbox.faults import FaultPlan, FaultRule, FaultSpecError
from sandbox.webhooks import WebhookDispatcher

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An answer in the provider's own error shape."""

    def __init__(
        self,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.content_type = content_type

    def response(self) -> Response:
        payload = self.body if isinstance(self.body, str) else json.dumps(self.body)
        return Response(payload, status=self.status, headers=self.headers, content_type=self.content_type)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")


def read_json(request: Request) -> Any:
    try:
        return json.loads(request.get_data(as_text=True) or "null")
    except json.JSONDecodeError as exc:
        raise ApiError(400, {"message": f"Invalid JSON: {exc}"}) from exc


def ids_arg(request: Request) -> list[str] | None:
    """An admin listing's `ids` argument (comma-separated): None when not given."""
    raw = request.args.get("ids")
    return None if raw is None else [i for i in raw.split(",") if i]


@dataclass
class CallRecord:
    method: str
    path: str
    query: str
    status: int
    at_ms: int
    duration_ms: float
    fault: str | None


Handler = Callable[..., Response]


class Emulator:
    """Base of the HubSpot and QuickBooks emulators: subclasses add routes and provider behaviour."""

    def __init__(self, *, time_scale: float = 1.0, seed: int = 0) -> None:
        self.time = ScaledTime(time_scale)
        # What the rate limits count time by; tests of the limits hold it still or move it by hand.
        self.limits_clock: Callable[[], float] = time.monotonic
        self.faults = FaultPlan(seed)
        self.lock = threading.RLock()
        self.calls: list[CallRecord] = []
        self.webhooks: WebhookDispatcher = self.make_dispatcher()
        self.initial_webhook_url: str | None = None
        admin = [
            Rule("/_sandbox/reset", methods=["POST"], endpoint=self.admin_reset),
            Rule("/_sandbox/faults", methods=["GET"], endpoint=self.admin_list_faults),
            Rule("/_sandbox/faults", methods=["POST"], endpoint=self.admin_add_fault),
            Rule("/_sandbox/faults", methods=["DELETE"], endpoint=self.admin_clear_faults),
            Rule("/_sandbox/faults/release", methods=["POST"], endpoint=self.admin_release_held),
            Rule("/_sandbox/calls", methods=["GET"], endpoint=self.admin_calls),
            Rule("/_sandbox/calls", methods=["DELETE"], endpoint=self.admin_clear_calls),
            Rule("/_sandbox/webhooks", methods=["GET"], endpoint=self.admin_webhooks),
            Rule("/_sandbox/webhooks", methods=["PUT"], endpoint=self.admin_configure_webhooks),
            Rule("/_sandbox/webhooks/flush", methods=["POST"], endpoint=self.admin_flush_webhooks),
            Rule("/_sandbox/stats", methods=["GET"], endpoint=self.admin_stats),
            Rule("/_sandbox/accounts", methods=["GET"], endpoint=self.admin_accounts),
            Rule("/_sandbox/accounts", methods=["POST"], endpoint=self.admin_add_account),
        ]
        self.url_map = Map([*admin, *self.rules()], strict_slashes=False, merge_slashes=False)

    # -- what subclasses provide -------------------------------------------------------------------

    def rules(self) -> list[Rule]:
        raise NotImplementedError

    @property
    def accounts(self) -> Accounts[Any, Any]:
        """The portals or companies this emulator serves."""
        raise NotImplementedError

    def account_key(self, raw: str) -> Any:
        """An account's key from its text form (a portal id is a number, a realm id a string)."""
        return raw

    def api_account(self, request: Request) -> Any:
        """The account an API call works on (None: the primary account)."""
        raise NotImplementedError

    def make_dispatcher(self) -> WebhookDispatcher:
        raise NotImplementedError

    def error(self, status: int, message: str, category: str) -> ApiError:
        """An error in the provider's shape."""
        raise NotImplementedError

    def throttled(self, window: str) -> ApiError:
        raise NotImplementedError

    def admit(self, request: Request) -> str | None:
        """Authenticate and take rate-limit budget; return the refusing window's name, if any."""
        raise NotImplementedError

    def release(self, request: Request) -> None:
        """Called after every admitted API call (for concurrency caps)."""

    def reset_state(self) -> None:
        raise NotImplementedError

    def stats(self) -> dict[str, Any]:
        return {}

    # -- WSGI --------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        admin = request.path.startswith("/_sandbox/")
        try:
            self.accounts.use(self._admin_account(request) if admin else self.api_account(request))
        except ApiError as exc:
            return exc.response()(environ, start_response)
        response = self._dispatch(request) if admin else self._api_call(request)
        return response(environ, start_response)

    def _admin_account(self, request: Request) -> Any:
        """An admin call works on the account named by `?account=` (the primary one without it)."""
        raw = request.args.get("account")
        if raw is None:
            return None
        key = self.account_key(raw)
        if key not in self.accounts:
            raise self.error(404, f"No account {raw} in this sandbox", "OBJECT_NOT_FOUND")
        return key

    def _dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
            handler: Handler = endpoint
            return handler(request, **values)
        except ApiError as exc:
            return exc.response()
        except NotFound:
            return self.error(404, f"No route for {request.method} {request.path}", "OBJECT_NOT_FOUND").response()
        except MethodNotAllowed:
            return self.error(405, f"{request.method} is not allowed on {request.path}", "VALIDATION_ERROR").response()
        except HTTPException as exc:
            return self.error(exc.code or 500, str(exc.description), "VALIDATION_ERROR").response()
        except Exception:
            logger.exception("%s %s failed inside the sandbox", request.method, request.path)
            return self.error(500, "Internal error in the sandbox", "INTERNAL_ERROR").response()

    def _api_call(self, request: Request) -> Response:
        started = time.monotonic()
        fault = self.faults.pick("http", request.method, request.path)
        kind = fault.kind if fault else None
        if fault is not None and kind not in ("slow", "hold", "applied_500"):
            response = self._faulted(request, fault)
        else:
            try:
                refused = self.admit(request)
            except ApiError as exc:
                response = exc.response()
            else:
                if refused is not None:
                    response = self.throttled(refused).response()
                else:
                    try:
                        if fault is not None and kind == "slow":
                            time.sleep(fault.delay_ms / 1000)  # a slow answer holds its concurrency slot
                        elif fault is not None and kind == "hold":
                            self.faults.hold(fault.delay_ms)
                        response = self._dispatch(request)
                    finally:
                        self.release(request)
            if kind == "applied_500":
                response = self.error(500, "Internal server error", "INTERNAL_ERROR").response()
        self.calls.append(
            CallRecord(
                method=request.method,
                path=request.path,
                query=request.query_string.decode("latin-1"),
                status=response.status_code,
                at_ms=now_ms(),
                duration_ms=round((time.monotonic() - started) * 1000, 2),
                fault=kind,
            )
        )
        return response

    def _faulted(self, request: Request, fault: FaultRule) -> Response:
        """Answer for a fault that replaces the call: a reset connection, a 429 or a 5xx."""
        if fault.kind == "reset":
            raw = request.environ.get("werkzeug.socket")
            if isinstance(raw, socket.socket):
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                raw.shutdown(socket.SHUT_RDWR)  # the client sees the connection drop with no answer
            # Never reaches the client, whose connection was reset; kept in the call log as a 500.
            return self.error(500, "Connection reset", "INTERNAL_ERROR").response()
        if fault.kind == "429":
            return self.throttled("injected").response()
        return self.error(int(fault.kind), "Injected failure", "INTERNAL_ERROR").response()

    # -- admin API ---------------------------------------------------------------------------------

    def admin_reset(self, request: Request) -> Response:
        with self.lock:
            self.reset_state()
            self.calls.clear()
            self.faults.clear()
            self.webhooks.clear()
            self.webhooks.url = self.initial_webhook_url
            self.webhooks.enabled = True
        return json_response({"reset": True})

    def admin_list_faults(self, request: Request) -> Response:
        faults = self.faults
        return json_response({"rules": faults.rules(), "injected": dict(faults.injected), "holding": faults.holding()})

    def admin_release_held(self, request: Request) -> Response:
        return json_response({"released": self.faults.release()})

    def admin_add_fault(self, request: Request) -> Response:
        try:
            rule = self.faults.add(read_json(request) or {})
        except FaultSpecError as exc:
            return json_response({"message": str(exc)}, status=400)
        return json_response(rule.describe(), status=201)

    def admin_clear_faults(self, request: Request) -> Response:
        seed = request.args.get("seed")
        self.faults.clear(None if seed is None else int(seed))
        return json_response({"cleared": True})

    def admin_calls(self, request: Request) -> Response:
        since = int(request.args.get("since_ms", 0))
        calls = [vars(c) for c in list(self.calls) if c.at_ms >= since]
        return json_response({"count": len(calls), "calls": calls[-int(request.args.get("limit", 1000)) :]})

    def admin_clear_calls(self, request: Request) -> Response:
        self.calls.clear()
        return json_response({"cleared": True})

    def admin_webhooks(self, request: Request) -> Response:
        return json_response(self.webhooks.report())

    def admin_configure_webhooks(self, request: Request) -> Response:
        body = read_json(request) or {}
        if "url" in body:
            self.webhooks.url = body["url"]
        if "enabled" in body:
            self.webhooks.enabled = bool(body["enabled"])
        return json_response(self.webhooks.report())

    def admin_flush_webhooks(self, request: Request) -> Response:
        idle = self.webhooks.wait_idle(float(request.args.get("timeout", 10)))
        return json_response({"idle": idle, **self.webhooks.report()})

    def admin_accounts(self, request: Request) -> Response:
        return json_response({"primary": str(self.accounts.primary), "accounts": [str(k) for k in self.accounts]})

    def admin_add_account(self, request: Request) -> Response:
        """Another portal or company, empty, served beside the others (the same app installed there too)."""
        raw = str((read_json(request) or {}).get("id", ""))
        try:
            key = self.account_key(raw)
        except ValueError:
            key = None
        if not raw or key is None:
            return json_response({"message": f"Not an account id: {raw!r}"}, status=400)
        with self.lock:
            self.accounts.add(key)
        return json_response({"account": raw}, status=201)

    def admin_stats(self, request: Request) -> Response:
        statuses: dict[str, int] = {}
        for call in list(self.calls):
            statuses[str(call.status)] = statuses.get(str(call.status), 0) + 1
        return json_response(
            {
                "calls": len(self.calls),
                "statuses": statuses,
                "faults_injected": dict(self.faults.injected),
                "webhooks_dropped": self.webhooks.dropped,
                **self.stats(),
            }
        )


def correlation_id() -> str:
    return str(uuid.uuid4())


class _QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = 1 << 16

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def log_error(self, format: str, *args: Any) -> None:
        logger.debug("sandbox connection: " + format, *args)


@dataclass
class RunningServer:
    """An emulator served on 127.0.0.1 in a background thread."""

    app: Emulator
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.app.webhooks.stop()


def serve(app: Emulator, port: int = 0, wsgi: Callable[..., Any] | None = None) -> RunningServer:
    """Serve an emulator on 127.0.0.1 (port 0 picks a free one), optionally through a WSGI middleware."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", port, wsgi or app, threaded=True, request_handler=_QuietHandler)
    server.daemon_threads = True  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, name=type(app).__name__, daemon=True)
    thread.start()
    return RunningServer(app, server, thread)
