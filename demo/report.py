"""Collects the demo's checks, prints them as they happen and writes .demo/report.json."""

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.time)

    @staticmethod
    def section(title: str) -> None:
        print(f"\n== {title}", flush=True)

    @staticmethod
    def say(line: str) -> None:
        print(f"   {line}", flush=True)

    def check(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(name, ok, detail))
        print(f"   [{'ok' if ok else 'FAIL'}] {name}: {detail}", flush=True)
        return ok

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "ok": self.ok,
            "seconds": round(time.time() - self.started, 1),
            "checks": [asdict(c) for c in self.checks],
            "facts": self.facts,
        }
        path.write_text(json.dumps(document, indent=2) + "\n")
