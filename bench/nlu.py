"""Bench: time per customer turn (intent recognition, plus one dialogue-engine step when the engine
is importable) on one core, and the memory of the loaded recogniser.

    .venv/bin/python bench/nlu.py [--turns 20000]

Last line: ``turn_p50_ms=X turn_p99_ms=Y rss_mb=Z``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "examples" / "nlu" / "dev.jsonl"

# A small script in the shape of spec/script-format.md, so the engine step is realistic.
SCRIPT = """
format: 1
name: bench
variables: [name]
start: opening
intents:
  ask_rate:
    name: 问利率
    keywords: [利率, 几个点]
    examples: [你们利率多少啊]
nodes:
  opening:
    say: "{name}您好，我是信用卡中心的客服，请问您现在方便听我介绍一下吗？"
    branches:
      affirm: intro
      reject: bye
      default: intro
  intro:
    say: "分期手续费很低，需要帮您办理吗？"
    branches:
      affirm: bye
      default: bye
  bye:
    say: "好的，感谢您的接听，再见。"
    end: hangup
global:
  complaint: bye
  abuse: bye
faq:
  - intents: [ask_price, ask_rate]
    say: "分期手续费每期0.6%。"
"""


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


def make_turn() -> tuple[Callable[[str, str | None], Any], str]:
    """A function doing one customer turn, and a description of what it includes."""
    from callbot.dialogue.nlu import build_recognizer

    if importlib.util.find_spec("callbot.dialogue.engine") is None:
        recognizer = build_recognizer()
        return recognizer.recognize, "recognition only (callbot.dialogue.engine not importable)"
    engine_mod: Any = importlib.import_module("callbot.dialogue.engine")
    script_mod: Any = importlib.import_module("callbot.dialogue.script")
    script = script_mod.load_script(SCRIPT, source="bench")
    recognizer = build_recognizer(script.intents)
    engine = engine_mod.DialogueEngine(script, recognizer)
    answered, _ = engine.step(engine.new_state({"name": "张先生"}), engine_mod.AnsweredEvent(offset_ms=0))

    def turn(text: str, _context: str | None) -> Any:
        # recognition happens inside the step, with the node's prompt as context
        return engine.step(answered, engine_mod.SpeechEvent(text, offset_ms=1000))

    return turn, "recognition + DialogueEngine.step"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=20000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    rss_before = rss_mb()
    start = time.perf_counter()
    turn, what = make_turn()
    build_s = time.perf_counter() - start
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:  # warm-up: caches of pinyin and regexes
        turn(row["text"], row.get("context"))
    times: list[float] = []
    cpu: list[float] = []  # CPU time of the turn: what a shared, busy machine does not inflate
    for i in range(args.turns):
        row = rows[i % len(rows)]
        c0, t0 = time.thread_time(), time.perf_counter()
        turn(row["text"], row.get("context"))
        times.append((time.perf_counter() - t0) * 1000.0)
        cpu.append((time.thread_time() - c0) * 1000.0)
    times.sort()
    cpu.sort()
    p50 = times[len(times) // 2]
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    rss = rss_mb()
    print(f"timed: {what}; {args.turns} turns over {len(rows)} utterances; first build {build_s:.2f} s")
    print(f"rss before loading {rss_before:.1f} MB, after {rss:.1f} MB; max {times[-1]:.3f} ms")
    print(
        f"cpu per turn: p50 {cpu[len(cpu) // 2]:.3f} ms, p99 {cpu[min(len(cpu) - 1, int(len(cpu) * 0.99))]:.3f} ms "
        f"(wall time below; on a loaded machine it includes waiting for the core)"
    )
    print(f"turn_p50_ms={p50:.3f} turn_p99_ms={p99:.3f} rss_mb={rss:.1f}")


if __name__ == "__main__":
    main()
