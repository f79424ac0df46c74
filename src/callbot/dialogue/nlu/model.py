"""The learned part: a linear classifier over character n-grams and pinyin n-grams.

Fitted once per process on the shipped training sentences (data/train.jsonl), lazily on first
use. Prediction does not go through scikit-learn: the fitted vocabulary, idf and coefficients are
kept as plain arrays and a reply is scored with one small gather and dot product, which keeps a
call in the tens of microseconds.
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

import numpy as np
import numpy.typing as npt

from callbot.dialogue.nlu.text import char_key


def features(text: str) -> list[str]:
    """Char 1-3-grams (with boundaries) and fuzzy-pinyin 1-2-grams of a filler-free reply."""
    feats: list[str] = list(text)
    padded = f"^{text}$"
    n = len(padded)
    feats.extend(padded[i : i + 2] for i in range(n - 1))
    feats.extend(padded[i : i + 3] for i in range(n - 2))
    keys = ["^", *(char_key(c) for c in text), "$"]
    feats.extend("p:" + k for k in keys[1:-1])
    feats.extend(f"p:{keys[i]}_{keys[i + 1]}" for i in range(len(keys) - 1))
    return feats


def load_training() -> list[tuple[str, str]]:
    """(text, intent) pairs shipped with the package."""
    raw = resources.files("callbot.dialogue.nlu").joinpath("data/train.jsonl").read_text("utf-8")
    out: list[tuple[str, str]] = []
    for line in raw.splitlines():
        if line.strip():
            rec = json.loads(line)
            out.append((rec["text"], rec["intent"]))
    return out


@dataclass(frozen=True)
class Prediction:
    intent: str
    probability: float
    example: str
    similarity: float


class LinearIntentModel:
    """Multinomial logistic regression on TF-IDF features, with a nearest training sentence as evidence."""

    def __init__(self, texts: list[str], labels: list[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        vec = TfidfVectorizer(analyzer=features, sublinear_tf=True)
        x = vec.fit_transform(texts)
        clf = LogisticRegression(C=20.0, max_iter=2000, class_weight="balanced")
        clf.fit(x, labels)
        self.classes: list[str] = [str(c) for c in clf.classes_]
        self._vocab: dict[str, int] = {str(k): int(v) for k, v in vec.vocabulary_.items()}
        self._idf: npt.NDArray[np.float64] = np.asarray(vec.idf_, dtype=np.float64)
        self._coef_t: npt.NDArray[np.float64] = np.ascontiguousarray(np.asarray(clf.coef_, dtype=np.float64).T)
        self._bias: npt.NDArray[np.float64] = np.asarray(clf.intercept_, dtype=np.float64)
        self._examples: dict[str, list[tuple[str, frozenset[str]]]] = {}
        for t, y in zip(texts, labels, strict=True):
            self._examples.setdefault(y, []).append((t, frozenset(features(t))))

    def predict(self, text: str) -> Prediction:
        counts = Counter(f for f in features(text) if f in self._vocab)
        if not counts:
            return Prediction("unknown", 0.0, "", 0.0)
        idx = np.fromiter((self._vocab[f] for f in counts), dtype=np.intp, count=len(counts))
        tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=np.float64, count=len(counts))
        w = tf * self._idf[idx]
        w /= math.sqrt(float(w @ w))
        scores = w @ self._coef_t[idx] + self._bias
        scores -= scores.max()
        probs = np.exp(scores)
        probs /= probs.sum()
        best = int(probs.argmax())
        intent = self.classes[best]
        example, sim = nearest(text, self._examples.get(intent, []))
        return Prediction(intent, float(probs[best]), example, sim)


def nearest(text: str, examples: list[tuple[str, frozenset[str]]]) -> tuple[str, float]:
    """Most similar example by cosine over binary n-gram sets."""
    mine = frozenset(features(text))
    best, score = "", 0.0
    for ex, feats in examples:
        common = len(mine & feats)
        if common:
            s = common / math.sqrt(len(mine) * len(feats))
            if s > score:
                best, score = ex, s
    return best, score


_LOCK = threading.Lock()
_MODEL: LinearIntentModel | None = None


def base_model(prepare: Callable[[str], str]) -> LinearIntentModel:
    """The process-wide model, fitted on first use; ``prepare`` maps raw training text to model input."""
    global _MODEL
    if _MODEL is None:
        with _LOCK:
            if _MODEL is None:
                pairs = load_training()
                _MODEL = LinearIntentModel([prepare(t) for t, _ in pairs], [y for _, y in pairs])
    return _MODEL
