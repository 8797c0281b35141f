"""A WSGI middleware that keeps every API request and response an emulator sees, for the contract checks."""

import io
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Response


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    query: str
    status: int
    content_type: str
    body: bytes
    request_content_type: str = ""
    request_body: bytes = b""


class Recorder:
    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        sent = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(sent)
        response = Response.from_app(self.app, environ, buffered=True)
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/_sandbox/"):
            exchange = Exchange(
                environ["REQUEST_METHOD"],
                path,
                environ.get("QUERY_STRING", ""),
                response.status_code,
                response.content_type or "",
                response.get_data(),
                environ.get("CONTENT_TYPE", ""),
                sent,
            )
            with self._lock:
                self.exchanges.append(exchange)
        return response(environ, start_response)

    def take(self) -> list[Exchange]:
        with self._lock:
            taken, self.exchanges = self.exchanges, []
        return taken
