"""IntentRecognizer: near-certain rules, then script examples against a learned model, then keyword rules.

A reply goes through: normalise -> homophone correction -> double negation -> filler removal; then the
near-certain rules (abuse, complaint, hold_on, repeat, ask_human); a call verb, the robot's prompt and the
script's keywords; the closest script or industry example against the model (both calibrated
probabilities); the model when it is confident; the keyword rules of docs/intents.md when it is not.
docs/nlu.md describes the order and why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from callbot.dialogue.nlu import rules
from callbot.dialogue.nlu.embedding import DIM, Embedder, sentence_embedder
from callbot.dialogue.nlu.industry import industry_pack
from callbot.dialogue.nlu.intents import BUILTIN_INTENTS, UNKNOWN, IntentDefinition, Recognition
from callbot.dialogue.nlu.model import LinearIntentModel, NGrams, Prediction, base_model
from callbot.dialogue.nlu.text import (
    Correction,
    HomophoneLexicon,
    char_key,
    normalize,
    strip_fillers,
)

_BASE_LEXICON: HomophoneLexicon | None = None
# Below this probability the model's guess is not trusted and the reply is unknown.
MIN_MODEL_PROBABILITY = 0.30
# A script example said almost word for word (pinyin ratio) names the reply's intent.
EXAMPLE_SAID = 0.90
# A script example this close in sound (pinyin ratio) is weighed with the embedding even when the n-gram
# block alone is near certain.
EXAMPLE_NEAR = 0.60
# A script example decides when the probability that it names the intent is at least this, and at least
# the model's probability for its own best intent (both on the same calibrated scale).
EXAMPLE_MIN = 0.5
# At or above this probability the model decides before the keyword rules (tuned on replies written
# apart from the training data; see docs/nlu.md).
MODEL_DECIDES = 0.8
# At or above this probability the n-gram block alone decides, and the reply is not embedded (most of a
# turn's cost). 5-fold cross-validation at 0.90, 0.95 and 0.97 scored as never deciding (docs/nlu.md).
NGRAMS_DECIDE = 0.90
# An affirm/deny/reject keyword inside a question (孩子几岁可以学) yields to the model when it names a
# question intent with at least this probability.
QUESTION_YIELDS = 0.30
# (A confident model overriding a plain answer keyword was measured on the held-out training files at
# thresholds 0.7-0.95: +-1 line of 2,563. Not worth a second opinion on every answer, so there is none.)
_ASKING = frozenset(
    {
        "ask_price",
        "ask_identity",
        "ask_source",
        "is_robot",
        "repeat",
        "send_info",
        "ask_detail",
        "ask_address",
        "ask_human",
    }
)
_YIELDING = frozenset({"affirm", "deny", "reject"})
# a keyword question (额度, 利息, 免费, 营业厅) in a reply that is not asking anything leaves the answer around it
_NOUN_QUESTIONS = frozenset({"ask_price", "ask_detail", "ask_address", "ask_identity"})
_ANSWER_OVER_NOUN = ("reject", "busy", "already_have", "goodbye")


def base_lexicon() -> HomophoneLexicon:
    global _BASE_LEXICON
    if _BASE_LEXICON is None:
        _BASE_LEXICON = HomophoneLexicon(rules.LEXICON)
    return _BASE_LEXICON


_LATIN = re.compile(r"[a-zA-Z]{2}")
_NUMBER = re.compile(r"\d+|[零一二两三四五六七八九十百千]+(?=[期个岁点号天月年元块次])")


def _numbers(text: str) -> frozenset[str]:
    return frozenset(_NUMBER.findall(text))


def embedding_input(text: str, core: str) -> str:
    """What the sentence embedding reads: Chinese as cleaned (homophones fixed, double negation resolved,
    no fillers: 没有不方便 is read as 方便), English as said, since cleaning glues its words together."""
    return text if _LATIN.search(text) else core


def prepare(text: str, lexicon: HomophoneLexicon | None = None) -> str:
    """Model input for a raw sentence: the same cleaning the recogniser applies to a reply."""
    t, _ = (lexicon or base_lexicon()).correct(normalize(text))
    core = strip_fillers(rules.remove_double_negation(t))
    return core or t


@dataclass(frozen=True)
class _Keyword:
    intent: str
    label: str  # as written in the script
    pattern: re.Pattern[str]
    is_regex: bool


def _keyword(intent: str, kw: str) -> _Keyword | None:
    kw = kw.strip()
    if len(kw) > 2 and kw.startswith("/") and kw.endswith("/"):
        return _Keyword(intent, kw, re.compile(kw[1:-1]), True)
    text = normalize(kw)
    if not text:
        return None
    # a negation right before a keyword cancels it (不办吧 is not 办吧)
    return _Keyword(intent, kw, re.compile(rf"(?<![不没别]){re.escape(text)}"), False)


class IntentRecognizer:
    """Recognises one customer reply (ASR text) into an intent id of the built-in library or the script."""

    def __init__(
        self,
        extra: Sequence[IntentDefinition] = (),
        model: LinearIntentModel | None = None,
        embedder: Embedder | None = None,
        vocabulary: Sequence[str] = (),
        ngrams_decide: float = NGRAMS_DECIDE,
    ) -> None:
        # ``model``, ``embedder``, ``ngrams_decide``: another fitted model, cached vectors, another threshold
        # (cross-validation)
        self._model: LinearIntentModel = model or base_model(prepare)
        self._ngrams_threshold = ngrams_decide
        self._embedder: Embedder = embedder or sentence_embedder()
        self._names: dict[str, str] = dict(BUILTIN_INTENTS)
        builtin_kw: dict[str, list[_Keyword]] = {}
        own_kw: list[_Keyword] = []
        plain: list[str] = list(vocabulary)  # an industry pack's words are corrected like plain keywords
        examples: list[tuple[str, str]] = []
        for d in extra:
            self._names.setdefault(d.id, d.name or d.id)
            for kw in d.keywords:
                k = _keyword(d.id, kw)
                if k is None:
                    continue
                (builtin_kw.setdefault(d.id, []) if d.id in BUILTIN_INTENTS else own_kw).append(k)
                if not k.is_regex:
                    plain.append(kw)
            examples.extend((d.id, ex) for ex in d.examples)
        # script words first: they are what this campaign expects to hear
        self._lexicon = HomophoneLexicon(plain).extended(rules.LEXICON) if plain else base_lexicon()
        self._builtin_kw = builtin_kw
        self._own_kw = own_kw
        self._ex_intents = [i for i, _ in examples]
        self._ex_texts = [prepare(e, self._lexicon) for _, e in examples]
        self._ex_keys = [" ".join(char_key(c) for c in t) for t in self._ex_texts]
        self._ex_numbers = [_numbers(t) for t in self._ex_texts]
        raw_examples = sorted({e for _, e in examples})
        vectors = dict(zip(raw_examples, self._embedder.embed_many(raw_examples), strict=True)) if examples else {}
        self._ex_vectors = (
            np.stack([vectors[e] for _, e in examples]) if examples else np.zeros((0, DIM), dtype=np.float32)
        )

    @property
    def intent_ids(self) -> frozenset[str]:
        return frozenset(self._names)

    def name(self, intent: str) -> str:
        return self._names.get(intent, intent)

    # -- recognition --------------------------------------------------------------------------

    def recognize(self, text: str, context: str | None = None) -> Recognition:
        raw = normalize(text)
        if not raw:
            return Recognition(UNKNOWN, 1.0, "空白")
        fixed, fixes = self._lexicon.correct(raw)
        t = rules.remove_double_negation(fixed)
        core = strip_fillers(t)
        if not core or rules.BACKCHANNEL.match(t):
            if rules.BACKCHANNEL.match(t):
                return Recognition("affirm", 0.85, f"附和「{raw}」")
            return Recognition(UNKNOWN, 0.9, f"只有语气词「{raw}」")
        reply = _Reply(text, core, fixes, self._model, self._embedder)
        texts = (t, core) if core != t else (t,)
        # 1. the near-certain rules: an insult, a complaint or opt-out, a request for a human, wait, repeat
        for intent, pattern in rules.CERTAIN:
            if intent == "hold_on" and rules.CALL_LATER_VERB.search(t):
                continue  # 等一下再打给我 asks for a callback
            if r := self._rule_any(intent, pattern, texts, fixes):
                return r
        # 2. what the model cannot see or must not override: a call verb, the robot's last prompt, the
        # script's own words
        if (verb := rules.call_verb(t)) is not None:
            return self._hit("call_later", verb, fixes, 0.9)
        if (timed := rules.asked_time(t)) is not None:
            # a script that names days or times (预约周六) decides what they mean in its campaign
            if by_script := self._script_keyword(t):
                return by_script
            if context and rules.offered_time_choice(core, normalize(context)):
                return Recognition("affirm", 0.88, f"选择上文提供的时间「{timed.group(0)}」（上文「{context}」）")
        if (proposed := rules.proposed_time(core)) is not None:
            if by_script := self._script_keyword(t):
                return by_script
            return Recognition("affirm", 0.88, f"提出时间「{proposed.group(0)}」作为回答")
        if r := self._context(core, context):
            return r
        for kw in self._own_kw:
            if km := kw.pattern.search(t):
                return self._hit(kw.intent, km.group(0), fixes, 0.92, keyword=kw)
        heard = self._pinyin_closest(core)
        said = self._said(heard)
        # a script example that sounds much like the reply is weighed with the embedding, as its paraphrase may be
        # the script's intent where the n-grams name a built-in one (能改到周四吗 against 能不能改到下周三)
        if (heard is None or heard[1] < EXAMPLE_NEAR) and (quick := self._ngrams_decide(reply)):
            # a reply sure to carry no intent of the library (chatter, a line check) still meets the keyword
            # rules, as it does when the whole model names it unknown
            ruled = self._by_rules(raw, t, core, texts, fixes, context, reply)
            if quick.intent == UNKNOWN:
                return ruled or quick
            if ruled is None or ruled.intent == quick.intent:
                return quick
        predicted = reply.prediction
        example = said or self._example(core, reply)
        if (
            example is not None
            and example.probability >= EXAMPLE_MIN
            and (
                example.probability >= predicted.probability
                # the model never saw the script's intents: the example wins when it is closer to the reply
                # than every training line of the intent the model names
                or example.similarity >= self._model.closest_line(predicted.intent, reply.vector)
            )
        ):
            return example.recognition()
        # 3. a confident model decides; below that the keyword rules speak, and the model has the last word
        if predicted.intent != UNKNOWN and predicted.probability >= MODEL_DECIDES:
            return self._learned(reply)
        if r := self._by_rules(raw, t, core, texts, fixes, context, reply):
            return r
        return self._learned(reply)

    def _by_rules(
        self,
        raw: str,
        t: str,
        core: str,
        texts: tuple[str, ...],
        fixes: list[Correction],
        context: str | None,
        reply: _Reply,
    ) -> Recognition | None:
        """The keyword rules of docs/intents.md in their order of precedence, or None when none fires."""
        for intent, pattern in rules.ORDER:
            if r := self._rule_any(intent, pattern, texts, fixes):
                return r
        if rules.LINE_CHECK.search(core) and not rules.LINE_CHECK.sub("", core).strip("喂你好"):
            return Recognition(UNKNOWN, 0.9, f"确认线路「{raw}」")
        if (verb := rules.call_verb(t)) is not None:
            return self._hit("call_later", verb, fixes, 0.9)
        if (timed := rules.asked_time(t)) is not None:
            # a script that names days or times (预约周六) decides what they mean in its campaign
            if by_script := self._script_keyword(t):
                return by_script
            choice = rules.offered_time_choice(core, normalize(context)) if context else None
            if choice:
                return Recognition("affirm", 0.88, f"选择上文提供的时间「{timed.group(0)}」（上文「{context}」）")
            if choice is None:
                return self._hit("call_later", timed.group(0), fixes, 0.9)
        if r := self._context(core, context):
            return r
        if m := rules.RHETORICAL.search(core):
            return self._hit("reject", m.group(0), fixes, 0.9)
        asking = rules.QUESTION.search(core) is not None
        if (m := rules.SEND_OVER.search(core)) and rules.send_info(core):
            return self._hit("send_info", m.group(0), fixes, 0.93)
        for intent, pattern in rules.QUESTIONS:
            if r := self._rule_any(intent, pattern, texts, fixes):
                if intent in _NOUN_QUESTIONS and not asking:
                    for answer in _ANSWER_OVER_NOUN:
                        if a := self._rule(answer, dict(rules.ANSWERS)[answer], core, fixes):
                            return a
                return r
        if m := rules.GO_AHEAD.search(core):
            return self._hit("affirm", m.group(0), fixes, 0.9)
        for intent, pattern in rules.ANSWERS:
            if r := self._rule(intent, pattern, core, fixes):
                return self._second_opinion(r, reply, asking)
        return None

    def _second_opinion(self, hit: Recognition, reply: _Reply, asking: bool) -> Recognition:
        """An affirm/deny/reject keyword stands unless the reply is a question: then the model names the
        question, or an open question about the offer is ask_detail."""
        if not (asking and hit.intent in _YIELDING):
            return hit
        p = reply.prediction
        if p.intent in (hit.intent, UNKNOWN):
            return hit
        if p.intent in _ASKING and p.probability >= QUESTION_YIELDS:
            return self._learned(reply, f"问句，不取{hit.evidence}；")
        q = rules.OPEN_QUESTION.search(reply.core)
        if q and len(reply.core) >= 5 and (hit.intent in ("affirm", "deny") or q.group("q")):
            return Recognition("ask_detail", 0.6, f"问句，不取{hit.evidence}")
        return hit

    def _rule(self, intent: str, pattern: re.Pattern[str], t: str, fixes: list[Correction]) -> Recognition | None:
        for kw in self._builtin_kw.get(intent, ()):
            if km := kw.pattern.search(t):
                return self._hit(intent, km.group(0), fixes, 0.92, keyword=kw)
        if intent == "ask_price":
            found = rules.price(t)
        elif intent == "send_info":
            found = rules.send_info(t)
        else:
            m = pattern.search(t)
            found = m.group(0) if m else None
        if found is None:
            return None
        return self._hit(intent, found, fixes, 0.95)

    def _rule_any(
        self, intent: str, pattern: re.Pattern[str], texts: tuple[str, ...], fixes: list[Correction]
    ) -> Recognition | None:
        # the text as heard and without fillers: anchored patterns need the latter, words like 那个 the former
        for t in texts:
            if r := self._rule(intent, pattern, t, fixes):
                return r
        return None

    def _hit(
        self, intent: str, matched: str, fixes: list[Correction], conf: float, keyword: _Keyword | None = None
    ) -> Recognition:
        if keyword is not None:
            what = f"正则「{keyword.label}」" if keyword.is_regex else f"关键词「{keyword.label}」"
        else:
            what = f"关键词「{matched}」"
        used = [f for f in fixes if f.word in matched or matched in f.word]
        if used:
            conf -= 0.07
            what += "（拼音匹配：" + "，".join(f"「{f.heard}」→「{f.word}」" for f in used) + "）"
        return Recognition(intent, round(conf, 3), what)

    def _script_keyword(self, t: str) -> Recognition | None:
        for kw in (*self._own_kw, *(k for kws in self._builtin_kw.values() for k in kws)):
            if km := kw.pattern.search(t):
                return self._hit(kw.intent, km.group(0), [], 0.92, keyword=kw)
        return None

    def _context(self, core: str, context: str | None) -> Recognition | None:
        if not context:
            return None
        ctx = normalize(context)
        if rules.ANYTHING_ELSE_CONTEXT.search(ctx) and rules.CLOSING_NO.match(core):
            return Recognition("goodbye", 0.88, f"上文问还有没有别的「{context}」，回答「{core}」")
        own, addressed = rules.OWN_SURNAME.match(core), rules.ADDRESSED.search(ctx)
        if own and addressed:
            other = own.group("surname") != addressed.group("surname")
            return Recognition(
                "wrong_person" if other else "affirm", 0.88, f"上文称呼「{addressed.group(0)}」，回答「{core}」"
            )
        if rules.BARE_NO.match(core):
            if rules.NEED_CONTEXT.search(ctx):
                return Recognition("reject", 0.88, f"上文问需求「{context}」，回答「{core}」")
            if rules.USE_CONTEXT.search(ctx):
                return Recognition("deny", 0.85, f"上文问事实「{context}」，回答「{core}」")
            if rules.TIME_CONTEXT.search(ctx) and rules.BARE_NOT_NOW.match(core):
                return Recognition("busy", 0.85, f"上文问是否方便「{context}」，回答「{core}」")
        if rules.BARE_YES.match(core) and (rules.INTEREST_CONTEXT.search(ctx) or rules.TIME_CONTEXT.search(ctx)):
            return Recognition("affirm", 0.88, f"上文问意愿「{context}」，回答「{core}」")
        return None

    def _ngrams_decide(self, reply: _Reply) -> Recognition | None:
        """The n-gram block alone when it is near certain (the caller first checks that no script example
        sounds much like the reply: that example and the whole model are then weighed as usual)."""
        g = reply.gate
        if g is None or g.probability < self._ngrams_threshold:
            return None
        evidence = f"n-gram模型{g.probability:.2f}"
        example, similarity = self._model.nearest(reply.grams, g.intent)
        if example:
            evidence += f"，相似例句「{example}」({similarity:.2f})"
        if reply.fixes:
            evidence += "（拼音匹配：" + "，".join(f"「{f.heard}」→「{f.word}」" for f in reply.fixes) + "）"
        return Recognition(g.intent, round(g.probability, 3), evidence)

    def _pinyin_closest(self, core: str) -> tuple[int, float] | None:
        """The script example closest to the reply in sound (index, pinyin ratio 0-1), if the script has any."""
        if not self._ex_texts:
            return None
        key = " ".join(char_key(c) for c in core)
        hit = process.extractOne(key, self._ex_keys, scorer=fuzz.ratio)
        return None if hit is None else (int(hit[2]), hit[1] / 100.0)

    def _said(self, heard: tuple[int, float] | None) -> _ExampleMatch | None:
        """The script example said almost word for word (pinyin), whatever ASR made of the characters."""
        if heard is None or heard[1] < EXAMPLE_SAID:
            return None
        i, ratio = heard
        return _ExampleMatch(self._ex_intents[i], self._ex_texts[i], ratio, min(0.97, ratio))

    def _example(self, core: str, reply: _Reply) -> _ExampleMatch | None:
        """The script example closest to the reply by embedding, with the probability that it names the
        reply's intent (an example said word for word is ``_said``)."""
        if not self._ex_texts:
            return None
        sims = self._ex_vectors @ reply.vector
        # an embedding hardly tells 36期 from 6期: an example naming other numbers than the reply does not count
        numbers = _numbers(core)
        if numbers:
            sims[[i for i, n in enumerate(self._ex_numbers) if n != numbers]] = -1.0
        i = int(sims.argmax())
        if sims[i] < 0:
            return None
        cos = float(sims[i])
        return _ExampleMatch(self._ex_intents[i], self._ex_texts[i], cos, self._model.example_probability(cos))

    def _learned(self, reply: _Reply, why: str = "") -> Recognition:
        p = reply.prediction
        core = reply.core
        if p.probability < MIN_MODEL_PROBABILITY and rules.OPEN_QUESTION.search(core) and len(core) >= 4:
            return Recognition("ask_detail", 0.5, f"{why}未识别的问句（模型最接近「{p.intent}」{p.probability:.2f}）")
        if p.intent == UNKNOWN or p.probability < MIN_MODEL_PROBABILITY:
            return Recognition(
                UNKNOWN,
                round(1.0 - p.probability, 3) if p.intent != UNKNOWN else round(p.probability, 3),
                f"模型无把握（最接近「{p.intent}」{p.probability:.2f}）",
            )
        evidence = f"{why}模型{p.probability:.2f}"
        if p.example:
            evidence += f"，相似例句「{p.example}」({p.similarity:.2f})"
        if reply.fixes:
            evidence += "（拼音匹配：" + "，".join(f"「{f.heard}」→「{f.word}」" for f in reply.fixes) + "）"
        return Recognition(p.intent, round(p.probability, 3), evidence)


