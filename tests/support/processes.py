"""Command-line processes in tests: read what they print with a deadline, so a silent process fails the
test instead of hanging it."""

import queue
import re
import subprocess
import threading
import time


class PrintedLines:
    """Lines a process prints on stdout, collected by a reader thread."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self.seen: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        stdout = process.stdout

        def read() -> None:
            for line in stdout:
                self._lines.put(line.rstrip("\n"))
            self._lines.put(None)

        threading.Thread(target=read, daemon=True).start()

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first line matching `pattern` within `timeout` seconds; fails with what was printed."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"the process ended before printing {pattern!r}: {self.seen}")
            self.seen.append(line)
            if match := re.search(pattern, line):
                return match
        raise AssertionError(f"no line matched {pattern!r} within {timeout} s: {self.seen}")
