"""A call's recording (通话录音): both sides of the audio, frame by frame on the media clock.

The `RtpStream` taps it (the one audio interface): every 20 ms tick adds the frame the robot sent
(a prompt's frame, or silence), and every frame received from the customer is placed at the tick it
arrived in, so the two tracks stay aligned however the far end's packets bunch up. Frames are kept as
the G.711 bytes that went over the wire (tuples of plain values, which the garbage collector leaves
alone) and decoded only when the files are written, once, after the call: 16 KB per second of call.

`write` makes two 8 kHz 16-bit mono WAV files: both parties mixed, and the customer alone.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from callbot.media import g711

__all__ = ["CallRecording"]

_DECODE = {"PCMA": g711.alaw_to_pcm, "PCMU": g711.ulaw_to_pcm}
_FRAME = 160  # samples per 20 ms frame at 8 kHz
Frame = tuple[str, bytes] | None  # (codec, G.711 payload); None: nothing in that 20 ms (silence)


class CallRecording:
    def __init__(self) -> None:
        self.robot: list[Frame] = []
        self.customer: list[Frame] = []

    @property
    def seconds(self) -> float:
        return len(self.robot) * _FRAME / g711.SAMPLE_RATE

    def sent(self, codec: str, payload: bytes | None, ticks: int = 1) -> None:
        """The frame of this tick from the robot's side; `ticks` > 1 when the clock skipped ticks."""
        self.robot.extend([None] * (ticks - 1))
        self.robot.append((codec, payload) if payload is not None else None)

    def received(self, codec: str, payload: bytes) -> None:
        """A frame from the customer, placed at the current tick (or after the frames already there)."""
        gap = len(self.robot) - len(self.customer)
        if gap > 0:
            self.customer.extend([None] * gap)
        self.customer.append((codec, payload))

    def tracks(self) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.int16]]:
        """(robot, customer) as 8 kHz 16-bit samples of the same length."""
        frames = max(len(self.robot), len(self.customer))
        return _decode(self.robot, frames), _decode(self.customer, frames)

    def write(self, mixed: Path, customer: Path) -> float:
        """Write the mixed and the customer-only WAV files; returns the recording's length in seconds."""
        robot_pcm, customer_pcm = self.tracks()
        both = np.clip(robot_pcm.astype(np.int32) + customer_pcm.astype(np.int32), -32768, 32767).astype(np.int16)
        mixed.parent.mkdir(parents=True, exist_ok=True)
        _write_wav(mixed, both)
        _write_wav(customer, customer_pcm)
        return len(both) / g711.SAMPLE_RATE


def _decode(frames: list[Frame], length: int) -> npt.NDArray[np.int16]:
    pcm = np.zeros(length * _FRAME, dtype=np.int16)
    for i, frame in enumerate(frames):
        if frame is None:
            continue
        codec, payload = frame
        samples = _DECODE[codec](payload[:_FRAME])
        pcm[i * _FRAME : i * _FRAME + len(samples)] = samples
    return pcm


def _write_wav(path: Path, pcm: npt.NDArray[np.int16]) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(g711.SAMPLE_RATE)
        wav.writeframes(pcm.astype("<i2").tobytes())
