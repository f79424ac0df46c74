"""Simulated customers (模拟客户): who picks up, and what they say back to the robot.

By default a customer has a persona (interested, hesitant, busy, refuses, ...) chosen from the phone
number by a stable hash, so the same number always behaves alike, and the personas of a list mix in
plausible shares. A persona replies to what the robot just said: the prompt is sorted roughly into a
`Stage` by keywords (opening, identity check, offer, choice, time, confirmation, retention, plain
information, goodbye), and the persona has colloquial Mandarin lines for each stage, as ASR would
write them (no punctuation, fillers such as 嗯 / 那个). Which line is said is drawn from
(seed, phone, attempt, turn), so calls are reproducible and a redial sounds different.

A customer property `sim_replies` scripts the exact replies instead: elements separated by `|` in the
reply language of `callbot chat` (`callbot.telephony.reply`: "" a silence, `/dtmf 1`, `/hangup`,
`/barge TEXT` said over the next interruptible prompt). When the replies run out the customer hangs up.
A customer property `sim_persona` picks a persona by name.

Personas' lines are written in the same reply language, and "{option}" in a line is filled with an
option the robot offered (6期, 周六上午...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from random import Random
from typing import Protocol

from callbot.telephony.gateway import Dtmf, Hangup, Heard, Prompt, Silence, Speech
from callbot.telephony.reply import Reply, ReplyInvalid, parse_replies, parse_reply
from callbot.telephony.sim.draw import rng, unit

__all__ = [
    "PERSONAS",
    "Interjection",
    "Persona",
    "PersonaCustomer",
    "ScriptedCustomer",
    "SimCustomer",
    "Stage",
    "classify_prompt",
    "customer_for",
    "persona_for",
]


class Stage(StrEnum):
    """What kind of thing the robot just said, as far as a customer cares."""

    OPENING = "opening"  # 开场白: may I take a minute of your time?
    IDENTITY = "identity"  # 请问您是张三本人吗
    OFFER = "offer"  # the pitch: 要不要 / 需要帮您办理吗 / 能按时还款吗
    CHOICE = "choice"  # 6期还是12期
    TIME = "time"  # 周六上午可以吗
    CONFIRM = "confirm"  # 跟您确认一下
    RETAIN = "retain"  # 挽留: 理解的，其实...
    INFO = "info"  # a plain statement (an FAQ answer)
    GOODBYE = "goodbye"  # 再见 / 正在为您转接


_SENTENCE_END = re.compile(r"(?<=[。？！?!])")
_OPTION = re.compile(
    r"(?:\d+|[一二两三四五六七八九十百]+)(?:期|个月|年|点|号|天|兆)|周[一二三四五六日末](?:[上下]午)?|[上下]午|晚上"
)
_KEY = re.compile(r"按\s*([0-9*#])")


def _sentences(text: str) -> list[str]:
    return [s for s in (p.strip() for p in _SENTENCE_END.split(text)) if s]


def _is_question(sentence: str) -> bool:
    return sentence.endswith(("？", "?")) or sentence.rstrip("。，,").endswith(("吗", "呢"))


def classify_prompt(text: str, first: bool = False) -> Stage:
    """Sort a robot prompt into a `Stage` by keywords; `first` marks the call's first prompt."""
    if not text.strip():
        return Stage.INFO
    sentences = _sentences(text)
    if "再见" in text or "请稍等" in text or ("转接" in text and not _is_question(sentences[-1])):
        return Stage.GOODBYE
    questions = [s for s in sentences if _is_question(s)] or [s for s in sentences if "按" in s]
    if not questions:
        return Stage.INFO
    question = questions[-1]
    if "本人" in question or re.search(r"请问(您|你)是.{1,8}吗", question):
        return Stage.IDENTITY
    if first or "方便" in question or "听到" in question or "耽误您" in question or "介绍一下" in question:
        return Stage.OPENING
    if "确认" in question or "对吗" in question or "没问题吧" in question:
        return Stage.CONFIRM
    if "还是" in question and len(_OPTION.findall(question)) >= 2:
        return Stage.CHOICE
    clause = re.split(r"[，,]", question.rstrip("？?。"))[-1]
    if re.search(r"周[一二三四五六日末]|[上下]午|晚上|几点|什么时候|哪天|时间", clause):
        return Stage.TIME
    if text.startswith(("理解", "没关系", "其实")) or "再考虑一下" in question:
        return Stage.RETAIN
    return Stage.OFFER


