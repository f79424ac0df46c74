"""Scripts (话术): versions and status, the YAML editor that names every problem at its line, approval, the
node graph, and the chat simulator (the product's call loop, driven from the browser)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from functools import lru_cache
from typing import Any

import yaml
from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from callbot.console.web import ConsoleRoute, Ctx, Operator, RolledBack, Viewer
from callbot.dialogue.script import Script as ScriptDocument
from callbot.dialogue.script import ScriptInvalid
from callbot.errors import ValidationFailed
from callbot.models import Script
from callbot.script import service as script_service

router = APIRouter(route_class=ConsoleRoute)

MAX_SCRIPT_BYTES = 512 * 1024
MAX_REPLIES = 60

NEW_SCRIPT = """\
format: 1
name: 新话术
variables: [name]
start: opening
nodes:
  opening:
    say: "{name}您好，这里是客服中心，想跟您确认一下，现在方便说话吗？"
    branches:
      affirm: thanks
      default: bye
  thanks:
    say: "好的，感谢您的配合，再见。"
    end: hangup
  bye:
    say: "好的，不打扰您了，再见。"
    end: hangup
levels:
  - level: A
    when: {visited: thanks}
  - level: C
"""


def problem_line(text: str, location: str) -> int | None:
    """The 1-based line a validator location points at: `line 7`, or a dotted path such as
    `nodes.opening.branches.default`; a key that is missing points at its parent's line."""
    if location.startswith("line "):
        number = location[5:].split()[0]
        return int(number) if number.isdigit() else None
    try:
        node: Any = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = None
    for part in location.split("."):
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if str(k.value) == part), None)
            if found is None:
                break
            line = found[0].start_mark.line + 1
            node = found[1]
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _problems(text: str, exc: ValidationFailed) -> list[dict[str, Any]]:
    return [{"line": problem_line(text, where), "where": where, "message": message} for where, message in exc.problems]


def graph_of(document: ScriptDocument) -> dict[str, Any]:
    """Nodes and the intents that lead from one to the next, for an ECharts graph."""
    nodes = [
        {
            "name": node_id,
            "category": 0 if node_id == document.start else 2 if node.end else 1,
            "value": " / ".join(node.say)[:80],
        }
        for node_id, node in document.nodes.items()
    ]
    links = [
        {"source": node_id, "target": target, "label": {"show": True, "formatter": intent}}
        for node_id, node in document.nodes.items()
        for intent, target in {**dict(node.branches), **{f"按键{k}": v for k, v in node.dtmf.items()}}.items()
        if target in document.nodes
    ]
    return {"nodes": nodes, "links": links}


@router.get("/scripts")
async def script_list(ctx: Viewer) -> Response:
    scripts = await script_service.list_scripts(ctx.tx, ctx.tenant)
    return ctx.page("scripts.html", scripts=scripts, status_of=script_service.script_status)


async def _editor(
    ctx: Ctx,
    script: Script | None,
    *,
    version: int | None = None,
    body: str | None = None,
    problems: list[dict[str, Any]] | None = None,
    status_code: int = 200,
) -> Response:
    versions = await script_service.list_versions(ctx.tx, script) if script else []
    shown = next((v for v in versions if v.version == version), versions[-1] if versions else None)
    text = body if body is not None else shown.body if shown else NEW_SCRIPT
    document = None
    with contextlib.suppress(ValidationFailed):  # an invalid text has no graph; its problems are listed
        document = script_service.parse_body(text)
    return ctx.page(
        "script_editor.html",
        status_code=status_code,
        script=script,
        versions=versions,
        shown=shown,
        body=text,
        problems=problems or [],
        graph=graph_of(document) if document else None,
        variables=sorted(document.required_variables) if document else [],
    )


@router.get("/scripts/new")
async def new_script(ctx: Operator) -> Response:
    return await _editor(ctx, None)


