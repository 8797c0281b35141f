"""`python -m devstack up` serves until it is told to stop, and stops, servers and threads with it, within
seconds of SIGINT or SIGTERM."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.support.processes import PrintedLines

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.devstack, pytest.mark.slow]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_up_stops_within_seconds_of_a_signal(stop: signal.Signals) -> None:
    template = ROOT / "tests" / "fixtures" / "pump" / "template.yaml"
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack", "up", "--template", str(template), "--stack-name", f"up-{stop.name}"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'common'}:{ROOT}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        printed = PrintedLines(process)
        gateway = printed.wait_for(r"^gateway\s+(http://\S+)", timeout=120).group(1)
        printed.wait_for("devstack is up", timeout=30)
        assert requests.get(f"{gateway}/no-such-route", timeout=10).status_code == 404
        asked = time.monotonic()
        process.send_signal(stop)
        assert process.wait(timeout=20) == 0, printed.seen
        assert time.monotonic() - asked < 20
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{gateway}/no-such-route", timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
