"""Evaluation sets stay unseen: no training line repeats or closely rewords a line the recogniser is
scored on (docs/nlu.md, "Evaluation you can trust")."""

from __future__ import annotations

import json
import re
from pathlib import Path

from rapidfuzz import fuzz, process

from callbot.dialogue.nlu import model, train

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "nlu"
# The blind set whose first run is the current estimate: written after the last refit, so no training
# line may come near it.
FRESH = "blind_2026-12c.jsonl"
FRESH_ALIKE = 90.0
# Training files written after the evaluation sets existed: cleared against every one of them.
CLEARED = (
    "train_breadth_regional.jsonl",
    "train_breadth_shape.jsonl",
    "train_breadth_tricky.jsonl",
    "train_breadth_unknown.jsonl",
)
CLEARED_ALIKE = 80.0


def _key(text: str) -> str:
    return re.sub(r"\W", "", text.lower())


def _texts(path: Path) -> list[str]:
    return [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines() if line.strip()]


def _too_close(lines: list[str], against: list[str], alike: float) -> list[str]:
    keys = sorted({_key(t) for t in against})
    exact = set(keys)
    out = []
    for line in lines:
        k = _key(line)
        best = process.extractOne(k, keys, scorer=fuzz.ratio, score_cutoff=alike)
        if k in exact or best is not None:
            out.append(f"{line!r} ~ {best[0] if best else k!r}")
    return out


def test_the_fresh_blind_set_is_far_from_every_training_line() -> None:
    training = [t for name in model.training_files() for t in _texts(train.DATA / name)]
    assert _too_close(_texts(EXAMPLES / FRESH), training, FRESH_ALIKE) == []


def test_training_lines_written_after_the_evaluation_sets_are_far_from_all_of_them() -> None:
    evaluation = [t for path in sorted(EXAMPLES.glob("*.jsonl")) for t in _texts(path)]
    assert set(CLEARED) <= set(model.training_files())
    cleared = [t for name in CLEARED for t in _texts(train.DATA / name)]
    assert _too_close(cleared, evaluation, CLEARED_ALIKE) == []


def test_the_check_catches_a_reworded_line() -> None:
    # the check itself: a copy with a particle added is caught, an unrelated line is not
    assert _too_close(["你们公司叫什么名字呀"], ["你们公司叫什么名字"], CLEARED_ALIKE)
    assert _too_close(["今天天气不错"], ["你们公司叫什么名字"], CLEARED_ALIKE) == []
