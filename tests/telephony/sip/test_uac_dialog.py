"""The UAC call state machine, message by message, without sockets."""

from __future__ import annotations

from collections.abc import Sequence

from callbot.telephony.sip.auth import DigestCredentials
from callbot.telephony.sip.dialog import (
    Answered,
    Cancelled,
    DtmfReceived,
    Ended,
    MediaChanged,
    Progress,
    ReferAnswered,
    Rejected,
    Send,
    TransferProgress,
    UacCall,
    UacSettings,
)
from callbot.telephony.sip.message import SipMessage
from callbot.telephony.sip.sdp import make_offer

TRUNK = ("10.1.1.1", 5060)
SDP = make_offer("10.1.1.9", 40000, codecs=("PCMA",)).to_bytes()


def _call(**overrides: object) -> UacCall:
    settings = {
        "call_id": "c1@callbot",
        "local": ("10.0.0.5", 5062),
        "destination": TRUNK,
        "request_uri": "sip:13800138000@10.1.1.1",
        "from_uri": "sip:02150001234@10.0.0.5",
        "to_uri": "sip:13800138000@10.1.1.1",
        "invite_timeout_s": 32.0,
    }
    settings.update(overrides)
    return UacCall(UacSettings(**settings), make_offer("10.0.0.5", 20000).to_bytes())  # type: ignore[arg-type]


def _sent(actions: Sequence[object]) -> list[SipMessage]:
    return [a.message for a in actions if isinstance(a, Send)]


def _events(actions: Sequence[object]) -> list[object]:
    return [a for a in actions if not isinstance(a, Send)]


def _response(
    request: SipMessage, status: int, *, tag: str | None = "far", body: bytes = b"", **headers: str
) -> SipMessage:
    response = SipMessage.response_to(request, status, to_tag=tag)
    for name, value in headers.items():
        response.headers.append((name.replace("_", "-"), value))
    if body:
        response.headers.append(("Content-Type", "application/sdp"))
        response.body = body
    return SipMessage.parse(response.to_bytes())


def _request(
    method: str, call: UacCall, cseq: int, *, body: bytes = b"", content_type: str = "application/sdp"
) -> SipMessage:
    headers = [
        ("Via", "SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bKfar" + str(cseq)),
        ("From", f"<sip:13800138000@10.1.1.1>;tag={call.remote_tag}"),
        ("To", f"<sip:02150001234@10.0.0.5>;tag={call.local_tag}"),
        ("Call-ID", call.settings.call_id),
        ("CSeq", f"{cseq} {method}"),
    ]
    if body:
        headers.append(("Content-Type", content_type))
    return SipMessage.parse(SipMessage.request(method, "sip:02150001234@10.0.0.5:5062", headers, body).to_bytes())


def _answered(call: UacCall) -> SipMessage:
    invite = _sent(call.start(0.0))[0]
    call.receive(_response(invite, 180), 0.1)
    call.receive(_response(invite, 200, body=SDP, Contact="<sip:callee@10.1.1.2:5060>"), 0.2)
    return invite


def test_invite_ringing_answer_ack() -> None:
    call = _call(asserted_identity="<sip:02150001234@10.1.1.1>")
    invite = _sent(call.start(0.0))[0]
    assert invite.method == "INVITE" and invite.uri == "sip:13800138000@10.1.1.1"
    assert invite.get("P-Asserted-Identity") == "<sip:02150001234@10.1.1.1>"
    assert invite.top_via().host == "10.0.0.5" and invite.top_via().branch.startswith("z9hG4bK")
    assert _events(call.receive(_response(invite, 100, tag=None), 0.05)) == []
    progress = _events(call.receive(_response(invite, 183, body=SDP), 0.1))
    assert isinstance(progress[0], Progress) and progress[0].sdp is not None  # early media
    actions = call.receive(_response(invite, 200, body=SDP, Contact="<sip:callee@10.1.1.2:5060>"), 0.2)
    ack = _sent(actions)[0]
    assert (ack.method, ack.uri, ack.cseq()) == ("ACK", "sip:callee@10.1.1.2:5060", (1, "ACK"))
    assert ack.to_tag() == "far" and ack.top_via().branch != invite.top_via().branch  # a 2xx ACK is its own transaction
    assert isinstance(_events(actions)[0], Answered) and call.state == "confirmed"


