"""The shipped data files are what `python -m callbot.dialogue.nlu.train` makes of their sources today,
and recognising never loads the heavy libraries that generate them."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from callbot.dialogue.nlu import BUILTIN_INTENTS, model, text, train

REGENERATE = "stale: run `python -m callbot.dialogue.nlu.train` and commit src/callbot/dialogue/nlu/data/"


def test_pinyin_table_is_up_to_date_with_pypinyin() -> None:
    pytest.importorskip("pypinyin")
    shipped = json.loads((train.DATA / "pinyin.json").read_text("utf-8"))
    assert shipped == train.pinyin_table(), REGENERATE
    assert text.dump_pinyin(shipped) == (train.DATA / "pinyin.json").read_text("utf-8")


def test_training_files_are_every_train_jsonl_and_well_formed() -> None:
    names = model.training_files()
    assert names == sorted(p.name for p in train.DATA.glob("train*.jsonl"))
    assert "train.jsonl" in names and len(names) >= 3
    for name in names:
        for i, line in enumerate((train.DATA / name).read_text("utf-8").splitlines(), 1):
            rec = json.loads(line)
            assert rec["intent"] in BUILTIN_INTENTS, f"{name}:{i}: {rec}"
            assert rec["text"].strip(), f"{name}:{i}: empty text"
            assert set(rec) <= {"text", "intent", "context"}, f"{name}:{i}: {rec}"
    assert len(model.load_training()) == sum(len(model.read_training(n)) for n in names)


def test_model_weights_were_fitted_on_the_current_training_files() -> None:
    # cheap and independent of scikit-learn: every training file, byte for byte, and the homophone lexicon
    # that cleans them, as they are now
    assert model.LEXICON_SOURCE in dict(model.training_sources())
    assert model.load_weights().sources == model.training_sources(), REGENERATE


@pytest.mark.slow  # embeds every training line (a few minutes on one busy core)
def test_model_weights_are_up_to_date_with_the_training_files() -> None:
    pytest.importorskip("sklearn")
    shipped = model.load_weights()
    fresh = train.fit_shipped_training()
    assert shipped.sources == fresh.sources, REGENERATE
    assert shipped.classes == fresh.classes, REGENERATE
    assert shipped.vocab == fresh.vocab, REGENERATE
    for name in ("idf", "coef_t", "bias", "dense_coef_t", "gate_coef_t", "gate_bias"):
        np.testing.assert_allclose(getattr(shipped, name), getattr(fresh, name), atol=1e-3, err_msg=REGENERATE)
    assert (shipped.dense_scale, shipped.temperature) == (fresh.dense_scale, fresh.temperature), REGENERATE
    assert shipped.gate_temperature == fresh.gate_temperature, REGENERATE
    assert (shipped.neighbour_a, shipped.neighbour_b) == (fresh.neighbour_a, fresh.neighbour_b), REGENERATE


def test_recognising_imports_neither_scikit_learn_scipy_nor_pypinyin() -> None:
    code = (
        "import sys\n"
        "from callbot.dialogue.nlu import build_recognizer\n"
        "assert build_recognizer().recognize('不虚要').intent == 'reject'\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy', 'pypinyin'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
