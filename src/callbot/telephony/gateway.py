"""The telephony gateway interface (电话网关): dial a number from a line, then talk on the answered leg.

A gateway (the simulated carrier, later SIP) places a call for a `DialRequest` and returns a
`DialOutcome`: a dial result (`DialStatus`, the 10 通话结果 names) after the ringing, and a `CallLeg`
only when the callee answered. The leg is how a call session speaks and listens: `play` a prompt
(text, or a recording whose transcript the text is), `listen` for what the customer does next,
`transfer` or `hangup`. The sim gateway passes text; a SIP gateway runs TTS, VAD and ASR behind the
same methods, so the session never knows which one it drives.

Engine-layer code: no store, no settings, no dialogue imports. Every wait goes through an injected
`Sleeper` (a `callbot.kit.clock.Clock` fits), and times reported here (`ring_seconds`,
`CallLeg.elapsed_s`) are *call* time, which a sim speed factor does not shrink.

The loop that drives a leg (play the engine's prompts, listen, step the engine, hang up) is written
once, in `callbot.callflow.session.CallSession`; the dialer, `callbot chat` and the tests all run it.

Rules a gateway keeps: `dial` never raises for a telephone outcome (busy, vacant number, a bad
`sim_result` or `sim_replies`, a broken trunk are all statuses with a `reason`); only a programming error raises.
`hangup` is idempotent. A `listen` that times out is a `Silence`. After the customer hangs up,
every `listen` returns `Hangup` and every `play` returns status "hangup" at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol, TypeAlias, runtime_checkable

from callbot.errors import NotFound

__all__ = [
    "CallLeg",
    "DialOutcome",
    "DialRequest",
    "DialStatus",
    "Dtmf",
    "Gateway",
    "GatewayRegistry",
    "Hangup",
    "Heard",
    "PlayOutcome",
    "Prompt",
    "Silence",
    "Sleeper",
    "Speech",
    "UnknownGateway",
    "scaled_sleep",
]


class DialStatus(StrEnum):
    """通话结果 as a gateway reports it: the same names as `models.enums.CallResult`."""

    ANSWERED = "ANSWERED"  # 已接听
    NO_ANSWER = "NO_ANSWER"  # 无人接听
    BUSY = "BUSY"  # 占线/忙
    POWER_OFF = "POWER_OFF"  # 关机
    OUT_OF_SERVICE = "OUT_OF_SERVICE"  # 停机
    REFUSED = "REFUSED"  # 拒接
    VACANT_NUMBER = "VACANT_NUMBER"  # 空号
    CAN_NOT_CONNECT = "CAN_NOT_CONNECT"  # 无法接通
    FROM_PHONE_ERROR = "FROM_PHONE_ERROR"  # 主叫号码异常
    SYSTEM_ERROR = "SYSTEM_ERROR"  # 系统错误


class Sleeper(Protocol):
    """Anything that can wait: `callbot.kit.clock.Clock` (SystemClock, FrozenClock) fits."""

    async def sleep(self, seconds: float) -> None: ...


async def scaled_sleep(sleeper: Sleeper, seconds: float, speed: float) -> None:
    """Wait `seconds` of call time at `speed` (1 real time, 10 ten times faster, 0 no waiting at all).

    At speed 0 the sleeper is not called, but the event loop still gets a turn, so thousands of
    simulated calls interleave instead of one starving the rest.
    """
    if speed < 0:
        raise ValueError(f"speed must be >= 0, got {speed}")
    if speed == 0 or seconds <= 0:
        await asyncio.sleep(0)
        return
    await sleeper.sleep(seconds / speed)


# --------------------------------------------------------------------------- dialling


@dataclass(frozen=True, slots=True)
class DialRequest:
    """One dial attempt.

    `caller` is the line's number (主叫), `callee` the customer's (被叫); `attempt` counts from 1 per
    customer and task, so a redial can get another result. `properties` are the customer's own
    properties (the sim reads `sim_result`, `sim_replies`, `sim_persona`); `line_settings` is the line's
    gateway-specific settings dict (the sim reads its `"sim"` key). The gateway gives up ringing after
    `ring_timeout_s` (NO_ANSWER).
    """

    call_id: str
    caller: str
    callee: str
    attempt: int = 1
    properties: Mapping[str, str] = field(default_factory=dict)
    line_settings: Mapping[str, Any] = field(default_factory=dict)
    ring_timeout_s: float = 50.0
    #: tell carrier announcements, voicemail and call-screening assistants from a person (gateways with
    #: speech engines): heard in early media or just after the answer, they become the dial result
    screen_announcements: bool = True


@dataclass(frozen=True, slots=True)
class DialOutcome:
    """The result of a dial: a status after `ring_seconds` of call time; `leg` only when ANSWERED.

    `reason` explains a status a user may not expect (a forced result, a misconfiguration, a trunk error).
    """

    status: DialStatus
    ring_seconds: float
    leg: CallLeg | None = None
    reason: str = ""

    @property
    def answered(self) -> bool:
        return self.leg is not None


# --------------------------------------------------------------------------- talking


@dataclass(frozen=True, slots=True)
class Prompt:
    """What the robot says: `text`, or the recording `audio` whose transcript `text` is.

    An `interruptible` prompt stops when the customer speaks over it (barge-in, 插话).
    """

    text: str
    audio: str | None = None
    interruptible: bool = True


@dataclass(frozen=True, slots=True)
class PlayOutcome:
    """How a prompt ended: `completed`; `interrupted` by the customer, who said `heard_text`
    (may be empty: speech was detected but not recognised); or `hangup` (the customer hung up)."""

    status: Literal["completed", "interrupted", "hangup"]
    played_seconds: float
    heard_text: str = ""


@dataclass(frozen=True, slots=True)
class Speech:
    """The customer said `text` (ASR text; the sim's has no punctuation).

    From real audio also: the ASR's `confidence` (0..1); `start_ms`/`end_ms` of the speech and each
    word's (text, start_ms, end_ms) in `words`, on the leg's offset clock (they agree with a recording);
    `capped` when the turn was cut at the utterance length cap.
    """

    text: str
    confidence: float | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    words: tuple[tuple[str, int, int], ...] = ()
    capped: bool = False


@dataclass(frozen=True, slots=True)
class Silence:
    """Nothing was said before the listen timed out."""


@dataclass(frozen=True, slots=True)
class Dtmf:
    """The customer pressed `digit` (0-9, *, #)."""

    digit: str


@dataclass(frozen=True, slots=True)
class Hangup:
    """The customer hung up."""


Heard: TypeAlias = Speech | Silence | Dtmf | Hangup


@runtime_checkable
class CallLeg(Protocol):
    """An answered call, as the robot's side sees it. One call session owns it; methods are not
    meant to be called concurrently."""

    @property
    def call_id(self) -> str: ...

    @property
    def closed(self) -> bool:
        """True once either side hung up or the call was transferred."""
        ...

    @property
    def ended_by(self) -> Literal["robot", "customer", "transfer"] | None:
        """Who ended the call (None while it goes on)."""
        ...

    @property
    def elapsed_s(self) -> float:
        """Call time since the answer, in seconds (not shrunk by a sim speed factor): the talk time."""
        ...

    def offset_ms(self) -> int:
        """`elapsed_s` in whole milliseconds, for transcript offsets."""
        ...

    async def play(self, prompt: Prompt) -> PlayOutcome:
        """Say `prompt`; returns when it was played out, interrupted, or the customer hung up."""
        ...

    async def listen(self, timeout_s: float) -> Heard:
        """Wait for what the customer does next; no speech within `timeout_s` is a `Silence`."""
        ...

    async def transfer(self, target: str) -> bool:
        """Hand the call to `target` (a SIP URI or number). True: the robot is out of the call and
        the leg is closed; False: the transfer failed and the call goes on."""
        ...

    async def hangup(self) -> None:
        """End the call from the robot's side. Idempotent, never raises, never hangs."""
        ...


@runtime_checkable
class Gateway(Protocol):
    """Places calls. One instance serves every line that names it and every call at once."""

    @property
    def name(self) -> str:
        """The name lines use to pick this gateway ("sim", "sip")."""
        ...

    def check_line_settings(self, settings: Mapping[str, Any]) -> None:
        """Validate a line's settings for this gateway; raises `callbot.errors.ValidationFailed`
        naming each problem.

        For the line service to call when a line is created or changed, so mistakes surface there
        rather than as failed calls.
        """
        ...

    async def dial(self, request: DialRequest, on_ringing: Callable[[], None] | None = None) -> DialOutcome:
        """Dial and wait for the outcome (the ringing included). `on_ringing` is called once when the
        callee's phone starts ringing (for live status). Cancelling the coroutine abandons the call."""
        ...

    async def close(self) -> None:
        """Release the gateway's resources (sockets, tasks); open legs are hung up. Idempotent."""
        ...


# --------------------------------------------------------------------------- registry


class UnknownGateway(NotFound):
    """No gateway by that name."""


class GatewayRegistry:
    """The gateways of one process, by name. Lines carry a gateway name ("sim" by default)."""

    def __init__(self, *gateways: Gateway) -> None:
        self._gateways: dict[str, Gateway] = {}
        for gateway in gateways:
            self.register(gateway)

    def register(self, gateway: Gateway) -> None:
        if gateway.name in self._gateways:
            raise ValueError(f"a gateway named {gateway.name!r} is already registered")
        self._gateways[gateway.name] = gateway

    def get(self, name: str) -> Gateway:
        try:
            return self._gateways[name]
        except KeyError:
            known = ", ".join(sorted(self._gateways)) or "none"
            raise UnknownGateway(f"no gateway named {name!r} (known: {known})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._gateways

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._gateways))

    def check_line_settings(self, gateway: str, settings: Mapping[str, Any]) -> None:
        """Validate a line: its gateway exists and accepts its settings (`UnknownGateway`, `ValidationFailed`)."""
        self.get(gateway).check_line_settings(settings)

    async def close(self) -> None:
        for gateway in self._gateways.values():
            await gateway.close()
