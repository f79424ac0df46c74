"""A call's recording keeps the two sides aligned on the media clock and writes two 8 kHz WAV files."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from callbot.media import g711
from callbot.media.recording import CallRecording


def test_customer_frames_land_at_the_tick_they_arrived_in(tmp_path: Path) -> None:
    loud = g711.pcm_to_alaw(np.full(160, 8000, dtype=np.int16))
    quiet = g711.pcm_to_alaw(np.zeros(160, dtype=np.int16))
    recording = CallRecording()
    for _ in range(5):
        recording.sent("PCMA", quiet)
    recording.received("PCMA", loud)  # arrives in tick 5
    recording.received("PCMA", loud)  # a second packet in the same tick follows it
    recording.sent("PCMA", None, ticks=3)  # a DTMF tick after two skipped ones
    robot, customer = recording.tracks()
    assert len(robot) == len(customer) == 8 * 160
    assert recording.seconds == 8 * 0.02
    loud_frames = [i for i in range(8) if np.abs(customer[i * 160 : (i + 1) * 160]).mean() > 4000]
    assert loud_frames == [5, 6]

    length = recording.write(tmp_path / "d" / "m.wav", tmp_path / "d" / "c.wav")
    assert length == 0.16
    with wave.open(str(tmp_path / "d" / "m.wav"), "rb") as wav:
        assert (wav.getframerate(), wav.getsampwidth(), wav.getnchannels(), wav.getnframes()) == (8000, 2, 1, 1280)
