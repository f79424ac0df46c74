"""Stand-in for the agreed `callbot.dialogue.nlu` interface until that package lands. Remove then."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IntentDefinition:
    id: str
    name: str | None = None
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


BUILTIN_INTENTS: dict[str, str] = {
    "affirm": "肯定", "deny": "否定", "reject": "拒绝", "busy": "在忙", "call_later": "稍后联系",
    "ask_price": "询问价格", "ask_identity": "询问身份", "ask_source": "号码来源", "is_robot": "是否机器人",
    "repeat": "没听清", "complaint": "投诉", "abuse": "辱骂",
    "already_have": "已经有了", "consider": "考虑一下",
    "send_info": "发送资料", "ask_detail": "询问详情", "ask_address": "询问地址", "wrong_person": "打错了",
    "goodbye": "结束", "ask_human": "转人工", "hold_on": "稍等", "unknown": "未识别",
}  # fmt: skip
