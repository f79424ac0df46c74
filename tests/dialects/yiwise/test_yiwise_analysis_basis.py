"""§6: an unanswered call is graded F with its result's label as `analysisBasis` (the seed's 空号 example).
The label is written into the record when the call ends, so it is checked where it is made."""

from __future__ import annotations

import pytest

from callbot.callflow.session import unanswered

# §6, "Call result": every result but ANSWERED, with the spec's label.
LABELS = {
    "NO_ANSWER": "未接",
    "BUSY": "占线",
    "POWER_OFF": "关机",
    "OUT_OF_SERVICE": "被叫停机",
    "REFUSED": "拒接",
    "VACANT_NUMBER": "空号",
    "CAN_NOT_CONNECT": "无法接通",
    "FROM_PHONE_ERROR": "主叫号码不可用",
    "SYSTEM_ERROR": "外呼失败",
}


@pytest.mark.parametrize(("result", "label"), LABELS.items())
def test_an_unanswered_call_is_f_with_its_result_label(result: str, label: str) -> None:
    outcome = unanswered(result, 3.0)
    assert (outcome.level, outcome.reason) == ("F", label)
    # The carrier's detail, when it gives one, follows the label.
    assert unanswered(result, 3.0, "carrier said so").reason == f"{label}：carrier said so"
