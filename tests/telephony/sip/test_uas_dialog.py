"""The UAS (inbound) call state machine, message by message, without sockets."""

from __future__ import annotations

from collections.abc import Sequence

from callbot.telephony.sip.dialog import Cancelled, DtmfReceived, Ended, MediaChanged, Send
from callbot.telephony.sip.message import SipMessage
from callbot.telephony.sip.sdp import make_offer
from callbot.telephony.sip.uas import UasCall, UasSettings

PEER = ("10.2.2.2", 5070)
OFFER = make_offer("10.2.2.2", 30000, codecs=("PCMU",)).to_bytes()
ANSWER = make_offer("10.0.0.5", 20000, codecs=("PCMU",)).to_bytes()


def _invite(branch: str = "z9hG4bKinv1", cseq: int = 7, *, body: bytes = OFFER) -> SipMessage:
    headers = [
        ("Via", f"SIP/2.0/UDP 10.2.2.2:5070;branch={branch};rport"),
        ("From", "<sip:13800138000@10.2.2.2>;tag=caller"),
        ("To", "<sip:02150001234@10.0.0.5>"),
        ("Call-ID", "in1@peer"),
        ("CSeq", f"{cseq} INVITE"),
        ("Contact", "<sip:13800138000@10.2.2.2:5070>"),
        ("Content-Type", "application/sdp"),
    ]
    return SipMessage.parse(SipMessage.request("INVITE", "sip:02150001234@10.0.0.5", headers, body).to_bytes())


def _call() -> UasCall:
    return UasCall(_invite(), UasSettings(call_id="in1@peer", local=("10.0.0.5", 5060), source=PEER))


def _in_dialog(
    method: str, cseq: int, branch: str, *, body: bytes = b"", tag: str = "caller", to_tag: str = ""
) -> SipMessage:
    headers = [
        ("Via", f"SIP/2.0/UDP 10.2.2.2:5070;branch={branch};rport"),
        ("From", f"<sip:13800138000@10.2.2.2>;tag={tag}"),
        ("To", f"<sip:02150001234@10.0.0.5>;tag={to_tag}" if to_tag else "<sip:02150001234@10.0.0.5>"),
        ("Call-ID", "in1@peer"),
        ("CSeq", f"{cseq} {method}"),
    ]
    if body:
        headers.append(("Content-Type", "application/sdp"))
    return SipMessage.parse(SipMessage.request(method, "sip:02150001234@10.0.0.5:5060", headers, body).to_bytes())


def _sent(actions: Sequence[object]) -> list[SipMessage]:
    return [a.message for a in actions if isinstance(a, Send)]


def _events(actions: Sequence[object]) -> list[object]:
    return [a for a in actions if not isinstance(a, Send)]


def test_who_calls_whom() -> None:
    call = _call()
    assert (call.caller, call.callee) == ("13800138000", "02150001234")


def test_trying_ringing_answer_and_ack() -> None:
    call = _call()
    (trying,) = _sent(call.start(0.0))
    assert trying.status == 100 and trying.to_tag() is None
    (ringing,) = _sent(call.ring(0.1))
    assert ringing.status == 180 and ringing.to_tag() == call.local_tag
    actions = call.answer(0.2, ANSWER)
    (ok,) = _sent(actions)
    assert ok.status == 200 and ok.body == ANSWER and ok.get("contact")
    assert isinstance(actions[0], Send) and actions[0].addr == PEER
    # No ACK yet: the 200 is sent again (Timer G), then the ACK stops it.
    assert _sent(call.tick(0.2 + 0.5))[0].status == 200
    call.receive(_in_dialog("ACK", 7, "z9hG4bKack", to_tag=call.local_tag), 0.8)
    assert call.state == "confirmed"
    assert call.tick(5.0) == [] and call.next_deadline is None


def test_a_retransmitted_invite_gets_the_same_response() -> None:
    call = _call()
    call.start(0.0)
    call.ring(0.1)
    (again,) = _sent(call.receive(_invite(), 0.5))
    assert again.status == 180
    call.answer(1.0, ANSWER)
    (again,) = _sent(call.receive(_invite(), 1.1))
    assert again.status == 200 and again.body == ANSWER


