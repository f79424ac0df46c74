"""The shipped data files are what `python -m callbot.dialogue.nlu.train` makes of their sources today,
and recognising never loads the heavy libraries that generate them."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from callbot.dialogue.nlu import model, text, train

REGENERATE = "stale: run `python -m callbot.dialogue.nlu.train` and commit src/callbot/dialogue/nlu/data/"


def test_pinyin_table_is_up_to_date_with_pypinyin() -> None:
    pytest.importorskip("pypinyin")
    shipped = json.loads((train.DATA / "pinyin.json").read_text("utf-8"))
    assert shipped == train.pinyin_table(), REGENERATE
    assert text.dump_pinyin(shipped) == (train.DATA / "pinyin.json").read_text("utf-8")


def test_model_weights_are_up_to_date_with_train_jsonl() -> None:
    pytest.importorskip("sklearn")
    shipped = model.load_weights()
    fresh = train.fit_shipped_training()
    assert shipped.classes == fresh.classes, REGENERATE
    assert shipped.vocab == fresh.vocab, REGENERATE
    for name in ("idf", "coef_t", "bias"):
        np.testing.assert_allclose(getattr(shipped, name), getattr(fresh, name), atol=1e-3, err_msg=REGENERATE)


def test_recognising_imports_neither_scikit_learn_scipy_nor_pypinyin() -> None:
    code = (
        "import sys\n"
        "from callbot.dialogue.nlu import build_recognizer\n"
        "assert build_recognizer().recognize('不虚要').intent == 'reject'\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy', 'pypinyin'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
