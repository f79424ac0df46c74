"""Public types of intent recognition (意图识别) and the built-in intent library of docs/intents.md."""

from __future__ import annotations

from dataclasses import dataclass

# id -> Chinese name, exactly the table of docs/intents.md (order kept).
BUILTIN_INTENTS: dict[str, str] = {
    "affirm": "肯定",
    "deny": "否定",
    "reject": "拒绝",
    "busy": "在忙",
    "call_later": "稍后联系",
    "ask_price": "询问价格",
    "ask_identity": "询问身份",
    "ask_source": "号码来源",
    "is_robot": "是否机器人",
    "repeat": "没听清",
    "complaint": "投诉",
    "abuse": "辱骂",
    "already_have": "已经有了",
    "consider": "考虑一下",
    "send_info": "发送资料",
    "ask_detail": "询问详情",
    "ask_address": "询问地址",
    "wrong_person": "打错了",
    "goodbye": "结束",
    "ask_human": "转人工",
    "hold_on": "稍等",
    "unknown": "未识别",
}

UNKNOWN = "unknown"


@dataclass(frozen=True)
class IntentDefinition:
    """A script's own intent, or additions (keywords, examples) to a built-in one with the same id.

    Keywords are plain text or ``/regex/``; both are matched with pinyin tolerance, so a keyword
    still fires when ASR wrote a homophone.
    """

    id: str
    name: str | None = None
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recognition:
    """One recognised customer reply."""

    intent: str
    confidence: float
    evidence: str
