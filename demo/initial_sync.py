"""Initial sync: the contact and product pairs turned on over the seeded company, with a progress bar."""

import sys
import time

from demo.report import Report
from devstack.runtime import function_environment
from devstack.sandboxed import SandboxedProduct
from hubbooks import wiring
from hubbooks.models.signals import Pair
from hubbooks.store.jobs import JobProgress, JobRepository


def _bar(progress: JobProgress, width: int = 40) -> str:
    share = progress.done / progress.total if progress.total else 1.0
    filled = int(width * share)
    return f"[{'#' * filled}{'.' * (width - filled)}] {progress.done}/{progress.total}"


def run(product: SandboxedProduct, report: Report, connection_id: str) -> None:
    report.section("Initial sync: turning contacts and products on over the seeded company")
    environment = product.devstack.runtimes["SyncWorkerFunction"].spec.environment
    for pair in (Pair.CONTACTS, Pair.PRODUCTS):
        started = time.monotonic()
        job_id = product.devstack.invoke(
            "ReconcileFunction", {"action": "initial_sync", "connection_id": connection_id, "pair": pair.value}
        )["job_id"]
        with function_environment(environment):
            jobs = JobRepository(wiring.table(), connection_id)
            progress = jobs.get(pair, job_id)
            while progress is not None and progress.status != "finished" and time.monotonic() - started < 600:
                sys.stdout.write(f"\r   {pair.value:9} {_bar(progress)}")
                sys.stdout.flush()
                time.sleep(0.5)
                progress = jobs.get(pair, job_id)
        assert progress is not None
        elapsed = time.monotonic() - started
        print(f"\r   {pair.value:9} {_bar(progress)} in {elapsed:.1f} s", flush=True)
        counts = progress.counts
        report.facts[f"initial_sync_{pair.value}"] = {"total": progress.total, **counts, "seconds": round(elapsed, 1)}
        report.check(
            f"initial sync of {pair.value}",
            progress.status == "finished" and counts["done"] == progress.total,
            f"{progress.total} records in {elapsed:.0f} s: {counts['linked']} linked, {counts['created']} "
            f"created, {counts['updated']} updated, {counts['unchanged']} already in step, "
            f"{counts['failed']} failed (see the sync health table)",
        )
