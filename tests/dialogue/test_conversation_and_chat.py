"""A text chat with a script through the call session, and `callbot chat`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from callbot.callflow.chat import chat_replies
from callbot.cli.chat import chat
from callbot.dialogue.engine import MissingVariables
from callbot.dialogue.script import load_script
from callbot.telephony.reply import ReplyInvalid

from dialogue_fakes import TableRecognizer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scripts" / "credit_card_instalment.yaml"
VARS = ["--var", "name=张三", "--var", "bank=招商银行", "--var", "amount=8600"]

SCRIPT = load_script(
    """
name: t
start: a
nodes:
  a: {say: "{name}您好？", branches: {affirm: ok}}
  ok: {say: 好的再见。, end: hangup}
levels: [{level: A, when: {visited: ok}}]
"""
)


async def test_a_chat_grades_the_call() -> None:
    result = await chat_replies(SCRIPT, TableRecognizer({"好的": "affirm"}), ["好的"], {"name": "张三"})
    data = result.to_dict()
    assert data["visited"] == ["a", "ok"]
    assert (data["level"], data["end"]) == ("A", "hangup")
    assert [t["speaker"] for t in data["transcript"]] == ["ROBOT", "PERSON", "ROBOT"]
    assert data["transcript"][1]["intent"] == "affirm"
    assert data["talk_seconds"] > 0


async def test_running_out_of_replies_is_a_customer_hangup() -> None:
    result = await chat_replies(SCRIPT, TableRecognizer({}), [], {"name": "张三"})
    assert result.state.end == "customer_hangup"
    assert result.grade.level == "C"


async def test_a_given_talk_time_is_the_one_graded() -> None:
    result = await chat_replies(
        SCRIPT, TableRecognizer({"好的": "affirm"}), ["好的"], {"name": "李四"}, talk_seconds=12
    )
    assert result.state.transcript[0].text == "李四您好？"
    assert result.talk_seconds == 12


async def test_a_chat_refuses_a_bad_reply_or_a_missing_variable_before_it_starts() -> None:
    with pytest.raises(ReplyInvalid, match=r"reply 2 \('/dtmf 12'\): /dtmf takes one key"):
        await chat_replies(SCRIPT, TableRecognizer({}), ["好的", "/dtmf 12"], {"name": "张三"})
    with pytest.raises(MissingVariables, match="name"):
        await chat_replies(SCRIPT, TableRecognizer({}), ["好的"], {})


def test_chat_json_with_replies(tmp_path: Path) -> None:
    replies = tmp_path / "replies.json"
    replies.write_text(json.dumps(["可以你说吧", "那就办吧", "分十二期吧"], ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(chat, [str(EXAMPLE), *VARS, "--replies", str(replies), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["level"] == "A"
    assert data["end"] == "hangup"
    assert data["visited"][-1] == "agree_end"
    assert {"transcript", "visited", "level", "reason", "concerns", "tags", "end"} <= data.keys()
    assert data["transcript"][0] == {
        "speaker": "ROBOT", "text": data["transcript"][0]["text"], "node": "opening", "intent": None, "kind": "prompt",
    }  # fmt: skip


def test_chat_interactive_reads_stdin_until_the_call_ends() -> None:
    result = CliRunner().invoke(chat, [str(EXAMPLE), *VARS], input="我在开车呢\n")
    assert result.exit_code == 0, result.output
    assert "机器人 [busy_end]" in result.output
    assert "level: E" in result.output


def test_chat_names_a_missing_variable() -> None:
    result = CliRunner().invoke(chat, [str(EXAMPLE), "--var", "name=张三"], input="")
    assert result.exit_code != 0
    assert "amount" in result.output and "bank" in result.output


def test_chat_refuses_an_invalid_script(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstart: a\nnodes:\n  a: {say: 你好, branches: {affirm: b}}\n", encoding="utf-8")
    result = CliRunner().invoke(chat, [str(bad)])
    assert result.exit_code != 0
    assert "nodes.a.branches.affirm: no node named 'b'" in result.output


def test_ctrl_c_ends_an_interactive_chat_waiting_for_a_reply() -> None:
    chat_process = subprocess.Popen(
        [sys.executable, "-m", "callbot", "chat", str(EXAMPLE), *VARS],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert chat_process.stdout is not None
        seen = b""
        while "客户> ".encode() not in seen:  # the robot spoke and waits for the customer
            chunk = chat_process.stdout.read1(4096)  # type: ignore[attr-defined]  # a BufferedReader: read what is there
            assert chunk, chat_process.stderr.read() if chat_process.stderr else b""
            seen += chunk
        chat_process.send_signal(signal.SIGINT)
        assert chat_process.wait(timeout=15) != 0  # ended at once, with the terminal still open
    finally:
        chat_process.kill()
        chat_process.wait()
