"""`callbot nlu eval` and `callbot nlu test` through the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from callbot.cli.nlu import nlu


def test_eval_prints_the_summary_line_last(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    rows = [
        {"text": "不需要", "intent": "reject"},
        {"text": "多少钱", "intent": "ask_price"},
        {"text": "有", "intent": "already_have", "context": "您有信用卡吗？"},
        {"text": "利率几个点", "intent": "ask_rate"},
    ]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    script = tmp_path / "s.yaml"
    script.write_text("intents:\n  ask_rate:\n    name: 问利率\n    keywords: [利率]\n", encoding="utf-8")
    result = CliRunner().invoke(nlu, ["eval", str(data), "--script", str(script)])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"accuracy=\d\.\d{3} macro_f1=\d\.\d{3} p99_ms=\d+\.\d{2}", last)
    assert last.startswith("accuracy=1.000")


def test_test_prints_json() -> None:
    result = CliRunner().invoke(nlu, ["test", "有的", "--context", "请问您有信用卡吗？"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["intent"] == "already_have" and out["evidence"]


def test_eval_names_what_each_intent_was_confused_with(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    rows = [{"text": "不需要", "intent": "reject"}, {"text": "多少钱", "intent": "reject"}]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    result = CliRunner().invoke(nlu, ["eval", str(data)])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.startswith("reject "))
    assert row.endswith("ask_price 1")
