"""The robot's voice and ears on one call (语音通道): prompts out, turns in, over an `RtpStream`.

`VoiceChannel.play(prompt)` speaks a recording or synthesised text, clause by clause (the first clause
plays while the next is rendered; clauses of the script's fixed text come from the `PromptCache`).
`VoiceChannel.listen(timeout_s)` returns the customer's next `Speech`, `Dtmf` or `Hangup`, or `Silence`
when nobody started speaking within the timeout.

Turns are cut by `TurnTaker`, a frame-by-frame state machine on the webrtc VAD (pure, no I/O):

- a turn starts after `onset_ms` of speech frames and carries `pre_roll_ms` of audio from before that,
  so the first syllable is not lost; it ends after `end_silence_ms` of non-speech, or is cut at
  `max_utterance_ms` (a customer who never stops talking gets a capped turn, then another);
- while the robot talks, a frame counts as speech only if it is louder than `barge_in_floor_dbfs` and
  not more than `echo_return_loss_db` below the robot's own recent audio: the robot's echo from the
  line is that much quieter than what it sent, so it never starts a turn (echo guard);
- barge-in (插话) needs `barge_in_ms` of such speech over an interruptible prompt. Then the queued
  audio is flushed at once (the media clock's next tick is silence, so the robot stops within one
  frame). When the turn turns out to be a backchannel (嗯, 对, 好) or unrecognisable noise, the prompt
  resumes where it stopped; a backchannel shorter than `barge_in_ms` never stops it at all;
- DTMF always stops the prompt and is the next `Dtmf` event; what is said over a non-interruptible
  prompt is kept and is what the next `listen` returns.

Recognition runs in the ASR engine's worker processes, never on the event loop that paces RTP.
Offsets (`Speech.start_ms`, word offsets) are milliseconds from `origin` (the leg's answer), on the
same clock as the leg's `offset_ms` and a recording of the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from callbot.media.stream import ReceivedFrame, RtpStream
from callbot.speech.audio import read_wav, split_clauses
from callbot.speech.base import BYTES_PER_FRAME, FRAME_MS, SAMPLE_RATE, AsrEngine, Transcript, TtsEngine, VadEngine
from callbot.speech.cache import PromptCache
from callbot.telephony.gateway import DialStatus, Dtmf, Hangup, Heard, PlayOutcome, Prompt, Silence, Speech

if TYPE_CHECKING:
    from callbot.speech.announce import Announcement

__all__ = [
    "BACKCHANNELS",
    "BargeIn",
    "SpeechEngines",
    "SpeechStarted",
    "TurnSettings",
    "TurnTaker",
    "Utterance",
    "VoiceChannel",
    "frame_dbfs",
    "is_backchannel",
]

log = logging.getLogger(__name__)

# What a listener says to show they follow, not to take the turn. A turn made only of these (once or
# repeated) never interrupts the robot.
BACKCHANNELS = frozenset("嗯恩唔哦噢喔啊呃对好是行嗯哈")
_NOT_WORD = re.compile(r"[\W_]+")


def is_backchannel(text: str) -> bool:
    """True for a turn of backchannel sounds only (嗯, 对对, 好的, 嗯嗯好); false for anything with other
    words (不, 等一下, 好的谢谢)."""
    chars = _NOT_WORD.sub("", text).replace("的", "")
    return bool(chars) and len(chars) <= 4 and all(char in BACKCHANNELS for char in chars)


def frame_dbfs(pcm: bytes | np.ndarray) -> float:
    """Loudness of one frame in dB below full scale (-120 for digital silence)."""
    samples = np.frombuffer(pcm, "<i2") if isinstance(pcm, bytes | bytearray) else pcm
    if samples.size == 0:
        return -120.0
    power = float(np.mean(samples.astype(np.float64) ** 2)) / (32768.0**2)
    return 10.0 * math.log10(power) if power > 1e-12 else -120.0


def steady_tone_fraction(pcm: bytes) -> float:
    """How much of `pcm` is held tones (hold music, ring-back, beeps): the share of 20 ms frames whose
    main spectral peaks sit where the previous frame's were. Speech glides (0.1-0.35 on voice clips);
    tones and plain melodies hold (0.9+). A chord of several equal notes is not caught."""
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], "<i2").astype(np.float64)
    count = len(samples) // 160
    if count < 3:
        return 0.0
    spectrum = np.abs(np.fft.rfft(samples[: count * 160].reshape(count, 160) * np.hanning(160), 1024, axis=1)) ** 2
    energy = spectrum.sum(axis=1)
    spectrum = spectrum[energy > 1e-3 * energy.max()]
    if len(spectrum) < 3:
        return 0.0
    inner = spectrum[:, 1:-1]
    peaks = np.where((inner > spectrum[:, :-2]) & (inner >= spectrum[:, 2:]), inner, 0.0)
    top = np.argsort(peaks, axis=1)[:, -3:]
    held = [
        sum(int(np.min(np.abs(now - before))) <= 1 for before in previous) >= 2
        for previous, now in itertools.pairwise(top)
    ]
    return sum(held) / len(held)


@dataclass(frozen=True, slots=True)
class TurnSettings:
    """How turns are cut and when the robot yields. Milliseconds are multiples of the 20 ms frame."""

    onset_ms: int = 160
    end_silence_ms: int = 700
    pre_roll_ms: int = 300
    max_utterance_ms: int = 15_000
    barge_in_ms: int = 400
    barge_in_floor_dbfs: float = -42.0
    echo_return_loss_db: float = 12.0
    echo_window_ms: int = 300  # how far back the robot's own audio can still come back as echo
    # Recognition starts after this much quiet, before the turn is over (0: only at the end), so the words
    # are ready when end_silence_ms confirms the end; if the customer goes on, that recognition is dropped.
    early_asr_ms: int = 300
    max_steady_tone: float = 0.7  # a turn held tones more than this is music or a beep, not speech

    def __post_init__(self) -> None:
        for name in ("onset_ms", "end_silence_ms", "max_utterance_ms", "barge_in_ms"):
            value = getattr(self, name)
            if value < FRAME_MS:
                raise ValueError(f"turn setting {name} must be at least {FRAME_MS} ms, got {value}")
        if self.max_utterance_ms < self.onset_ms + self.end_silence_ms:
            raise ValueError("turn setting max_utterance_ms must exceed onset_ms + end_silence_ms")


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """A turn began: speech confirmed for `onset_ms`, dated to its first speech frame (seconds, stream clock)."""

    at: float


@dataclass(frozen=True, slots=True)
class BargeIn:
    """Speech over the robot confirmed for `barge_in_ms` (seconds, stream clock, when confirmed)."""

    at: float


@dataclass(frozen=True, slots=True)
class Utterance:
    """One whole turn: its PCM (pre-roll included), when its first speech frame and its last speech frame
    arrived (stream clock), whether it was cut at the length cap, and whether the robot talked meanwhile."""

    pcm: bytes
    audio_start: float  # when the first frame of `pcm` arrived
    start: float
    end: float
    capped: bool
    over_prompt: bool
    barged: bool


@dataclass(frozen=True, slots=True)
class Pause:
    """The customer has been quiet for `early_asr_ms`: `utterance` is the turn if no more speech follows,
    so recognition can start now and be ready when the turn ends (or be dropped if they go on)."""

    utterance: Utterance


TurnEvent = SpeechStarted | BargeIn | Pause | Utterance


class TurnTaker:
    """The turn state machine: feed it every received frame with the robot's current level; it returns
    the turn events that frame caused. Pure: no clock, no sockets."""

    def __init__(self, vad: VadEngine, settings: TurnSettings | None = None) -> None:
        self.vad = vad
        self.settings = s = settings or TurnSettings()
        self._onset = max(1, s.onset_ms // FRAME_MS)
        self._end = max(1, s.end_silence_ms // FRAME_MS)
        self._cap = max(1, s.max_utterance_ms // FRAME_MS)
        self._barge = max(1, s.barge_in_ms // FRAME_MS)
        self._early = s.early_asr_ms // FRAME_MS if 0 < s.early_asr_ms < s.end_silence_ms else -1
        self._pre_roll: deque[tuple[float, bytes]] = deque(maxlen=max(1, s.pre_roll_ms // FRAME_MS) + self._onset)
        self._run = 0  # speech frames in a row before a turn starts
        self._frames: list[bytes] = []
        self._start = 0.0
        self._audio_start = 0.0
        self._last_speech = 0.0
        self._quiet = 0  # non-speech frames since the last speech frame
        self._speech_frames = 0
        self._over_prompt = False
        self._barged = False
        self.in_turn = False

    def feed(self, pcm: bytes, at: float, robot_dbfs: float | None) -> list[TurnEvent]:
        """`pcm` one 20 ms frame received at `at`; `robot_dbfs` the loudest robot audio sent within the echo
        window (None when the robot is silent)."""
        s = self.settings
        speech = self.vad.is_speech(pcm)
        if speech and robot_dbfs is not None:
            level = frame_dbfs(pcm)
            speech = level >= s.barge_in_floor_dbfs and level >= robot_dbfs - s.echo_return_loss_db
        events: list[TurnEvent] = []
        if not self.in_turn:
            self._pre_roll.append((at, pcm))
            self._run = self._run + 1 if speech else 0
            if self._run >= self._onset:
                self.in_turn = True
                held = list(self._pre_roll)
                self._frames = [frame for _, frame in held]
                self._start = held[-self._run][0]
                self._audio_start = held[0][0]
                self._last_speech = at
                self._quiet = 0
                self._speech_frames = self._run
                self._over_prompt = robot_dbfs is not None
                self._barged = False
                self._pre_roll.clear()
                events.append(SpeechStarted(self._start))
            return events
        self._frames.append(pcm)
        self._over_prompt = self._over_prompt or robot_dbfs is not None
        if speech:
            self._last_speech = at
            self._quiet = 0
            self._speech_frames += 1
            if robot_dbfs is not None and not self._barged and self._speech_frames >= self._barge:
                self._barged = True
                events.append(BargeIn(at))
        else:
            self._quiet += 1
            if self._quiet == self._early:
                events.append(Pause(self._utterance(capped=False)))
        if self._quiet >= self._end:
            events.append(self._finish(capped=False))
        elif len(self._frames) >= self._cap:
            events.append(self._finish(capped=True))
        return events

    def _finish(self, *, capped: bool) -> Utterance:
        utterance = self._utterance(capped=capped)
        self.in_turn = False
        self._frames = []
        self._run = 0
        return utterance

    def _utterance(self, *, capped: bool) -> Utterance:
        # The turn's audio ends three frames after its last speech frame: the ASR needs no more quiet.
        end = len(self._frames) if capped else len(self._frames) - self._quiet + 3
        return Utterance(
            b"".join(self._frames[:end]),
            self._audio_start,
            self._start,
            self._last_speech + FRAME_MS / 1000,
            capped,
            self._over_prompt,
            self._barged,
        )


@dataclass(frozen=True, slots=True)
class _Turn:
    """A recognised turn: what the ASR heard, and the turn's audio times."""

    transcript: Transcript
    utterance: Utterance
    audio_ms: int  # where the audio given to the ASR starts, in ms from the channel's origin


