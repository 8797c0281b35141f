"""Daemon threads that run until they are told to stop (the pump's pollers, the scheduler's timers)."""

import threading
from collections.abc import Callable
from typing import Any


class BackgroundThreads:
    def __init__(self) -> None:
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, name: str, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        """Tell every thread to stop, and wait up to `timeout` seconds for each."""
        self.stopping.set()
        for thread in self._threads:
            thread.join(timeout=timeout)