class _Reply:
    """One reply on its way through recognition: its n-grams, the model's opinions and the embedding are
    computed at most once, and only when a step needs them (a near-certain rule needs none; a near-certain
    n-gram block spares the embedding)."""

    def __init__(
        self, text: str, core: str, fixes: list[Correction], model: LinearIntentModel, embedder: Embedder
    ) -> None:
        self.text = text
        self.core = core
        self.fixes = fixes
        self._model = model
        self._embedder = embedder
        self._vector: npt.NDArray[np.float32] | None = None
        self._grams: NGrams | None = None
        self._gate: Prediction | None = None
        self._prediction: Prediction | None = None

    @property
    def vector(self) -> npt.NDArray[np.float32]:
        if self._vector is None:
            self._vector = self._embedder.embed(embedding_input(self.text, self.core))
        return self._vector

    @property
    def grams(self) -> NGrams:
        if self._grams is None:
            self._grams = self._model.ngrams(self.core)
        return self._grams

    @property
    def gate(self) -> Prediction | None:
        """The n-gram block's opinion alone (no embedding)."""
        if self._gate is None:
            self._gate = self._model.gate(self.grams)
        return self._gate

    @property
    def prediction(self) -> Prediction:
        if self._prediction is None:
            vector = self.vector if self._model.uses_embedding else None
            self._prediction = self._model.predict(self.core, vector, self.grams)
        return self._prediction


@dataclass(frozen=True)
class _ExampleMatch:
    intent: str
    example: str
    similarity: float
    probability: float

    def recognition(self) -> Recognition:
        return Recognition(
            self.intent,
            round(self.probability, 3),
            f"相似例句「{self.example}」(相似度{self.similarity:.2f}，概率{self.probability:.2f})",
        )


def build_recognizer(extra: Sequence[IntentDefinition] = (), industry: str | None = None) -> IntentRecognizer:
    """A recogniser for the built-in library plus a script's intents (or additions to built-in ones), and
    the pack of the script's ``industry`` when there is one (industry.py)."""
    pack = industry_pack(industry)
    if pack is None:
        return IntentRecognizer(extra)
    return IntentRecognizer((*pack.intents, *extra), vocabulary=pack.vocabulary)
