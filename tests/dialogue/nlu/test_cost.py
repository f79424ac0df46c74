"""What a turn costs: the sentence embedding (most of a turn's CPU) is computed only when a step needs it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from callbot.dialogue.nlu import IntentDefinition, IntentRecognizer
from callbot.dialogue.nlu.embedding import SentenceEmbedder, sentence_embedder
from callbot.dialogue.nlu.model import base_model
from callbot.dialogue.nlu.recognizer import NGRAMS_DECIDE, prepare


class CountingEmbedder:
    """The shipped embedder, counting the replies it embeds."""

    def __init__(self, inner: SentenceEmbedder) -> None:
        self.inner = inner
        self.embedded: list[str] = []

    def embed(self, text: str) -> npt.NDArray[np.float32]:
        self.embedded.append(text)
        return self.inner.embed(text)

    def embed_many(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self.inner.embed_many(texts)


@pytest.fixture
def counting() -> CountingEmbedder:
    return CountingEmbedder(sentence_embedder())


def test_a_reply_the_ngrams_are_near_certain_of_is_not_embedded(counting: CountingEmbedder) -> None:
    nlu = IntentRecognizer(embedder=counting)
    got = nlu.recognize("不需要了谢谢")
    assert got.intent == "reject"
    assert got.evidence.startswith("n-gram模型")
    assert got.confidence >= NGRAMS_DECIDE
    assert counting.embedded == []


def test_a_reply_the_ngrams_are_unsure_of_is_embedded_once(counting: CountingEmbedder) -> None:
    nlu = IntentRecognizer(embedder=counting)
    got = nlu.recognize("你们这个东西靠谱吗我之前被坑过")
    assert not got.evidence.startswith("n-gram模型")
    assert len(counting.embedded) == 1


def test_a_threshold_above_one_always_embeds_what_the_rules_leave(counting: CountingEmbedder) -> None:
    nlu = IntentRecognizer(embedder=counting, ngrams_decide=1.01)
    assert nlu.recognize("不需要了谢谢").intent == "reject"
    assert len(counting.embedded) == 1


def test_a_near_certain_rule_costs_no_embedding(counting: CountingEmbedder) -> None:
    nlu = IntentRecognizer(embedder=counting)
    assert nlu.recognize("你们再打我就投诉").intent == "complaint"
    assert counting.embedded == []


def test_a_script_example_said_word_for_word_is_still_weighed_against_the_model(counting: CountingEmbedder) -> None:
    # the n-gram block is sure 不需要了谢谢 is a refusal, but the script made it an example of its own intent
    script = [IntentDefinition("polite_no", "礼貌拒绝", (), ("不需要了谢谢",))]
    nlu = IntentRecognizer(script, embedder=counting)
    got = nlu.recognize("不需要了谢谢")
    assert got.intent == "polite_no"


def test_the_ngram_vector_is_shared_by_both_opinions() -> None:
    model = base_model(prepare)
    text = prepare("那你们利息怎么算的")
    grams = model.ngrams(text)
    vector = sentence_embedder().embed(text)
    assert model.predict(text, vector, grams) == model.predict(text, vector)
    gate = model.gate(grams)
    assert gate is not None
    assert gate.intent in model.classes
    assert 0.0 < gate.probability <= 1.0


def test_chatter_the_ngrams_are_sure_of_still_meets_the_keyword_rules_without_embedding(
    counting: CountingEmbedder,
) -> None:
    nlu = IntentRecognizer(embedder=counting)
    got = nlu.recognize("喂喂喂能听见吗")
    assert got.intent == "unknown"
    assert "确认线路" in got.evidence
    assert counting.embedded == []
