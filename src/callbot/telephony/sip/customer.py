"""Our own SIP customer (模拟客户话机): a small UAS on loopback that takes callbot's calls as the simulated
customers would, over real SIP and RTP, so a whole campaign runs over SIP without a trunk.

Point a SIP line at it (`phone.line_settings()`); for each INVITE it looks the called number up in its
`directory` (number → the customer's properties; unknown numbers are 404) and lets the sim carrier
decide the dial result from them (`sim_result` forces one, else the carrier's seeded draw). It rings
(180) for the carrier's ring time (scaled by `ring_scale`), then answers (200 and RTP), or refuses with
the SIP response of that result, or, for NO_ANSWER, rings until callbot gives up with CANCEL:

    ANSWERED 200 · BUSY 486 · VACANT_NUMBER 404 · REFUSED 603 · NO_ANSWER rings on · POWER_OFF and
    OUT_OF_SERVICE 480 (a real carrier plays an announcement as early media; callbot reads 480 as
    NO_ANSWER until it recognises announcements) · FROM_PHONE_ERROR 403 · CAN_NOT_CONNECT 503

Once answered, the call's audio is handed to a `CustomerVoice` with the simulated customer (a persona,
or the scripted `sim_replies`). The default `ToneVoice` waits for the robot's turn to end (its audio
falls quiet, or a few seconds pass when the robot's prompts are silent) and then answers each reply
turn: a short tone for something said, RFC 4733 key presses for a `/dtmf` line, nothing for a silence,
and a hang-up (BYE) for `/hangup` or when the replies run out. A speaking voice plugs in the same way:
`voice=callbot.speech.talking_customer.talking_voice(tts, vad)` says the replies with TTS audio.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from callbot.media.clock import MediaClock
from callbot.media.stream import RtpStream
from callbot.telephony.gateway import DialRequest, DialStatus, Dtmf, Hangup, Prompt, Speech
from callbot.telephony.sim.carrier import SimCarrier
from callbot.telephony.sim.customer import SimCustomer, customer_for
from callbot.telephony.sip.dialog import CallEvent, Cancelled, Ended
from callbot.telephony.sip.message import SipMessage
from callbot.telephony.sip.sdp import NoCommonCodec, SessionDescription, answer_offer
from callbot.telephony.sip.transport import SipEndpoint
from callbot.telephony.sip.uas import UasCall, UasSettings

__all__ = ["RESPONSES", "CustomerVoice", "SipCustomerPhone", "ToneVoice"]

log = logging.getLogger(__name__)
Directory = Callable[[str], Mapping[str, str] | None]

# The SIP response a customer's dial result comes back as (NO_ANSWER: no final response, it rings on).
RESPONSES: dict[DialStatus, tuple[int, str]] = {
    DialStatus.BUSY: (486, "Busy Here"),
    DialStatus.VACANT_NUMBER: (404, "Not Found"),
    DialStatus.REFUSED: (603, "Decline"),
    DialStatus.POWER_OFF: (480, "Temporarily Unavailable"),
    DialStatus.OUT_OF_SERVICE: (480, "Temporarily Unavailable"),
    DialStatus.FROM_PHONE_ERROR: (403, "Forbidden"),
    DialStatus.CAN_NOT_CONNECT: (503, "Service Unavailable"),
    DialStatus.SYSTEM_ERROR: (500, "Server Internal Error"),
}


class CustomerVoice(Protocol):
    """What the customer does on an answered call: hear the robot on `stream`, answer as `customer`
    says; returning hangs up (unless the robot hung up first, which closes the stream)."""

    async def converse(self, stream: RtpStream, customer: SimCustomer) -> None: ...


@dataclass
class ToneVoice:
    """Answers each reply turn with a tone (speech), key presses (/dtmf) or nothing (a silence).

    A turn ends when the robot's audio has fallen quiet for `quiet_s` after being loud, or, when the
    robot sends no audible prompt at all, `turn_s` after the customer's last action.
    """

    quiet_s: float = 0.7
    turn_s: float = 3.0
    tone_hz: float = 330.0
    turns: int = field(default=0, init=False)

    async def converse(self, stream: RtpStream, customer: SimCustomer) -> None:
        loop = asyncio.get_running_loop()
        while not stream.closed:
            await self._robot_turn(stream, loop)
            if stream.closed:
                return
            customer.hear(Prompt(""))  # what the robot said is not known here: a neutral prompt
            await asyncio.sleep(min(customer.think_seconds(), 2.0))
            heard = customer.reply()
            self.turns += 1
            if isinstance(heard, Hangup):
                return
            if isinstance(heard, Dtmf):
                for digit in heard.digit:
                    stream.send_dtmf(digit)
            elif isinstance(heard, Speech):
                seconds = min(3.0, 0.4 + 0.15 * len(heard.text))
                t = np.arange(round(seconds * 8000)) / 8000
                stream.play_pcm((6000 * np.sin(2 * np.pi * self.tone_hz * t)).astype(np.int16))
                await stream.wait_played()

    async def _robot_turn(self, stream: RtpStream, loop: asyncio.AbstractEventLoop) -> None:
        """Until the robot's turn is over (see the class docstring)."""
        started = last_loud = loop.time()
        spoke = False
        stream.received.clear()
        while not stream.closed:
            await asyncio.sleep(0.1)
            now = loop.time()
            while stream.received:
                frame = stream.received.popleft()
                if int(np.abs(frame.pcm.astype(np.int32)).mean()) > 300:
                    spoke, last_loud = True, now
            if spoke and now - last_loud >= self.quiet_s:
                return
            if not spoke and now - started >= self.turn_s:
                return


