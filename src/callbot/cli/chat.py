"""`callbot chat`: talk to a robot script in text (文本对话测试) before a single call is placed."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from callbot.dialogue.conversation import ConversationResult
    from callbot.dialogue.engine import Action, Event
    from callbot.telephony.reply import Reply

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


class _Terminal:
    """Replies typed at the terminal; a line not in the reply language is named and asked again."""

    def __init__(self, prompt: str) -> None:
        self._prompt = prompt

    async def next(self) -> Reply | None:
        from callbot.telephony.reply import ReplyInvalid, parse_reply

        while True:
            try:
                line = await _read_line(self._prompt)
            except EOFError:
                return None
            try:
                return parse_reply(line)
            except ReplyInvalid as exc:
                click.echo(str(exc), err=True)

    def barge(self) -> Reply | None:
        return None  # a typed reply comes after the robot's turn was shown


async def _read_line(prompt: str) -> str:
    """`input()` off the event loop, in a daemon thread: Ctrl-C ends the chat at once instead of waiting
    for a line to finish a worker thread the loop would join on its way out."""
    loop = asyncio.get_running_loop()
    line: asyncio.Future[str] = loop.create_future()

    def settle(text: str | None, error: BaseException | None) -> None:
        if line.done():
            return
        if error is not None:
            line.set_exception(error)
        else:
            line.set_result(text or "")

    def read() -> None:
        try:
            text = input(prompt)
        except BaseException as exc:  # EOFError above all: the customer hung up
            loop.call_soon_threadsafe(settle, None, exc)
        else:
            loop.call_soon_threadsafe(settle, text, None)

    threading.Thread(target=read, name="chat:input", daemon=True).start()
    return await line


def _show_customer(event: Event) -> None:
    from callbot.dialogue.engine import BargeInEvent, DtmfEvent, HangupEvent, SilenceEvent, SpeechEvent

    if isinstance(event, SpeechEvent):
        said = event.text or "（沉默）"
    elif isinstance(event, SilenceEvent):
        said = "（沉默）"
    elif isinstance(event, DtmfEvent):
        said = f"/dtmf {event.digit}"
    elif isinstance(event, BargeInEvent):
        said = f"/barge {event.text}".rstrip()
    elif isinstance(event, HangupEvent):
        said = "/hangup"
    else:
        return
    click.echo(click.style("客户: ", fg="green") + said)


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
    from callbot.callflow.chat import chat as run_chat
    from callbot.dialogue.engine import MissingVariables
    from callbot.dialogue.nlu import build_recognizer
    from callbot.dialogue.script import ScriptInvalid, load_script_file
    from callbot.telephony.chat import ReplyList, ReplySource
    from callbot.telephony.reply import ReplyInvalid, parse_replies

    variables = _parse_vars(var_pairs)
    try:
        script = load_script_file(script_file)
    except ScriptInvalid as exc:
        for location, message in exc.problems:
            click.echo(f"{location}: {message}", err=True)
        raise click.ClickException(exc.message) from exc

    replies: ReplySource
    if replies_file is not None:
        try:
            replies = ReplyList(parse_replies(_load_replies(replies_file)))
        except ReplyInvalid as exc:
            raise click.ClickException(f"{replies_file}: {exc}") from exc
    else:
        if not as_json:
            click.echo(click.style(_HELP_LINE, dim=True))
        replies = _Terminal("客户> " if not as_json else "")

    def show(event: Event, actions: tuple[Action, ...]) -> None:
        if replies_file is not None:  # typed replies are on the screen already
            _show_customer(event)
        _show(actions)

    try:
        result = asyncio.run(
            run_chat(
                script,
                build_recognizer(script.intents, script.industry),
                variables,
                replies,
                talk_seconds=talk_seconds,
                on_step=None if as_json else show,
            )
        )
    except MissingVariables as exc:
        hint = " ".join(f"--var {name}=..." for name in exc.names)
        raise click.ClickException(f"the script needs {exc.message}; give it with {hint}") from exc
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
    else:
        _summary(result)
