"""A whole campaign over real SIP, RTP and audio on loopback (`callbot demo --sip --voice`): the robot
speaks with TTS and hears with Whisper, our SIP customer answers with a talking customer whose
`sim_replies` are said with TTS, and the call ends where the script says, with the customer's words in
the transcript and both recordings audible."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
from voice_clips import CLIPS, ClipVoice

from callbot.cli.demo_sip import run_sip_demo
from callbot.config import Settings
from callbot.speech.espeak import EspeakTts
from callbot.speech.vad import WebRtcVad
from callbot.speech.voice import SpeechEngines
from callbot.speech.whisper import WhisperAsr

pytestmark = pytest.mark.slow

# The credit-card script (the demo's): a spoken yes, a key for "apply", a key for the term: agree_end, level A.
REPLIES = f"{CLIPS['interested']}|/dtmf 1|/dtmf 2"
PROPERTIES = {"bank": "招商银行", "amount": "3200", "sim_result": "ANSWERED", "sim_replies": REPLIES}


def _loudness(path: Path) -> float:
    with wave.open(str(path)) as wav:
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(pcm**2)))


async def test_a_campaign_over_sip_with_speech_on_both_sides(
    asr: WhisperAsr, tts: EspeakTts, clips: dict[str, bytes], tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, database_url="")
    # The robot speaks fast (the test's time is mostly its prompts); the customer says its reply with the
    # session's clip (the neural voice when its environment is there, which Whisper hears best).
    speech = SpeechEngines(asr=asr, tts=tts, vad=WebRtcVad, rate=2.0)
    customers = [("13800000201", "王先生", PROPERTIES)]
    [call] = await run_sip_demo(settings, speech=speech, customers=customers, customer_tts=ClipVoice(clips))

    assert (call["result"], call["end_reason"], call["level"]) == ("ANSWERED", "hangup", "A"), call
    robot = [turn["node"] for turn in call["transcript"] if turn["speaker"] == "ROBOT"]
    assert robot == ["opening", "intro", "choose_term", "agree_end"], call["transcript"]
    person = [turn for turn in call["transcript"] if turn["speaker"] == "PERSON"]
    assert [turn["intent"] for turn in person[:1]] == ["affirm"], person
    # "可以" is heard from either voice (espeak-ng's "你说吧" often is not)
    assert "可以" in person[0]["text"] and [t["text"] for t in person[1:]] == ["[按键 1]", "[按键 2]"], person
    assert _loudness(Path(call["recording"])) > 300
    assert _loudness(Path(call["customer_recording"])) > 300
