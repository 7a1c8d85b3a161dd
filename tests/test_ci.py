"""CI's entry point parses and runs the README's test command."""

from __future__ import annotations

import subprocess
from pathlib import Path

CI_RUN = Path(__file__).resolve().parents[1] / ".ci" / "run"


def test_ci_run_is_valid_bash_ending_in_make_test() -> None:
    checked = subprocess.run(["bash", "-n", str(CI_RUN)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    commands = [line for line in CI_RUN.read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == "make test"
