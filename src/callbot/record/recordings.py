"""Call recordings (通话录音) on disk: which file a record's recording is, signed expiring links to it,
fragments of it, and the retention that deletes old ones.

Files live under the recordings folder (setting `recordings_dir`), named by the record's
`recording_path` (both parties) and `customer_recording_path` (the customer alone), relative to it.
A path that would leave the folder is refused, whatever the database says.

Links handed to integrators (Yiwise `fullAudioUrl`/`customerAudioUrl`, Digelao `record_url` and
fragments) need no API credentials: they carry their expiry and an HMAC of path and expiry made with
a key derived from the store's secret key, so they cannot be forged or extended, and stop working
after `LINK_TTL_S`.

Retention: with `recording_retention_days` > 0 the worker deletes files of calls that ended longer
ago, clears the record's paths and sets `recording_deleted_at`: the record keeps saying the call was
recorded and when the recording went. Deleting a task hides its records but keeps their files until
retention removes them (a deleted task's records stay in the database, like its statistics).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import logging
import time
import wave
from datetime import timedelta
from pathlib import Path

from callbot.errors import NotFound
from callbot.kit.db import Tx
from callbot.models import CallRecord
from callbot.record import repository

__all__ = [
    "LINK_TTL_S",
    "RecordingGone",
    "delete_expired",
    "fragment_wav",
    "link_valid",
    "recording_file",
    "signature",
    "yiwise_token",
]

log = logging.getLogger(__name__)
LINK_TTL_S = 86_400  # a recording link works for a day after it was handed out
PARTS = ("full", "customer")


class RecordingGone(NotFound):
    """The call was recorded, but the file is gone (retention deleted it); the message says when."""


def signature(key: str, path: str, expires: int) -> str:
    """HMAC-SHA256(key, "path:expires"), 16 hex: the `t` of a link (Digelao's scheme, used for all)."""
    return hmac.new(key.encode(), f"{path}:{expires}".encode(), hashlib.sha256).hexdigest()[:16]


def link_valid(key: str, path: str, expires: int, token: str, now: float | None = None) -> bool:
    """A link is good until its expiry, with the signature of exactly this path and expiry."""
    if not key or expires < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(signature(key, path, expires), token)


def yiwise_token(key: str, record_id: int, channel: str, now: float | None = None) -> str:
    """The `t` of a Yiwise recording link `/r/{id}/{channel}.wav`: "<expiry>.<signature>"."""
    expires = int(now if now is not None else time.time()) + LINK_TTL_S
    return f"{expires}.{signature(key, f'/r/{record_id}/{channel}.wav', expires)}"


def recording_file(folder: Path, record: CallRecord, part: str = "full") -> Path:
    """The WAV of `record` (`part` "full": both parties; "customer": the customer alone)."""
    if part not in PARTS:
        raise NotFound(f"no recording part {part!r}: use full or customer")
    if record.recording_deleted_at is not None:
        when = record.recording_deleted_at.isoformat(timespec="seconds")
        raise RecordingGone(f"the recording of call {record.id} was deleted on {when} (recording retention)")
    relative = record.recording_path if part == "full" else record.customer_recording_path
    if not relative:
        raise NotFound(f"call {record.id} has no recording" + ("" if part == "full" else " of the customer alone"))
    root = folder.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):  # a path from the database must not reach outside the folder
        raise NotFound(f"call {record.id} has no recording")
    if not path.is_file():
        raise RecordingGone(f"the recording file of call {record.id} is missing from the recordings folder")
    return path


def fragment_wav(path: Path, start_ms: int, end_ms: int) -> bytes:
    """The part of a WAV between two offsets, as a WAV of its own."""
    with wave.open(str(path), "rb") as source:
        rate = source.getframerate()
        first = min(source.getnframes(), max(0, start_ms * rate // 1000))
        last = min(source.getnframes(), max(first, end_ms * rate // 1000))
        source.setpos(first)
        frames = source.readframes(last - first)
        out = io.BytesIO()
        with wave.open(out, "wb") as target:
            target.setnchannels(source.getnchannels())
            target.setsampwidth(source.getsampwidth())
            target.setframerate(rate)
            target.writeframes(frames)
    return out.getvalue()


async def delete_expired(tx: Tx, folder: Path, days: int, *, batch: int = 500) -> int:
    """Delete the recordings of calls that ended more than `days` days ago; returns how many records
    lost theirs. The records stay, with `recording_deleted_at` set."""
    if days <= 0:
        return 0
    now = tx.now()
    cutoff = now - timedelta(days=days)
    rows = await repository.recordings_ended_before(tx, cutoff, batch)
    await asyncio.to_thread(_delete_files, folder, [p for _, *paths in rows for p in paths if p])
    if rows:
        await repository.forget_recordings(tx, [row[0] for row in rows], now)
    return len(rows)


def _delete_files(folder: Path, relatives: list[str]) -> None:
    root = folder.resolve()
    for relative in relatives:
        path = (root / relative).resolve()
        if not path.is_relative_to(root):
            continue
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:  # the record still says it is gone: the file is logged for a person to remove
            log.error("could not delete the expired recording %s: %s", path, exc)
