"""`python -m bench [--quick]`: run every benchmark, write .bench/results.json and docs/benchmarks.md."""

import argparse
import sys

from bench import coldstart, gateway, ingest, initial_sync, sandbox_throughput
from bench.results import write_results
from devstack.stack import ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (under 3 minutes)")
    args = parser.parse_args(argv)
    runs, requests_count = (3, 100) if args.quick else (7, 500)
    metrics = [
        *coldstart.measure(runs),
        *gateway.measure(requests_count),
        *ingest.measure(20 if args.quick else 100),
        *sandbox_throughput.measure(repeats=runs, per_thread=requests_count // 2),
        *initial_sync.measure(300 if args.quick else 900),
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
