"""Stable pseudo-random draws keyed by text, so a sim call is the same on every run and in every process.

Python's `hash()` is salted per process, so it must not choose anything here.
"""

from __future__ import annotations

import hashlib
import random


def unit(*key: object) -> float:
    """A number in [0, 1) that depends only on `key`."""
    digest = hashlib.blake2b("\x1f".join(map(str, key)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def rng(*key: object) -> random.Random:
    """A generator seeded only by `key` (for several draws from one key)."""
    digest = hashlib.blake2b("\x1f".join(map(str, key)).encode(), digest_size=16).digest()
    return random.Random(int.from_bytes(digest, "big"))
