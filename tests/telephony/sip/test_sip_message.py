"""SIP messages: parsed and serialised byte for byte; broken ones refused with the reason."""

from __future__ import annotations

import pytest

from callbot.telephony.sip.message import NameAddress, SipMessage, SipUri, Via

INVITE = (
    b"INVITE sip:13800138000@127.0.0.1:5070 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK776asdhds;rport\r\n"
    b"Max-Forwards: 70\r\n"
    b'From: "Robot" <sip:02150001234@127.0.0.1>;tag=1928301774\r\n'
    b"To: <sip:13800138000@127.0.0.1:5070>\r\n"
    b"Call-ID: a84b4c76e66710@127.0.0.1\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Contact: <sip:02150001234@127.0.0.1:5060>\r\n"
    b"Content-Type: application/sdp\r\n"
    b"Content-Length: 4\r\n"
    b"\r\n"
    b"v=0\n"
)

RINGING = (
    b"SIP/2.0 180 Ringing\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK776asdhds;rport=5060;received=127.0.0.1\r\n"
    b'From: "Robot" <sip:02150001234@127.0.0.1>;tag=1928301774\r\n'
    b"To: <sip:13800138000@127.0.0.1:5070>;tag=a6c85cf\r\n"
    b"Call-ID: a84b4c76e66710@127.0.0.1\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)


@pytest.mark.parametrize("raw", [INVITE, RINGING])
def test_canonical_messages_round_trip_byte_for_byte(raw: bytes) -> None:
    assert SipMessage.parse(raw).to_bytes() == raw


def test_a_request_reads_like_rfc_3261() -> None:
    invite = SipMessage.parse(INVITE)
    assert (invite.method, invite.uri, invite.call_id) == (
        "INVITE",
        "sip:13800138000@127.0.0.1:5070",
        "a84b4c76e66710@127.0.0.1",
    )
    assert invite.cseq() == (314159, "INVITE")
    assert invite.from_tag() == "1928301774" and invite.to_tag() is None
    assert invite.top_via().branch == "z9hG4bK776asdhds"
    assert invite.body == b"v=0\n" and invite.content_type == "application/sdp"


def test_a_response_keeps_its_code_reason_and_tags() -> None:
    ringing = SipMessage.parse(RINGING)
    assert (ringing.status, ringing.reason, ringing.to_tag()) == (180, "Ringing", "a6c85cf")
    via = ringing.top_via()
    assert via.params["received"] == "127.0.0.1" and via.params["rport"] == "5060"


def test_compact_names_folded_lines_and_lists_are_understood() -> None:
    raw = (
        b"BYE sip:a@b SIP/2.0\n"
        b"v: SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/UDP g;branch=z9hG4bK2\n"
        b"f: <sip:x@y>;tag=1\nt: <sip:a@b>;tag=2\ni: abc\nCSeq: 2\n BYE\nl: 0\n\n"
    )
    bye = SipMessage.parse(raw)
    assert bye.cseq() == (2, "BYE") and bye.call_id == "abc"
    assert [Via.parse(v).branch for v in bye.get_all("via")] == ["z9hG4bK1", "z9hG4bK2"]


def test_response_to_copies_the_transaction_headers_and_adds_the_to_tag() -> None:
    response = SipMessage.response_to(SipMessage.parse(INVITE), 486, to_tag="xyz")
    assert response.to_bytes() == (
        b"SIP/2.0 486 Busy Here\r\n"
        b"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK776asdhds;rport\r\n"
        b'From: "Robot" <sip:02150001234@127.0.0.1>;tag=1928301774\r\n'
        b"To: <sip:13800138000@127.0.0.1:5070>;tag=xyz\r\n"
        b"Call-ID: a84b4c76e66710@127.0.0.1\r\n"
        b"CSeq: 314159 INVITE\r\n"
        b"Content-Length: 0\r\n"
        b"\r\n"
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"INVITE sip:a@b SIP/2.0\r\nVia: x\r\n", "no blank line"),
        (b"HELLO\r\n\r\n", "malformed SIP start line"),
        (b"SIP/2.0 99 Odd\r\n\r\n", "malformed SIP status line"),
        (INVITE.replace(b"Max-Forwards: 70", b"Max Forwards 70"), "malformed SIP header line"),
        (INVITE.replace(b"Content-Length: 4", b"Content-Length: 400"), "body truncated"),
        (INVITE.replace(b"Content-Length: 4", b"Content-Length: four"), "malformed Content-Length"),
        (INVITE.replace(b"Call-ID: a84b4c76e66710@127.0.0.1\r\n", b""), "no Call-Id header"),
        (INVITE.replace(b"CSeq: 314159 INVITE", b"CSeq: x"), "malformed CSeq"),
        (b"\xff\xfe INVITE\r\n\r\n", "not UTF-8"),
        (b"x" * 70_000, "too long"),
    ],
)
def test_broken_messages_are_refused_with_the_reason(raw: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SipMessage.parse(raw)


def test_addresses_and_uris() -> None:
    address = NameAddress.parse('"客服" <sip:4001@pbx.example.com:5080;transport=udp>;tag=77')
    assert (address.display, address.params) == ("客服", {"tag": "77"})
    uri = SipUri.parse(address.uri)
    assert (uri.user, uri.host, uri.port, dict(uri.params)) == ("4001", "pbx.example.com", 5080, {"transport": "udp"})
    assert str(uri) == "sip:4001@pbx.example.com:5080;transport=udp"
    assert NameAddress.parse("sip:a@b;tag=1").params == {"tag": "1"}
    with pytest.raises(ValueError, match="not a SIP URI"):
        SipUri.parse("http://example.com")
    with pytest.raises(ValueError, match="bad port"):
        SipUri.parse("sip:a@b:99999")