def test_a_200_never_acked_ends_the_call_with_bye() -> None:
    call = _call()
    call.start(0.0)
    call.answer(0.0, ANSWER)
    actions = call.tick(32.0)
    assert [m.method for m in _sent(actions)] == ["BYE"]
    assert any(isinstance(e, Ended) for e in _events(actions))


def test_reject_is_retransmitted_until_acked() -> None:
    call = _call()
    call.start(0.0)
    (busy,) = _sent(call.reject(0.0, 486))
    assert busy.status == 486 and busy.reason == "Busy Here"
    assert _sent(call.tick(0.5))[0].status == 486
    call.receive(_in_dialog("ACK", 7, "z9hG4bKinv1", to_tag=call.local_tag), 0.6)
    assert call.finished


def test_cancel_while_ringing() -> None:
    call = _call()
    call.start(0.0)
    call.ring(0.0)
    actions = call.receive(_in_dialog("CANCEL", 7, "z9hG4bKinv1"), 1.0)
    assert [m.status for m in _sent(actions)] == [200, 487]
    assert any(isinstance(e, Cancelled) for e in _events(actions))
    assert call.state == "terminated"


def test_bye_from_the_caller() -> None:
    call = _call()
    call.start(0.0)
    call.answer(0.0, ANSWER)
    call.receive(_in_dialog("ACK", 7, "z9hG4bKa"), 0.1)
    actions = call.receive(_in_dialog("BYE", 8, "z9hG4bKbye", to_tag=call.local_tag), 3.0)
    assert _sent(actions)[0].status == 200
    assert _events(actions) == [Ended("remote", "")]
    assert call.finished


def test_bye_from_callbot_goes_to_the_callers_contact_and_is_retransmitted() -> None:
    call = _call()
    call.start(0.0)
    call.answer(0.0, ANSWER)
    call.receive(_in_dialog("ACK", 7, "z9hG4bKa"), 0.1)
    actions = call.hangup(5.0)
    (bye,) = _sent(actions)
    assert bye.method == "BYE" and bye.uri == "sip:13800138000@10.2.2.2:5070"
    assert bye.from_tag() == call.local_tag and bye.to_tag() == "caller"
    assert _events(actions) == [Ended("local")]
    assert _sent(call.tick(5.5))[0].method == "BYE"
    ok = SipMessage.response_to(bye, 200)
    call.receive(SipMessage.parse(ok.to_bytes()), 5.6)
    assert call.finished


def test_reinvite_is_answered_and_its_retransmission_gets_the_same_200() -> None:
    call = _call()
    call.start(0.0)
    call.answer(0.0, ANSWER)
    new_offer = make_offer("10.2.2.3", 30002, codecs=("PCMU",)).to_bytes()
    reinvite = _in_dialog("INVITE", 8, "z9hG4bKre", body=new_offer, to_tag=call.local_tag)
    actions = call.receive(reinvite, 2.0)
    (ok,) = _sent(actions)
    assert ok.status == 200 and ok.body == ANSWER
    assert any(isinstance(e, MediaChanged) for e in _events(actions))
    (again,) = _sent(call.receive(reinvite, 2.5))
    assert again.to_bytes() == ok.to_bytes()


def test_info_dtmf_options_and_strangers() -> None:
    call = _call()
    call.start(0.0)
    call.answer(0.0, ANSWER)
    info = _in_dialog("INFO", 9, "z9hG4bKi", to_tag=call.local_tag)
    info.headers.append(("Content-Type", "application/dtmf-relay"))
    info.body = b"Signal=5\r\nDuration=160\r\n"
    actions = call.receive(SipMessage.parse(info.to_bytes()), 1.0)
    assert _events(actions) == [DtmfReceived("5")]
    assert _sent(call.receive(_in_dialog("OPTIONS", 10, "z9hG4bKo"), 1.0))[0].status == 200
    stranger = _in_dialog("BYE", 11, "z9hG4bKs", tag="someone-else", to_tag=call.local_tag)
    assert _sent(call.receive(stranger, 1.0))[0].status == 481
    assert call.state == "answered"
