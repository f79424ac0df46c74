"""The learned part: a linear classifier over character n-grams, pinyin n-grams and a sentence embedding.

The weights are shipped in data/model.json, fitted offline by ``python -m callbot.dialogue.nlu.train``
on every data/train*.jsonl (a test fails when they are stale), so recognising needs numpy and the
embedding engine only, no scikit-learn or scipy in the process. The n-gram part is one small gather and
dot product; the embedding (embedding.py) is most of a turn's cost. Probabilities are temperature-scaled
on out-of-fold predictions of the training data, so a 0.9 means about nine in ten right.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import math
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

import numpy as np
import numpy.typing as npt

from callbot.dialogue.nlu.embedding import DIM
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


TRAINING_GLOB = "train*.jsonl"


def training_files() -> list[str]:
    """Names of the shipped training files (data/train*.jsonl), sorted: the one place that lists them."""
    data = resources.files("callbot.dialogue.nlu").joinpath("data")
    return sorted(f.name for f in data.iterdir() if fnmatch.fnmatch(f.name, TRAINING_GLOB))


def read_training(name: str) -> list[tuple[str, str]]:
    """(text, intent) pairs of one training file."""
    raw = resources.files("callbot.dialogue.nlu").joinpath("data", name).read_text("utf-8")
    out: list[tuple[str, str]] = []
    for line in raw.splitlines():
        if line.strip():
            rec = json.loads(line)
            out.append((rec["text"], rec["intent"]))
    return out


# The homophone lexicon cleans every training line before it is featurised: it is a source of the
# weights as much as the training files are.
LEXICON_SOURCE = "rules.LEXICON"


def training_sources() -> tuple[tuple[str, str], ...]:
    """(name, sha256) of every shipped training file and of the homophone lexicon, as recorded in
    data/model.json (sorted by name)."""
    from callbot.dialogue.nlu.rules import LEXICON

    data = resources.files("callbot.dialogue.nlu").joinpath("data")
    files = [(name, hashlib.sha256(data.joinpath(name).read_bytes()).hexdigest()) for name in training_files()]
    lexicon = (LEXICON_SOURCE, hashlib.sha256("\n".join(LEXICON).encode("utf-8")).hexdigest())
    return tuple(sorted([*files, lexicon]))


def load_training(exclude: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """(text, intent) pairs of every shipped training file (but those named in ``exclude``)."""
    return [pair for name in training_files() if name not in exclude for pair in read_training(name)]


@dataclass(frozen=True)
class Prediction:
    intent: str
    probability: float
    example: str
    similarity: float


@dataclass(frozen=True)
class ModelWeights:
    """A fitted model: feature vocabulary (index = row of ``coef_t``), idf, weights and intercepts."""

    classes: tuple[str, ...]
    vocab: tuple[str, ...]
    idf: npt.NDArray[np.float32]
    coef_t: npt.NDArray[np.float32]  # (n_features, n_classes)
    bias: npt.NDArray[np.float32]
    sources: tuple[tuple[str, str], ...] = ()  # (training file, sha256 of its bytes) the weights were fitted on
    # weights of the sentence embedding (DIM, n_classes), applied to the vector times ``dense_scale``
    dense_coef_t: npt.NDArray[np.float32] | None = None
    dense_scale: float = 1.0
    # logits are divided by it before the softmax (calibration)
    temperature: float = 1.0
    # P(an example's intent is right | its embedding cosine s) = sigmoid(a * s + b), fitted on the
    # training data's nearest neighbours: puts script examples on the model's probability scale
    neighbour_a: float = 0.0
    neighbour_b: float = 0.0
    # the training lines' embeddings (int8, times ``line_scale``) and the index of each line's class: a
    # script example is compared with the closest training line of the intent the model names
    line_vectors: npt.NDArray[np.int8] | None = None
    line_scale: float = 1.0
    line_classes: npt.NDArray[np.uint8] | None = None
    # the n-gram block alone (n_features, n_classes), its intercepts and temperature: it decides without the
    # embedding when it is near certain (recognizer.NGRAMS_DECIDE), which spares most of a turn's cost
    gate_coef_t: npt.NDArray[np.float32] | None = None
    gate_bias: npt.NDArray[np.float32] | None = None
    gate_temperature: float = 1.0


def _b64(a: npt.NDArray[np.float32]) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def _unb64(s: str) -> npt.NDArray[np.float32]:
    return np.frombuffer(base64.b64decode(s), dtype="<f4").astype(np.float32)


def dump_weights(w: ModelWeights) -> str:
    """data/model.json: float arrays as base64 little-endian float32, the rest as JSON."""
    doc: dict[str, object] = {
        "format": 2,
        "generated_by": "python -m callbot.dialogue.nlu.train",
        "sources": {name: digest for name, digest in w.sources},
        "classes": list(w.classes),
        "vocab": list(w.vocab),
        "idf": _b64(w.idf),
        "coef_t": _b64(w.coef_t),
        "bias": _b64(w.bias),
        "dense_scale": w.dense_scale,
        "temperature": w.temperature,
        "neighbour": [w.neighbour_a, w.neighbour_b],
    }
    if w.dense_coef_t is not None:
        doc["dense_coef_t"] = _b64(w.dense_coef_t)
    if w.gate_coef_t is not None and w.gate_bias is not None:
        doc["gate_coef_t"] = _b64(w.gate_coef_t)
        doc["gate_bias"] = _b64(w.gate_bias)
        doc["gate_temperature"] = w.gate_temperature
    if w.line_vectors is not None and w.line_classes is not None:
        doc["line_scale"] = w.line_scale
        doc["line_vectors"] = base64.b64encode(np.ascontiguousarray(w.line_vectors, dtype=np.int8).tobytes()).decode()
        doc["line_classes"] = base64.b64encode(np.ascontiguousarray(w.line_classes, dtype=np.uint8).tobytes()).decode()
    return json.dumps(doc, ensure_ascii=False, indent=0) + "\n"


def load_weights() -> ModelWeights:
    raw = resources.files("callbot.dialogue.nlu").joinpath("data/model.json").read_text("utf-8")
    doc = json.loads(raw)
    classes, vocab = tuple(doc["classes"]), tuple(doc["vocab"])
    return ModelWeights(
        classes=classes,
        vocab=vocab,
        idf=_unb64(doc["idf"]),
        coef_t=_unb64(doc["coef_t"]).reshape(len(vocab), len(classes)),
        bias=_unb64(doc["bias"]),
        sources=tuple(sorted(doc.get("sources", {}).items())),
        dense_coef_t=_unb64(doc["dense_coef_t"]).reshape(-1, len(classes)) if "dense_coef_t" in doc else None,
        dense_scale=float(doc.get("dense_scale", 1.0)),
        temperature=float(doc.get("temperature", 1.0)),
        neighbour_a=float(doc.get("neighbour", [0.0, 0.0])[0]),
        neighbour_b=float(doc.get("neighbour", [0.0, 0.0])[1]),
        line_vectors=(
            np.frombuffer(base64.b64decode(doc["line_vectors"]), dtype=np.int8).reshape(-1, DIM)
            if "line_vectors" in doc
            else None
        ),
        gate_coef_t=_unb64(doc["gate_coef_t"]).reshape(len(vocab), len(classes)) if "gate_coef_t" in doc else None,
        gate_bias=_unb64(doc["gate_bias"]) if "gate_bias" in doc else None,
        gate_temperature=float(doc.get("gate_temperature", 1.0)),
        line_scale=float(doc.get("line_scale", 1.0)),
        line_classes=np.frombuffer(base64.b64decode(doc["line_classes"]), dtype=np.uint8)
        if "line_classes" in doc
        else None,
    )


class LinearIntentModel:
    """Multinomial logistic regression on TF-IDF features, with a nearest training sentence as evidence."""

    def __init__(self, weights: ModelWeights, examples: list[tuple[str, str]]) -> None:
        self.classes: list[str] = list(weights.classes)
        self._vocab: dict[str, int] = {f: i for i, f in enumerate(weights.vocab)}
        self._idf: npt.NDArray[np.float64] = weights.idf.astype(np.float64)
        self._coef_t: npt.NDArray[np.float32] = weights.coef_t  # float32: half the memory, same argmax
        self._bias: npt.NDArray[np.float64] = weights.bias.astype(np.float64)
        self._dense: npt.NDArray[np.float32] | None = weights.dense_coef_t
        self._dense_scale = weights.dense_scale
        self._temperature = weights.temperature
        self._neighbour = (weights.neighbour_a, weights.neighbour_b)
        self._gate: npt.NDArray[np.float32] | None = weights.gate_coef_t
        self._gate_bias: npt.NDArray[np.float64] | None = (
            weights.gate_bias.astype(np.float64) if weights.gate_bias is not None else None
        )
        self._gate_temperature = weights.gate_temperature
        # kept as int8 (a quarter of the memory); one intent's lines are widened when a script example asks
        self._lines: dict[str, npt.NDArray[np.int8]] = {}
        self._line_scale = weights.line_scale
        if weights.line_vectors is not None and weights.line_classes is not None:
            for k, intent in enumerate(self.classes):
                self._lines[intent] = np.ascontiguousarray(weights.line_vectors[weights.line_classes == k])
        # the training sentences of each intent as a compact sparse matrix of their n-gram ids (a few
        # arrays instead of thousands of Python sets)
        by_intent: dict[str, list[str]] = {}
        for t, y in examples:
            by_intent.setdefault(y, []).append(t)
        self._examples: dict[str, _ExampleBank] = {y: self._bank(ts) for y, ts in by_intent.items()}

    def _bank(self, texts: list[str]) -> _ExampleBank:
        rows = [sorted({self._vocab[f] for f in features(t) if f in self._vocab}) for t in texts]
        sizes = np.array([max(1, len(set(features(t)))) for t in texts], dtype=np.float64)
        indptr = np.cumsum([0, *(len(r) for r in rows)], dtype=np.intp)
        ids = np.fromiter((i for r in rows for i in r), dtype=np.int32, count=int(indptr[-1]))
        return _ExampleBank(tuple(texts), ids, indptr, sizes)

    def ngrams(self, text: str) -> NGrams:
        """The TF-IDF vector of a cleaned reply, computed once per reply and shared by ``gate``, ``predict``
        and the nearest training sentence."""
        feats = features(text)
        counts = Counter(f for f in feats if f in self._vocab)
        idx = np.fromiter((self._vocab[f] for f in counts), dtype=np.intp, count=len(counts))
        tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=np.float64, count=len(counts))
        w = tf * self._idf[idx]
        if len(w):
            w /= math.sqrt(float(w @ w))
        return NGrams(idx, w, len(set(feats)))

    def nearest(self, grams: NGrams, intent: str) -> tuple[str, float]:
        """The training sentence of ``intent`` sharing most n-grams with the reply (cosine of their sets), as
        evidence; ("", 0.0) when none shares any."""
        bank = self._examples.get(intent)
        if bank is None or not bank.texts or grams.idx.size == 0:
            return "", 0.0
        # a lookup table of the reply's n-grams: one gather over the bank (np.isin sorts it on every call)
        mine = np.zeros(len(self._vocab), dtype=np.float64)
        mine[grams.idx] = 1.0
        hit = mine[bank.ids]
        common = np.add.reduceat(np.append(hit, 0.0), bank.indptr[:-1]) if hit.size else np.zeros(len(bank.texts))
        common[np.diff(bank.indptr) == 0] = 0.0
        sims = common / np.sqrt(grams.distinct * bank.sizes)
        best = int(sims.argmax())
        return (bank.texts[best], float(sims[best])) if sims[best] > 0 else ("", 0.0)

    def _prediction(
        self, scores: npt.NDArray[np.float64], temperature: float, grams: NGrams, evidence: bool = True
    ) -> Prediction:
        scores = scores / temperature
        scores -= scores.max()
        probs = np.exp(scores)
        probs /= probs.sum()
        best = int(probs.argmax())
        intent = self.classes[best]
        example, sim = self.nearest(grams, intent) if evidence else ("", 0.0)
        return Prediction(intent, float(probs[best]), example, sim)

    def gate(self, grams: NGrams) -> Prediction | None:
        """The n-gram block alone (no embedding), or None when the model has none or the reply has no known
        n-gram. Without the nearest sentence: most gates do not decide, and the one that does asks ``nearest``."""
        if self._gate is None or self._gate_bias is None or grams.idx.size == 0:
            return None
        scores = self._gate_bias + grams.w @ self._gate[grams.idx]
        return self._prediction(scores, self._gate_temperature, grams, evidence=False)

    @property
    def uses_embedding(self) -> bool:
        """Whether ``predict`` wants the reply's sentence embedding."""
        return self._dense is not None

    def example_probability(self, cosine: float) -> float:
        """How likely an example this close (embedding cosine) names the reply's intent: the scale of ``predict``."""
        a, b = self._neighbour
        if a == 0.0:
            return cosine
        return 1.0 / (1.0 + math.exp(-(a * cosine + b)))

    def closest_line(self, intent: str, vector: npt.NDArray[np.float32]) -> float:
        """Embedding cosine of the training line of ``intent`` closest to ``vector`` (0 when none is shipped)."""
        lines = self._lines.get(intent)
        if lines is None or not len(lines):
            return 0.0
        return float((lines.astype(np.float32) @ vector).max()) / self._line_scale

    def predict(
        self, text: str, vector: npt.NDArray[np.float32] | None = None, grams: NGrams | None = None
    ) -> Prediction:
        """``text``: the cleaned reply (recognizer.prepare); ``vector``: its sentence embedding, when
        ``uses_embedding``; ``grams``: ``ngrams(text)`` when the caller already has it."""
        grams = grams or self.ngrams(text)
        if grams.idx.size == 0 and vector is None:
            return Prediction("unknown", 0.0, "", 0.0)
        scores = self._bias.copy()
        if grams.idx.size:
            scores += grams.w @ self._coef_t[grams.idx]
        if self._dense is not None:
            if vector is None:
                raise ValueError("this model scores the sentence embedding too: pass the reply's vector")
            scores += (vector.astype(np.float64) * self._dense_scale) @ self._dense
        return self._prediction(scores, self._temperature, grams)


@dataclass(frozen=True)
class NGrams:
    """A reply's n-grams known to the model: vocabulary ids and unit-length sublinear TF-IDF weights."""

    idx: npt.NDArray[np.intp]
    w: npt.NDArray[np.float64]
    distinct: int  # distinct n-grams of the reply, known or not (the nearest sentence's denominator)


@dataclass(frozen=True)
class _ExampleBank:
    texts: tuple[str, ...]
    ids: npt.NDArray[np.int32]  # n-gram ids of all sentences, row after row
    indptr: npt.NDArray[np.intp]  # row i is ids[indptr[i]:indptr[i + 1]]
    sizes: npt.NDArray[np.float64]  # number of distinct n-grams of each sentence


_LOCK = threading.Lock()
_MODEL: LinearIntentModel | None = None


def base_model(prepare: Callable[[str], str]) -> LinearIntentModel:
    """The process-wide model, loaded on first use; ``prepare`` maps raw training text to model input
    (the training sentences are kept as evidence for a prediction)."""
    global _MODEL
    if _MODEL is None:
        with _LOCK:
            if _MODEL is None:
                _MODEL = LinearIntentModel(load_weights(), [(prepare(t), y) for t, y in load_training()])
    return _MODEL
