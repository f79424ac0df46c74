"""A call goes on only while its worker still holds the attempt: `place_call` asks before dialling, before
every prompt and before every listen, and once the answer is no it hangs up without a further word."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from callbot.callflow.session import INTERRUPTED, place_call
from callbot.dialogue.engine import DialogueEngine
from callbot.dialogue.nlu import build_recognizer
from callbot.dialogue.script import load_script_file
from callbot.kit.clock import FrozenClock
from callbot.telephony.gateway import DialRequest
from callbot.telephony.sim import SimGateway

# The suite's frozen start: 10:00 in Shanghai, inside default calling hours.
T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "scripts" / "credit_card_instalment.yaml"
VARIABLES = {"name": "王先生", "bank": "招商银行", "amount": "3200"}


def request(call_id: str) -> DialRequest:
    return DialRequest(
        call_id=call_id,
        caller="057188880001",
        callee="13900004001",
        attempt=1,
        properties={"sim_result": "ANSWERED", "sim_replies": "嗯你说|多少钱|利息怎么算|我再想想|好的"},
    )


class Countdown:
    """Says yes `n` times, then no."""

    def __init__(self, n: int) -> None:
        self.left = n
        self.asked = 0

    def __call__(self) -> bool:
        self.asked += 1
        self.left -= 1
        return self.left >= 0


async def test_a_call_stops_at_the_first_step_it_no_longer_holds() -> None:
    script = load_script_file(str(SCRIPT))
    engine = DialogueEngine(script, build_recognizer(script.intents))
    gateway = SimGateway(clock=FrozenClock(T0), speed=0.0, seed=3)
    whole = await place_call(gateway, request("whole"), engine, script, VARIABLES)
    assert whole.end_reason != INTERRUPTED and whole.rounds >= 3

    for allowed in (2, 4):
        held = Countdown(allowed)
        cut = await place_call(gateway, request(f"cut-{allowed}"), engine, script, VARIABLES, held=held)
        assert (cut.result, cut.end_reason, cut.hangup_by) == ("ANSWERED", INTERRUPTED, "ROBOT")
        assert held.asked == allowed + 1  # asked once more, told no, and nothing after that
        assert len(cut.transcript) < len(whole.transcript)
        assert cut.transcript == whole.transcript[: len(cut.transcript)]
    assert gateway.open_legs == 0  # every cut call was hung up


async def test_a_call_no_longer_held_is_not_even_dialled() -> None:
    script = load_script_file(str(SCRIPT))
    engine = DialogueEngine(script, build_recognizer(script.intents))
    gateway = SimGateway(clock=FrozenClock(T0), speed=0.0, seed=3)
    outcome = await place_call(gateway, request("never"), engine, script, VARIABLES, held=lambda: False)
    assert (outcome.result, outcome.end_reason, outcome.chat_seconds) == ("SYSTEM_ERROR", INTERRUPTED, 0.0)