@dataclass(slots=True)
class _Playing:
    """The prompt being played: what was handed to the stream, and what stopped it."""

    interruptible: bool
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    sent: bytearray = field(default_factory=bytearray)
    held: list[bytes] = field(default_factory=list)  # clauses rendered while stopped by a barge-in
    paused: bool = False
    dtmf: bool = False
    barge: asyncio.Future[_Turn | None] | None = None
    barge_at: float = 0.0


@dataclass(slots=True)
class _Stats:
    turns: int = 0
    barge_ins: int = 0
    resumed: int = 0
    capped: int = 0
    dropped: int = 0  # turns the ASR found no words in
    early: int = 0  # recognitions started at a pause
    early_used: int = 0  # ... whose turn did end there
    asr_ms: list[float] = field(default_factory=list)


class VoiceChannel:
    """Prompts and turns on one call's `RtpStream` (see the module docstring).

    `origin` is the loop time offsets count from (the leg's answer); `cache` serves the script's fixed
    clauses; `voice`/`rate` are the script's voice settings. `start()` begins hearing; `close()` stops.
    """

    def __init__(
        self,
        stream: RtpStream,
        *,
        asr: AsrEngine,
        tts: TtsEngine,
        vad: VadEngine,
        cache: PromptCache | None = None,
        settings: TurnSettings | None = None,
        origin: float | None = None,
        voice: str | None = None,
        rate: float = 1.0,
        read_audio: Callable[[str], bytes] | None = None,
    ) -> None:
        self.stream = stream
        self.asr, self.tts, self.cache = asr, tts, cache
        self.turns = TurnTaker(vad, settings)
        self.settings = self.turns.settings
        self.voice, self.rate = voice, rate
        self.read_audio = read_audio or _read_recording
        loop = asyncio.get_running_loop()
        self._stream_opened = loop.time() - stream.elapsed_s  # stream clock 0 in loop time
        self.origin = loop.time() if origin is None else origin
        self.stats = _Stats()
        self._events: deque[Heard | asyncio.Future[_Turn | None]] = deque()
        self._changed = asyncio.Event()
        self._playing: _Playing | None = None
        self._robot: deque[tuple[float, float]] = deque()
        self._early: tuple[Utterance, asyncio.Future[_Turn | None]] | None = None  # (stream time the frame plays, dBFS)
        self._task: asyncio.Task[None] | None = None
        self._hearing = False
        self.closed = False
        self.first_audio_at: float | None = None  # loop time the last prompt's first frame was queued
        self.tones: list[Utterance] = []  # turns of held tones (music, beeps), not recognised
        self.barge_confirmed: list[float] = []  # loop times barge-ins were confirmed (the audio flushed)
        self.barged_turn: Speech | None = None  # the turn that interrupted the last prompt, with its times

    # --- life -----------------------------------------------------------------------------------------

    def start(self) -> None:
        """Begin hearing the far end (idempotent). DTMF from the stream becomes `Dtmf` events."""
        if self._task is None:
            self.stream.on_dtmf = self.dtmf
            self._task = asyncio.get_running_loop().create_task(self._hear(), name="voice-channel")

    async def close(self) -> None:
        self.closed = True
        self._wake()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def ms(self, stream_time: float) -> int:
        """A stream-clock time as milliseconds from `origin` (the leg's offset clock)."""
        return round((self._stream_opened + stream_time - self.origin) * 1000)

    def dtmf(self, digit: str) -> None:
        """A key press (from RTP or SIP INFO): stops any prompt, and is the next event heard."""
        self._events.append(Dtmf(digit))
        playing = self._playing
        if playing is not None:
            self._stop_audio(playing)
            playing.dtmf = True
            playing.changed.set()
        self._wake()

    def hung_up(self) -> None:
        """The call ended (BYE, lost media): every wait returns at once."""
        self.closed = True
        self._wake()

    # --- hearing --------------------------------------------------------------------------------------

    async def _hear(self) -> None:
        try:
            async for frame in self.stream.frames():
                self._on_frame(frame)
        finally:
            self.closed = True
            self._wake()

    def _on_frame(self, frame: ReceivedFrame) -> None:
        pcm = frame.pcm.astype("<i2").tobytes()
        for event in self.turns.feed(pcm, frame.at, self._robot_level(frame.at)):
            playing = self._playing
            if isinstance(event, SpeechStarted):
                self._hearing = True
                self._wake()
            elif isinstance(event, Pause):
                if steady_tone_fraction(event.utterance.pcm) <= self.settings.max_steady_tone:
                    self._early = (event.utterance, asyncio.ensure_future(self._recognise(event.utterance)))
                    self.stats.early += 1
            elif isinstance(event, BargeIn):
                if playing is not None and playing.interruptible and not playing.paused:
                    self.stats.barge_ins += 1
                    playing.barge_at = event.at
                    self._stop_audio(playing)  # flushed now: the next tick sends silence
                    self.barge_confirmed.append(asyncio.get_running_loop().time())
                    playing.changed.set()
            else:
                self._hearing = False
                if steady_tone_fraction(event.pcm) > self.settings.max_steady_tone:
                    self.tones.append(event)
                    self.stats.dropped += 1
                    log.info("voice: a %.1f s turn of held tones (music) was not recognised", event.end - event.start)
                    self._wake()
                    continue
                self.stats.turns += 1
                self.stats.capped += event.capped
                early, self._early = self._early, None
                if early is not None and early[0].pcm == event.pcm:  # nothing said since the pause
                    recognised = early[1]
                    self.stats.early_used += 1
                else:
                    recognised = asyncio.ensure_future(self._recognise(event))
                if playing is not None and playing.interruptible and event.over_prompt:
                    # Speech over an interruptible prompt belongs to the prompt: a barge-in to confirm,
                    # or a short word (不) that is one once recognised, or a backchannel to drop.
                    playing.barge = recognised
                    playing.changed.set()
                else:
                    self._events.append(recognised)
                self._wake()

    def _robot_level(self, at: float) -> float | None:
        """The loudest robot frame played within the echo window before `at`, None if the robot was silent."""
        window = self.settings.echo_window_ms / 1000
        robot = self._robot
        while robot and robot[0][0] < at - window:
            robot.popleft()
        loudest = None
        for played_at, level in robot:
            if played_at > at:
                break
            loudest = level if loudest is None else max(loudest, level)
        return loudest

    async def _recognise(self, utterance: Utterance) -> _Turn | None:
        started = time.perf_counter()
        transcript = await self.asr.transcribe(utterance.pcm)
        self.stats.asr_ms.append((time.perf_counter() - started) * 1000)
        if not transcript.text:
            self.stats.dropped += 1
            log.info("voice: a %.1f s turn had no words (%s)", utterance.end - utterance.start, transcript.dropped)
            return None
        # The ASR times words from the start of the audio it was given, which is the turn's pre-roll.
        return _Turn(transcript, utterance, self.ms(utterance.audio_start))

    def _speech(self, turn: _Turn) -> Speech:
        transcript, utterance, base = turn.transcript, turn.utterance, turn.audio_ms
        return Speech(
            transcript.text,
            confidence=transcript.confidence,
            start_ms=self.ms(utterance.start),
            end_ms=self.ms(utterance.end),
            words=tuple((w.text, base + w.start_ms, base + w.end_ms) for w in transcript.words),
            capped=utterance.capped,
        )

    def _wake(self) -> None:
        self._changed.set()

    # --- listening ------------------------------------------------------------------------------------

    async def listen(self, timeout_s: float) -> Heard:
        """The customer's next event. `timeout_s` bounds the wait for a turn to *start*; a turn under way
        is waited out (it ends by silence or the length cap). Turns without words (noise) are skipped."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout_s)
        while True:
            while self._events:
                item = self._events.popleft()
                if not isinstance(item, asyncio.Future):
                    return item
                turn = await item
                if turn is not None:
                    return self._speech(turn)
            if self.closed:
                return Hangup()
            remaining = deadline - loop.time()
            if remaining <= 0 and not self._hearing:
                return Silence()
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), None if self._hearing else remaining)

    async def screen(self, seconds: float) -> Announcement | None:
        """Just after the answer: is this a carrier announcement, a voicemail or an assistant? Waits for
        the first turn (at most `seconds` for it to start). A person's first turn (喂?) is kept for the
        next `listen`; a voicemail beep alone is enough."""
        from callbot.speech.announce import Announcement, classify, find_beep

        heard = await self.listen(seconds)
        for tone in self.tones:
            beep = find_beep(tone.pcm)
            if beep is not None:
                text = heard.text if isinstance(heard, Speech) else ""
                found = classify(text)
                kind, status = (found.kind, found.status) if found else ("voicemail", DialStatus.NO_ANSWER)
                return Announcement(kind, status, text, self.ms(tone.audio_start) + beep)
        if isinstance(heard, Speech):
            found = classify(heard.text)
            if found is not None:
                return found
        if not isinstance(heard, Silence | Hangup):
            self._events.appendleft(heard)  # the customer's own first words: the session hears them
        return None

    # --- speaking -------------------------------------------------------------------------------------

    async def play(self, prompt: Prompt) -> PlayOutcome:
        """Say `prompt`. Interrupted by a confirmed barge-in (with what was said) or a key press."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        if self.closed:
            return PlayOutcome("hangup", 0.0)
        playing = _Playing(prompt.interruptible)
        self._playing = playing
        self.first_audio_at = None
        producer = asyncio.ensure_future(self._produce(prompt, playing))
        try:
            while True:
                if self.closed:
                    return PlayOutcome("hangup", round(loop.time() - started, 3))
                if playing.dtmf:
                    return PlayOutcome("interrupted", round(loop.time() - started, 3))
                if playing.barge is not None:
                    turn = await playing.barge
                    playing.barge = None
                    if turn is not None:
                        log.debug(
                            "voice: over the prompt %r (confidence %.2f)",
                            turn.transcript.text,
                            turn.transcript.confidence,
                        )
                    if turn is not None and not _yields_to(turn):
                        self._stop_audio(playing)
                        log.info("voice: barge-in %r", turn.transcript.text)
                        self.barged_turn = self._speech(turn)
                        return PlayOutcome("interrupted", round(loop.time() - started, 3), turn.transcript.text)
                    if playing.paused:  # a backchannel or noise confirmed as speech: carry on
                        self.stats.resumed += 1
                        self._resume(playing)
                    continue
                if producer.done() and not self.stream.playing and not playing.paused:
                    if not producer.cancelled() and producer.exception() is not None:
                        log.error("voice: prompt %r could not be spoken: %r", prompt.text, producer.exception())
                    return PlayOutcome("completed", round(loop.time() - started, 3))
                playing.changed.clear()
                waits: list[asyncio.Future[Any]] = [
                    asyncio.ensure_future(playing.changed.wait()),
                    asyncio.ensure_future(self._changed.wait()),
                ]
                if producer.done():
                    waits.append(asyncio.ensure_future(self.stream.wait_played()))
                else:
                    waits.append(producer)
                try:
                    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiter in waits:
                        if waiter is not producer:
                            waiter.cancel()
                self._changed.clear()
        finally:
            producer.cancel()
            self._playing = None

    async def _produce(self, prompt: Prompt, playing: _Playing) -> None:
        """Hand the prompt's audio to the stream as it is rendered (paused: keep it for the resume)."""
        async for pcm in self._audio(prompt):
            if playing.paused:
                playing.held.append(pcm)
            else:
                self._queue_audio(playing, pcm)

    async def _audio(self, prompt: Prompt) -> AsyncIterator[bytes]:
        if prompt.audio:
            try:
                yield await asyncio.to_thread(self.read_audio, prompt.audio)
                return
            except (OSError, ValueError) as exc:
                log.warning("voice: recording %s not played (%s); speaking its text", prompt.audio, exc)
        clauses = split_clauses(prompt.text)
        if not clauses:
            return
        # Render one clause ahead: the next is being synthesised while this one plays.
        ahead = asyncio.ensure_future(self._clause(clauses[0]))
        try:
            for index in range(len(clauses)):
                pcm = await ahead
                if index + 1 < len(clauses):
                    ahead = asyncio.ensure_future(self._clause(clauses[index + 1]))
                yield pcm
        finally:
            ahead.cancel()

    async def _clause(self, text: str) -> bytes:
        if self.cache is not None:
            cached = self.cache.peek(text, voice=self.voice, rate=self.rate)
            if cached is not None:
                return cached
        return await self.tts.synthesize(text, voice=self.voice, rate=self.rate)

    def _queue_audio(self, playing: _Playing, pcm: bytes) -> None:
        if self.closed or not pcm:
            return
        now = self.stream.elapsed_s
        if self.first_audio_at is None:
            self.first_audio_at = asyncio.get_running_loop().time()
        starts = now + self.stream.queued_seconds + FRAME_MS / 1000  # it plays after what is queued
        samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], "<i2")
        count = len(samples) // (BYTES_PER_FRAME // 2)
        if count:
            power = (samples[: count * 160].astype(np.float64) ** 2).reshape(count, 160).mean(axis=1) / 32768.0**2
            levels = 10.0 * np.log10(np.maximum(power, 1e-12))
            for i, level in enumerate(levels):
                self._robot.append((starts + i * FRAME_MS / 1000, float(level)))
        playing.sent += pcm
        self.stream.play_pcm(pcm)

    def _stop_audio(self, playing: _Playing) -> None:
        """Flush the stream's queue at once and keep the part not yet played, for a resume."""
        dropped = self.stream.stop_playing()
        keep = round(dropped * SAMPLE_RATE) * 2
        playing.held.insert(0, bytes(playing.sent[len(playing.sent) - keep :]) if keep else b"")
        playing.sent = bytearray()
        playing.paused = True
        now = self.stream.elapsed_s
        while self._robot and self._robot[-1][0] > now:  # flushed frames will never be heard back
            self._robot.pop()

    def _resume(self, playing: _Playing) -> None:
        playing.paused = False
        held, playing.held = playing.held, []
        for pcm in held:
            self._queue_audio(playing, pcm)


