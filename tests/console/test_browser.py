"""The console in a real browser (the system Chromium through Playwright): sign in, create a task, upload
customers and watch the import, read records with transcripts after a simulated campaign, play a recording,
edit a script with an error and see it at its line, chat with a script, export records and read the file
back, and the role and CSRF refusals."""

from __future__ import annotations

import io
import os
import wave
from pathlib import Path
from typing import Any

import pytest
from campaign_helpers import make_campaign, scripted, sim_dialer
from live import CHROMIUM, browser, serve
from openpyxl import load_workbook
from sqlalchemy import update

from callbot.kit.db import Store
from callbot.models import CallRecord
from callbot.models.enums import Role
from callbot.task import service as task_service
from callbot.task.states import TaskAction
from callbot.tenant import service as tenant_service

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="the system Chromium is not installed"),
]
PASSWORD = "browser-pass-1"
TIMEOUT_MS = 30_000  # generous: the machine is shared


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the browser drives the same pages on both stores; the HTTP tests cover PostgreSQL


def _wav(path: Path) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x10" * 8000)


async def _sign_in(page: Any, base: str, username: str) -> None:
    await page.goto(f"{base}/tasks")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button.primary")
    await page.wait_for_url(f"{base}/tasks")


async def test_the_console_in_a_browser(store: Store, tmp_path: Path) -> None:
    customers = [scripted(f"1380013{i:04d}") for i in range(6)]
    campaign = await make_campaign(store, customers, robot_count=3)
    async with store.transaction() as tx:
        await tenant_service.create_user(tx, campaign.tenant, "boss", PASSWORD, Role.ADMIN, "王经理")
        await tenant_service.create_user(tx, campaign.tenant, "guest", PASSWORD, Role.VIEWER)
        await task_service.apply_action(tx, campaign.tenant, campaign.task_id, TaskAction.START)
    await sim_dialer(store).run_until_idle()
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    _wav(recordings / "first.wav")
    async with store.transaction() as tx:
        first = await tx.session.scalar(
            update(CallRecord)
            .where(CallRecord.task_id == campaign.task_id, CallRecord.id == 1)
            .values(recording_path="first.wav")
            .returning(CallRecord.id)
        )
    assert first == 1

    async with serve(store, recordings) as base, browser() as chromium:
        context = await chromium.new_context(accept_downloads=True, locale="zh-CN")  # type: ignore[attr-defined]
        context.set_default_timeout(TIMEOUT_MS)
        page = await context.new_page()
        await _sign_in(page, base, "boss")
        assert await page.locator("nav.side").inner_text() != ""

        # Create a task with the form.
        await page.click("text=新建任务")
        await page.fill("input[name=name]", "浏览器里建的任务")
        await page.select_option("select[name=script_id]", str(campaign.script_id))
        await page.check(f"input[name=line_ids][value='{campaign.line_ids[0]}']")
        await page.click("button:has-text('保存')")
        await page.wait_for_url(f"{base}/tasks/*")
        task_url = page.url
        assert "浏览器里建的任务" in await page.locator("h1").inner_text()

        # Upload customers and watch the import reach its end, then fetch the rejected rows.
        rows = ["姓名,手机号,bank,amount"] + [f"客户{i},1390013{i:04d},招商银行,{i}" for i in range(3000)]
        upload = tmp_path / "customers.csv"
        upload.write_text("\n".join([*rows, "坏的,123,招商银行,1"]) + "\n", encoding="utf-8")
        await page.set_input_files("#import-form input[type=file]", str(upload))
        await page.click("#import-form button")
        await page.wait_for_selector("#import-progress")
        await page.wait_for_function("(document.querySelector('#import-progress')?.innerText || '').includes('已完成')")
        assert await page.locator("#import-accepted").inner_text() == "3000"
        assert await page.locator("#import-rejected").inner_text() == "1"
        async with page.expect_download() as download_info:
            await page.click("#rejections-link")
        rejected = (await (await download_info.value).path()).read_text(encoding="utf-8-sig")
        assert "123" in rejected
        await page.goto(task_url)
        assert "共 3000 个" in await page.content()

        # The campaign's records, with their transcripts and the recording.
        await page.goto(f"{base}/records?task_id={campaign.task_id}")
        assert await page.locator("#records tbody tr").count() == 6
        await page.goto(f"{base}/records/1")
        assert await page.locator("#transcript .msg").count() >= 2
        assert "节点" in await page.locator("#transcript").inner_text()
        duration = await page.evaluate(
            """() => new Promise((resolve, reject) => {
                const audio = document.getElementById('recording');
                audio.addEventListener('loadedmetadata', () => resolve(audio.duration));
                audio.addEventListener('error', () => reject(new Error('the recording did not load')));
                audio.load();
            })"""
        )
        assert abs(duration - 1.0) < 0.05

        # Export the filtered records and read the file back.
        await page.goto(f"{base}/records?task_id={campaign.task_id}")
        async with page.expect_download() as download_info:
            await page.click("#export-xlsx")
        book = load_workbook(io.BytesIO((await (await download_info.value).path()).read_bytes()))
        exported = list(book.active.iter_rows(values_only=True))
        assert exported[0][0] == "记录ID" and len(exported) == 7

        # Edit a script with an error and see it at its line.
        await page.goto(f"{base}/scripts/{campaign.script_id}")
        text = await page.evaluate("() => window.scriptEditor.getValue()")
        broken = text.replace("start: ", "start: nowhere_", 1)
        await page.evaluate("(t) => window.scriptEditor.setValue(t)", broken)
        await page.click("#script-form button.primary")
        await page.wait_for_selector("#problems")
        problem_line = broken.splitlines().index(next(x for x in broken.splitlines() if x.startswith("start: "))) + 1
        assert f"第 {problem_line} 行" in await page.locator("#problems").inner_text()
        marked = await page.evaluate(
            """() => [...document.querySelectorAll('.CodeMirror-code > div')]
                .findIndex(d => d.querySelector('.cm-problem-line')) + 1"""
        )
        assert marked == problem_line

        # Chat with the script.
        await page.goto(f"{base}/scripts/{campaign.script_id}")
        for name in await page.locator("#chat-form input[name^=var_]").evaluate_all("els => els.map(e => e.name)"):
            await page.fill(f"#chat-form input[name='{name}']", "3200" if name == "var_amount" else "张三")
        await page.click("#chat-start")
        await page.wait_for_selector("#chat-reply")
        assert await page.locator("#chat-turns .msg.ROBOT").count() >= 1
        await page.fill("#chat-reply", "好的，你说吧")
        await page.click("#chat-form button[name=send]")
        await page.wait_for_function("document.querySelectorAll('#chat-turns .msg.PERSON').length >= 1")
        assert "意图" in await page.locator("#chat-turns").inner_text()
        assert "当前意向等级" in await page.locator("#chat-level").inner_text()

        # A forged post (no CSRF token) is refused, even from a signed-in page.
        forged = "{method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: ''}"
        status = await page.evaluate(f"() => fetch('{task_url}/stop', {forged}).then(r => r.status)")
        assert status == 403

        # A viewer sees no buttons, and a crafted request is refused.
        viewer = await (await chromium.new_context(locale="zh-CN")).new_page()  # type: ignore[attr-defined]
        await _sign_in(viewer, base, "guest")
        assert await viewer.locator("text=新建任务").count() == 0
        token = "JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']"
        crafted = f"{{method: 'POST', headers: {{'X-CSRF-Token': {token}}}}}"
        status = await viewer.evaluate(f"() => fetch('{task_url}/stop', {crafted}).then(r => r.status)")
        assert status == 403
        await context.close()
