"""The reliability figures every suite adds to: .reliability/results.json, merged by suite name."""

import fcntl
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[2] / ".reliability" / "results.json"
COUNTED = (
    "steps",
    "divergences",
    "duplicates",
    "lost_updates",
    "retried",
    "dead_lettered",
    "errors_left",
    "settled_per_record",
    "left_for_a_person",
)


@dataclass
class Tally:
    suite: str = "convergence"
    scenarios: int = 0
    totals: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    operations: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0  # from the first change to quiescence
    problems: list[str] = field(default_factory=list)  # what was found, in words (kept for the file's reader)

    def scenario(self, **counts: int) -> None:
        self.scenarios += 1
        self.totals.update(counts)

    def injected(self, kind: str, count: int) -> None:
        self.faults[kind] += count

    def write(self) -> None:
        """Add this suite's figures to the file (other suites' entries stay) and recompute the totals, under a
        lock: suites running in parallel workers write the same file."""
        RESULTS.parent.mkdir(exist_ok=True)
        with (RESULTS.parent / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._merge()

    def _merge(self) -> None:
        previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        suites = previous.get("suites", {})
        suites[self.suite] = {
            "scenarios": self.scenarios,
            **{name: self.totals[name] for name in COUNTED},
            "faults_injected": dict(sorted(self.faults.items())),
            "operations": dict(sorted(self.operations.items())),
            "seconds": round(self.seconds, 1),
            "problems": self.problems[:20],
        }
        faults: Counter[str] = Counter()
        operations: Counter[str] = Counter()
        for entry in suites.values():
            faults.update(entry["faults_injected"])
            operations.update(entry.get("operations", {}))
        summary = {
            "scenarios": sum(s["scenarios"] for s in suites.values()),
            **{name: sum(s.get(name, 0) for s in suites.values()) for name in COUNTED},
            "faults_injected": dict(sorted(faults.items())),
            "operations": dict(sorted(operations.items())),
            "suites": suites,
        }
        RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
