"""Prompts rendered once: the fixed text of a script is synthesised the first time it is needed (or
when `warm` is called before calls are placed) and reused for every call after that.

Kept in memory and, when a folder is given, on disk as raw 8 kHz PCM, so a restart does not render again.
Prompts with customer variables (`{name}`) are per call: render them before dialling, or stream them.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

from callbot.speech.audio import split_clauses
from callbot.speech.base import TtsEngine

__all__ = ["PromptCache", "has_variables"]

_VARIABLE = re.compile(r"\{[^{}]+\}")


def has_variables(text: str) -> bool:
    """True when `text` still holds a `{variable}` of the script, so it cannot be rendered ahead."""
    return bool(_VARIABLE.search(text))


class PromptCache:
    """Synthesised prompts by (engine, voice, rate, text). Holds up to `max_items` in memory (least
    recently used go first); `folder` keeps every render on disk. Concurrent requests for the same
    prompt share one synthesis."""

    def __init__(self, tts: TtsEngine, folder: Path | None = None, *, max_items: int = 512) -> None:
        self.tts = tts
        self.folder = folder
        self.max_items = max_items
        self.renders = 0  # syntheses actually run (the rest were hits)
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._pending: dict[str, asyncio.Future[bytes]] = {}

    def key(self, text: str, voice: str | None, rate: float) -> str:
        material = f"{self.tts.name}\x00{voice or 'default'}\x00{rate:.3f}\x00{text}"
        return hashlib.sha256(material.encode()).hexdigest()[:32]

    async def render(self, text: str, *, voice: str | None = None, rate: float = 1.0) -> bytes:
        """The prompt's 8 kHz PCM, synthesised at most once. ValueError for text with variables left in."""
        if has_variables(text):
            raise ValueError(f"prompt still has variables, render it per call: {text!r}")
        key = self.key(text, voice, rate)
        if key in self._memory:
            self._memory.move_to_end(key)
            return self._memory[key]
        if key in self._pending:
            return await asyncio.shield(self._pending[key])
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            pcm = await self._load(key)
            if pcm is None:
                pcm = await self.tts.synthesize(text, voice=voice, rate=rate)
                self.renders += 1
                await self._save(key, pcm)
            self._remember(key, pcm)
            future.set_result(pcm)
            return pcm
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else must log it
            raise
        finally:
            del self._pending[key]

    def peek(self, text: str, *, voice: str | None = None, rate: float = 1.0) -> bytes | None:
        """The prompt's PCM if it is in memory, else None (never synthesises)."""
        pcm = self._memory.get(self.key(text, voice, rate))
        return pcm

    async def warm(
        self, texts: Iterable[str], *, voice: str | None = None, rate: float = 1.0, by_clause: bool = False
    ) -> int:
        """Render every fixed text of `texts` (those with variables are skipped). Returns how many.

        `by_clause`: render each clause on its own (what a voice channel plays clause by clause), so the
        fixed clauses of a prompt with variables are ready too and only the clause with a variable waits."""
        if by_clause:
            texts = [clause for text in texts for clause in split_clauses(text)]
        fixed = [text for text in dict.fromkeys(texts) if text.strip() and not has_variables(text)]
        for text in fixed:
            await self.render(text, voice=voice, rate=rate)
        return len(fixed)

    def _remember(self, key: str, pcm: bytes) -> None:
        self._memory[key] = pcm
        self._memory.move_to_end(key)
        while len(self._memory) > self.max_items:
            self._memory.popitem(last=False)

    async def _load(self, key: str) -> bytes | None:
        if self.folder is None:
            return None
        path = self.folder / f"{key}.pcm"
        return await asyncio.to_thread(lambda: path.read_bytes() if path.is_file() else None)

    async def _save(self, key: str, pcm: bytes) -> None:
        if self.folder is None:
            return
        folder = self.folder

        def write() -> None:
            folder.mkdir(parents=True, exist_ok=True)
            partial = folder / f".{key}.{os.getpid()}.tmp"
            partial.write_bytes(pcm)
            partial.replace(folder / f"{key}.pcm")

        await asyncio.to_thread(write)
