"""scripts/find_python.sh: `make` and the tool scripts build venvs with any Python 3.10+.

Runs the script with a PATH holding only fake interpreters: a broken one (like a pyenv
shim of a version that is not selected), one that says it is 3.9, and the real one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIND_PYTHON = REPO / "scripts" / "find_python.sh"
BASH = shutil.which("bash") or "/bin/bash"
REAL_PYTHON = sys.executable

# A Python that runs real code but reports version 3.9.18.
OLD_PYTHON = f"""#!/bin/sh
[ "$1" = "-c" ] || exit 2
exec "{REAL_PYTHON}" -c '
import sys
code = sys.argv[1]
sys.version_info = (3, 9, 18, "final", 0)
sys.version = "3.9.18 (main) [fake]"
exec(code)' "$2"
"""
BROKEN_PYTHON = "#!/bin/sh\necho 'pyenv: python3.13: command not found' >&2\nexit 127\n"


def write_exe(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


def find_python(bin_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": str(bin_dir)}
    return subprocess.run(
        [BASH, str(FIND_PYTHON), *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_skips_broken_and_old_interpreters_and_takes_the_first_recent_one(tmp_path):
    write_exe(tmp_path / "python3.13", BROKEN_PYTHON)
    write_exe(tmp_path / "python3.12", OLD_PYTHON)
    (tmp_path / "python3.11").symlink_to(REAL_PYTHON)
    write_exe(tmp_path / "python3", OLD_PYTHON)
    done = find_python(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "python3.11")


def test_falls_back_to_python3(tmp_path):
    (tmp_path / "python3").symlink_to(REAL_PYTHON)
    done = find_python(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "python3")


def test_no_recent_python_is_one_line_naming_the_way_out(tmp_path):
    write_exe(tmp_path / "python3", OLD_PYTHON)
    write_exe(tmp_path / "python3.10", BROKEN_PYTHON)
    done = find_python(tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "no Python 3.10 or later" in done.stderr
    assert "make PYTHON=" in done.stderr


def test_a_chosen_python_is_used_as_given(tmp_path):
    chosen = tmp_path / "my-python"
    chosen.symlink_to(REAL_PYTHON)
    (tmp_path / "python3.13").symlink_to(REAL_PYTHON)  # would win the search
    done = find_python(tmp_path, str(chosen))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(chosen)


def test_a_chosen_python_that_is_too_old_or_broken_is_refused_in_one_line(tmp_path):
    old = write_exe(tmp_path / "old-python", OLD_PYTHON)
    broken = write_exe(tmp_path / "broken-python", BROKEN_PYTHON)
    (tmp_path / "python3").symlink_to(REAL_PYTHON)  # must not be used instead
    for chosen, says in (
        (old, "is Python 3.9.18; tap-mixmax needs 3.10 or later"),
        (broken, "does not run"),
        (tmp_path / "missing", "is not an executable"),
    ):
        done = find_python(tmp_path, str(chosen))
        assert done.returncode == 1, chosen
        assert done.stdout == ""
        assert done.stderr.splitlines() == [f"find_python.sh: PYTHON={chosen} {says}"]


def test_make_and_the_tool_scripts_follow_the_chosen_python(tmp_path):
    """`make PYTHON=...`, scripts/tools.sh and scripts/check_build.sh all refuse a 3.9."""
    old = write_exe(tmp_path / "old-python", OLD_PYTHON)
    venv = tmp_path / "venv"
    commands = [
        ["make", "--no-print-directory", f"VENV={venv}", f"PYTHON={old}", f"{venv}/.installed"],
        # No tool named: whatever the Python, tools.sh installs nothing into .tools/.
        [str(REPO / "scripts" / "tools.sh")],
        [str(REPO / "scripts" / "check_build.sh")],
    ]
    for command in commands:
        env = {**os.environ, "PYTHON": str(old), "DIST_DIR": str(tmp_path / "dist")}
        done = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode != 0, command
        assert f"PYTHON={old} is Python 3.9.18" in done.stderr, (command, done.stderr)
        assert not venv.exists()
        assert not (tmp_path / "dist").exists()
