"""Scripts in the console: the editor names every problem at its line and saves nothing invalid, drafts
are approved, the node graph is drawn, and the chat simulator runs the script's call loop."""

from __future__ import annotations

import json
import re

from callbot.console.scripts import problem_line
from callbot.kit.db import Store
from callbot.models.enums import Role
from callbot.script import service as script_service

from console_client import Login, found
from factories import SCRIPT, Account, make_account

BROKEN = SCRIPT.replace("agree_end:\n    say", "agree_end:\n    sya").replace("default: bye", "default: nowhere")


def test_problem_locations_become_lines() -> None:
    assert problem_line(BROKEN, "nodes.opening.branches.default") == 11
    assert problem_line(BROKEN, "nodes.agree_end.sya") == 13
    assert problem_line(BROKEN, "nodes.agree_end.say") == 12  # missing: its parent's line
    assert problem_line("a: [1\n", "line 2") == 2
    assert problem_line("levels:\n  - level: A\n  - level: Q\n", "levels.1.level") == 3


async def test_a_broken_script_is_shown_with_its_problems_at_their_lines(
    store: Store, account: Account, login: Login
) -> None:
    client = await login(Role.OPERATOR)
    page = await client.get(f"/scripts/{account.script_id}")
    assert page.status_code == 200 and "/static/console/vendor/codemirror/codemirror.js" in page.text
    refused = await client.submit("/scripts/save", {"script_id": str(account.script_id), "body": BROKEN})
    assert refused.status_code == 422
    assert "3 个问题" in refused.text
    assert re.search(r'<li data-line="11">第 11 行 <code>nodes.opening.branches.default</code>', refused.text)
    assert 'data-line="13"' in refused.text and "did you mean &#39;say&#39;" in refused.text
    assert json.loads(found(r'id="problem-lines" type="application/json">([^<]*)<', refused.text)) == [
        11,
        13,
        12,
    ]
    async with store.transaction() as tx:
        script = await script_service.get_script(tx, account.tenant, account.script_id)
        assert script.latest_version == 1


async def test_save_a_draft_then_approve_it(store: Store, account: Account, login: Login) -> None:
    client = await login(Role.OPERATOR)
    body = SCRIPT.replace("稍后专员联系您", "稍后专员会联系您")
    saved = await client.submit("/scripts/save", {"script_id": str(account.script_id), "body": body})
    assert saved.status_code == 303 and saved.headers["location"].endswith("?version=2")
    page = await client.get(saved.headers["location"])
    assert 'id="approve-2"' in page.text and "草稿" in page.text
    graph = json.loads(found(r'id="graph-data" type="application/json">([^<]*)<', page.text))
    assert {n["name"] for n in graph["nodes"]} == {"opening", "agree_end", "bye"}
    assert {(link["source"], link["target"]) for link in graph["links"]} == {
        ("opening", "agree_end"),
        ("opening", "bye"),
    }
    assert (await client.submit(f"/scripts/{account.script_id}/versions/2/approve")).status_code == 303
    async with store.transaction() as tx:
        script = await script_service.get_script(tx, account.tenant, account.script_id)
        assert script.approved_version == 2


async def test_viewers_and_strangers_cannot_change_scripts(store: Store, account: Account, login: Login) -> None:
    viewer = await login(Role.VIEWER)
    assert (await viewer.get(f"/scripts/{account.script_id}")).status_code == 200
    assert (await viewer.submit("/scripts/save", {"body": SCRIPT})).status_code == 403
    assert (await viewer.submit(f"/scripts/{account.script_id}/versions/1/approve")).status_code == 403
    stranger = await login(Role.ADMIN, tenant_account=await make_account(store, "另一家公司"))
    assert (await stranger.get(f"/scripts/{account.script_id}")).status_code == 404
    assert (await stranger.submit(f"/scripts/{account.script_id}/chat", {"start": "1"})).status_code == 404
    assert f'href="/scripts/{account.script_id}"' not in (await stranger.get("/scripts")).text


async def test_chat_with_a_script(store: Store, account: Account, login: Login) -> None:
    client = await login(Role.VIEWER)  # testing a script changes nothing: viewers may
    url = f"/scripts/{account.script_id}/chat"
    missing = await client.submit(url, {"start": "1", "version": "1"}, headers={"HX-Request": "true"})
    assert missing.status_code == 200 and "请先填写话术变量" in missing.text
    variables = {"var_name": "王先生", "var_amount": "3000", "version": "1"}
    first = await client.submit(url, {**variables, "start": "1"}, headers={"HX-Request": "true"})
    assert "王先生您好，您的账单3000元可以办理分期" in first.text
    replies = found(r'name="replies" value="([^"]*)"', first.text)
    second = await client.submit(
        url, {**variables, "replies": replies.replace("&#34;", '"'), "reply": "好的，可以办", "send": "1"}
    )
    assert '意图 <span class="intent">affirm</span>' in second.text
    assert "稍后专员联系您" in second.text
    assert re.search(r"当前意向等级 <strong>A</strong>", second.text)
    assert "通话已结束" in second.text
