"""Round trip of GET /health through devstack's gateway: HTTP, event building, handler, moto calls."""

import statistics
import time

import requests

from bench.results import Metric, percentile
from devstack import Devstack


def measure(requests_count: int) -> list[Metric]:
    with Devstack(stack_name="hubbooks-bench", run_schedules=False) as stack, requests.Session() as http:
        url = f"{stack.gateway_url}/health"
        http.get(url, timeout=10).raise_for_status()  # warm container
        samples = []
        for _ in range(requests_count):
            started = time.perf_counter()
            http.get(url, timeout=10).raise_for_status()
            samples.append((time.perf_counter() - started) * 1000)
    note = f"{requests_count} sequential requests; includes two moto calls over HTTP"
    return [
        Metric("gateway GET /health p50", round(statistics.median(samples), 2), "ms", note=note),
        Metric("gateway GET /health p99", round(percentile(samples, 0.99), 2), "ms", note=note),
    ]