def _persona_line(line: str, options: Sequence[str], keys: Sequence[str]) -> Heard:
    """A persona's line as heard: "{option}" filled with an option the robot offered; a key to press
    when the prompt offered none is a silence (a call must not fail on a persona's line)."""
    if "{option}" in line:
        line = line.replace("{option}", options[0] if options else "第一个")
    try:
        return parse_reply(line, keys).heard
    except ReplyInvalid:
        return Silence()


@dataclass(frozen=True, slots=True)
class Interjection:
    """The customer acts while the robot is still talking: after `at_fraction` of the prompt, says
    `heard` over it (a `Speech`, a barge-in) or hangs up (a `Hangup`)."""

    at_fraction: float
    heard: Heard


class SimCustomer(Protocol):
    """A simulated person on an answered call. The gateway calls `hear` for every prompt played,
    `during` while it plays, and `reply` when the robot listens."""

    @property
    def label(self) -> str:
        """The persona's name, or "scripted"."""
        ...

    def hear(self, prompt: Prompt) -> None: ...

    def during(self, prompt: Prompt) -> Interjection | None: ...

    def reply(self) -> Heard: ...

    def think_seconds(self) -> float:
        """How long the customer takes before answering."""
        ...


# --------------------------------------------------------------------------- personas

Lines = tuple[tuple[str, ...], ...]  # per visit of a stage (the last repeats): the variants


def _lines(*visits: str | tuple[str, ...]) -> Lines:
    return tuple((v,) if isinstance(v, str) else v for v in visits)


@dataclass(frozen=True, slots=True)
class Persona:
    """A kind of customer: how often it occurs, what it says per stage, how it behaves on the line.

    `barge` is the chance of speaking over an interruptible prompt, `drop` the chance of hanging up
    during the first prompt; `patience` is how many replies it gives before hanging up.
    """

    name: str
    weight: float
    says: Mapping[Stage, Lines]
    barge: float = 0.0
    drop: float = 0.0
    patience: int = 8
    think: tuple[float, float] = (0.6, 1.6)
    fillers: float = 0.2


_GENERIC: Mapping[Stage, Lines] = {
    Stage.OPENING: _lines(("嗯你说", "你说吧", "什么事啊")),
    Stage.IDENTITY: _lines(("是我", "对是我", "嗯是的", "我是")),
    Stage.OFFER: _lines(("我考虑一下吧", "嗯")),
    Stage.CHOICE: _lines(("{option}吧",)),
    Stage.TIME: _lines(("可以", "行", "可以的", "那天可能没空", "我看看再说吧")),
    Stage.CONFIRM: _lines(("对", "嗯对的")),
    Stage.RETAIN: _lines(("不用了",)),
    Stage.INFO: _lines(("哦", "嗯好的", "哦这样啊")),
    Stage.GOODBYE: _lines(("/hangup", "好的再见", "嗯拜拜")),
}

