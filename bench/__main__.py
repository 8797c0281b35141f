"""`python -m bench [--quick]`: run every benchmark, write .bench/results.json and docs/benchmarks.md."""

import argparse
import sys

from bench import burst, coldstart, gateway, ingest, initial_sync, live, sandbox_throughput, sweep_tick, worker_cost
from bench.results import write_results
from devstack.stack import ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (under 3 minutes)")
    args = parser.parse_args(argv)
    quick = args.quick
    runs, requests_count = (3, 100) if quick else (7, 500)
    metrics = [
        *initial_sync.measure(500 if quick else 10_000, time_scale=0.5, naive_seconds=8 if quick else 60),
        *live.measure(4 if quick else 60, pairs_count=100 if quick else 1_200, lost=1 if quick else 3),
        *burst.measure(300 if quick else 5_000),
        *sweep_tick.measure(200 if quick else 1_000, (1, 5) if quick else (2, 20)),
        *ingest.measure(20 if quick else 100),
        *worker_cost.measure(300 if quick else 2_000),
        *coldstart.measure(runs),
        *gateway.measure(requests_count),
        *sandbox_throughput.measure(repeats=runs, per_thread=requests_count // 2),
    ]
    write_results(
        metrics,
        ROOT / ".bench" / "results.json",
        ROOT / "docs" / "benchmarks.md",
        "make bench" + (" BENCH_ARGS=--quick" if args.quick else ""),
    )
    for metric in metrics:
        print(f"{metric.name:50} {metric.value:>10g} {metric.unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
