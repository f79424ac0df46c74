"""Whole voice conversations for bench/voice.py: robots (voice channel + call session + dialogue engine +
NLU) and talking customers on RTP stream pairs over loopback, all on one media clock; per customer turn,
the voice-to-voice latency and its breakdown."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from callbot.callflow.session import CallSession
from callbot.dialogue.engine import DialogueEngine
from callbot.dialogue.nlu import build_recognizer
from callbot.dialogue.script import load_script_file
from callbot.media.clock import MediaClock
from callbot.media.stream import RtpStream
from callbot.speech.base import AsrEngine, TtsEngine
from callbot.speech.cache import PromptCache
from callbot.speech.talking_customer import TalkingCustomer
from callbot.speech.vad import WebRtcVad
from callbot.speech.voice import TurnSettings, VoiceChannel
from callbot.telephony.gateway import Heard, PlayOutcome, Prompt, Speech
from callbot.telephony.sim.customer import ScriptedCustomer

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "scripts" / "credit_card_instalment.yaml"
# opening -> intro (affirm) -> FAQ price -> choose_term (affirm) -> agree_end (pick_term): four turns
REPLIES = ("可以，你说吧", "手续费是多少", "好的，帮我办吧", "那就分12期吧")
_SEND_S = 0.020  # a frame queued is sent on the media clock's next tick, at most one frame later


@dataclass
class Turn:
    v2v_ms: float
    heard_ms: float  # end of speech -> the turn's words in hand: trailing silence and the ASR not hidden by it
    asr_ms: float  # wall time of recognition, started early_asr_ms into the trailing silence
    engine_ms: float  # NLU + dialogue engine + session, listen returned -> play called
    tts_ms: float  # play called -> first frame queued


@dataclass
class Level:
    calls: int
    turns: list[Turn] = field(default_factory=list)
    said: int = 0
    ended: dict[str, int] = field(default_factory=dict)
    late_clock_ms: float = 0.0
    overlapped: int = 0  # replies said over a prompt (no voice-to-voice turn)

    @property
    def v2v_ms(self) -> list[float]:
        return [turn.v2v_ms for turn in self.turns]

    @property
    def unanswered(self) -> int:
        return max(0, self.said - len(self.turns) - self.overlapped)


class VoiceLeg:
    """A `CallLeg` over a voice channel (what a SIP leg with speech engines is, without the SIP), that
    times each customer turn and the robot's answer to it."""

    def __init__(self, channel: VoiceChannel, on_hangup: Callable[[], None], level: Level) -> None:
        self.channel = channel
        self._on_hangup = on_hangup
        self._level = level
        self._answered = asyncio.get_running_loop().time()
        self._ended_by: Literal["robot", "customer", "transfer"] | None = None
        self._pending: tuple[float, float, float] | None = None  # speech end, listen returned, asr ms
        self._robot_done = self._answered  # when the robot's last prompt ended

    @property
    def call_id(self) -> str:
        return "bench"

    @property
    def closed(self) -> bool:
        return self._ended_by is not None or self.channel.closed

    @property
    def ended_by(self) -> Literal["robot", "customer", "transfer"] | None:
        return self._ended_by or ("customer" if self.channel.closed else None)

    @property
    def elapsed_s(self) -> float:
        return asyncio.get_running_loop().time() - self._answered

    def offset_ms(self) -> int:
        return round(self.elapsed_s * 1000)

    async def play(self, prompt: Prompt) -> PlayOutcome:
        called = asyncio.get_running_loop().time()
        outcome = await self.channel.play(prompt)
        first = self.channel.first_audio_at
        if self._pending is not None and self._pending[0] < self._robot_done:
            # Said over (or before the end of) the robot's last prompt: kept for the listen, but the
            # robot was not waiting for it, so it is no voice-to-voice turn.
            self._level.overlapped += 1
            self._pending = None
        self._robot_done = asyncio.get_running_loop().time()
        if self._pending is not None and first is not None:
            speech_end, returned, asr_ms = self._pending
            self._level.turns.append(
                Turn(
                    v2v_ms=(first + _SEND_S - speech_end) * 1000,
                    heard_ms=(returned - speech_end) * 1000,
                    asr_ms=asr_ms,
                    engine_ms=(called - returned) * 1000,
                    tts_ms=(first - called) * 1000,
                )
            )
        self._pending = None
        barged = self.channel.barged_turn
        if outcome.status == "interrupted" and barged is not None and barged.end_ms is not None:
            self._turn_heard(barged.end_ms)  # a reply said over the prompt: the next prompt answers it
            self.channel.barged_turn = None
        return outcome

    def _turn_heard(self, end_ms: int) -> None:
        speech_end = self.channel.origin + end_ms / 1000
        asr_ms = self.channel.stats.asr_ms[-1] if self.channel.stats.asr_ms else 0.0
        self._pending = (speech_end, asyncio.get_running_loop().time(), asr_ms)

    async def listen(self, timeout_s: float) -> Heard:
        heard = await self.channel.listen(timeout_s)
        if isinstance(heard, Speech) and heard.end_ms is not None:
            self._turn_heard(heard.end_ms)
        return heard

    async def transfer(self, target: str) -> bool:
        return False

    async def hangup(self) -> None:
        if self._ended_by is None:
            self._ended_by = "robot"
            self.channel.stream.close()
            self.channel.hung_up()
            self._on_hangup()