PERSONAS: tuple[Persona, ...] = (
    Persona("interested", 0.11, {
        Stage.OPENING: _lines(("嗯你说", "可以你说吧", "好的你讲", "方便你说吧", "嗯嗯可以")),
        Stage.OFFER: _lines(("可以啊那就办吧", "行帮我办一下吧", "好的可以", "/dtmf first", "那你发个短信给我吧我看看",
                             "具体怎么办理啊"), ("可以的那就办吧", "行")),
        Stage.CHOICE: _lines(("{option}吧", "那就{option}吧", "嗯{option}", "/dtmf first")),
        Stage.TIME: _lines(("可以", "行那就这个时间吧", "可以的没问题")),
        Stage.CONFIRM: _lines(("对", "确认", "嗯对的", "没问题", "/dtmf first")),
        Stage.RETAIN: _lines(("那行吧办一下", "好吧那就试试")),
    }, barge=0.12),
    Persona("hesitant", 0.16, {
        Stage.OPENING: _lines(("嗯你说吧", "啊你说", "嗯")),
        Stage.OFFER: _lines(("我考虑一下吧", "我再想想吧", "这个我得跟家里商量一下", "回头再说吧",
                             "你发个短信给我我看看吧"), ("嗯我再考虑考虑",)),
        Stage.RETAIN: _lines(("那我再考虑考虑吧", "你发个短信给我吧", "我想想吧")),
        Stage.TIME: _lines(("我得看看时间到时候再说吧", "这个我不确定再说吧")),
        Stage.CHOICE: _lines(("我还没想好呢", "我再考虑一下吧")),
        Stage.CONFIRM: _lines(("嗯", "那我再想想吧")),
    }, think=(1.0, 2.5), patience=6),
    Persona("busy", 0.11, {
        Stage.OPENING: _lines(("我现在在忙晚点再说吧", "在开会呢不方便", "我在开车呢回头再打吧", "现在没空你晚点打过来",
                               "在上班呢没时间")),
        Stage.IDENTITY: _lines(("是我在忙呢有事快说", "是我现在不太方便")),
        Stage.OFFER: _lines(("我真的在忙", "没空没空晚点再说")),
        Stage.RETAIN: _lines(("我在忙呢以后再说",)),
    }, barge=0.25, patience=2, think=(0.3, 0.9)),
    Persona("refuses", 0.14, {
        Stage.OPENING: _lines(("不需要", "不用了谢谢", "不需要谢谢啊", "没兴趣", "不用了")),
        Stage.OFFER: _lines(("不需要", "不用了", "/dtmf last")),
        Stage.RETAIN: _lines(("真的不需要不用了", "不用了谢谢", "说了不需要了")),
        Stage.CHOICE: _lines(("我没说要办啊不需要",)),
        Stage.TIME: _lines(("没时间不去了",)),
        Stage.CONFIRM: _lines(("不用了",)),
    }, barge=0.15, patience=4),
    Persona("asks_price", 0.10, {
        Stage.OPENING: _lines(("你说吧", "嗯说吧", "好你说")),
        Stage.OFFER: _lines(("多少钱啊", "手续费怎么算的", "这个要收费吗", "价格多少"),
                            ("那还行办吧", "有点贵啊我考虑一下", "太贵了不要了", "那你发个短信给我看看",
                             "我再考虑考虑吧", "算了不用了")),
        Stage.RETAIN: _lines(("那多少钱", "还是算了吧"), ("算了不用了",)),
        Stage.TIME: _lines(("要钱吗", "可以")),
    }, barge=0.05),
    Persona("complains", 0.05, {
        Stage.OPENING: _lines(("你们怎么天天打电话啊烦不烦", "再打我就投诉你们了", "又是你们我都说了别打了我要投诉",
                               "烦死了别再给我打了")),
        Stage.IDENTITY: _lines(("是我干嘛又打电话你们烦不烦啊", "是我你们天天打我要投诉")),
        Stage.OFFER: _lines(("你们烦不烦啊天天打", "我要投诉你们")),
    }, barge=0.3, patience=3, think=(0.3, 0.8)),
    Persona("silent", 0.06, {stage: _lines("") for stage in Stage}, patience=20, fillers=0.0),
    Persona("wrong_person", 0.04, {
        Stage.OPENING: _lines(("你打错了吧", "我不是他你打错了", "打错了这不是他的电话", "你找谁啊这里没这个人")),
        Stage.IDENTITY: _lines(("不是你打错了", "我不是他你打错了吧", "不是我")),
        Stage.OFFER: _lines(("你打错了",)),
    }, patience=2),
    Persona("asks_identity", 0.07, {
        Stage.OPENING: _lines(("你是谁啊", "你哪里啊", "你是哪个公司的", "你是机器人吗", "你这号码哪来的"),
                              ("哦那你说吧", "嗯你说", "什么事你说")),
        Stage.IDENTITY: _lines(("你是谁啊", "你哪位"), ("嗯是我",)),
        Stage.OFFER: _lines(("我考虑一下吧", "可以办吧", "不需要", "多少钱啊", "我再想想")),
        Stage.RETAIN: _lines(("那我再想想", "不用了")),
    }),
    Persona("talkative", 0.06, {
        Stage.OPENING: _lines(("喂你好你好你说你说我听着呢", "哎对对你说吧我正好有空", "啊是是是你说吧我听着")),
        Stage.OFFER: _lines(("那个我问一下啊这个具体是怎么弄的要怎么办啊",
                             "嗯这个我之前也听说过就是不太清楚具体怎么操作你再详细说说"),
                            ("那行吧那就办一个吧反正也不麻烦", "好吧我再想想回头再说吧", "你发个短信给我吧我回头看看",
                             "我再跟家里人商量商量吧")),
        Stage.CHOICE: _lines(("那个我想想啊那就{option}吧", "{option}吧{option}比较合适")),
        Stage.TIME: _lines(("可以可以那天我正好有空", "行那就那个时间吧")),
        Stage.CONFIRM: _lines(("对对对没问题", "是的确认")),
        Stage.RETAIN: _lines(("那好吧那我就试一下", "嗯我再考虑考虑吧")),
        Stage.INFO: _lines(("哦哦这样啊那还挺好的", "嗯嗯明白明白")),
    }, barge=0.35, patience=10, think=(0.3, 0.8), fillers=0.4),
    Persona("hangs_up_early", 0.06, {
        Stage.OPENING: _lines(("/hangup", "/hangup", "喂"), ("/hangup",)),
        Stage.IDENTITY: _lines(("/hangup", "喂")),
    }, drop=0.5, patience=1),
    Persona("already_have", 0.04, {
        Stage.OPENING: _lines(("我已经办过了", "已经有了不用了", "我已经在别家办了", "不用了我已经有了")),
        Stage.OFFER: _lines(("我已经办过了", "已经有了")),
        Stage.IDENTITY: _lines(("是我",)),
    }),
)  # fmt: skip

