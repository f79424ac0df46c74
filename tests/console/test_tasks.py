"""Tasks in the console: list, create and edit with errors beside their fields, state actions with the API's
rules, role and tenant refusals, customer import by upload with progress and a report of rejected rows."""

from __future__ import annotations

import asyncio
import csv
import io
import re

from callbot.kit.db import Store
from callbot.kit.paging import PageRequest
from callbot.models.enums import Role
from callbot.task import service as task_service
from callbot.task.schemas import TaskFilter

from console_client import ConsoleClient, Login
from factories import Account, make_account, make_task


def _form(account: Account, **fields: object) -> dict[str, object]:
    return {
        "name": "双十一回访",
        "script_id": str(account.script_id),
        "line_ids": [str(account.line.id)],
        "robot_count": "2",
        "daily_start": "09:00",
        "daily_end": "20:00",
        "pauses": "12:00-13:30",
        "mode": "MANUAL",
        "redial_results": ["NO_ANSWER", "BUSY"],
        "redial_delay": "30",
        "redial_times": "2",
        **fields,
    }


async def test_create_a_task_and_see_it_listed(store: Store, account: Account, login: Login) -> None:
    client = await login(Role.OPERATOR)
    form = await client.get("/tasks/new")
    assert form.status_code == 200 and account.line.phone in form.text
    created = await client.submit("/tasks/new", _form(account))
    assert created.status_code == 303, created.text
    task_id = int(created.headers["location"].rsplit("/", 1)[1])
    async with store.transaction() as tx:
        task = await task_service.get_task(tx, account.tenant, task_id)
        assert task.robot_count == 2 and task.inactive_windows == [["12:00:00", "13:30:00"]]
        assert task.redial_rules == [{"results": ["NO_ANSWER", "BUSY"], "delay_minutes": 30, "max_times": 2}]
    listed = await client.get("/tasks")
    assert "双十一回访" in listed.text and "未开始" in listed.text
    rows = await client.get("/tasks/rows", headers={"HX-Request": "true"})
    assert rows.text.lstrip().startswith('<tbody id="task-rows"')


async def test_bad_fields_are_shown_beside_them_and_nothing_is_created(
    store: Store, account: Account, login: Login
) -> None:
    client = await login(Role.OPERATOR)
    refused = await client.submit(
        "/tasks/new", _form(account, name="<script>x</script>", daily_start="21:00", robot_count="500", line_ids=[])
    )
    assert refused.status_code == 422
    assert 'id="error-line_ids"' in refused.text
    assert "&lt;script&gt;x&lt;/script&gt;" in refused.text and "<script>x</script>" not in refused.text
    seats = await client.submit("/tasks/new", _form(account, robot_count="500"))
    assert seats.status_code == 422 and 'id="error-robot_count"' in seats.text
    window = await client.submit("/tasks/new", _form(account, daily_start="21:00"))
    assert window.status_code == 422 and 'id="error-daily_end"' in window.text
    async with store.transaction() as tx:
        page = await task_service.list_tasks(tx, account.tenant, TaskFilter(), PageRequest())
        assert page.total == 0


async def test_actions_follow_the_state_rules(store: Store, account: Account, login: Login) -> None:
    client = await login(Role.OPERATOR)
    task_id = await make_task(store, account)
    assert (await client.submit(f"/tasks/{task_id}/pause")).status_code == 409  # not started yet
    for action, status in [
        ("start", "RUNNABLE"),
        ("pause", "USER_PAUSE"),
        ("resume", "RUNNABLE"),
        ("stop", "TERMINATE"),
    ]:
        response = await client.submit(f"/tasks/{task_id}/{action}")
        assert response.status_code == 303, (action, response.text)
        async with store.transaction() as tx:
            assert (await task_service.get_task(tx, account.tenant, task_id)).status.value == status
    refused = await client.submit(f"/tasks/{task_id}/resume", headers={"HX-Request": "true"})
    assert refused.status_code == 409 and refused.headers["HX-Retarget"] == "#toast"
    assert (await client.submit(f"/tasks/{task_id}/delete")).status_code == 303
    assert (await client.get(f"/tasks/{task_id}")).status_code == 404


async def test_edit_a_running_task_changes_only_the_seats(store: Store, account: Account, login: Login) -> None:
    client = await login(Role.OPERATOR)
    task_id = await make_task(store, account)
    await client.submit(f"/tasks/{task_id}/start")
    edit = await client.get(f"/tasks/{task_id}/edit")
    assert "只能修改 AI 坐席数" in edit.text
    ok = await client.submit(
        f"/tasks/{task_id}/edit", _form(account, name="11月分期回访", pauses="", redial_results=[], robot_count="3")
    )
    assert ok.status_code == 303, ok.text
    refused = await client.submit(f"/tasks/{task_id}/edit", _form(account, name="改名", robot_count="4"))
    assert refused.status_code in (409, 422)
    async with store.transaction() as tx:
        task = await task_service.get_task(tx, account.tenant, task_id)
        assert (task.name, task.robot_count) == ("11月分期回访", 3)


