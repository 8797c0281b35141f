"""The template passes the tools AWS users deploy it with: both kinds of `sam validate` (`--lint` is cfn-lint)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAM = ROOT / ".venv-sam" / "bin" / "sam"


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    python_dir = str(Path(sys.base_prefix) / "bin")
    env = {
        **os.environ,
        "PATH": f"{python_dir}:{os.environ.get('PATH', '')}",
        "SAM_CLI_TELEMETRY": "0",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env.pop("AWS_ENDPOINT_URL", None)
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow
@pytest.mark.parametrize("extra", [["--lint"], ["--region", "us-east-1"]], ids=["lint", "translate"])
def test_sam_validate(extra: list[str]) -> None:
    assert SAM.exists(), "make test installs aws-sam-cli into .venv-sam"
    result = _run(str(SAM), "validate", "--template-file", "template.yaml", *extra)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr
