"""Regenerates the recogniser's shipped data files from their sources (offline; not imported at run time).

    python -m callbot.dialogue.nlu.train

writes ``data/pinyin.json`` (toneless default reading of every CJK character, from pypinyin) and
``data/model.json`` (TF-IDF vocabulary, idf and logistic-regression weights fitted by scikit-learn on
every ``data/train*.jsonl``, see model.training_files). Run it after editing or adding a training file, the
rules' homophone lexicon or the features;
tests/dialogue/nlu/test_shipped_data.py fails while the shipped files are stale. Neither pypinyin nor
scikit-learn is needed to recognise: they are imported only here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from callbot.dialogue.nlu import model, text

DATA = Path(__file__).resolve().parent / "data"
# class_weight="balanced" and weak regularisation: the training set is small and every sentence counts
C = 20.0
# n-grams seen in one sentence only are dropped: they cannot generalise, and they were two thirds of the
# vocabulary (and of the loaded model's memory)
MIN_DF = 2


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


def fit(texts: list[str], labels: list[str], sources: tuple[tuple[str, str], ...] = ()) -> model.ModelWeights:
    """Multinomial logistic regression over sublinear TF-IDF of `model.features`."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(analyzer=model.features, sublinear_tf=True, min_df=MIN_DF)
    x = vec.fit_transform(texts)
    clf = LogisticRegression(C=C, max_iter=2000, class_weight="balanced")
    clf.fit(x, labels)
    vocab = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
    return model.ModelWeights(
        classes=tuple(str(c) for c in clf.classes_),
        vocab=tuple(str(v) for v in vocab),
        idf=np.asarray(vec.idf_, dtype=np.float32),
        coef_t=np.ascontiguousarray(np.asarray(clf.coef_, dtype=np.float32).T),
        bias=np.asarray(clf.intercept_, dtype=np.float32),
        sources=sources,
    )


def fit_pairs(pairs: list[tuple[str, str]], sources: tuple[tuple[str, str], ...] = ()) -> model.ModelWeights:
    """Weights fitted on raw (text, intent) pairs, cleaned as the recogniser cleans a reply."""
    from callbot.dialogue.nlu.recognizer import prepare

    return fit([prepare(t) for t, _ in pairs], [y for _, y in pairs], sources)


def fit_shipped_training() -> model.ModelWeights:
    """The weights that data/model.json should hold for the current training files and rules."""
    return fit_pairs(model.load_training(), model.training_sources())


def main() -> None:
    (DATA / "pinyin.json").write_text(text.dump_pinyin(pinyin_table()), encoding="utf-8")
    text.reload_pinyin()  # the model's input depends on the table just written
    weights = fit_shipped_training()
    (DATA / "model.json").write_text(model.dump_weights(weights), encoding="utf-8")
    print(
        f"wrote pinyin.json and model.json in {DATA}: {len(weights.vocab)} features, {len(weights.classes)} intents, "
        f"from {', '.join(name for name, _ in weights.sources)}"
    )


if __name__ == "__main__":
    main()
