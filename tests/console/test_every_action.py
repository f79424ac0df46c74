"""Every state-changing console route, found from the app itself: refused without the session's CSRF token,
and refused to a viewer even with it (a viewer changes nothing by crafting a request)."""

from __future__ import annotations

import re

from callbot.console import admin, auth, dashboard, records, scripts, tasks
from callbot.console.web import ConsoleRoute
from callbot.kit.db import Store
from callbot.models.enums import Role

from console_client import Login
from factories import Account, make_task

# What a viewer may post: signing out, and testing a script in the chat simulator (it changes nothing).
VIEWER_MAY = {"/logout", "/scripts/{script_id}/chat"}


def console_posts() -> list[str]:
    paths = [
        route.path
        for module in (admin, auth, dashboard, records, scripts, tasks)
        for route in module.router.routes
        if isinstance(route, ConsoleRoute) and "POST" in (route.methods or ()) and route.path != "/login"
    ]
    assert len(paths) >= 20, paths
    return paths


def concrete(path: str, ids: dict[str, int]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), 1)), path)


async def test_every_post_needs_the_csrf_token(store: Store, account: Account, login: Login) -> None:
    task_id = await make_task(store, account)
    ids = {"task_id": task_id, "script_id": account.script_id, "version": 1}
    boss = await login(Role.ADMIN)
    for path in console_posts():
        response = await boss.post(concrete(path, ids), data={"csrf": "forged"})
        assert response.status_code == 403, (path, response.status_code)
    assert (await boss.get(f"/tasks/{task_id}")).status_code == 200  # and nothing changed
    assert "未开始" in (await boss.get("/tasks")).text


async def test_a_viewer_can_post_nothing_that_changes_anything(store: Store, account: Account, login: Login) -> None:
    task_id = await make_task(store, account)
    ids = {"task_id": task_id, "script_id": account.script_id, "version": 1}
    viewer = await login(Role.VIEWER)
    for path in console_posts():
        if path in VIEWER_MAY:
            continue
        response = await viewer.submit(concrete(path, ids), {"name": "x", "manual_level": "A", "phone": "1"})
        assert response.status_code == 403, (path, response.status_code)
