"""Cold start of each function: import time and peak memory of its handler module in a fresh process."""

import json
import statistics
import subprocess
import sys
from pathlib import Path

from bench.results import Metric
from devstack.cfn_yaml import load_template

ROOT = Path(__file__).resolve().parent.parent

_PROBE = """
import importlib.util, json, resource, sys, time
sys.path.insert(0, {layer!r})
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler_module", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
elapsed = time.perf_counter() - started
# VmHWM belongs to this program's own memory map; ru_maxrss would carry the forking parent's peak over.
hwm = [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")]
peak_mb = int(hwm[0]) / 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"import_ms": elapsed * 1000, "max_rss_mb": peak_mb}}))
"""


def _handler_files() -> dict[str, Path]:
    template = load_template(ROOT / "template.yaml")
    found: dict[str, Path] = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        module = props["Handler"].rpartition(".")[0]
        found[logical_id] = ROOT / props["CodeUri"] / f"{module.replace('.', '/')}.py"
    return found


def measure(runs: int) -> list[Metric]:
    env = {"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true", "PATH": "/usr/bin:/bin"}
    # What a function's template environment always holds (the worker reads its tables' names at import).
    env |= {f"HUBBOOKS_{name}": "bench" for name in ("STACK_NAME", "TABLE_NAME", "IDEMPOTENCY_TABLE_NAME")}
    env |= {"HUBBOOKS_SYNC_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/bench.fifo", "HUBBOOKS_TOKEN_KEY_ID": "k"}
    metrics: list[Metric] = []
    for logical_id, path in _handler_files().items():
        samples = []
        for _ in range(runs):
            probe = _PROBE.format(layer=str(ROOT / "layers" / "common"), path=str(path))
            output = subprocess.run(
                [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
            ).stdout
            samples.append(json.loads(output.strip().splitlines()[-1]))
        metrics.append(
            Metric(
                name=f"cold start import, {logical_id}",
                value=round(statistics.median(s["import_ms"] for s in samples), 1),
                unit="ms",
                ceiling=500,
                note=f"median of {runs} fresh processes; target < 500 ms",
            )
        )
        metrics.append(
            Metric(
                name=f"cold start peak memory, {logical_id}",
                value=round(statistics.median(s["max_rss_mb"] for s in samples), 1),
                unit="MiB",
                note="peak RSS of the process after the import",
            )
        )
    return metrics
