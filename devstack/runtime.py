"""Invokes Lambda handlers in-process: per-function environment, a Lambda context, warm containers."""

import contextvars
import importlib.util
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from devstack.topology import FunctionSpec


class ProcessKilled(BaseException):
    """The execution environment died mid-invocation (out of memory, killed at its timeout): a BaseException,
    so nothing in the handler that catches Exception gets to clean up, as nothing would in Lambda."""


class RuntimeExitError(RuntimeError):
    """What the invoker sees when the environment died (Lambda's Runtime.ExitError)."""


_overlay: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar("overlay", default=None)


class _LayeredEnviron(MutableMapping[str, str]):
    """os.environ whose values, inside an invocation, come first from that function's environment.

    Many functions share one process here, each with the environment its template gives; a context
    variable scopes the overlay to the thread running the invocation.
    """

    def __init__(self, base: MutableMapping[str, str]) -> None:
        self._base = base

    def _merged(self) -> Mapping[str, str]:
        overlay = _overlay.get()
        return self._base if overlay is None else {**self._base, **overlay}

    def __getitem__(self, key: str) -> str:
        overlay = _overlay.get()  # not merged for one key: settings read every variable, one by one
        return overlay[key] if overlay is not None and key in overlay else self._base[key]

    def __setitem__(self, key: str, value: str) -> None:
        self._base[key] = value

    def __delitem__(self, key: str) -> None:
        del self._base[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._merged())

    def __len__(self) -> int:
        return len(self._merged())

    def copy(self) -> dict[str, str]:
        return dict(self._merged())


def install_environment_overlay() -> None:
    """Replace os.environ once per process (idempotent)."""
    if not isinstance(os.environ, _LayeredEnviron):
        os.environ = _LayeredEnviron(os.environ)  # type: ignore[assignment]  # noqa: B003 - wraps, keeps all


@contextmanager
def function_environment(environment: Mapping[str, str]) -> Iterator[None]:
    token = _overlay.set(dict(environment))
    try:
        yield
    finally:
        _overlay.reset(token)


def _forget_metrics() -> None:
    """Metrics turned off are never flushed, so Powertools keeps them (one set for the whole process) and prints a
    metric once it holds a hundred values, off or not: a quiet stack drops them after each invocation."""
    from aws_lambda_powertools import Metrics  # the functions' dependency, not devstack's own

    Metrics().clear_metrics()


@dataclass
class LambdaContext:
    """The attributes and method the Python runtime's context object offers."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int
    time_scale: float = 1.0  # the stack's: the remaining time runs down as fast as its queues' timeouts
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"
        self.log_stream_name = self.log_stream_name or f"devstack/[$LATEST]{uuid.uuid4().hex}"
        self._deadline = time.monotonic() + self.timeout_seconds * self.time_scale

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


Handler = Callable[[Any, Any], Any]


@dataclass
class _Container:
    """One warm execution environment: its own copy of the handler module."""

    module: ModuleType
    handler: Handler


@dataclass
class InvocationRecord:
    function: str
    started: float
    duration_ms: float
    error: str | None


class FunctionRuntime:
    """Runs one function's handler; concurrent invocations get separate containers, as in Lambda."""

    def __init__(self, spec: FunctionSpec, time_scale: float = 1.0) -> None:
        self.spec = spec
        self.time_scale = time_scale
        self._idle: list[_Container] = []
        self._lock = threading.Lock()
        self.cold_starts = 0
        self.invocations: list[InvocationRecord] = []

    def _new_container(self) -> _Container:
        module_name, _, handler_name = self.spec.handler.rpartition(".")
        path = self.spec.code_dir / (module_name.replace(".", "/") + ".py")
        for layer in self.spec.layer_dirs:
            if str(layer) not in sys.path:
                sys.path.insert(0, str(layer))
        # The handler module keeps its own name (as in Lambda, where every container imports `app`): names
        # derived from it must agree across containers — Powertools' idempotency keys start with
        # `module.function`, so per-container names would let two containers handle one signal twice.
        # It is not put in sys.modules, so each container still runs its own copy.
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        if module_spec is None or module_spec.loader is None:
            raise ImportError(f"{self.spec.logical_id}: cannot load {path}")
        module = importlib.util.module_from_spec(module_spec)
        with function_environment(self.spec.environment):
            module_spec.loader.exec_module(module)
        self.cold_starts += 1
        return _Container(module=module, handler=getattr(module, handler_name))

    def invoke(self, event: Any) -> Any:
        with self._lock:
            container = self._idle.pop() if self._idle else None
        if container is None:
            container = self._new_container()
        context = LambdaContext(
            function_name=self.spec.name,
            invoked_function_arn=self.spec.arn,
            memory_limit_in_mb=self.spec.memory_mb,
            timeout_seconds=self.spec.timeout_seconds,
            time_scale=self.time_scale,
        )
        started = time.monotonic()
        error: str | None = None
        try:
            with function_environment({**self.spec.environment, "AWS_LAMBDA_FUNCTION_NAME": self.spec.name}):
                return container.handler(event, context)
        except ProcessKilled as exc:
            error = "Runtime.ExitError"
            raise RuntimeExitError(f"{self.spec.logical_id}: the execution environment exited") from exc
        except Exception as exc:
            error = type(exc).__name__
            raise
        finally:
            if self.spec.environment.get("POWERTOOLS_METRICS_DISABLED") == "true":
                _forget_metrics()
            self.invocations.append(
                InvocationRecord(self.spec.logical_id, started, (time.monotonic() - started) * 1000, error)
            )
            if error != "Runtime.ExitError":  # a dead environment is not reused: the next one starts cold
                with self._lock:
                    self._idle.append(container)
