"""Carrier announcements, voicemail and call-screening assistants (运营商提示音 / 语音信箱 / AI 助理代接).

What a dial reached is told from what the line says in early media or in the first seconds after the
answer: the recognised text is matched on toneless pinyin (so an ASR homophone such as 正盟 for 正忙
still matches) against the carriers' phrases, and the audio is searched for a voicemail beep (a held
tone of 400-2000 Hz for at least 150 ms). `classify` maps text to a dial result; `screen` runs the
whole check on audio.

| heard | kind | dial result |
|---|---|---|
| 已关机 | power_off | POWER_OFF |
| 已停机, 暂停服务 | out_of_service | OUT_OF_SERVICE |
| 空号, 号码不存在 | vacant | VACANT_NUMBER |
| 正在通话中, 正忙, 占线 | busy | BUSY |
| 无法接通, 不在服务区 | unreachable | CAN_NOT_CONNECT |
| 呼叫转移, 来电提醒, 语音信箱, 提示音后留言, a beep | voicemail | NO_ANSWER |
| 智能助理, 秘书, 代接 | assistant | NO_ANSWER |
| 您拨打的 ... (the rest misheard) | announcement | CAN_NOT_CONNECT |

Voicemail and assistants are NO_ANSWER: the person did not pick up, and a redial rule for NO_ANSWER is
what should call them again. The heard text is the dial result's reason.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np

from callbot.speech.base import FRAME_MS, AsrEngine, VadEngine
from callbot.speech.vad import find_speech
from callbot.telephony.gateway import DialStatus

__all__ = ["ANNOUNCEMENTS", "Announcement", "classify", "find_beep", "screen"]


@dataclass(frozen=True, slots=True)
class Announcement:
    """What the line was: `kind` (power_off, ..., voicemail, assistant), its dial `status`, and `text`,
    the words heard (the reason on the call record), `beep_ms` where a voicemail beep started."""

    kind: str
    status: DialStatus
    text: str
    beep_ms: int | None = None

    @property
    def reason(self) -> str:
        heard = f"heard {self.text!r}" if self.text else "heard a voicemail beep"
        return f"{self.kind}: {heard}"


# In the order they are tried: a voicemail greeting can say 无法接听 and an unreachable one 关机 later on.
ANNOUNCEMENTS: tuple[tuple[str, DialStatus, tuple[str, ...]], ...] = (
    ("vacant", DialStatus.VACANT_NUMBER, ("空号", "号码不存在", "号码有误", "查证后再拨")),
    ("out_of_service", DialStatus.OUT_OF_SERVICE, ("已停机", "停机", "暂停服务", "已暂停使用")),
    ("power_off", DialStatus.POWER_OFF, ("已关机", "关机")),
    ("busy", DialStatus.BUSY, ("正在通话中", "通话中", "正忙", "占线")),
    ("voicemail", DialStatus.NO_ANSWER, ("呼叫转移", "来电提醒", "语音信箱", "提示音后", "留言", "短信的形式通知")),
    ("assistant", DialStatus.NO_ANSWER, ("智能助理", "语音助理", "助理", "秘书", "代接")),
    ("unreachable", DialStatus.CAN_NOT_CONNECT, ("无法接通", "不在服务区", "暂时无法接听")),
    # A carrier's voice whose key words were misheard (停机 as 听见): the opening gives it away.
    ("announcement", DialStatus.CAN_NOT_CONNECT, ("您拨打的", "您所拨打的")),
)
_MATCH = 88  # rapidfuzz partial-ratio on pinyin: one syllable off in a four-syllable keyword still matches


def _syllables(text: str) -> list[str]:
    from pypinyin import lazy_pinyin

    return list(lazy_pinyin(re.sub(r"[^\w]", "", text)))


def _pinyin(text: str) -> str:
    return " ".join(_syllables(text))


def _sounds_like(phrase: str, heard: list[str]) -> bool:
    """A two-character phrase said with its second syllable misheard by a letter (正盟 for 正忙), but not
    a different word that shares its first syllable (关键 is not 关机)."""
    from rapidfuzz import fuzz

    first, second = _syllables(phrase)
    return any(a == first and fuzz.ratio(b, second) >= 70 for a, b in itertools.pairwise(heard))


def classify(text: str) -> Announcement | None:
    """The announcement `text` is, if any (None: it sounds like a person)."""
    if not text.strip():
        return None
    from rapidfuzz import fuzz

    heard = _pinyin(text)
    for kind, status, phrases in ANNOUNCEMENTS:
        for phrase in phrases:
            if phrase in text:
                return Announcement(kind, status, text)
    syllables = heard.split()
    for kind, status, phrases in ANNOUNCEMENTS:
        for phrase in phrases:
            said = _pinyin(phrase)
            # partial_ratio aligns the shorter string inside the longer: a heard 你 is inside nin bo da de
            if len(phrase) >= 3 and len(heard) >= len(said) and fuzz.partial_ratio(said, heard) >= _MATCH:
                return Announcement(kind, status, text)
            if len(phrase) == 2 and _sounds_like(phrase, syllables):
                return Announcement(kind, status, text)
    return None


def find_beep(pcm: bytes, *, low_hz: float = 400.0, high_hz: float = 2000.0, min_ms: int = 150) -> int | None:
    """Where a held tone between `low_hz` and `high_hz` lasting `min_ms` starts (ms), or None.

    A frame is tonal when one spectral peak holds 80% of its energy; a beep is such frames in a row at
    the same frequency (speech never holds one pure tone that long)."""
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], "<i2").astype(np.float64)
    count = len(samples) // 160
    if count == 0:
        return None
    frames = samples[: count * 160].reshape(count, 160) * np.hanning(160)
    spectrum = np.abs(np.fft.rfft(frames, 1024, axis=1)) ** 2
    energy = spectrum.sum(axis=1)
    peak = spectrum.argmax(axis=1)
    near = np.array([spectrum[i, max(0, p - 8) : p + 9].sum() for i, p in enumerate(peak)])
    hz = peak * 8000 / 1024
    loud = energy > 1e-4 * max(1.0, float(energy.max()))
    tonal = loud & (near >= 0.8 * np.maximum(energy, 1e-12)) & (hz >= low_hz) & (hz <= high_hz)
    need = max(1, min_ms // FRAME_MS)
    run = 0
    for i in range(count):
        run = run + 1 if tonal[i] and (run == 0 or abs(int(peak[i]) - int(peak[i - 1])) <= 2) else int(tonal[i])
        if run >= need:
            return (i - run + 1) * FRAME_MS
    return None


async def screen(pcm: bytes, asr: AsrEngine, vad: VadEngine) -> Announcement | None:
    """Check a stretch of early media or answered audio: a carrier announcement, a voicemail greeting
    or beep, an assistant; None when it is none of them (a person, or nothing said)."""
    beep = find_beep(pcm)
    spans = find_speech(vad, pcm)
    text = ""
    if spans:
        # Recognise the speech only (a beep or ring-back before it confuses the ASR), with a margin.
        start = max(0, spans[0].start_ms - 200) * 16
        end = (spans[-1].end_ms + 300) * 16
        text = (await asr.transcribe(pcm[start:end])).text
    found = classify(text)
    if found is not None:
        return Announcement(found.kind, found.status, text, beep)
    if beep is not None:
        return Announcement("voicemail", DialStatus.NO_ANSWER, text, beep)
    return None
