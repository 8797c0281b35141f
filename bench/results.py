"""The benchmark result format shared by every benchmark and the report writer."""

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    unit: str
    naive: float | None = None
    ceiling: float | None = None
    note: str = ""
    higher_is_better: bool = False  # throughputs; times, costs and counts are better lower


def write_results(metrics: list[Metric], results_path: Path, report_path: Path, command: str) -> None:
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps({"metrics": [asdict(m) for m in metrics]}, indent=2) + "\n")
    rows = [
        "| metric | hubbooks | unit | naive | hubbooks better by | ceiling | note |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    for m in metrics:
        better = (m.value / m.naive if m.higher_is_better else m.naive / m.value) if m.naive and m.value else None
        ratio = "" if better is None else f"{better:.1f}x"
        rows.append(
            f"| {m.name} | {m.value:g} | {m.unit} | {'' if m.naive is None else f'{m.naive:g}'} | {ratio} "
            f"| {'' if m.ceiling is None else f'{m.ceiling:g}'} | {m.note} |"
        )
    report_path.write_text(
        "# Benchmarks\n\n"
        "Figures from the last `make bench` on a 2-core machine (medians unless the name says otherwise).\n"
        f"Re-run with `{command}`; the raw results are in `.bench/results.json`.\n\n" + "\n".join(rows) + "\n\n"
        "What the figures mean, and why targets are missed where they are: `docs/architecture.md`, "
        "section Benchmarks.\n"
    )


def percentile(samples: list[float], share: float) -> float:
    """The sample below which `share` of them lie (the nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
