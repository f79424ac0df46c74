"""The CLI as a user runs it: `callbot serve` in one process, provisioning commands in others, and the API
seeing what the CLI made. Every command that prints JSON prints only JSON on stdout."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CALLBOT = [sys.executable, "-m", "callbot"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "CALLBOT_DATA_DIR": str(tmp_path / "var"), "CALLBOT_DATABASE_URL": ""}


def run(env: dict[str, str], *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CALLBOT, *args], env=env, capture_output=True, text=True, input=input, timeout=60)


def run_json(env: dict[str, str], *args: str) -> object:
    done = run(env, *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # the whole of stdout is one JSON document


@pytest.fixture
def server(env: dict[str, str]) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [*CALLBOT, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("callbot serve did not answer /api/v1/health")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.mark.slow
def test_provisioning_with_the_cli_against_a_running_server(env: dict[str, str], server: str, tmp_path: Path) -> None:
    health = httpx.get(f"{server}/api/v1/health").json()
    assert health["status"] == "ok" and health["database"] == "sqlite"

    tenant = run_json(env, "tenant", "create", "杭州分期中心")
    assert isinstance(tenant, dict) and tenant["name"] == "杭州分期中心" and isinstance(tenant["id"], int)
    updated = run_json(env, "tenant", "update", "杭州分期中心", "--calling-hours", "09:00-20:00", "--seats", "30")
    assert isinstance(updated, dict) and updated["calling_hours"] == "09:00-20:00" and updated["seats"] == 30

    token = run_json(env, "credential", "create", "--tenant", "杭州分期中心", "--kind", "token")
    yiwise = run_json(env, "credential", "create", "--tenant", "杭州分期中心", "--kind", "yiwise")
    digelao = run_json(env, "credential", "create", "--tenant", "杭州分期中心", "--kind", "digelao")
    assert isinstance(yiwise, dict) and {"appKey", "appSecret", "tenantSign"} <= set(yiwise)
    assert isinstance(digelao, dict) and {"api_access_id", "api_access_secret"} <= set(digelao)
    assert isinstance(token, dict)
    headers = {"Authorization": f"Bearer {token['token']}"}

    line = run_json(
        env,
        "line",
        "add",
        "--tenant",
        "杭州分期中心",
        "--phone",
        "057188880001",
        "--type",
        "LANDLINE",
        "--concurrency",
        "4",
    )
    assert isinstance(line, dict) and line["concurrency"] == 4

    script_file = ROOT / "examples" / "scripts" / "credit_card_instalment.yaml"
    script = run_json(env, "script", "add", "--tenant", "杭州分期中心", str(script_file))
    assert isinstance(script, dict) and (script["version"], script["status"]) == (1, "APPROVED")
    again = run_json(env, "script", "add", "--tenant", "杭州分期中心", str(script_file), "--draft")
    assert isinstance(again, dict) and (again["script_id"], again["version"], again["status"]) == (
        script["script_id"],
        2,
        "DRAFT",
    )

    # The server sees everything the CLI made.
    assert httpx.get(f"{server}/api/v1/tenant", headers=headers).json()["calling_start"] == "09:00:00"
    assert [x["phone"] for x in httpx.get(f"{server}/api/v1/lines", headers=headers).json()] == ["057188880001"]
    task = httpx.post(
        f"{server}/api/v1/tasks",
        json={"name": "11月分期回访", "script_id": script["script_id"], "line_ids": [line["id"]], "robot_count": 3},
        headers=headers,
    )
    assert task.status_code == 201, task.text

    variables = _script_variables(script_file)
    header = ["姓名", "手机号", *[v for v in variables if v not in ("name", "phone")]]
    rows = [header]
    for i in range(300):
        rows.append([f"客户{i}", f"139{i:08d}", *["1000" for _ in header[2:]]])
    rows.append(["坏号码", "12345", *["1" for _ in header[2:]]])
    rows.append(["重复", "13900000001", *["1" for _ in header[2:]]])
    csv_path = tmp_path / "customers.csv"
    csv_path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="gb18030")
    done = run(env, "import", "--tenant", "杭州分期中心", "--task", str(task.json()["id"]), str(csv_path))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["accepted"], report["rejected"]) == (300, 2)
    assert [(r["row"], r["reason"]) for r in report["rejections"]] == [(301, "invalid_phone"), (302, "duplicate")]
    assert "importing" in done.stderr  # the progress bar goes to stderr
    listed = httpx.get(f"{server}/api/v1/tasks/{task.json()['id']}/customers?size=1", headers=headers).json()
    assert listed["total"] == 300


def _script_variables(path: Path) -> list[str]:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(data.get("variables") or [])


def test_a_task_made_and_run_from_the_cli(env: dict[str, str], tmp_path: Path) -> None:
    run_json(env, "tenant", "create", "命令行公司")
    run_json(env, "tenant", "update", "命令行公司", "--calling-hours", "00:00-23:59")
    line = run_json(env, "line", "add", "--tenant", "命令行公司", "--phone", "057188880009")
    script = run_json(
        env, "script", "add", "--tenant", "命令行公司", str(ROOT / "examples/scripts/credit_card_instalment.yaml")
    )
    assert isinstance(line, dict) and isinstance(script, dict)
    task = run_json(
        env,
        "task",
        "create",
        "--tenant",
        "命令行公司",
        "--name",
        "命令行任务",
        "--script",
        str(script["script_id"]),
        "--line",
        str(line["id"]),
        "--robots",
        "2",
        "--window",
        "00:00-23:59",
    )
    assert isinstance(task, dict) and (task["status"], task["robot_count"]) == ("NOT_STARTED", 2)
    started = run_json(env, "task", "start", "--tenant", "命令行公司", str(task["id"]))
    assert isinstance(started, dict) and started["status"] == "RUNNABLE"
    again = run(env, "task", "start", "--tenant", "命令行公司", str(task["id"]))
    assert again.returncode == 1 and "cannot start" in again.stderr
    paused = run_json(env, "task", "pause", "--tenant", "命令行公司", str(task["id"]))
    assert isinstance(paused, dict) and paused["status"] == "USER_PAUSE"
    stats = run_json(env, "task", "stats", "--tenant", "命令行公司", str(task["id"]))
    assert isinstance(stats, dict) and stats["calls"] == 0 and set(stats["levels"]) == set("ABCDEF")
    bad = run(
        env,
        "task",
        "create",
        "--tenant",
        "命令行公司",
        "--name",
        "x",
        "--script",
        "1",
        "--line",
        "1",
        "--window",
        "20:00-09:00",
    )
    assert bad.returncode == 1 and "--window" in bad.stderr


def test_cli_errors_are_clear_and_exit_non_zero(env: dict[str, str], tmp_path: Path) -> None:
    missing = run(env, "tenant", "update", "没有这个公司", "--seats", "3")
    assert missing.returncode == 1 and "no tenant named" in missing.stderr and missing.stdout == ""
    run_json(env, "tenant", "create", "甲公司")
    bad_hours = run(env, "tenant", "update", "甲公司", "--calling-hours", "21:00-08:00")
    assert bad_hours.returncode == 1 and "must start before it ends" in bad_hours.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("format: 1\nname: 坏话术\nstart: nowhere\nnodes: {}\n", encoding="utf-8")
    invalid = run(env, "script", "add", "--tenant", "甲公司", str(broken))
    assert invalid.returncode == 1 and "nodes: is required" in invalid.stderr
    checked = run(env, "script", "validate", str(broken))
    assert checked.returncode == 1 and checked.stdout.strip()
