"""The sim gateway ("sim"): the simulated carrier decides the dial result, a simulated customer talks.

No audio: prompts and replies are text. Time still passes as on a real call, and every wait goes
through the injected clock scaled by `speed` (`CALLBOT_SIM_SPEED`: 1 real time, 10 ten times faster,
0 no waiting): the robot speaks about 4.5 characters a second, the customer thinks a moment and
speaks about 4 a second, a silence lasts the whole listen timeout. `CallLeg.elapsed_s` counts the
unscaled call time, so records show realistic talk times whatever the speed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from callbot.telephony.gateway import (
    DialOutcome,
    DialRequest,
    DialStatus,
    Dtmf,
    Hangup,
    Heard,
    PlayOutcome,
    Prompt,
    Silence,
    Sleeper,
    Speech,
    scaled_sleep,
)
from callbot.telephony.reply import ReplyInvalid
from callbot.telephony.sim.carrier import SimCarrier
from callbot.telephony.sim.customer import SimCustomer, customer_for

__all__ = ["SimGateway", "SimLeg"]

# Results after which the callee's phone rang (the others are network announcements or errors).
_RINGS = frozenset({DialStatus.ANSWERED, DialStatus.NO_ANSWER, DialStatus.REFUSED})
_MIN_PROMPT_SECONDS = 0.5
_TRANSFER_SECONDS = 1.0


class SimGateway:
    """Simulated telephony for every line whose gateway is "sim".

    `clock` does the waiting (a `Clock`; a `FrozenClock` in tests, where waiting moves it), `speed`
    scales every wait, `seed` makes a campaign reproducible (it seeds the carrier unless one is given,
    and the customers' choices).
    """

    def __init__(
        self,
        *,
        clock: Sleeper,
        speed: float = 1.0,
        seed: int | str = 0,
        carrier: SimCarrier | None = None,
        robot_chars_per_second: float = 4.5,
        customer_chars_per_second: float = 4.0,
        name: str = "sim",
    ) -> None:
        if speed < 0:
            raise ValueError(f"sim speed must be >= 0, got {speed}")
        if robot_chars_per_second <= 0 or customer_chars_per_second <= 0:
            raise ValueError("speaking rates must be > 0 characters per second")
        self._name = name
        self.clock = clock
        self.speed = speed
        self.seed = seed
        self.carrier = carrier or SimCarrier(seed)
        self.robot_chars_per_second = robot_chars_per_second
        self.customer_chars_per_second = customer_chars_per_second
        self._legs: set[SimLeg] = set()

    @property
    def name(self) -> str:
        return self._name

    def check_line_settings(self, settings: Mapping[str, Any]) -> None:
        self.carrier.line_profile(settings)

    async def wait(self, seconds: float) -> None:
        await scaled_sleep(self.clock, seconds, self.speed)

    async def dial(self, request: DialRequest, on_ringing: Callable[[], None] | None = None) -> DialOutcome:
        decision = self.carrier.decide(request)
        if on_ringing is not None and decision.status in _RINGS:
            on_ringing()
        await self.wait(decision.ring_seconds)
        if decision.status is not DialStatus.ANSWERED:
            return DialOutcome(decision.status, decision.ring_seconds, None, decision.reason)
        try:
            customer = customer_for(request.callee, request.properties, seed=self.seed, attempt=request.attempt)
        except ReplyInvalid as exc:  # like a bad sim_result: shown in the call record, never raised
            return DialOutcome(DialStatus.SYSTEM_ERROR, decision.ring_seconds, None, str(exc))
        leg = SimLeg(self, request.call_id, customer)
        self._legs.add(leg)
        return DialOutcome(decision.status, decision.ring_seconds, leg, decision.reason)

    def _forget(self, leg: SimLeg) -> None:
        self._legs.discard(leg)

    @property
    def open_legs(self) -> int:
        return len(self._legs)

    async def close(self) -> None:
        for leg in list(self._legs):
            await leg.hangup()


class SimLeg:
    """An answered sim call: the robot's prompts reach the simulated customer, whose replies come back."""

    def __init__(self, gateway: SimGateway, call_id: str, customer: SimCustomer) -> None:
        self._gateway = gateway
        self._call_id = call_id
        self.customer = customer
        self._elapsed = 0.0
        self._ended_by: Literal["robot", "customer", "transfer"] | None = None
        self.transferred_to: str | None = None

    @property
    def call_id(self) -> str:
        return self._call_id

    @property
    def closed(self) -> bool:
        return self._ended_by is not None

    @property
    def ended_by(self) -> Literal["robot", "customer", "transfer"] | None:
        return self._ended_by

    @property
    def elapsed_s(self) -> float:
        return round(self._elapsed, 3)

    def offset_ms(self) -> int:
        return round(self._elapsed * 1000)

    async def _pass(self, seconds: float) -> None:
        self._elapsed += seconds
        await self._gateway.wait(seconds)

    def _end(self, by: Literal["robot", "customer", "transfer"]) -> None:
        if self._ended_by is None:
            self._ended_by = by
            self._gateway._forget(self)

    def _speaking_seconds(self, text: str) -> float:
        return len(text) / self._gateway.customer_chars_per_second

    async def play(self, prompt: Prompt) -> PlayOutcome:
        if self.closed:
            return PlayOutcome("hangup", 0.0)
        duration = max(_MIN_PROMPT_SECONDS, len(prompt.text) / self._gateway.robot_chars_per_second)
        self.customer.hear(prompt)
        interjection = self.customer.during(prompt)
        if interjection is None:
            await self._pass(duration)
            return PlayOutcome("completed", round(duration, 3))
        played = round(duration * interjection.at_fraction, 3)
        await self._pass(played)
        if isinstance(interjection.heard, Speech):
            await self._pass(self._speaking_seconds(interjection.heard.text))
            return PlayOutcome("interrupted", played, interjection.heard.text)
        self._end("customer")
        return PlayOutcome("hangup", played)

    async def listen(self, timeout_s: float) -> Heard:
        if self.closed:
            return Hangup()
        heard = self.customer.reply()
        if isinstance(heard, Silence):
            await self._pass(max(0.0, timeout_s))
            return heard
        think = min(self.customer.think_seconds(), max(0.0, timeout_s) * 0.9)
        if isinstance(heard, Speech):
            await self._pass(think + self._speaking_seconds(heard.text))
        else:
            await self._pass(think)
        if isinstance(heard, Hangup):
            self._end("customer")
        assert isinstance(heard, Speech | Dtmf | Hangup)
        return heard

    async def transfer(self, target: str) -> bool:
        if self.closed or not target.strip():
            return False
        await self._pass(_TRANSFER_SECONDS)
        if self.closed:
            return False
        self.transferred_to = target
        self._end("transfer")
        return True

    async def hangup(self) -> None:
        self._end("robot")