_BY_NAME = {p.name: p for p in PERSONAS}
_FILLERS = ("嗯", "呃", "那个", "啊", "哦")


def persona_for(phone: str) -> Persona:
    """The persona of a phone number: stable across runs and processes, spread by the persona weights."""
    point = unit("persona", phone) * sum(p.weight for p in PERSONAS)
    for persona in PERSONAS:
        point -= persona.weight
        if point < 0:
            return persona
    return PERSONAS[-1]


@dataclass
class PersonaCustomer:
    """A customer replying in character. `key` (seed, phone, attempt) makes every draw reproducible."""

    persona: Persona
    key: tuple[object, ...]
    turn: int = 0
    prompts: int = 0
    visits: dict[Stage, int] = field(default_factory=dict)
    _pending: list[Prompt] = field(default_factory=list)
    _held: Heard | None = None
    _said: int = 0

    @property
    def label(self) -> str:
        return self.persona.name

    def _rng(self, *purpose: object) -> Random:
        return rng(*self.key, self.prompts, self.turn, *purpose)

    def hear(self, prompt: Prompt) -> None:
        self.prompts += 1
        self._pending.append(prompt)

    def during(self, prompt: Prompt) -> Interjection | None:
        draw = self._rng("during")
        if self.prompts == 1 and draw.random() < self.persona.drop:
            return Interjection(draw.uniform(0.2, 0.7), Hangup())
        if not prompt.interruptible or len(prompt.text) < 20 or draw.random() >= self.persona.barge:
            return None
        heard = self.reply()
        if not isinstance(heard, Speech):
            self._held = heard  # a silence, a key or a hang-up is no barge-in: it waits for the listen
            return None
        return Interjection(draw.uniform(0.3, 0.8), heard)

    def reply(self) -> Heard:
        if self._held is not None:
            held, self._held = self._held, None
            return held
        draw = self._rng("reply")
        prompts, self._pending = self._pending, []
        if self._said >= self.persona.patience:
            return Hangup()
        text = " ".join(p.text for p in prompts)
        stage = classify_prompt(prompts[-1].text if prompts else "", first=self.turn == 0)
        if stage is Stage.INFO and len(prompts) > 1:
            stage = classify_prompt(text, first=self.turn == 0)
        self.turn += 1
        visit = self.visits.get(stage, 0)
        self.visits[stage] = visit + 1
        if stage is not Stage.GOODBYE and self.persona.name != "silent" and draw.random() < 0.03:
            heard: Heard = Speech(draw.choice(("喂你说什么", "没听清你再说一遍", "啊什么")))
        else:
            lines = self.persona.says.get(stage) or _GENERIC[stage]
            variants = lines[min(visit, len(lines) - 1)]
            options = _OPTION.findall(prompts[-1].text) if prompts else []
            option = [draw.choice(options)] if options else []
            keys = _KEY.findall(text)
            heard = _persona_line(draw.choice(variants), option, keys)
            if isinstance(heard, Dtmf) and not keys:
                heard = _persona_line(variants[0], option, keys) if not variants[0].startswith("/") else Silence()
        if isinstance(heard, Speech):
            self._said += 1
            if draw.random() < self.persona.fillers and not heard.text.startswith(_FILLERS):
                heard = Speech(draw.choice(_FILLERS) + heard.text)
        elif isinstance(heard, Dtmf):
            self._said += 1
        return heard

    def think_seconds(self) -> float:
        low, high = self.persona.think
        return round(self._rng("think").uniform(low, high), 2)