@dataclass(slots=True)
class SpeechEngines:
    """What a gateway needs to give its calls a voice and ears: one ASR and one TTS for the process,
    a VAD per call (`vad()` builds one), the prompt cache and the turn settings."""

    asr: AsrEngine
    tts: TtsEngine
    vad: Callable[[], VadEngine]
    cache: PromptCache | None = None
    settings: TurnSettings = field(default_factory=TurnSettings)
    voice: str | None = None
    rate: float = 1.0
    screen_s: float = 3.0  # how long after the answer a first turn may take to start, for `screen`

    def channel(self, stream: RtpStream, *, origin: float | None = None) -> VoiceChannel:
        """A started voice channel on `stream`, its offsets counted from `origin` (loop time)."""
        channel = VoiceChannel(
            stream,
            asr=self.asr,
            tts=self.tts,
            vad=self.vad(),
            cache=self.cache,
            settings=self.settings,
            origin=origin,
            voice=self.voice,
            rate=self.rate,
        )
        channel.start()
        return channel


def _yields_to(turn: _Turn) -> bool:
    """Whether speech over an interruptible prompt is let go on (not an interruption): a backchannel,
    or a single sound too short to confirm a barge-in (Whisper writes a short 嗯 as 5, 恩 or 嗯)."""
    text = turn.transcript.text
    if is_backchannel(text):
        return True
    # Too short to confirm a barge-in: only clear words interrupt (Whisper hears a lone 嗯 as 神秀 too).
    return not turn.utterance.barged and (len(_NOT_WORD.sub("", text)) <= 1 or turn.transcript.confidence < 0.6)


def _read_recording(path: str) -> bytes:
    """A prompt's recording (a WAV of any rate, mono or stereo, 16-bit) as 8 kHz PCM."""
    with open(path, "rb") as f:
        return read_wav(f.read())
