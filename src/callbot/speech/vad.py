"""Voice activity: the webrtc VAD engine (webrtcvad-wheels) and `find_speech`, which cuts speech spans
out of audio with an onset and a hangover, the way a turn-taker uses a per-frame decision."""

from __future__ import annotations

from dataclasses import dataclass

from callbot.speech.audio import frames
from callbot.speech.base import BYTES_PER_FRAME, FRAME_MS, SAMPLE_RATE, SpeechEngineUnavailable, VadEngine

__all__ = ["SpeechSpan", "WebRtcVad", "find_speech"]


class WebRtcVad:
    """The WebRTC VAD (GMM, 8 kHz native): a yes/no decision per 20 ms frame, ~0.1 ms CPU per audio
    second, so it can gate every frame of every call.

    `aggressiveness` 0..3: higher rejects more noise and more quiet speech (3 suits phone lines with
    music or street noise; 2 is a balanced default).
    """

    name = "webrtc"

    def __init__(self, aggressiveness: int = 2) -> None:
        if aggressiveness not in (0, 1, 2, 3):
            raise ValueError(f"VAD aggressiveness must be 0, 1, 2 or 3, got {aggressiveness!r}")
        try:
            import webrtcvad
        except ImportError as exc:
            raise SpeechEngineUnavailable(
                "the webrtc VAD needs webrtcvad-wheels: pip install 'callbot[speech]'"
            ) from exc
        self.aggressiveness = aggressiveness
        self._vad = webrtcvad.Vad(aggressiveness)

    def is_speech(self, frame: bytes) -> bool:
        if len(frame) != BYTES_PER_FRAME:
            raise ValueError(
                f"a VAD frame is {FRAME_MS} ms of 8 kHz 16-bit PCM ({BYTES_PER_FRAME} bytes), got {len(frame)}"
            )
        return bool(self._vad.is_speech(frame, SAMPLE_RATE))

    def speech_probability(self, frame: bytes) -> float:
        return 1.0 if self.is_speech(frame) else 0.0


@dataclass(frozen=True, slots=True)
class SpeechSpan:
    """Speech from `start_ms` to `end_ms` of the audio (the onset and the last speech frame's end)."""

    start_ms: int
    end_ms: int

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


def find_speech(
    vad: VadEngine,
    pcm: bytes,
    *,
    onset_ms: int = 100,
    hangover_ms: int = 300,
    min_speech_ms: int = 100,
) -> list[SpeechSpan]:
    """The speech spans of `pcm`, frame by frame through `vad`.

    Speech starts after `onset_ms` of speech frames in a row (a click or a cough is shorter) and is
    dated to the first of them; it ends at the last speech frame once `hangover_ms` of non-speech
    follows (the gaps between words are shorter). Spans shorter than `min_speech_ms` of speech are left out.
    """
    onset_frames = max(1, onset_ms // FRAME_MS)
    hangover_frames = max(1, hangover_ms // FRAME_MS)
    spans: list[SpeechSpan] = []
    run = 0  # speech frames in a row, before the onset is confirmed
    start = -1  # index of the first frame of the current span, -1 outside speech
    last_speech = -1
    for index, frame in enumerate(frames(pcm)):
        speech = vad.is_speech(frame)
        if start < 0:
            run = run + 1 if speech else 0
            if run >= onset_frames:
                start, last_speech = index - run + 1, index
        elif speech:
            last_speech = index
        elif index - last_speech >= hangover_frames:
            spans.append(SpeechSpan(start * FRAME_MS, (last_speech + 1) * FRAME_MS))
            start, run = -1, 0
    if start >= 0:
        spans.append(SpeechSpan(start * FRAME_MS, (last_speech + 1) * FRAME_MS))
    return [span for span in spans if span.duration_ms >= min_speech_ms]
