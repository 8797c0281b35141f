"""Worker cost: the sync worker's own CPU and peak memory per synced record, run in this process's thread
against the sandbox (real HTTP) and moto, during an initial sync that creates every record."""

import time
import tracemalloc
import uuid
from dataclasses import replace

from bench.results import Metric
from devstack.runtime import function_environment
from devstack.sandboxed import SandboxedProduct
from hubbooks import wiring
from hubbooks.models.signals import Pair
from hubbooks.store.jobs import JobRepository
from tests.support.product import install

TARGET_CPU_MS = 3.0


def measure(people: int) -> list[Metric]:
    with SandboxedProduct(
        stack_name=f"bench-cost-{uuid.uuid4().hex[:6]}",
        run_pumps=False,
        run_schedules=False,
        log_level="WARNING",
        sandbox_time_scale=0.01,
        function_environment={"POWERTOOLS_METRICS_DISABLED": "true"},
    ) as product:
        contacts = [{"email": f"cost{n}@example.com", "firstname": f"C{n}", "lastname": "Cost"} for n in range(people)]
        product.hubspot_admin.seed({"contacts": contacts})
        connection_id = install(product)[1]["connection_id"]
        job_id = product.devstack.invoke(
            "ReconcileFunction", {"action": "initial_sync", "connection_id": connection_id, "pair": "contacts"}
        )["job_id"]
        pump = next(p for p in product.devstack.pumps if p.spec.function == "SyncWorkerFunction")
        pump.spec = replace(pump.spec, batch_size=1)  # one batch signal (up to 100 records) per invocation
        cpu_ms, cpu_records, peaks = 0.0, 0, []
        with function_environment(product.devstack.runtimes["SyncWorkerFunction"].spec.environment):
            jobs = JobRepository(wiring.table(), connection_id)
            deadline = time.monotonic() + 600
            done, polls = 0, 0
            while time.monotonic() < deadline:
                traced = polls % 2 == 1  # every other batch under tracemalloc (it slows the CPU ones down)
                if traced:
                    tracemalloc.start()
                started = time.thread_time()
                handled = pump.poll_once()
                spent = (time.thread_time() - started) * 1000
                peak = tracemalloc.get_traced_memory()[1] if traced else 0
                tracemalloc.stop()
                progress = jobs.get(Pair.CONTACTS, job_id)
                now_done = progress.done if progress else done
                if handled and now_done > done:
                    if traced:
                        peaks.append(peak / (now_done - done))
                    elif polls > 0:  # the first batch pays for first use (app properties, caches)
                        cpu_ms, cpu_records = cpu_ms + spent, cpu_records + now_done - done
                    polls += 1
                done = now_done
                if progress is not None and progress.status == "finished":
                    break
    per_record = cpu_ms / max(cpu_records, 1)
    peak_kib = max(peaks) / 1024 if peaks else 0.0
    return [
        Metric(
            "worker CPU per synced record",
            round(per_record, 2),
            "ms",
            ceiling=TARGET_CPU_MS,
            note=f"CPU of the worker's thread over {cpu_records} contacts created in QBO (batch path, real HTTP to the "
            f"sandbox and moto, whose own CPU is on other threads); target < {TARGET_CPU_MS:g} ms",
        ),
        Metric(
            "worker peak memory per synced record",
            round(peak_kib, 1),
            "KiB",
            note=f"tracemalloc peak over a batch ÷ its records, worst of {len(peaks)} batches; the process's "
            "whole traced memory, so it includes the in-process emulators answering the batch (an upper bound)",
        ),
    ]