def test_invite_is_retransmitted_until_a_response_and_times_out_without_one() -> None:
    call = _call(invite_timeout_s=5.0)
    call.start(0.0)
    times = []
    now = 0.0
    while call.next_deadline is not None and now < 10:
        now = call.next_deadline
        actions = call.tick(now)
        if _sent(actions):
            times.append(now)
        if _events(actions):
            break
    assert times == [0.5, 1.5, 3.5]  # Timer A doubles from T1
    assert _events(actions) == [Rejected(408, "No answer to INVITE", timeout=True)] and now == 5.0


def test_a_retransmitted_200_is_acked_again() -> None:
    call = _call()
    invite = _answered(call)
    again = call.receive(_response(invite, 200, body=SDP, Contact="<sip:callee@10.1.1.2:5060>"), 0.7)
    assert [m.method for m in _sent(again)] == ["ACK"] and _events(again) == []


def test_a_failure_is_acked_in_its_transaction_and_reported() -> None:
    call = _call()
    invite = _sent(call.start(0.0))[0]
    actions = call.receive(_response(invite, 486), 0.1)
    ack = _sent(actions)[0]
    assert ack.method == "ACK" and ack.top_via().branch == invite.top_via().branch and ack.to_tag() == "far"
    assert _events(actions) == [Rejected(486, "Busy Here")] and call.finished


def test_a_401_is_answered_once_with_credentials_then_refused_credentials_are_final() -> None:
    call = _call(credentials=DigestCredentials("robot", "pw"))
    invite = _sent(call.start(0.0))[0]
    challenge = 'Digest realm="trunk", nonce="n1", qop="auth"'
    actions = call.receive(_response(invite, 401, WWW_Authenticate=challenge), 0.1)
    ack, retry = _sent(actions)
    assert ack.method == "ACK" and retry.method == "INVITE" and retry.cseq() == (2, "INVITE")
    assert retry.call_id == invite.call_id and retry.from_tag() == invite.from_tag()
    assert 'username="robot"' in (retry.get("Authorization") or "")
    refused = call.receive(_response(retry, 401, WWW_Authenticate=challenge.replace("n1", "n2")), 0.2)
    assert _events(refused) == [Rejected(401, "Unauthorized")]


def test_without_credentials_a_407_is_final() -> None:
    call = _call()
    invite = _sent(call.start(0.0))[0]
    actions = call.receive(_response(invite, 407, Proxy_Authenticate='Digest realm="p", nonce="x"'), 0.1)
    assert _events(actions) == [Rejected(407, "Proxy Authentication Required")]


def test_cancel_waits_for_a_provisional_response_then_487_settles_it() -> None:
    call = _call()
    invite = _sent(call.start(0.0))[0]
    assert call.cancel(1.0) == []  # nothing heard yet: CANCEL may not be sent (RFC 3261 §9.1)
    actions = call.receive(_response(invite, 180), 1.2)
    cancel = _sent(actions)[0]
    assert cancel.method == "CANCEL" and cancel.top_via().branch == invite.top_via().branch
    assert cancel.cseq() == (1, "CANCEL") and cancel.uri == invite.uri
    call.receive(_response(cancel, 200), 1.3)
    done = call.receive(_response(invite, 487), 1.4)
    assert [m.method for m in _sent(done)] == ["ACK"] and _events(done) == [Cancelled()]


def test_a_200_crossing_the_cancel_is_acked_and_hung_up() -> None:
    call = _call()
    invite = _sent(call.start(0.0))[0]
    call.receive(_response(invite, 180), 0.1)
    call.cancel(0.5)
    actions = call.receive(_response(invite, 200, body=SDP, Contact="<sip:callee@10.1.1.2>"), 0.6)
    assert [m.method for m in _sent(actions)] == ["ACK", "BYE"]
    assert Cancelled() in _events(actions)


