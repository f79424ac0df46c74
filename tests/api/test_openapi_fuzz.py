"""Schemathesis against `/openapi.json` of a running `callbot serve` on a real store, with a valid token:
no server error, and every answer conforms to the document (status code declared, body and headers as
described). Bounded and seeded, so a run takes a couple of minutes and fails the same way twice."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import PG_ADMIN_URL

CALLBOT = [sys.executable, "-m", "callbot"]
SCHEMATHESIS = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or "schemathesis"
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)
FUZZ_DB = f"callbot_fuzz_{os.getpid()}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _pg(statement: str) -> bool:
    import asyncpg  # type: ignore[import-untyped]

    try:
        conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    try:
        await conn.execute(statement)
    finally:
        await conn.close()
    return True


@pytest.fixture(params=["sqlite", "postgres"])
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {
        **os.environ,
        "CALLBOT_DATA_DIR": str(tmp_path / "var"),
        "CALLBOT_DATABASE_URL": "",
        "CALLBOT_SIM_SPEED": "0",
    }
    if request.param == "sqlite":
        yield env
        return
    if not asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{FUZZ_DB}" WITH (FORCE)')):
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is required in CI but did not answer on 127.0.0.1:5432")
        pytest.skip("PostgreSQL is not answering on 127.0.0.1:5432")
    asyncio.run(_pg(f'CREATE DATABASE "{FUZZ_DB}"'))
    try:
        yield {**env, "CALLBOT_DATABASE_URL": PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{FUZZ_DB}"}
    finally:
        asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{FUZZ_DB}" WITH (FORCE)'))


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_schema_violation(store_env: dict[str, str], tmp_path: Path) -> None:
    # The demo tenant: a token, a script, lines and a task for the fuzzer's requests to find.
    demo = subprocess.run([*CALLBOT, "demo", "--no-serve"], env=store_env, capture_output=True, text=True, timeout=120)
    assert demo.returncode == 0, demo.stderr
    token = json.loads(demo.stdout)["credentials"]["token"]["token"]
    port = _free_port()
    # The API only: no dialer moves the demo task along while the fuzzer works.
    server = subprocess.Popen(
        [*CALLBOT, "serve", "--role", "api", "--port", str(port)],
        env=store_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("callbot serve did not answer /api/v1/health")
        run = subprocess.run(
            [
                SCHEMATHESIS, "run", f"{base}/openapi.json",
                "--header", f"Authorization: Bearer {token}",
                "--checks", CHECKS,
                "--max-examples", "12",
                "--seed", "20261208",
                "--workers", "2",
                "--no-color",
                # The fuzzer's own credential: disabling it would leave every later request a 401.
                "--exclude-path", "/api/v1/credentials/{credential_id}",
            ],
            cwd=tmp_path,  # its reports and cache stay out of the checkout
            capture_output=True,
            text=True,
            timeout=600,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
        assert " passed" in run.stdout
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    assert "Traceback" not in errors, errors[-4000:]