@dataclass
class ScriptedCustomer:
    """A customer who says exactly `replies` (the `sim_replies` language), then hangs up."""

    replies: list[Reply]
    key: tuple[object, ...] = ()
    _next: int = 0

    @property
    def label(self) -> str:
        return "scripted"

    @classmethod
    def parse(cls, text: str, key: tuple[object, ...] = ()) -> ScriptedCustomer:
        """The customer of a `sim_replies` value; `ReplyInvalid` names a bad element."""
        return cls(parse_replies(text.split("|"), where="sim_replies element"), key)

    def hear(self, prompt: Prompt) -> None:
        return None

    def during(self, prompt: Prompt) -> Interjection | None:
        if self._next < len(self.replies) and self.replies[self._next].barge:
            if not prompt.interruptible:
                return None  # said over a prompt that does not stop: heard at the next listen
            heard = self.replies[self._next].heard
            self._next += 1
            return Interjection(0.5, heard)
        return None

    def reply(self) -> Heard:
        if self._next >= len(self.replies):
            return Hangup()
        reply = self.replies[self._next]
        self._next += 1
        if reply.barge and reply.heard == Speech(""):
            return Silence()  # nothing recognisable was said over the prompt, and nothing after it
        return reply.heard

    def think_seconds(self) -> float:
        return 1.0


def customer_for(phone: str, properties: Mapping[str, str], *, seed: int | str = 0, attempt: int = 1) -> SimCustomer:
    """The simulated customer behind `phone`: scripted by `sim_replies`, else a persona (`sim_persona`
    when it names one, else the number's own)."""
    key: tuple[object, ...] = (seed, phone, attempt)
    scripted = properties.get("sim_replies")
    if scripted is not None:
        return ScriptedCustomer.parse(scripted, key)
    persona = _BY_NAME.get(str(properties.get("sim_persona", "")).strip()) or persona_for(phone)
    return PersonaCustomer(persona, key)
