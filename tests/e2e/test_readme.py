"""The README's quick start, run as written (scripts/run_readme.py): real sandbox and tap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from e2e_helpers import REPO

pytestmark = pytest.mark.e2e


def test_readme_quick_start_runs_as_written():
    venv_bin = Path(sys.executable).parent  # this venv's tap-mixmax and tap-mixmax-sandbox
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "run_readme.py"), "--bin", str(venv_bin)],
        capture_output=True,
        text=True,
        timeout=400,
    )
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sync 2 from state.json" in done.stdout
