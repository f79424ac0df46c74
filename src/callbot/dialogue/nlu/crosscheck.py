"""Cross-check of generalisation (offline; not imported at run time).

    python -m callbot.dialogue.nlu.crosscheck [--errors] [FILE.jsonl ...]

For every shipped training file, fits the model on all the *other* training files and evaluates the
whole recogniser (rules + that model) on the held-out file, context included; the model alone is
scored too. Extra JSONL files given on the command line are scored against the model fitted on all the
training files. The held-out figures are an honest estimate only as long as the rules were not tuned on
the file's sentences.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from callbot.dialogue.nlu import model, train
from callbot.dialogue.nlu.recognizer import IntentRecognizer, prepare

Row = tuple[str, str, str | None]  # text, gold intent, context


def _rows_of(raw: str) -> list[Row]:
    out: list[Row] = []
    for line in raw.splitlines():
        if line.strip():
            rec = json.loads(line)
            out.append((rec["text"], rec["intent"], rec.get("context")))
    return out


def scores(pairs: list[tuple[str, str]]) -> tuple[float, float]:
    """Accuracy and macro-F1 (over gold intents) of (gold, predicted) pairs."""
    labels = {g for g, _ in pairs}
    f1s: list[float] = []
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label == p)
        n_pred = sum(1 for _, p in pairs if p == label)
        n_gold = sum(1 for g, _ in pairs if g == label)
        prec, rec = (tp / n_pred if n_pred else 0.0), tp / n_gold
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    accuracy = sum(1 for g, p in pairs if g == p) / len(pairs)
    return accuracy, sum(f1s) / len(f1s)


def evaluate(name: str, rows: list[Row], lm: model.LinearIntentModel, errors: bool) -> None:
    nlu = IntentRecognizer(model=lm)
    full: list[tuple[str, str]] = []
    alone: list[tuple[str, str]] = []
    wrong: list[str] = []
    for text, gold, context in rows:
        got = nlu.recognize(text, context)
        full.append((gold, got.intent))
        alone.append((gold, lm.predict(prepare(text)).intent))
        if got.intent != gold:
            wrong.append(f"  {gold} -> {got.intent}: {text}  [{got.evidence}]" + (f"  ({context})" if context else ""))
    acc, f1 = scores(full)
    macc, mf1 = scores(alone)
    print(f"{name}: lines={len(rows)} accuracy={acc:.3f} macro_f1={f1:.3f} model_alone={macc:.3f}/{mf1:.3f}")
    if errors:
        print("\n".join(wrong))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--errors", action="store_true", help="list every misrecognised line")
    args = parser.parse_args()
    data = Path(train.__file__).resolve().parent / "data"
    for name in model.training_files():
        pairs = model.load_training(exclude=frozenset({name}))
        lm = model.LinearIntentModel(train.fit_pairs(pairs), [(prepare(t), y) for t, y in pairs])
        evaluate(f"{name} (held out)", _rows_of((data / name).read_text("utf-8")), lm, args.errors)
    if args.files:
        pairs = model.load_training()
        lm = model.LinearIntentModel(train.fit_pairs(pairs), [(prepare(t), y) for t, y in pairs])
        for path in args.files:
            evaluate(str(path), _rows_of(path.read_text("utf-8")), lm, args.errors)


if __name__ == "__main__":
    main()
