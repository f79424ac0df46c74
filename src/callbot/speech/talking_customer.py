"""A customer that talks (会说话的模拟客户): a simulated customer's replies, said with TTS audio on an
RTP stream, so whole calls run over real SIP and real audio on one machine.

`TalkingCustomer.converse(stream, customer)` listens to the robot with a VAD and, each time the robot has
finished speaking (a turn ended by `end_silence_ms` of quiet), takes the customer's next reply
(`SimCustomer.reply()`): speech is synthesised and played, `/dtmf` becomes an RFC 4733 key press, a
silence says nothing (the robot's silence timeout runs), `/hangup` ends the conversation (the caller
then sends the BYE). A `/barge` reply is said `barge_after_s` into the robot's next prompt.

With an `asr`, the robot's turns are recognised and passed to `customer.hear`, so personas reply to
what was said; without one they hear an empty prompt (scripted `sim_replies` do not care).

Our SIP customer (`SipCustomerPhone`) takes a voice factory, one voice per answered call; `talking_voice`
makes one, so its calls are answered by talking customers:

    SipCustomerPhone(directory, voice=talking_voice(tts, WebRtcVad))
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from callbot.media.stream import RtpStream
from callbot.speech.base import AsrEngine, TtsEngine, VadEngine
from callbot.speech.voice import SpeechStarted, TurnSettings, TurnTaker, Utterance
from callbot.telephony.gateway import Dtmf, Hangup, Prompt, Speech
from callbot.telephony.sim.customer import SimCustomer

__all__ = ["TalkStats", "TalkingCustomer", "talking_voice"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class TalkStats:
    robot_turns: int = 0
    said: int = 0
    keys: int = 0
    barged: int = 0
    ended_by: str = ""  # "customer" (a /hangup or replies ran out), "robot" (the stream closed), "timeout"


class TalkingCustomer:
    """Implements the SIP customer's `CustomerVoice`: `await converse(stream, customer)`.

    `think_s` is the pause before a reply; `robot_quiet_s` how long the robot may stay silent before the
    customer gives up (the call is stuck: it returns, and the caller hangs up).
    """

    def __init__(
        self,
        tts: TtsEngine,
        vad: Callable[[], VadEngine],
        *,
        asr: AsrEngine | None = None,
        end_silence_ms: int = 800,
        think_s: float = 0.3,
        barge_after_s: float = 1.0,
        robot_quiet_s: float = 30.0,
    ) -> None:
        self.tts, self.vad, self.asr = tts, vad, asr
        self.settings = TurnSettings(end_silence_ms=end_silence_ms, max_utterance_ms=120_000)
        self.think_s, self.barge_after_s, self.robot_quiet_s = think_s, barge_after_s, robot_quiet_s
        self.stats = TalkStats()

    async def converse(self, stream: RtpStream, customer: SimCustomer) -> None:
        turns = TurnTaker(self.vad(), self.settings)
        events: asyncio.Queue[SpeechStarted | Utterance | None] = asyncio.Queue()

        async def hear() -> None:
            try:
                async for frame in stream.frames():
                    for event in turns.feed(frame.pcm.astype("<i2").tobytes(), frame.at, None):
                        if not isinstance(event, SpeechStarted | Utterance):
                            continue
                        events.put_nowait(event)
            finally:
                events.put_nowait(None)

        hearing = asyncio.ensure_future(hear())
        try:
            await self._talk(stream, customer, events)
        finally:
            hearing.cancel()

    async def _talk(
        self, stream: RtpStream, customer: SimCustomer, events: asyncio.Queue[SpeechStarted | Utterance | None]
    ) -> None:
        barge: asyncio.Task[None] | None = None
        while True:
            try:
                event = await asyncio.wait_for(events.get(), self.robot_quiet_s)
            except TimeoutError:
                self.stats.ended_by = "timeout"
                return
            if event is None:
                self.stats.ended_by = "robot"
                return
            if isinstance(event, SpeechStarted):
                interjection = customer.during(Prompt("", interruptible=True))
                if interjection is not None:
                    barge = asyncio.ensure_future(self._barge(stream, interjection.heard))
                continue
            # The robot finished a turn: hear it, then reply.
            self.stats.robot_turns += 1
            if self.asr is not None:
                text = (await self.asr.transcribe(event.pcm)).text
                customer.hear(Prompt(text))
            if barge is not None:
                await barge  # what was said over the prompt was this turn's reply
                barge = None
                continue
            await asyncio.sleep(self.think_s)
            heard = customer.reply()
            if isinstance(heard, Hangup):
                self.stats.ended_by = "customer"
                return
            await self._say(stream, heard)

    async def _say(self, stream: RtpStream, heard: object) -> None:
        if isinstance(heard, Speech) and heard.text.strip():
            stream.play_pcm(await self.tts.synthesize(heard.text))
            self.stats.said += 1
            await stream.wait_played()
        elif isinstance(heard, Dtmf):
            stream.send_dtmf(heard.digit)
            self.stats.keys += 1
        # a Silence: say nothing; the robot's silence timeout runs out and it speaks again

    async def _barge(self, stream: RtpStream, heard: object) -> None:
        await asyncio.sleep(self.barge_after_s)
        self.stats.barged += 1
        await self._say(stream, heard)


def talking_voice(
    tts: TtsEngine, vad: Callable[[], VadEngine], *, asr: AsrEngine | None = None, think_s: float = 0.3
) -> Callable[[], TalkingCustomer]:
    """A `CustomerVoice` factory for the SIP customer: a new talking customer per call (its stats are the
    call's), all sharing the one `tts` (and `asr`, when the customers should hear what the robot says)."""
    return functools.partial(TalkingCustomer, tts, vad, asr=asr, think_s=think_s)
