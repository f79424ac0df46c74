"""Regenerates the recogniser's shipped data files from their sources (offline; not imported at run time).

    python -m callbot.dialogue.nlu.train

writes ``data/pinyin.json`` (toneless default reading of every CJK character, from pypinyin) and
``data/model.json`` (TF-IDF vocabulary, idf and logistic-regression weights over the n-grams and the
sentence embedding, and over the n-grams alone, fitted by scikit-learn on every ``data/train*.jsonl``, see
model.training_files; temperatures fitted on out-of-fold predictions; the calibration of example
similarity). Run it after editing or adding a training file, the rules' homophone lexicon or the features;
tests/dialogue/nlu/test_shipped_data.py fails while the shipped files are stale. Neither pypinyin nor
scikit-learn is needed to recognise: they are imported only here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from callbot.dialogue.nlu import model, text
from callbot.dialogue.nlu.embedding import sentence_embedder

DATA = Path(__file__).resolve().parent / "data"
# class_weight="balanced" and weak regularisation: the training set is small and every sentence counts
C = 20.0
# n-grams seen in one sentence only are dropped: they cannot generalise, and they were two thirds of the
# vocabulary (and of the loaded model's memory)
MIN_DF = 2
# The embedding block is scaled against the unit-length TF-IDF block: measured on replies written apart from
# the training data (accuracy 0.835 without it, 0.876 at 1.0, 0.909 at 2.0, 0.911 at 3.0).
DENSE_SCALE = 3.0
FOLDS = 5
SEED = 13

Embed = Callable[[Sequence[str]], npt.NDArray[np.float32]]


def embed_texts(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """Sentence embeddings of raw training texts (the shipped engine, one thread: about 10 ms a line)."""
    return sentence_embedder().embed_many(list(texts))


class EmbeddingCache:
    """Embeddings of texts kept in an .npz file between runs, so refitting and cross-validation embed
    only lines they have not seen. The vectors are those of ``embed_texts``: the engine is deterministic."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._vectors: dict[str, npt.NDArray[np.float32]] = {}
        if path is not None and path.exists():
            with np.load(path, allow_pickle=False) as doc:
                self._vectors = dict(zip((str(t) for t in doc["texts"]), doc["vectors"], strict=True))

    def __call__(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        missing = sorted({t for t in texts if t not in self._vectors})
        if missing:
            self._vectors.update(zip(missing, embed_texts(missing), strict=True))
            self._save()
        return np.stack([self._vectors[t] for t in texts]) if texts else embed_texts([])

    # the recogniser's Embedder interface, so cross-validation replays cached vectors
    def embed(self, text: str) -> npt.NDArray[np.float32]:
        return np.asarray(self([text])[0], dtype=np.float32)

    def embed_many(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self(texts)

    def _save(self) -> None:
        if self._path is None:
            return
        keys = sorted(self._vectors)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.open("wb") as f:
            np.savez(f, texts=np.array(keys, dtype=str), vectors=np.stack([self._vectors[k] for k in keys]))


def pinyin_table() -> dict[str, str]:
    """Syllable -> the characters of U+4E00..U+9FFF whose default toneless reading it is."""
    from pypinyin import Style, lazy_pinyin

    table: dict[str, list[str]] = {}
    for cp in range(0x4E00, 0xA000):
        ch = chr(cp)
        syl = lazy_pinyin(ch, style=Style.NORMAL)[0]
        if syl != ch:
            table.setdefault(syl, []).append(ch)
    return {syl: "".join(chars) for syl, chars in sorted(table.items())}


def _fit_linear(x: object, labels: Sequence[str]) -> object:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=3000, class_weight="balanced").fit(x, labels)


def _design(vec: object, texts: Sequence[str], vectors: npt.NDArray[np.float32]) -> object:
    from scipy.sparse import csr_matrix, hstack

    return hstack([vec.transform(texts), csr_matrix(vectors * DENSE_SCALE)]).tocsr()  # type: ignore[attr-defined]


def _temperature(logits: npt.NDArray[np.float64], gold: npt.NDArray[np.intp]) -> float:
    """The divisor of the logits that minimises the out-of-fold negative log-likelihood (grid search)."""
    best_t, best_nll = 1.0, math.inf
    for t in np.arange(0.3, 3.01, 0.05):
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        nll = float(-logp[np.arange(len(gold)), gold].mean())
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return round(best_t, 2)


def _neighbour_calibration(vectors: npt.NDArray[np.float32], labels: Sequence[str]) -> tuple[float, float]:
    """sigmoid(a * cosine + b) ~ P(the nearest other training line has the same intent), as a script
    example's cosine must be read on the model's probability scale."""
    from sklearn.linear_model import LogisticRegression

    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -1.0)
    nearest = sims.argmax(axis=1)
    best = sims[np.arange(len(labels)), nearest].reshape(-1, 1)
    y = np.array([labels[i] == labels[j] for i, j in enumerate(nearest)], dtype=int)
    clf = LogisticRegression(C=100.0).fit(best, y)
    return round(float(clf.coef_[0][0]), 4), round(float(clf.intercept_[0]), 4)