async def test_a_viewer_sees_but_cannot_change(store: Store, account: Account, login: Login) -> None:
    task_id = await make_task(store, account)
    viewer = await login(Role.VIEWER)
    assert (await viewer.get(f"/tasks/{task_id}")).status_code == 200
    assert "启动" not in (await viewer.get("/tasks")).text
    for url in (f"/tasks/{task_id}/start", f"/tasks/{task_id}/delete", "/tasks/new", f"/tasks/{task_id}/edit"):
        assert (await viewer.submit(url, _form(account))).status_code == 403, url
    assert (await viewer.get("/tasks/new")).status_code == 403
    async with store.transaction() as tx:
        assert (await task_service.get_task(tx, account.tenant, task_id)).status.value == "NOT_STARTED"


async def test_another_tenants_task_is_not_found(store: Store, account: Account, login: Login) -> None:
    task_id = await make_task(store, account)
    other = await make_account(store, "另一家公司")
    stranger = await login(Role.ADMIN, tenant_account=other)
    for url in (f"/tasks/{task_id}", f"/tasks/{task_id}/edit", f"/tasks/{task_id}/stats.json"):
        assert (await stranger.get(url)).status_code == 404, url
    assert (await stranger.submit(f"/tasks/{task_id}/stop")).status_code == 404
    assert (await stranger.get("/tasks/abc")).status_code == 404


async def _import_finished(client: ConsoleClient, text: str) -> str:
    import_id = re.search(r"/imports/(\d+)/progress", text)
    page = text
    for _ in range(300):
        if import_id is None or "导入中" not in page:
            return page
        await asyncio.sleep(0.05)
        page = (await client.get(f"/imports/{import_id.group(1)}/progress")).text
    raise AssertionError("the import did not finish")


async def test_upload_customers_and_download_the_rejected_rows(store: Store, account: Account, login: Login) -> None:
    client = await login(Role.OPERATOR)
    task_id = await make_task(store, account)
    lines = ["姓名,手机号,amount"] + [f"客户{i},1380013{i:04d},{i}" for i in range(50)]
    lines += ["坏号码,12345,1", "=HYPERLINK(1),abc,2"]
    body = ("\n".join(lines) + "\n").encode("utf-8")
    started = await client.submit(
        f"/tasks/{task_id}/import", files={"file": ("客户.csv", body, "text/csv")}, headers={"HX-Request": "true"}
    )
    assert started.status_code == 200, started.text
    assert 'id="import-progress"' in started.text
    done = await _import_finished(client, started.text)
    assert "已完成" in done and 'id="import-accepted">50<' in done and 'id="import-rejected">2<' in done
    link = re.search(r'href="(/imports/\d+/rejections.csv)"', done)
    assert link is not None
    report = await client.get(link.group(1))
    assert report.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(report.text.lstrip("\ufeff"))))
    assert rows[0] == ["行号", "号码", "原因", "说明"] and len(rows) == 3
    assert rows[1][1] == "12345" and rows[2][1] == "abc"
    detail = await client.get(f"/tasks/{task_id}")
    assert "共 50 个" in detail.text


async def test_uploads_are_type_checked(store: Store, account: Account, login: Login) -> None:
    client = await login(Role.OPERATOR)
    task_id = await make_task(store, account)
    refused = await client.submit(
        f"/tasks/{task_id}/import", files={"file": ("x.exe", b"MZ", "application/octet-stream")}
    )
    assert refused.status_code == 422 and "不支持的文件类型" in refused.text


async def test_the_task_page_draws_its_statistics(store: Store, account: Account, login: Login) -> None:
    client = await login(Role.VIEWER)
    task_id = await make_task(store, account)
    page = await client.get(f"/tasks/{task_id}")
    assert 'id="chart-levels"' in page.text and "/static/console/vendor/echarts/echarts.min.js" in page.text
    data = (await client.get(f"/tasks/{task_id}/stats.json")).json()
    assert [x["name"] for x in data["levels"]] == list("ABCDEF")
    assert (await client.get("/static/console/vendor/echarts/echarts.min.js")).status_code == 200


async def test_a_body_over_the_limit_is_refused_before_it_is_read(store: Store, account: Account, login: Login) -> None:
    client = await login(Role.OPERATOR)
    task_id = await make_task(store, account)
    response = await client.post(
        f"/tasks/{task_id}/import",
        content=b"x" * (22 * 1024 * 1024),
        headers={
            "Content-Type": "multipart/form-data; boundary=b",
            "X-CSRF-Token": client.csrf,
            "HX-Request": "true",
        },
    )
    assert response.status_code == 422 and "请求太大" in response.text
