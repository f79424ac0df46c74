"""RTP packets and RFC 4733 DTMF, byte for byte."""

from __future__ import annotations

import pytest

from callbot.media.dtmf import DtmfEvent, DtmfReceiver, dtmf_packets, parse_dtmf_info
from callbot.media.rtp import RtpPacket

# A PCMA packet as SIPp's g711a.pcap carries it: V=2, PT 8, seq 0x1234, ts 0x000a0000, SSRC 0xdeadbeef.
CAPTURED = bytes.fromhex("80081234000a0000deadbeef") + b"\xd5" * 160


def test_a_captured_packet_parses_and_serialises_to_the_same_bytes() -> None:
    packet = RtpPacket.parse(CAPTURED)
    assert (packet.payload_type, packet.sequence, packet.timestamp, packet.ssrc) == (8, 0x1234, 0xA0000, 0xDEADBEEF)
    assert not packet.marker and packet.payload == b"\xd5" * 160
    assert packet.to_bytes() == CAPTURED


def test_marker_csrc_extension_and_padding_are_understood() -> None:
    raw = (
        bytes.fromhex("b1e500010000001000000001")  # V2 P X CC=1, M, PT 101
        + bytes.fromhex("00000002")  # CSRC
        + bytes.fromhex("bede000111223344")  # one-word extension
        + b"\x01\x8a\x03\x20"  # telephone-event "1", end, volume 10, duration 800
        + b"\x00\x00\x03"  # padding of 3
    )
    packet = RtpPacket.parse(raw)
    assert packet.marker and packet.payload_type == 101 and packet.csrc == (2,)
    assert packet.extension == (0xBEDE, bytes.fromhex("11223344"))
    assert DtmfEvent.parse(packet.payload) == DtmfEvent("1", end=True, volume=10, duration=800)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\x80\x08\x00", "too short"),
        (b"\x40" + bytes(11), "version must be 2"),
        (b"\x8f" + bytes(11), "CSRC"),
        (b"\x90" + bytes(11) + b"\x00\x00\x00\x05", "extension"),
        (b"\xa0" + bytes(11) + b"\x09", "padding"),
        (b"\x80\x08" + bytes(1600), "too long"),
    ],
)
def test_broken_packets_are_refused_with_a_reason(raw: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RtpPacket.parse(raw)


def test_a_key_press_is_updates_then_three_end_packets_with_the_marker_on_the_first() -> None:
    packets = dtmf_packets("5", duration_ms=100)
    assert [p.hex() for p, _ in packets] == [
        "050a00a0",
        "050a0140",
        "050a01e0",
        "050a0280",
        "058a0320",
        "058a0320",
        "058a0320",
    ]
    assert [m for _, m in packets] == [True] + [False] * 6


def test_the_receiver_reports_each_event_once() -> None:
    receiver = DtmfReceiver()
    digits = [receiver.receive(1000, p) for p, _ in dtmf_packets("#")]
    digits += [receiver.receive(2000, p) for p, _ in dtmf_packets("3")]
    assert [d for d in digits if d] == ["#", "3"]
    with pytest.raises(ValueError, match="not a DTMF digit"):
        receiver.receive(3000, b"\x20\x0a\x00\xa0")


def test_sip_info_bodies() -> None:
    assert parse_dtmf_info("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n") == "5"
    assert parse_dtmf_info("application/dtmf-relay", b"Signal=11\r\n") == "#"
    assert parse_dtmf_info("application/dtmf", b"*") == "*"
    assert parse_dtmf_info("text/plain", b"5") is None
    assert parse_dtmf_info("application/dtmf-relay", b"Duration=160") is None
