"""The talking customer against the robot's voice channel over two RTP streams: it waits for the robot
to finish, says its scripted replies with TTS audio, presses keys, barges in, and hangs up."""

from __future__ import annotations

import asyncio

import pytest
from phone_line import cer
from rtp_pair import rtp_pair
from voice_clips import CLIPS, ClipVoice

from callbot.speech.espeak import EspeakTts
from callbot.speech.talking_customer import TalkingCustomer
from callbot.speech.vad import WebRtcVad
from callbot.speech.voice import VoiceChannel
from callbot.speech.whisper import WhisperAsr
from callbot.telephony.gateway import Dtmf, Prompt, Speech
from callbot.telephony.sim.customer import ScriptedCustomer

pytestmark = pytest.mark.slow


async def test_a_scripted_customer_talks_presses_a_key_barges_in_and_hangs_up(
    clips: dict[str, bytes], asr: WhisperAsr, tts: EspeakTts
) -> None:
    replies = f"{CLIPS['question']}|/dtmf 1|/barge {CLIPS['refuse']}"
    async with rtp_pair(record=False) as line:
        robot = VoiceChannel(line.robot, asr=asr, tts=tts, vad=WebRtcVad())
        robot.start()
        customer = TalkingCustomer(ClipVoice(clips), WebRtcVad, think_s=0.2)
        talking = asyncio.ensure_future(customer.converse(line.customer, ScriptedCustomer.parse(replies)))

        assert (await robot.play(Prompt("您好，请问现在方便吗？"))).status == "completed"
        heard = await robot.listen(10.0)
        assert isinstance(heard, Speech) and cer(CLIPS["question"], heard.text) <= 0.3, heard

        assert (await robot.play(Prompt("每个月九十九元。"))).status == "completed"
        assert await robot.listen(10.0) == Dtmf("1")

        long_prompt = "好的，我再给您介绍一下我们的会员权益，包括免费送货，专属客服，还有生日礼包。"
        played = await robot.play(Prompt(long_prompt))
        assert played.status == "interrupted" and cer(CLIPS["refuse"], played.heard_text) <= 0.4, played

        assert (await robot.play(Prompt("好的，不打扰您了，再见。"))).status == "completed"
        await asyncio.wait_for(talking, 15)  # the replies ran out: the customer hangs up
        assert customer.stats.ended_by == "customer"
        assert (customer.stats.said, customer.stats.keys, customer.stats.barged) == (2, 1, 1)
        await robot.close()


async def test_the_customer_leaves_when_the_robot_hangs_up(clips: dict[str, bytes], tts: EspeakTts) -> None:
    async with rtp_pair(record=False) as line:
        customer = TalkingCustomer(ClipVoice(clips), WebRtcVad)
        talking = asyncio.ensure_future(customer.converse(line.customer, ScriptedCustomer.parse(CLIPS["question"])))
        line.robot.play_pcm(await tts.synthesize("再见"))
        await asyncio.sleep(0.5)
        line.customer.close()  # the BYE closed the customer's stream
        await asyncio.wait_for(talking, 5)
        assert customer.stats.ended_by == "robot"
