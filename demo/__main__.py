"""Run every capability of hubbooks on devstack + sandbox; exit non-zero if any check fails."""

import sys
import warnings
from pathlib import Path

from demo import (
    actions,
    billing,
    books,
    bulk,
    business,
    connect,
    first_day,
    foundation,
    settings,
    sweep,
    sync,
    tenants,
    webhooks,
)
from demo import sandbox as demo_sandbox
from demo.report import Report
from devstack.sandboxed import SandboxedProduct

REPORT_PATH = Path(__file__).resolve().parent.parent / ".demo" / "report.json"
QUIET = {"POWERTOOLS_METRICS_DISABLED": "true"}


def main() -> int:
    warnings.filterwarnings("ignore", "No application metrics to publish")
    report = Report()
    try:
        # The sweep runs every 12 s here (rate(4 minutes) at a 0.05 time scale); retries after 3.6 s (0.01).
        with SandboxedProduct(
            stack_name="hubbooks-demo", log_level="WARNING", function_environment=QUIET, schedule_scale=0.05
        ) as product:
            report.facts["gateway"] = product.devstack.gateway_url
            foundation.run(product.devstack, report)
            demo_sandbox.run(product, report)
            browser = connect.run(product, report)
            connection = browser.get(f"{product.devstack.gateway_url}/api/connection").json()
            first_day.run(product, report, browser)
            webhooks.run(product, report)
            sync.run(product, report)
            bulk.run(product, report)
            sweep.run(product, report)
            billing.run(product, report, connection["connection_id"])
            actions.run(product, report)
            business.run(product, report)
            settings.run(product, report, browser)
            tenants.run(product, report, connection["connection_id"])
            books.run(product, report, browser)
    except Exception as exc:
        report.check("demo ran to the end", False, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        report.write(REPORT_PATH)
        passed = sum(c.ok for c in report.checks)
        print(f"\n{passed} of {len(report.checks)} checks passed; report in {REPORT_PATH}", flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
