"""`python -m sandbox ...` starts each emulator, announces `ready <url>` and serves it."""

import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support.processes import PrintedLines

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("args", "probe"),
    [
        (["hubspot", "--portal-id", "77", "--dev-token", "tok"], "/crm/v3/objects/contacts"),
        (
            ["quickbooks", "--realm-id", "9001", "--dev-token", "tok", "--verifier-token", "v"],
            "/v3/company/9001/preferences",
        ),
    ],
)
def test_command_line_announces_ready_and_serves(args: list[str], probe: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", *args, "--port", "0", "--time-scale", "0.5"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        match = PrintedLines(process).wait_for(r"^ready (http://127\.0\.0\.1:\d+)$", timeout=30)
        response = requests.get(match.group(1) + probe, headers={"Authorization": "Bearer tok"}, timeout=10)
        assert response.status_code == 200
        assert requests.get(match.group(1) + probe, timeout=10).status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)
