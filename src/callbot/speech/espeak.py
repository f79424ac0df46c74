"""The light local TTS: espeak-ng with its Mandarin voice `cmn-latn-pinyin`, resampled to 8 kHz.

Intelligible but robotic: fine for tests, CI and placeholders; scripts for real customers should carry
recordings (`audio:`) or use a neural voice. On Debian 12 the voice is `cmn-latn-pinyin`: `-v cmn`
reads the tone digits of its own pinyin aloud as English numbers.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator

from callbot.speech.audio import read_wav, split_clauses
from callbot.speech.base import SpeechEngineUnavailable

__all__ = ["EspeakTts"]


class EspeakTts:
    """TTS engine "espeak": one espeak-ng process per clause (no state shared between calls).

    `words_per_minute` is espeak's speed at rate 1.0; the default 140 is slower than espeak's own 175,
    which phone listeners (and ASR) follow better. `voice` "default" or None is `default_voice`.
    """

    name = "espeak"

    def __init__(
        self, *, default_voice: str = "cmn-latn-pinyin", words_per_minute: int = 140, executable: str = "espeak-ng"
    ) -> None:
        found = shutil.which(executable)
        if found is None:
            raise SpeechEngineUnavailable(
                f"the espeak TTS engine needs the {executable} program: apt-get install espeak-ng "
                "(the project's setup installs it)"
            )
        self.executable = found
        self.voices = _installed_voices(found)
        if default_voice not in self.voices:
            raise SpeechEngineUnavailable(f"espeak-ng has no voice {default_voice!r}: apt-get install espeak-ng-data")
        self.default_voice = default_voice
        self.words_per_minute = words_per_minute

    async def synthesize(self, text: str, *, voice: str | None = None, rate: float = 1.0) -> bytes:
        return await self._render(text, voice, rate)

    async def stream(self, text: str, *, voice: str | None = None, rate: float = 1.0) -> AsyncIterator[bytes]:
        self._check(text, rate)
        for clause in split_clauses(text):
            yield await self._render(clause, voice, rate)

    async def close(self) -> None:
        return None

    def _check(self, text: str, rate: float) -> None:
        if not text.strip():
            raise ValueError("TTS text is empty")
        if not 0.5 <= rate <= 2.0:
            raise ValueError(f"speaking rate must be between 0.5 and 2.0, got {rate}")

    async def _render(self, text: str, voice: str | None, rate: float) -> bytes:
        self._check(text, rate)
        chosen = self.default_voice if voice in (None, "", "default") else str(voice)
        if chosen not in self.voices:
            raise ValueError(f"espeak-ng has no voice {chosen!r} (a script's settings.voice, or 'default')")
        process = await asyncio.create_subprocess_exec(
            self.executable,
            "-v",
            chosen,
            "-s",
            str(round(self.words_per_minute * rate)),
            "--stdout",
            "--",
            text,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        wav, error = await process.communicate()
        if process.returncode != 0 or not wav:
            message = error.decode(errors="replace").strip() or f"exit status {process.returncode}"
            raise ValueError(f"espeak-ng could not speak with voice {chosen!r}: {message}")
        return await asyncio.to_thread(read_wav, wav)


def _installed_voices(executable: str) -> frozenset[str]:
    """The names `-v` accepts: each voice's language, name and file (espeak-ng quietly falls back to
    English for any other name, so an unknown voice is caught here instead)."""
    listing = subprocess.run([executable, "--voices"], capture_output=True, text=True, check=True, timeout=10).stdout
    names: set[str] = set()
    for line in listing.splitlines()[1:]:
        columns = line.split()
        if len(columns) >= 5:
            names.update((columns[1], columns[3], columns[4]))
    return frozenset(names)
