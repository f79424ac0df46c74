"""A SIP call with speech engines: SIPp answers the INVITE, a customer RTP stream talks to the leg's
RTP port, and the leg hears a turn through the voice channel, then a key press, then barges in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sipp_peer import Sipp, needs_sipp

from callbot.media.stream import RtpStream
from callbot.speech.espeak import EspeakTts
from callbot.speech.vad import WebRtcVad
from callbot.speech.voice import SpeechEngines
from callbot.speech.whisper import WhisperAsr
from callbot.telephony.gateway import DialRequest, DialStatus, Dtmf, Prompt, Speech
from callbot.telephony.sip.gateway import SipGateway, SipLeg

pytestmark = [needs_sipp, pytest.mark.slow]


@pytest.fixture(scope="module")
def asr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WhisperAsr]:
    engine = WhisperAsr(Path(tmp_path_factory.mktemp("models")), workers=1, threads=2)
    asyncio.run(engine.start())
    yield engine
    asyncio.run(engine.close())


@pytest.fixture
async def gateway(asr: WhisperAsr) -> AsyncIterator[SipGateway]:
    speech = SpeechEngines(asr=asr, tts=EspeakTts(), vad=WebRtcVad)
    gw = SipGateway(bind_host="127.0.0.1", sip_port=0, invite_timeout_s=4.0, speech=speech)
    yield gw
    await gw.close()


async def test_a_sip_leg_with_speech_hears_turns_keys_and_barge_in(
    gateway: SipGateway, asr: WhisperAsr, tmp_path: Path
) -> None:
    sipp = Sipp("uas_answer.xml", tmp_path)
    try:
        request = DialRequest("t1-c1-1", "02150001234", "13800138000", line_settings=sipp.line_settings())
        outcome = await gateway.dial(request)
        assert outcome.status is DialStatus.ANSWERED, outcome.reason
        leg = outcome.leg
        assert isinstance(leg, SipLeg) and leg.voice is not None
        # The customer's phone: its RTP reaches the leg's port first, so the leg latches on it.
        customer = await RtpStream.open(gateway.clock, "127.0.0.1", 0, codec=leg.audio.codec, payload_type=0)
        host, port = leg.audio.local_address
        customer.set_media((host, port), leg.audio.codec, 0, 101)
        customer.start_sending()
        tts = EspeakTts()
        customer.play_pcm(bytes(3200) + await tts.synthesize("多少钱一个月"))
        heard = await leg.listen(5.0)
        assert isinstance(heard, Speech) and "多少钱" in heard.text, heard
        assert heard.start_ms is not None and 0 < heard.start_ms < leg.offset_ms()

        customer.send_dtmf("3")
        assert await leg.listen(3.0) == Dtmf("3")

        asyncio.get_running_loop().call_later(1.0, customer.play_pcm, await tts.synthesize("你怎么知道我的电话"))
        prompt = Prompt("您好，我是小美，请问您现在方便接听电话吗？我们最近有一个优惠活动，想给您介绍一下。")
        played = await leg.play(prompt)
        assert played.status == "interrupted" and played.heard_text, played
        customer.close()
        await leg.hangup()
        assert await asyncio.to_thread(sipp.wait) == 0, sipp.errors()
    finally:
        sipp.stop()
