"""The `tap-mixmax-sandbox` command: prints its URL and token, serves, exits on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import requests


def test_cli_prints_url_and_token_serves_and_exits_cleanly(tmp_path):
    ready = tmp_path / "ready.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mixmax_sandbox", "--port", "0", "--seed", "42",
         "--rate-limit", "50", "--fault", "500:nth=2", "--ready-file", str(ready)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first, second = proc.stdout.readline(), proc.stdout.readline()
        assert first.startswith("Mixmax sandbox serving http://127.0.0.1:")
        url = first.split()[-1]
        token = second.split()[-1]
        assert second.startswith("API token: sbx_") and url.endswith("/v1")
        deadline = time.monotonic() + 10
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        assert info == {
            "url": url, "control_url": url[:-3] + "/_sandbox", "token": token, "pid": proc.pid,
        }  # fmt: skip
        me = requests.get(f"{url}/users/me", headers={"X-API-Token": token}, timeout=10)
        assert me.status_code == 200 and me.headers["X-RateLimit-Limit"] == "50"
        assert (
            requests.get(f"{url}/users/me", params={"apiToken": token}, timeout=10).status_code
            == 500
        )
        counts = requests.get(f"{info['control_url']}/counts", timeout=10).json()
        assert counts["messages"] == 150
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_rejects_a_bad_fault_spec():
    result = subprocess.run(
        [sys.executable, "-m", "mixmax_sandbox", "--fault", "teapot"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2 and "teapot" in result.stderr