class SipCustomerPhone:
    """The simulated customers' phones, on one SIP socket (see the module docstring)."""

    def __init__(
        self,
        directory: Directory,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        voice: Callable[[], CustomerVoice] = ToneVoice,
        seed: int | str = 0,
        ring_scale: float = 1.0,
        max_ring_s: float = 120.0,
    ) -> None:
        self.directory = directory
        self.host, self.port = host, port
        self.voice = voice
        self.carrier = SimCarrier(seed)
        self.seed = seed
        self.ring_scale = ring_scale
        self.max_ring_s = max_ring_s
        self.clock = MediaClock()
        self.endpoint = SipEndpoint(user_agent="callbot-customer")
        self.endpoint.on_invite = self._on_invite
        self.results: dict[str, int] = {}  # final response code (or "cancelled" as 487) by number
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await self.endpoint.start(self.host, self.port)

    @property
    def local_address(self) -> tuple[str, int]:
        return self.endpoint.local_address

    def line_settings(self) -> dict[str, dict[str, object]]:
        """The settings of a SIP line whose calls go to these phones."""
        host, port = self.local_address
        return {"sip": {"host": host, "port": port}}

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self.endpoint.close()
        await self.clock.close()

    def _on_invite(self, invite: SipMessage, source: tuple[str, int]) -> None:
        call = UasCall(invite, UasSettings(call_id=invite.call_id, local=self.local_address, source=source))
        ended = asyncio.Event()

        def on_event(event: CallEvent) -> None:
            if isinstance(event, Cancelled | Ended):
                ended.set()

        self.endpoint.add(call, on_event)
        task = asyncio.get_running_loop().create_task(self._take(call, ended), name=f"customer:{call.callee}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    async def _take(self, call: UasCall, ended: asyncio.Event) -> None:
        number = call.callee
        properties = self.directory(number)
        if properties is None:
            self._finish(call, number, 404, "Not Found")
            return
        request = DialRequest(call.call_id, call.caller, number, properties=properties, ring_timeout_s=3600.0)
        decision = self.carrier.decide(request)
        self.endpoint.act(call, call.ring(self._now()))
        ring = decision.ring_seconds * self.ring_scale
        if decision.status is DialStatus.NO_ANSWER:
            ring = self.max_ring_s  # rings until callbot's ring timeout sends CANCEL
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ended.wait(), ring)
        if ended.is_set():
            self.results[number] = 487
            return
        if decision.status is not DialStatus.ANSWERED:
            code, reason = RESPONSES.get(decision.status, (480, "Temporarily Unavailable"))
            self._finish(call, number, code, reason)
            return
        await self._talk(call, ended, number, properties)

    def _finish(self, call: UasCall, number: str, code: int, reason: str) -> None:
        self.results[number] = code
        self.endpoint.act(call, call.reject(self._now(), code, reason))

    async def _talk(self, call: UasCall, ended: asyncio.Event, number: str, properties: Mapping[str, str]) -> None:
        stream = await RtpStream.open(self.clock, self.host, 0)
        try:
            offer = SessionDescription.parse(call.offer)
            answer, media = answer_offer(offer, self.host, stream.local_address[1], session_id=secrets.randbits(31))
        except (NoCommonCodec, ValueError) as exc:
            stream.close()
            log.info("customer %s: %s", number, exc)
            self._finish(call, number, 488, "Not Acceptable Here")
            return
        stream.set_media(media.remote, media.codec, media.payload_type, media.dtmf_payload_type)
        self.endpoint.act(call, call.answer(self._now(), answer.to_bytes()))
        self.results[number] = 200
        stream.answered = True
        stream.start_sending()
        customer = customer_for(number, properties, seed=self.seed)
        talking = asyncio.ensure_future(self.voice().converse(stream, customer))
        hung_up = asyncio.ensure_future(ended.wait())
        try:
            await asyncio.wait({talking, hung_up}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            talking.cancel()
            hung_up.cancel()
            if not ended.is_set():  # the customer hangs up
                self.endpoint.act(call, call.hangup(self._now()))
            stream.close()
