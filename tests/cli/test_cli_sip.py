"""`callbot sip check`: an OPTIONS ping to a line's trunk, answered by SIPp or by nobody."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sipp_peer import Sipp, needs_sipp

from callbot.cli import main
from callbot.config import Settings
from callbot.line import service as line_service
from callbot.runtime import open_store
from callbot.tenant import service as tenant_service

pytestmark = [needs_sipp, pytest.mark.slow]


def _provision(data_dir: Path, port: int) -> None:
    async def work() -> None:
        store = await open_store(Settings(data_dir=data_dir))
        try:
            async with store.transaction() as tx:
                tenant = await tenant_service.create_tenant(tx, "测试银行", seats=5)
                sip = {"host": "127.0.0.1", "port": port, "username": "robot", "password": "pw"}
                await line_service.add_line(tx, tenant, "02150001234", gateway="sip", settings={"sip": sip})
                await line_service.add_line(tx, tenant, "02150009999")
        finally:
            await store.dispose()

    asyncio.run(work())


def test_sip_check_pings_the_trunk_and_says_when_nobody_answers(tmp_path: Path) -> None:
    sipp = Sipp("uas_options.xml", tmp_path / "sipp")
    try:
        _provision(tmp_path / "var", sipp.port)
        env = {"CALLBOT_DATA_DIR": str(tmp_path / "var"), "CALLBOT_DATABASE_URL": "", "CALLBOT_SECRET_KEY": ""}
        runner = CliRunner()
        done = runner.invoke(main, ["sip", "check", "--tenant", "测试银行", "02150001234"], env=env)
        assert done.exit_code == 0, done.output
        answer = json.loads(done.stdout)
        assert (answer["reachable"], answer["status"], answer["reason"]) == (True, 200, "OK")
        assert answer["target"] == f"sip:127.0.0.1:{sipp.port}" and answer["rtt_ms"] < 2000
        assert sipp.wait() == 0, sipp.errors()

        silent = runner.invoke(main, ["sip", "check", "--tenant", "测试银行", "02150001234", "--wait", "1"], env=env)
        assert silent.exit_code == 1 and json.loads(silent.stdout)["reason"] == "no response within 1 s"
        sim = runner.invoke(main, ["sip", "check", "--tenant", "测试银行", "02150009999"], env=env)
        assert sim.exit_code == 1 and "not sip" in sim.output
    finally:
        sipp.stop()