@router.get("/scripts/{script_id}")
async def script_detail(ctx: Viewer, script_id: int, version: int | None = None) -> Response:
    script = await script_service.get_script(ctx.tx, ctx.tenant, script_id)
    return await _editor(ctx, script, version=version)


@router.post("/scripts/save")
async def save_script(ctx: Operator) -> Response:
    """Validate and keep the text as a new draft version (of the script its `name` names)."""
    form = await ctx.request.form()
    body = str(form.get("body", ""))
    script_id = str(form.get("script_id", ""))
    script = await script_service.get_script(ctx.tx, ctx.tenant, int(script_id)) if script_id.isdigit() else None
    try:
        if len(body.encode()) > MAX_SCRIPT_BYTES:
            raise ValidationFailed("话术太大", [("body", f"最大 {MAX_SCRIPT_BYTES // 1024} KB")])
        added = await script_service.add_script(ctx.tx, ctx.tenant, body, draft=True, source="console")
    except ValidationFailed as exc:
        page = await _editor(ctx, script, body=body, problems=_problems(body, exc), status_code=422)
        raise RolledBack(page) from exc
    return RedirectResponse(f"/scripts/{added.script.id}?version={added.version.version}", status_code=303)


@router.post("/scripts/{script_id}/versions/{version}/approve")
async def approve(ctx: Operator, script_id: int, version: int) -> Response:
    await script_service.approve_version(ctx.tx, ctx.tenant, script_id, version)
    return RedirectResponse(f"/scripts/{script_id}?version={version}", status_code=303)


# --- chat simulator ---------------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _recognizer(body: str) -> Any:
    from callbot.dialogue.nlu.recognizer import build_recognizer

    document = script_service.parse_body(body)
    return build_recognizer(document.intents, document.industry)


def _run_chat(body: str, replies: list[str], variables: dict[str, str]) -> dict[str, Any]:
    """The conversation so far, replayed through the call session from the start (a chat keeps no state on
    the server); when the replies run out the customer is taken to hang up there, which grades the call."""
    from callbot.callflow.chat import chat_replies

    document = script_service.parse_body(body)
    result = asyncio.run(chat_replies(document, _recognizer(body), replies, variables))
    summary = result.to_dict()
    summary["ended"] = result.state.end != "customer_hangup"
    return summary


@router.post("/scripts/{script_id}/chat")
async def chat(ctx: Viewer, script_id: int) -> Response:
    """One turn of the simulator: the replies so far plus the new one, answered with the whole chat."""
    from callbot.dialogue.engine import MissingVariables
    from callbot.telephony.reply import ReplyInvalid

    script = await script_service.get_script(ctx.tx, ctx.tenant, script_id)
    form = await ctx.request.form()
    version = str(form.get("version", ""))
    row = await script_service.get_version(ctx.tx, script, int(version) if version.isdigit() else script.latest_version)
    try:
        replies = json.loads(str(form.get("replies", "[]")))
    except ValueError:
        replies = []
    if not isinstance(replies, list) or not all(isinstance(r, str) for r in replies):
        replies = []
    said = str(form.get("reply", ""))
    if form.get("restart"):
        replies = []
    elif form.get("send") is not None or said:
        replies.append(said[:500])
    replies = replies[-MAX_REPLIES:]
    variables = {k[4:]: str(v)[:200] for k, v in form.multi_items() if k.startswith("var_")}
    error = ""
    result: dict[str, Any] | None = None
    try:
        result = await asyncio.to_thread(_run_chat, row.body, replies, variables)
    except MissingVariables as exc:
        error = f"请先填写话术变量：{exc.message}"
    except ReplyInvalid as exc:
        replies = replies[:-1]
        error = f"无法识别的回复：{exc}"
    except ScriptInvalid as exc:
        error = exc.message
    return ctx.page(
        "_chat.html", script=script, version=row.version, replies=replies, result=result, error=error, vars=variables
    )
