"""`callbot chat`: talk to a robot script in text (文本对话测试) before a single call is placed."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from callbot.dialogue.conversation import ConversationResult
    from callbot.dialogue.engine import Action

_HELP_LINE = "输入客户说的话；空行 = 沉默；/dtmf 1 = 按键；/barge 文本 = 插话；/hangup 或 Ctrl-D = 挂断"


def _parse_vars(pairs: Sequence[str]) -> dict[str, str]:
    variables: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected name=value, got {pair!r}", param_hint="--var")
        variables[key.strip()] = value
    return variables


def _load_replies(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"cannot read replies from {path}: {exc}") from exc
    if not isinstance(data, list) or not all(isinstance(item, str) for item in data):
        raise click.ClickException(f'{path}: expected a JSON list of strings ("" for a silence)')
    return data


def _show(actions: Sequence[Action]) -> None:
    from callbot.dialogue.engine import HangUpAction, SayAction, TransferAction

    for action in actions:
        if isinstance(action, SayAction):
            click.echo(click.style(f"机器人 [{action.node}]: ", fg="cyan") + action.text)
        elif isinstance(action, HangUpAction):
            click.echo(click.style("（机器人挂断）", fg="yellow"))
        elif isinstance(action, TransferAction):
            click.echo(click.style(f"（转接 {action.target or '默认坐席'}）", fg="yellow"))


def _summary(result: ConversationResult) -> None:
    grade = result.grade
    click.echo("")
    click.echo(f"结束原因 end: {result.state.end}")
    click.echo(f"意向等级 level: {grade.level}  ({grade.reason})")
    click.echo(f"关注点 concerns: {', '.join(grade.concerns) or '-'}")
    click.echo(f"标签 tags: {', '.join(grade.tags) or '-'}")
    click.echo(f"节点 visited: {' → '.join(result.state.visited)}")
    click.echo(f"轮次 rounds: {result.state.rounds}   估计通话时长 talk: {result.talk_seconds}s")


@click.command("chat")
@click.argument("script_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--var", "var_pairs", multiple=True, metavar="NAME=VALUE", help="A customer variable (repeatable).")
@click.option(
    "--replies",
    "replies_file",
    type=click.Path(exists=True, dir_okay=False),
    help='JSON list of customer replies ("" = silence); the customer hangs up when it runs out.',
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the result (only JSON on stdout).")
@click.option(
    "--talk-seconds",
    type=float,
    default=None,
    help="Talk time for `talk_seconds` rules (default: estimated).",
)
def chat(
    script_file: str,
    var_pairs: Sequence[str],
    replies_file: str | None,
    as_json: bool,
    talk_seconds: float | None,
) -> None:
    """Chat with the robot script SCRIPT_FILE as the customer, then show the grading."""
    from callbot.dialogue.conversation import Conversation
    from callbot.dialogue.engine import MissingVariables
    from callbot.dialogue.nlu import build_recognizer
    from callbot.dialogue.script import ScriptInvalid, load_script_file

    variables = _parse_vars(var_pairs)
    try:
        script = load_script_file(script_file)
    except ScriptInvalid as exc:
        for location, message in exc.problems:
            click.echo(f"{location}: {message}", err=True)
        raise click.ClickException(exc.message) from exc
    try:
        conversation = Conversation(script, build_recognizer(script.intents, script.industry), variables)
    except MissingVariables as exc:
        hint = " ".join(f"--var {name}=..." for name in exc.names)
        raise click.ClickException(f"the script needs {exc.message}; give it with {hint}") from exc

    if replies_file is not None:
        replies = _load_replies(replies_file)
        actions = conversation.start()
        if not as_json:
            _show(actions)
        for reply in replies:
            if conversation.ended:
                break
            try:
                actions = conversation.reply(reply)
            except ValueError as exc:
                raise click.ClickException(str(exc)) from exc
            if not as_json:
                click.echo(click.style("客户: ", fg="green") + (reply or "（沉默）"))
                _show(actions)
    else:
        if not as_json:
            click.echo(click.style(_HELP_LINE, dim=True))
        actions = conversation.start()
        if not as_json:
            _show(actions)
        while not conversation.ended:
            try:
                reply = input("客户> " if not as_json else "")
            except EOFError:
                break
            try:
                actions = conversation.reply(reply)
            except ValueError as exc:
                click.echo(str(exc), err=True)
                continue
            if not as_json:
                _show(actions)

    result = conversation.finish(talk_seconds)
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
    else:
        _summary(result)
