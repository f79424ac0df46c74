"""SDP offer/answer: callbot's offer byte for byte, answers that pick a common codec, 488 material."""

from __future__ import annotations

import pytest

from callbot.telephony.sip.sdp import NoCommonCodec, SessionDescription, answer_offer, make_offer, read_answer

# What SIPp's stock uac scenario offers (PCMU only, no telephone-event).
SIPP_OFFER = (
    b"v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    b"m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)


def test_callbots_offer_byte_for_byte() -> None:
    offer = make_offer("10.0.0.5", 20000, codecs=("PCMA", "PCMU"), session_id=7, version=1)
    assert offer.to_bytes() == (
        b"v=0\r\n"
        b"o=callbot 7 1 IN IP4 10.0.0.5\r\n"
        b"s=-\r\n"
        b"c=IN IP4 10.0.0.5\r\n"
        b"t=0 0\r\n"
        b"m=audio 20000 RTP/AVP 8 0 101\r\n"
        b"a=rtpmap:8 PCMA/8000\r\n"
        b"a=rtpmap:0 PCMU/8000\r\n"
        b"a=rtpmap:101 telephone-event/8000\r\n"
        b"a=fmtp:101 0-16\r\n"
        b"a=ptime:20\r\n"
        b"a=sendrecv\r\n"
    )
    assert SessionDescription.parse(offer.to_bytes()).to_bytes() == offer.to_bytes()


def test_an_answer_takes_the_offerers_first_common_codec() -> None:
    answer, media = answer_offer(SessionDescription.parse(SIPP_OFFER), "127.0.0.1", 30000, codecs=("PCMA", "PCMU"))
    assert (media.codec, media.payload_type, media.dtmf_payload_type, media.remote) == (
        "PCMU",
        0,
        None,
        ("127.0.0.1", 6000),
    )
    assert b"m=audio 30000 RTP/AVP 0\r\n" in answer.to_bytes()


def test_telephone_event_is_answered_with_the_offerers_payload_type() -> None:
    offer = make_offer("127.0.0.1", 6000).to_bytes().replace(b"101", b"96")
    _, media = answer_offer(SessionDescription.parse(offer), "127.0.0.1", 30000)
    assert (media.codec, media.dtmf_payload_type) == ("PCMA", 96)


def test_no_common_codec_is_named() -> None:
    g729 = SIPP_OFFER.replace(b"RTP/AVP 0", b"RTP/AVP 18").replace(b"0 PCMU", b"18 G729")
    with pytest.raises(NoCommonCodec, match=r"offered \['G729'\]"):
        answer_offer(SessionDescription.parse(g729), "127.0.0.1", 30000)


def test_reading_an_answer_to_our_offer() -> None:
    offer = make_offer("127.0.0.1", 20000, codecs=("PCMU", "PCMA"))
    media = read_answer(offer, SessionDescription.parse(SIPP_OFFER))
    assert (media.codec, media.remote) == ("PCMU", ("127.0.0.1", 6000))
    with pytest.raises(NoCommonCodec):
        read_answer(make_offer("127.0.0.1", 20000, codecs=("PCMA",)), SessionDescription.parse(SIPP_OFFER))


@pytest.mark.parametrize(
    ("raw", "message"),
    [(b"o=x\r\n", "must start with v="), (b"v=0\r\nbad\r\n", "malformed SDP line"), (b"v=0\r\ns=-\r\n", "no o= line")],
)
def test_broken_sdp_is_refused(raw: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SessionDescription.parse(raw)
