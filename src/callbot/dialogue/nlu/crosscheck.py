"""Cross-validation of the recogniser (offline; not imported at run time).

    python -m callbot.dialogue.nlu.crosscheck [--folds 5] [--cache FILE.npz] [--errors] [--ngrams-decide P ...]
        [FILE.jsonl ...]

k-fold cross-validation over every shipped training line (stratified by intent, one fixed shuffle): each
fold's model is fitted on the other folds and the whole recogniser (rules + that model) is scored on the
fold, context included; the model alone is scored too. Extra JSONL files given on the command line are
scored against the model fitted on all the training lines. The rules were written while reading most of
the training files, so the k-fold figure of the whole recogniser is optimistic; that of the model alone
is not. ``embedded`` is the share of lines the recogniser embedded (a near-certain rule or n-gram block
spares the rest); ``--ngrams-decide`` compares thresholds of the latter in one run. Only a set that
nothing was tuned on (docs/nlu.md) estimates what a new campaign will see.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from callbot.dialogue.nlu import model, train
from callbot.dialogue.nlu.embedding import Embedder
from callbot.dialogue.nlu.recognizer import NGRAMS_DECIDE, IntentRecognizer, embedding_input, prepare

Row = tuple[str, str, str | None]  # text, gold intent, context


def rows_of(raw: str) -> list[Row]:
    out: list[Row] = []
    for line in raw.splitlines():
        if line.strip():
            rec = json.loads(line)
            out.append((rec["text"], rec["intent"], rec.get("context")))
    return out


def f1_by_intent(pairs: list[tuple[str, str]]) -> dict[str, float]:
    """F1 of every gold intent of (gold, predicted) pairs."""
    out: dict[str, float] = {}
    for label in sorted({g for g, _ in pairs}):
        tp = sum(1 for g, p in pairs if g == label == p)
        n_pred = sum(1 for _, p in pairs if p == label)
        n_gold = sum(1 for g, _ in pairs if g == label)
        prec, rec = (tp / n_pred if n_pred else 0.0), tp / n_gold
        out[label] = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return out


def scores(pairs: list[tuple[str, str]]) -> tuple[float, float]:
    """Accuracy and macro-F1 (over gold intents) of (gold, predicted) pairs."""
    f1s = f1_by_intent(pairs)
    accuracy = sum(1 for g, p in pairs if g == p) / len(pairs)
    return accuracy, sum(f1s.values()) / len(f1s)


class _Counted:
    """An embedder that counts the replies the recogniser embedded (the rest cost no embedding)."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self.calls = 0

    def embed(self, text: str) -> npt.NDArray[np.float32]:
        self.calls += 1
        return self._inner.embed(text)

    def embed_many(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self._inner.embed_many(texts)


def _summary(name: str, full: list[tuple[str, str]], alone: list[tuple[str, str]], embedded: int) -> str:
    acc, f1 = scores(full)
    macc, mf1 = scores(alone)
    per = f1_by_intent(full)
    worst = min(per, key=per.__getitem__)
    return (
        f"{name}: lines={len(full)} accuracy={acc:.3f} macro_f1={f1:.3f} min_f1={per[worst]:.3f} ({worst}) "
        f"model_alone={macc:.3f}/{mf1:.3f} embedded={embedded / len(full):.2f}"
    )


def evaluate(
    rows: list[Row], nlu: IntentRecognizer, lm: model.LinearIntentModel, embedder: Embedder
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[str]]:
    """(gold, recogniser) and (gold, model alone) pairs, and the misrecognised lines."""
    full: list[tuple[str, str]] = []
    alone: list[tuple[str, str]] = []
    wrong: list[str] = []
    for text, gold, context in rows:
        got = nlu.recognize(text, context)
        full.append((gold, got.intent))
        clean = prepare(text)
        vector = embedder.embed(embedding_input(text, clean)) if lm.uses_embedding else None
        alone.append((gold, lm.predict(clean, vector).intent))
        if got.intent != gold:
            wrong.append(f"  {gold} -> {got.intent}: {text}  [{got.evidence}]" + (f"  ({context})" if context else ""))
    return full, alone, wrong


def folds(rows: list[Row], k: int) -> list[list[int]]:
    """Stratified folds: the lines of each intent dealt out in turn, after one fixed shuffle."""
    import random

    order = list(range(len(rows)))
    random.Random(train.SEED).shuffle(order)
    out: list[list[int]] = [[] for _ in range(k)]
    dealt: Counter[str] = Counter()
    for i in order:
        intent = rows[i][1]
        out[dealt[intent] % k].append(i)
        dealt[intent] += 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--cache", type=Path, help="keep the lines' embeddings in this .npz between runs")
    parser.add_argument("--errors", action="store_true", help="list every misrecognised line")
    parser.add_argument(
        "--ngrams-decide",
        type=float,
        nargs="+",
        default=[NGRAMS_DECIDE],
        metavar="P",
        help="score the recogniser with each of these thresholds of the n-gram block deciding alone (above 1: never)",
    )
    args = parser.parse_args()
    cache = train.EmbeddingCache(args.cache)
    shipped = model.load_weights()
    data = Path(train.__file__).resolve().parent / "data"
    rows = [row for name in model.training_files() for row in rows_of((data / name).read_text("utf-8"))]
    thresholds: list[float] = args.ngrams_decide
    full: dict[float, list[tuple[str, str]]] = {p: [] for p in thresholds}
    alone: list[tuple[str, str]] = []
    embedded = dict.fromkeys(thresholds, 0)
    for n, held in enumerate(folds(rows, args.folds), 1):
        kept = sorted(set(range(len(rows))) - set(held))
        pairs = [(rows[i][0], rows[i][1]) for i in kept]
        # the shipped temperatures stand in for the fold's own: a nested fit per fold would cost k times more
        weights = dataclasses.replace(
            train.fit_pairs(pairs, embed=cache, calibrate=False),
            temperature=shipped.temperature,
            gate_temperature=shipped.gate_temperature,
        )
        lm = model.LinearIntentModel(weights, [(prepare(t), y) for t, y in pairs])
        for p in thresholds:
            counted = _Counted(cache)
            nlu = IntentRecognizer(model=lm, embedder=counted, ngrams_decide=p)
            f, a, wrong = evaluate([rows[i] for i in held], nlu, lm, cache)
            full[p] += f
            if p == thresholds[0]:
                alone += a
            embedded[p] += counted.calls
            print(_summary(f"fold {n}/{args.folds} ngrams_decide={p}", f, a, counted.calls), flush=True)
            if args.errors:
                print("\n".join(wrong))
    for p in thresholds:
        print(_summary(f"{args.folds}-fold cross-validation ngrams_decide={p}", full[p], alone, embedded[p]))
    if args.files:
        pairs = [(t, y) for t, y, _ in rows]
        lm = model.LinearIntentModel(shipped, [(prepare(t), y) for t, y in pairs])
        for path in args.files:
            counted = _Counted(cache)
            f, a, wrong = evaluate(
                rows_of(path.read_text("utf-8")),
                IntentRecognizer(model=lm, embedder=counted, ngrams_decide=thresholds[0]),
                lm,
                cache,
            )
            print(_summary(str(path), f, a, counted.calls))
            if args.errors:
                print("\n".join(wrong))


if __name__ == "__main__":
    main()
