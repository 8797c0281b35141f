"""Run every capability of hubbooks on devstack + sandbox; exit non-zero if any check fails."""

import sys
from pathlib import Path

from demo import foundation
from demo import sandbox as demo_sandbox
from demo.report import Report
from devstack import Devstack

REPORT_PATH = Path(__file__).resolve().parent.parent / ".demo" / "report.json"


def main() -> int:
    report = Report()
    sandboxes = demo_sandbox.start()
    try:
        parameters = {"HubSpotApiBase": sandboxes.hubspot.url, "QuickBooksApiBase": sandboxes.quickbooks.url}
        with Devstack(stack_name="hubbooks-demo", time_scale=0.01, parameters=parameters) as stack:
            report.facts["gateway"] = stack.gateway_url
            foundation.run(stack, report)
            demo_sandbox.run(sandboxes, report)
    except Exception as exc:
        report.check("demo ran to the end", False, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        sandboxes.stop()
        report.write(REPORT_PATH)
        passed = sum(c.ok for c in report.checks)
        print(f"\n{passed} of {len(report.checks)} checks passed; report in {REPORT_PATH}", flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
