"""`callbot nlu`: evaluate and try the intent recogniser (意图识别) on labelled ASR text."""

from __future__ import annotations

import importlib
import json
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from callbot.dialogue.nlu import IntentDefinition, build_recognizer


def script_intents(path: str) -> tuple[IntentDefinition, ...]:
    """The `intents:` section of a robot script, via the script loader when it accepts the file."""
    try:
        loader: Any = importlib.import_module("callbot.dialogue.script")
        script = loader.load_script_file(path)
        return tuple(script.intents)
    except ImportError:
        pass
    except Exception as exc:  # the script may be invalid elsewhere; its intents can still be evaluated
        click.echo(f"note: script loader refused {path} ({exc.__class__.__name__}); reading intents only", err=True)
    import yaml

    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    section = doc.get("intents") or {}
    if not isinstance(section, dict):
        raise click.BadParameter("`intents` must be a mapping of id -> {name, keywords, examples}")
    out: list[IntentDefinition] = []
    for intent_id, spec in section.items():
        spec = spec or {}
        out.append(
            IntentDefinition(
                id=str(intent_id),
                name=spec.get("name"),
                keywords=tuple(str(k) for k in spec.get("keywords") or ()),
                examples=tuple(str(e) for e in spec.get("examples") or ()),
            )
        )
    return tuple(out)


def script_industry(path: str) -> str | None:
    """The `industry` key of a robot script: the industry pack its replies are recognised with."""
    import yaml

    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    industry = doc.get("industry") if isinstance(doc, dict) else None
    return str(industry) if industry else None


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@click.group()
def nlu() -> None:
    """Intent recognition: evaluate on labelled data, try one reply."""


@nlu.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--script", "script_file", type=click.Path(exists=True, dir_okay=False), help="robot script (YAML)")
@click.option("--errors", is_flag=True, help="also list every misrecognised line")
def eval_command(file: str, script_file: str | None, errors: bool) -> None:
    """Per-intent precision/recall/F1, confusions and timing on FILE (JSONL: text, intent, context?)."""
    extra = script_intents(script_file) if script_file else ()
    recognizer = build_recognizer(extra, script_industry(script_file) if script_file else None)
    rows = [json.loads(line) for line in Path(file).read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows:
        raise click.ClickException(f"{file} has no lines")
    recognizer.recognize("你好")  # warm caches so the first line is not timed with them
    times: list[float] = []
    pairs: list[tuple[str, str]] = []
    wrong: list[str] = []
    for row in rows:
        start = time.perf_counter()
        got = recognizer.recognize(row["text"], row.get("context"))
        times.append((time.perf_counter() - start) * 1000.0)
        pairs.append((row["intent"], got.intent))
        if got.intent != row["intent"]:
            wrong.append(f"  {row['intent']} -> {got.intent}: {row['text']}  [{got.evidence}]")
    labels = sorted({g for g, _ in pairs} | {p for _, p in pairs})
    click.echo(f"{'intent':<14}{'prec':>7}{'rec':>7}{'f1':>7}{'n':>6}  confused with (gold -> predicted)")
    f1s: list[float] = []
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        n_pred = sum(1 for _, p in pairs if p == label)
        n_gold = sum(1 for g, _ in pairs if g == label)
        prec = tp / n_pred if n_pred else 0.0
        rec = tp / n_gold if n_gold else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        if n_gold:
            f1s.append(f1)
        missed = Counter(p for g, p in pairs if g == label and p != label).most_common()
        confusion = ", ".join(f"{p} {n}" for p, n in missed)
        click.echo(f"{label:<14}{prec:>7.3f}{rec:>7.3f}{f1:>7.3f}{n_gold:>6}  {confusion}".rstrip())
    confused = Counter((g, p) for g, p in pairs if g != p).most_common(10)
    if confused:
        click.echo("most confused (gold -> predicted):")
        for (g, p), n in confused:
            click.echo(f"  {g} -> {p}: {n}")
    if errors and wrong:
        click.echo("errors:")
        for line in wrong:
            click.echo(line)
    accuracy = sum(1 for g, p in pairs if g == p) / len(pairs)
    macro_f1 = sum(f1s) / len(f1s) if f1s else 0.0
    p50, p99 = _percentile(times, 0.50), _percentile(times, 0.99)
    click.echo(f"lines={len(rows)} p50_ms={p50:.3f}")
    click.echo(f"accuracy={accuracy:.3f} macro_f1={macro_f1:.3f} p99_ms={p99:.2f}")


@nlu.command("test")
@click.argument("text")
@click.option("--context", default=None, help="the robot's previous prompt")
@click.option("--script", "script_file", type=click.Path(exists=True, dir_okay=False), help="robot script (YAML)")
def test_command(text: str, context: str | None, script_file: str | None) -> None:
    """Recognise one reply and print the result as JSON."""
    recognizer = build_recognizer(
        script_intents(script_file) if script_file else (), script_industry(script_file) if script_file else None
    )
    got = recognizer.recognize(text, context)
    click.echo(
        json.dumps(
            {
                "intent": got.intent,
                "name": recognizer.name(got.intent),
                "confidence": got.confidence,
                "evidence": got.evidence,
            },
            ensure_ascii=False,
        )
    )
