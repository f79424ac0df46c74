"""`callbot serve` runs the dialer and callback delivery in a worker process of its own, so API load cannot
starve the calls (bench/api_load.py measures it); the worker lives and dies with the server."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

CALLBOT = [sys.executable, "-m", "callbot"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[tuple[int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.append((int(entry.name), cmdline))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _records(data_dir: Path) -> int:
    with sqlite3.connect(f"file:{data_dir / 'callbot.db'}?mode=ro", uri=True, timeout=30) as conn:
        return int(conn.execute("SELECT count(*) FROM call_records").fetchone()[0])


@pytest.fixture
def demo_env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "CALLBOT_DATA_DIR": str(tmp_path / "var"), "CALLBOT_DATABASE_URL": ""}
    env["CALLBOT_SIM_SPEED"] = "50"
    done = subprocess.run([*CALLBOT, "demo", "--no-serve"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return env


@pytest.fixture
def served(demo_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as sink:  # a file, not a pipe nobody reads: the logs must never block the processes
        proc = subprocess.Popen([*CALLBOT, "serve", "--port", str(port)], env=demo_env, stdout=sink, stderr=sink)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError("callbot serve did not answer /api/v1/health")
        yield proc, log
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


@pytest.mark.slow
def test_the_dialer_runs_in_a_worker_process_beside_the_api(
    served: tuple[subprocess.Popen[str], Path], demo_env: dict[str, str]
) -> None:
    proc, _ = served
    workers = [pid for pid, cmdline in _children(proc.pid) if " worker" in cmdline]
    assert len(workers) == 1, _children(proc.pid)
    data_dir = Path(demo_env["CALLBOT_DATA_DIR"])
    deadline = time.monotonic() + 90
    while _records(data_dir) < 5 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _records(data_dir) >= 5  # the campaign runs: calls are placed by the worker

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 0  # a signal stops both, the worker after its calls in flight
    assert not _alive(workers[0])
    with sqlite3.connect(data_dir / "callbot.db") as conn:
        in_flight = conn.execute("SELECT count(*) FROM customers WHERE status = 'DIALLING'").fetchone()[0]
    assert in_flight == 0


@pytest.mark.slow
def test_a_killed_server_takes_its_worker_with_it(served: tuple[subprocess.Popen[str], Path]) -> None:
    proc, _ = served
    deadline = time.monotonic() + 60
    while not (workers := [pid for pid, cmdline in _children(proc.pid) if " worker" in cmdline]):
        assert time.monotonic() < deadline, "no worker process"
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    # A dialer left running would call beside the one a restart brings up.
    deadline = time.monotonic() + 10
    while _alive(workers[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(workers[0])


@pytest.mark.slow
def test_a_worker_that_dies_stops_the_server(served: tuple[subprocess.Popen[str], Path]) -> None:
    proc, log = served
    deadline = time.monotonic() + 60
    while not (workers := [pid for pid, cmdline in _children(proc.pid) if " worker" in cmdline]):
        assert time.monotonic() < deadline, "no worker process"
        time.sleep(0.2)
    os.kill(workers[0], signal.SIGKILL)
    # Serving without a dialer would look healthy while no call is placed: callbot stops whole instead.
    assert proc.wait(timeout=60) == 1
    assert "the worker process (dialer and callbacks) exited" in log.read_text()