def fit(
    texts: list[str],
    labels: list[str],
    vectors: npt.NDArray[np.float32],
    sources: tuple[tuple[str, str], ...] = (),
    calibrate: bool = True,
) -> model.ModelWeights:
    """Multinomial logistic regression over sublinear TF-IDF of `model.features` and the sentence
    embeddings (``vectors``, one row per text); then the temperature, from ``FOLDS``-fold out-of-fold logits."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.model_selection import StratifiedKFold

    vec = TfidfVectorizer(analyzer=model.features, sublinear_tf=True, min_df=MIN_DF)
    vec.fit(texts)
    clf: Any = _fit_linear(_design(vec, texts, vectors), labels)
    # the n-gram block alone: it decides without the embedding when near certain
    gate: Any = _fit_linear(vec.transform(texts), labels)
    classes = [str(c) for c in clf.classes_]
    temperature, gate_temperature, neighbour = 1.0, 1.0, (0.0, 0.0)
    if calibrate:
        gold = np.array([classes.index(y) for y in labels], dtype=np.intp)
        logits = np.zeros((len(texts), len(classes)))
        gate_logits = np.zeros((len(texts), len(classes)))
        folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
        for train_idx, test_idx in folds.split(texts, labels):
            fold_vec = TfidfVectorizer(analyzer=model.features, sublinear_tf=True, min_df=MIN_DF)
            fold_texts = [texts[i] for i in train_idx]
            fold_vec.fit(fold_texts)
            fold: Any = _fit_linear(_design(fold_vec, fold_texts, vectors[train_idx]), [labels[i] for i in train_idx])
            logits[test_idx] = fold.decision_function(
                _design(fold_vec, [texts[i] for i in test_idx], vectors[test_idx])
            )
            fold_gate: Any = _fit_linear(fold_vec.transform(fold_texts), [labels[i] for i in train_idx])
            gate_logits[test_idx] = fold_gate.decision_function(fold_vec.transform([texts[i] for i in test_idx]))
        temperature = _temperature(logits, gold)
        gate_temperature = _temperature(gate_logits, gold)
        neighbour = _neighbour_calibration(vectors, labels)
    vocab = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
    n_sparse = len(vocab)
    coef = np.asarray(clf.coef_, dtype=np.float32)
    line_scale = round(127.0 / float(np.abs(vectors).max()), 4) if len(vectors) else 1.0
    return model.ModelWeights(
        classes=tuple(classes),
        vocab=tuple(str(v) for v in vocab),
        idf=np.asarray(vec.idf_, dtype=np.float32),
        coef_t=np.ascontiguousarray(coef[:, :n_sparse].T),
        bias=np.asarray(clf.intercept_, dtype=np.float32),
        sources=sources,
        dense_coef_t=np.ascontiguousarray(coef[:, n_sparse:].T),
        dense_scale=DENSE_SCALE,
        temperature=temperature,
        neighbour_a=neighbour[0],
        neighbour_b=neighbour[1],
        line_vectors=np.round(vectors * line_scale).astype(np.int8),
        line_scale=line_scale,
        line_classes=np.array([classes.index(y) for y in labels], dtype=np.uint8),
        gate_coef_t=np.ascontiguousarray(np.asarray(gate.coef_, dtype=np.float32).T),
        gate_bias=np.asarray(gate.intercept_, dtype=np.float32),
        gate_temperature=gate_temperature,
    )


def fit_pairs(
    pairs: list[tuple[str, str]],
    sources: tuple[tuple[str, str], ...] = (),
    embed: Embed = embed_texts,
    calibrate: bool = True,
) -> model.ModelWeights:
    """Weights fitted on raw (text, intent) pairs, cleaned as the recogniser cleans a reply."""
    from callbot.dialogue.nlu.recognizer import embedding_input, prepare

    texts = [prepare(t) for t, _ in pairs]
    vectors = embed([embedding_input(raw, clean) for (raw, _), clean in zip(pairs, texts, strict=True)])
    return fit(texts, [y for _, y in pairs], vectors, sources, calibrate)


def fit_shipped_training(embed: Embed = embed_texts) -> model.ModelWeights:
    """The weights that data/model.json should hold for the current training files and rules."""
    return fit_pairs(model.load_training(), model.training_sources(), embed)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="keep the training lines' embeddings in this .npz between runs")
    args = parser.parse_args()
    (DATA / "pinyin.json").write_text(text.dump_pinyin(pinyin_table()), encoding="utf-8")
    text.reload_pinyin()  # the model's input depends on the table just written
    weights = fit_shipped_training(EmbeddingCache(args.cache))
    (DATA / "model.json").write_text(model.dump_weights(weights), encoding="utf-8")
    print(
        f"wrote pinyin.json and model.json in {DATA}: {len(weights.vocab)} n-grams + embedding, "
        f"{len(weights.classes)} intents, temperature {weights.temperature}, "
        f"from {', '.join(name for name, _ in weights.sources)}"
    )


if __name__ == "__main__":
    main()