def test_bye_is_sent_and_retransmitted_until_answered() -> None:
    call = _call()
    _answered(call)
    actions = call.hangup(1.0)
    bye = _sent(actions)[0]
    assert bye.method == "BYE" and bye.cseq() == (2, "BYE") and _events(actions) == [Ended("local")]
    assert [m.method for m in _sent(call.tick(1.5))] == ["BYE"]
    call.receive(_response(bye, 200), 1.6)
    assert call.finished


def test_in_dialog_requests_are_answered_without_dropping_the_call() -> None:
    call = _call()
    _answered(call)
    reinvite = call.receive(_request("INVITE", call, 2, body=SDP), 2.0)
    ok = _sent(reinvite)[0]
    assert ok.status == 200 and ok.body == call.local_sdp and ok.get("Contact")
    assert isinstance(_events(reinvite)[0], MediaChanged) and call.state == "confirmed"
    update = call.receive(_request("UPDATE", call, 3), 2.1)
    assert _sent(update)[0].status == 200 and _sent(update)[0].body == b""
    info = call.receive(_request("INFO", call, 4, body=b"Signal=9\r\n", content_type="application/dtmf-relay"), 2.2)
    assert _sent(info)[0].status == 200 and _events(info) == [DtmfReceived("9")]
    options = call.receive(_request("OPTIONS", call, 5), 2.3)
    assert _sent(options)[0].status == 200 and "INVITE" in (_sent(options)[0].get("Allow") or "")
    assert _sent(call.receive(_request("SUBSCRIBE", call, 6), 2.4))[0].status == 501
    bye = call.receive(_request("BYE", call, 7), 3.0)
    assert _sent(bye)[0].status == 200 and _events(bye) == [Ended("remote", "")]
    assert _sent(call.receive(_request("INFO", call, 8), 3.1))[0].status == 481


def test_refer_asks_the_far_end_to_transfer_and_its_answer_and_notify_are_events() -> None:
    call = _call()
    _answered(call)
    (refer,) = _sent(call.refer(1.0, "sip:8001@10.1.1.1"))
    assert refer.method == "REFER" and refer.get("Refer-To") == "<sip:8001@10.1.1.1>"
    assert refer.uri == "sip:callee@10.1.1.2:5060" and refer.to_tag() == "far"
    assert _events(call.receive(_response(refer, 202), 1.1)) == [ReferAnswered(202, "Accepted")]
    notify = _request("NOTIFY", call, 5, body=b"SIP/2.0 180 Ringing\r\n", content_type="message/sipfrag")
    notify.headers.insert(-1, ("Event", "refer"))
    actions = call.receive(SipMessage.parse(notify.to_bytes()), 1.2)
    assert _sent(actions)[0].status == 200 and _events(actions) == [TransferProgress(180)]


def test_a_refer_nobody_answers_is_reported_as_408() -> None:
    call = _call()
    _answered(call)
    call.refer(1.0, "sip:8001@10.1.1.1")
    events: list[object] = []
    now = 1.0
    while call.next_deadline is not None and not events:
        now = call.next_deadline
        events = _events(call.tick(now))
    assert events == [ReferAnswered(408, "no answer to REFER")] and now == 1.0 + 32.0


def test_a_retransmitted_reinvite_gets_the_same_200() -> None:
    call = _call()
    _answered(call)
    new_sdp = make_offer("10.1.1.3", 40002, codecs=("PCMA",)).to_bytes()
    reinvite = _request("INVITE", call, 6, body=new_sdp)
    first = call.receive(reinvite, 2.0)
    (ok,) = _sent(first)
    assert ok.status == 200 and any(isinstance(e, MediaChanged) for e in _events(first))
    again = call.receive(reinvite, 2.5)
    assert [m.to_bytes() for m in _sent(again)] == [ok.to_bytes()] and _events(again) == []