class _Replies:
    """The customer's replies, rendered once per run by the bench's TTS."""

    name = "replies"

    def __init__(self, audio: dict[str, bytes]) -> None:
        self.audio = audio

    async def synthesize(self, text: str, *, voice: str | None = None, rate: float = 1.0) -> bytes:
        return self.audio[text]

    async def stream(self, text: str, *, voice: str | None = None, rate: float = 1.0):  # type: ignore[no-untyped-def]
        yield self.audio[text]

    async def close(self) -> None:
        pass


_rendered: dict[str, bytes] = {}
_cache: PromptCache | None = None


async def run_level(calls: int, tts: TtsEngine, asr: AsrEngine, args: argparse.Namespace) -> Level:
    global _cache
    script = load_script_file(str(SCRIPT))
    engine = DialogueEngine(script, build_recognizer(script.intents))
    for text in REPLIES:
        if text not in _rendered:
            _rendered[text] = await tts.synthesize(text)
    if _cache is None:  # the script's fixed clauses, rendered once (as before a task starts)
        _cache = PromptCache(tts)
        texts = [say for node in script.nodes.values() for say in node.say]
        started = time.perf_counter()
        count = await _cache.warm(texts, by_clause=True)
        print(f"prompt cache: {count} fixed clauses in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    cache = _cache
    level = Level(calls)
    clock = MediaClock()
    settings = TurnSettings(end_silence_ms=args.end_silence_ms)

    async def one(index: int) -> None:
        robot = await RtpStream.open(clock, "127.0.0.1", 0, codec="PCMU", payload_type=0)
        customer_stream = await RtpStream.open(clock, "127.0.0.1", 0, codec="PCMU", payload_type=0)
        robot.set_media(customer_stream.local_address, "PCMU", 0, 101)
        customer_stream.set_media(robot.local_address, "PCMU", 0, 101)
        for stream in (robot, customer_stream):
            stream.answered = True
            stream.start_sending()
        channel = VoiceChannel(robot, asr=asr, tts=tts, vad=WebRtcVad(), cache=cache, settings=settings)
        channel.start()
        leg = VoiceLeg(channel, customer_stream.close, level)
        variables = {"name": "王先生", "bank": "招商银行", "amount": str(3000 + index)}
        session = CallSession(leg, engine, engine.new_state(variables))
        customer = TalkingCustomer(_Replies(_rendered), WebRtcVad, think_s=0.3, end_silence_ms=1500)
        talking = asyncio.ensure_future(customer.converse(customer_stream, ScriptedCustomer.parse("|".join(REPLIES))))
        try:
            end = await asyncio.wait_for(session.run(), 180)
            await asyncio.wait_for(talking, 40)
        finally:
            talking.cancel()
            await channel.close()
            robot.close()
            customer_stream.close()
        level.said += customer.stats.said
        if args.verbose:
            for turn in end.state.transcript:
                print(f"  call {index} {turn.speaker} {turn.offset_ms} {turn.text}", file=sys.stderr)
        node = end.state.node or "?"
        level.ended[node] = level.ended.get(node, 0) + 1

    started = time.perf_counter()
    for _ in range(args.rounds):
        # Calls start spread over 2 s, as a dialer's ramp does, not all in the same tick.
        await asyncio.gather(*(_later(i * 2.0 / max(1, calls), one(i)) for i in range(calls)))
    await clock.close()
    lateness = sorted(clock.lateness)
    level.late_clock_ms = lateness[int(0.99 * (len(lateness) - 1))] * 1000 if lateness else 0.0
    _report(level, time.perf_counter() - started, args.end_silence_ms)
    return level


async def _later(delay: float, work: object) -> None:
    await asyncio.sleep(delay)
    await work  # type: ignore[misc]


def _report(level: Level, wall_s: float, level_silence_ms: int) -> None:
    def p(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")

    turns = level.turns
    parts = {
        name: statistics.median([getattr(t, name) for t in turns]) if turns else float("nan")
        for name in ("heard_ms", "asr_ms", "engine_ms", "tts_ms")
    }
    print(
        f"conversations calls={level.calls} wall_s={wall_s:.0f} turns={len(turns)} said={level.said} "
        f"overlapped={level.overlapped} unanswered={level.unanswered} ended={level.ended} "
        f"v2v_p50_ms={p(level.v2v_ms, 0.5):.0f} v2v_p95_ms={p(level.v2v_ms, 0.95):.0f} "
        f"v2v_max_ms={max(level.v2v_ms, default=float('nan')):.0f} | median breakdown: "
        f"end_of_turn_and_asr_ms={parts['heard_ms']:.0f} (trailing silence {level_silence_ms} ms) "
        f"asr_ms={parts['asr_ms']:.0f} nlu_engine_ms={parts['engine_ms']:.0f} "
        f"tts_first_audio_ms={parts['tts_ms']:.0f} send_ms<={_SEND_S * 1000:.0f} "
        f"clock_late_p99_ms={level.late_clock_ms:.1f}",
        file=sys.stderr,
    )
