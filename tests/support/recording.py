"""A WSGI middleware that keeps every API response an emulator gives, for the contract checks."""

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


class Recorder:
    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.exchanges: list[Exchange] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        response = Response.from_app(self.app, environ, buffered=True)
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/_sandbox/"):
            self.exchanges.append(
                Exchange(
                    environ["REQUEST_METHOD"],
                    path,
                    environ.get("QUERY_STRING", ""),
                    response.status_code,
                    response.content_type or "",
                    response.get_data(),
                )
            )
        return response(environ, start_response)

    def take(self) -> list[Exchange]:
        taken, self.exchanges = self.exchanges, []
        return taken
