"""How many requests a second the sandbox serves on loopback, so it never limits our own benchmarks.

Each emulator runs in its own process (as from the command line) with its rate-limit windows shrunk
to nothing; this process drives it from several threads over keep-alive connections.
"""

import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench.results import Metric
from sandbox.client import HubSpotAdmin, QuickBooksAdmin

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token"
TARGET = 500.0


def _start(args: list[str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            *args,
            "--port",
            "0",
            "--dev-token",
            TOKEN,
            "--time-scale",
            "0.00001",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    match = re.fullmatch(r"ready (\S+)", process.stdout.readline().strip())
    if match is None:
        process.kill()
        raise RuntimeError("the sandbox did not start")
    return process, match.group(1)


def _rate(call: Callable[[requests.Session], int], threads: int, per_thread: int) -> float:
    def worker(_: int) -> int:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {TOKEN}"
        return sum(1 for _ in range(per_thread) if call(session) == 200)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        ok = sum(pool.map(worker, range(threads)))
    elapsed = time.perf_counter() - started
    if ok != threads * per_thread:
        raise RuntimeError(f"only {ok} of {threads * per_thread} requests succeeded")
    return ok / elapsed


def measure(repeats: int, per_thread: int, threads: int = 4) -> list[Metric]:
    hubspot, hubspot_url = _start(["hubspot", "--portal-id", "1"])
    quickbooks, qbo_url = _start(["quickbooks", "--realm-id", "1"])
    try:
        contact = HubSpotAdmin(hubspot_url).seed({"contacts": [{"email": f"b{n}@example.com"} for n in range(200)]})
        contact_id = contact["contacts"][0]
        QuickBooksAdmin(qbo_url).seed({"Customer": [{"DisplayName": f"C{n}"} for n in range(200)]})
        probes: dict[str, Callable[[requests.Session], int]] = {
            "sandbox HubSpot GET contact": lambda s: (
                s.get(f"{hubspot_url}/crm/v3/objects/contacts/{contact_id}").status_code
            ),
            "sandbox HubSpot search": lambda s: (
                s.post(
                    f"{hubspot_url}/crm/v3/objects/contacts/search",
                    json={
                        "filterGroups": [
                            {"filters": [{"propertyName": "email", "operator": "EQ", "value": "b7@example.com"}]}
                        ]
                    },
                ).status_code
            ),
            "sandbox QBO GET customer": lambda s: s.get(f"{qbo_url}/v3/company/1/customer/5").status_code,
            "sandbox QBO query": lambda s: (
                s.get(
                    f"{qbo_url}/v3/company/1/query",
                    params={"query": "select * from Customer where DisplayName = 'C7'"},
                ).status_code
            ),
        }
        metrics = []
        for name, probe in probes.items():
            rates = [_rate(probe, threads, per_thread) for _ in range(repeats)]
            value = round(statistics.median(rates), 1)
            metrics.append(
                Metric(
                    f"{name} throughput",
                    value,
                    "requests/s",
                    ceiling=TARGET,
                    note=f"median of {repeats} runs, {threads} client threads, target >= {TARGET:g}",
                )
            )
        return metrics
    finally:
        for process in (hubspot, quickbooks):
            process.terminate()
            process.wait(timeout=10)
