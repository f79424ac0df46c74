"""Registration with a trunk, message by message: Digest, refresh before expiry, retry after failure,
un-REGISTER on close."""

from __future__ import annotations

from callbot.telephony.sip.auth import DigestCredentials
from callbot.telephony.sip.dialog import Send
from callbot.telephony.sip.message import SipMessage
from callbot.telephony.sip.register import Registration, RegistrationChanged, RegistrationSettings


def _registration(**overrides: object) -> Registration:
    settings = {
        "call_id": "reg-1@callbot",
        "local": ("10.0.0.5", 5062),
        "registrar": ("10.1.1.1", 5060),
        "domain": "trunk.example.com",
        "user": "02150001234",
        "credentials": DigestCredentials("02150001234", "pw"),
        "expires": 600,
        "retry_s": 30.0,
    }
    settings.update(overrides)
    return Registration(RegistrationSettings(**settings))  # type: ignore[arg-type]


def _sent(actions: list[Send | RegistrationChanged]) -> list[SipMessage]:
    return [a.message for a in actions if isinstance(a, Send)]


def _reply(request: SipMessage, status: int, **headers: str) -> SipMessage:
    response = SipMessage.response_to(request, status, to_tag="reg")
    for name, value in headers.items():
        response.headers.append((name.replace("_", "-"), value))
    return SipMessage.parse(response.to_bytes())


def test_register_answers_the_challenge_and_refreshes_at_80_percent_of_the_grant() -> None:
    registration = _registration()
    first = _sent(registration.start(0.0))[0]
    assert (first.method, first.uri, first.get("Expires")) == ("REGISTER", "sip:trunk.example.com", "600")
    assert first.get("To") == "<sip:02150001234@trunk.example.com>"
    assert first.get("Contact") == "<sip:02150001234@10.0.0.5:5062>"
    retry = _sent(registration.receive(_reply(first, 401, WWW_Authenticate='Digest realm="t", nonce="n1"'), 0.1))[0]
    assert retry.cseq() == (2, "REGISTER") and retry.call_id == first.call_id
    assert 'uri="sip:trunk.example.com"' in (retry.get("Authorization") or "")
    granted = _reply(retry, 200, Contact="<sip:02150001234@10.0.0.5:5062>;expires=120")
    assert registration.receive(granted, 0.2) == [RegistrationChanged("registered", 200, "OK")]
    assert registration.state == "registered" and registration.next_deadline == 0.2 + 96.0
    refresh = _sent(registration.tick(96.2))[0]
    assert refresh.cseq() == (3, "REGISTER") and registration.state == "registered"


def test_a_refusal_is_retried_later_and_refused_credentials_are_not_tried_again() -> None:
    registration = _registration()
    first = _sent(registration.start(0.0))[0]
    retry = _sent(registration.receive(_reply(first, 401, WWW_Authenticate='Digest realm="t", nonce="n1"'), 0.1))[0]
    failed = registration.receive(_reply(retry, 401, WWW_Authenticate='Digest realm="t", nonce="n2"'), 0.2)
    assert failed == [RegistrationChanged("failed", 401, "Unauthorized")]
    assert registration.next_deadline == 30.2
    assert _sent(registration.tick(30.2))[0].cseq() == (3, "REGISTER")


def test_no_answer_is_a_failure_after_timer_f() -> None:
    registration = _registration()
    registration.start(0.0)
    resent = [t for t in (0.5, 1.5, 3.5, 7.5, 11.5) if _sent(registration.tick(t))]
    assert resent == [0.5, 1.5, 3.5, 7.5, 11.5]
    assert registration.tick(32.0) == [RegistrationChanged("failed", None, "no response to REGISTER")]


def test_close_removes_the_binding() -> None:
    registration = _registration(credentials=None)
    first = _sent(registration.start(0.0))[0]
    registration.receive(_reply(first, 200, Expires="300"), 0.1)
    assert registration.expires_at == 300.1
    bye = _sent(registration.close(5.0))[0]
    assert bye.get("Expires") == "0"
    assert registration.receive(_reply(bye, 200), 5.1) == [RegistrationChanged("closed", 200, "OK")]
    assert registration.finished
