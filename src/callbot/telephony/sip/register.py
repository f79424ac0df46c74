"""Registration with a trunk (REGISTER, RFC 3261 §10), client side, sans-IO.

Some trunks only send calls to, and accept calls from, a registered account. `Registration` sends
REGISTER for the account's address-of-record, answers one Digest challenge per attempt, and once
registered refreshes before the granted expiry runs out (at 80 % of it, RFC 3261 §10.2.4 leaves the
margin to the client); a refused or unanswered attempt is retried after `retry_s`. `close` sends a
REGISTER with Expires: 0 to remove the binding. Like `UacCall` it returns `Send` actions and the
transport calls `tick` at `next_deadline`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from callbot.telephony.sip.auth import Challenge, DigestCredentials, authorization
from callbot.telephony.sip.dialog import T1, T2, Address, Send, new_branch, new_tag
from callbot.telephony.sip.message import NameAddress, SipMessage

__all__ = ["Registration", "RegistrationChanged", "RegistrationSettings"]


@dataclass(frozen=True, slots=True)
class RegistrationSettings:
    call_id: str
    local: Address  # advertised address for Via and Contact
    registrar: Address
    domain: str  # the registrar's domain: Request-URI sip:domain, AOR sip:user@domain
    user: str
    credentials: DigestCredentials | None = None
    expires: int = 600
    retry_s: float = 60.0
    user_agent: str = "callbot"


State = Literal["unregistered", "registering", "registered", "failed", "closed"]


@dataclass(frozen=True, slots=True)
class RegistrationChanged:
    """An attempt ended: registered, failed (with the code, None when nobody answered) or closed."""

    state: State
    status: int | None
    reason: str


@dataclass(slots=True)
class Registration:
    settings: RegistrationSettings
    state: State = "unregistered"
    last_status: int | None = None
    last_reason: str = ""
    expires_at: float | None = None
    _tag: str = field(default_factory=new_tag)
    _cseq: int = 0
    _pending: SipMessage | None = None
    _resend_at: float | None = None
    _interval: float = T1
    _give_up_at: float | None = None
    _refresh_at: float | None = None
    _auth_nonces: set[str] = field(default_factory=set)
    _auth: tuple[str, str] | None = None
    _expires_asked: int = 0

    def start(self, now: float) -> list[Send | RegistrationChanged]:
        return self._send(now, self.settings.expires)

    def close(self, now: float) -> list[Send | RegistrationChanged]:
        """Remove the binding (Expires: 0) if registered; nothing more is refreshed."""
        was = self.state
        self.state = "closed"
        self._refresh_at = None
        return self._send(now, 0) if was == "registered" else []

    @property
    def aor(self) -> str:
        return f"sip:{self.settings.user}@{self.settings.domain}"

    def _send(self, now: float, expires: int) -> list[Send | RegistrationChanged]:
        self._cseq += 1
        self._expires_asked = expires
        host, port = self.settings.local
        headers = [
            ("Via", f"SIP/2.0/UDP {host}:{port};branch={new_branch()};rport"),
            ("Max-Forwards", "70"),
            ("From", str(NameAddress(self.aor, "", {"tag": self._tag}))),
            ("To", f"<{self.aor}>"),
            ("Call-ID", self.settings.call_id),  # one Call-ID for all of a binding's REGISTERs (§10.2)
            ("CSeq", f"{self._cseq} REGISTER"),
            ("Contact", f"<sip:{self.settings.user}@{host}:{port}>"),
            ("Expires", str(expires)),
        ]
        if self._auth is not None:
            headers.append(self._auth)
        headers.append(("User-Agent", self.settings.user_agent))
        request = SipMessage.request("REGISTER", f"sip:{self.settings.domain}", headers)
        if self.state != "closed":
            self.state = "registering" if self.state != "registered" else "registered"
        self._pending = request
        self._interval = T1
        self._resend_at = now + T1
        self._give_up_at = now + 64 * T1
        return [Send(request, self.settings.registrar)]

    @property
    def next_deadline(self) -> float | None:
        times = [t for t in (self._resend_at, self._give_up_at, self._refresh_at) if t is not None]
        return min(times) if times else None

    @property
    def finished(self) -> bool:
        return self.state == "closed" and self._pending is None

    def tick(self, now: float) -> list[Send | RegistrationChanged]:
        if self._pending is not None:
            if self._give_up_at is not None and now >= self._give_up_at:  # Timer F: nobody answers
                self._pending = None
                self._resend_at = self._give_up_at = None
                return self._failed(now, None, "no response to REGISTER")
            if self._resend_at is not None and now >= self._resend_at:  # Timer E
                self._interval = min(self._interval * 2, T2)
                self._resend_at = now + self._interval
                return [Send(self._pending, self.settings.registrar)]
            return []
        if self._refresh_at is not None and now >= self._refresh_at:
            self._refresh_at = None
            self._auth_nonces.clear()
            return self._send(now, self.settings.expires)
        return []

    def _failed(self, now: float, status: int | None, reason: str) -> list[Send | RegistrationChanged]:
        if self.state != "closed":
            self.state = "failed"
            self._refresh_at = now + self.settings.retry_s
        self.last_status, self.last_reason = status, reason
        self.expires_at = None
        return [RegistrationChanged(self.state, status, reason)]

    def receive(self, response: SipMessage, now: float) -> list[Send | RegistrationChanged]:
        pending = self._pending
        if pending is None or response.is_request:
            return []
        number, method = response.cseq()
        if method != "REGISTER" or number != self._cseq:
            return []
        status = response.status or 0
        if status < 200:
            self._resend_at = now + T2
            return []
        self._pending = None
        self._resend_at = self._give_up_at = None
        if status in (401, 407):
            retry = self._authenticate(response, status, now)
            if retry is not None:
                return retry
        if status >= 300:
            return self._failed(now, status, response.reason)
        self.last_status, self.last_reason = status, response.reason
        if self._expires_asked == 0 or self.state == "closed":
            self.state = "closed"
            return [RegistrationChanged("closed", status, response.reason)]
        granted = _granted_expiry(response, self.settings.expires)
        self.state = "registered"
        self.expires_at = now + granted
        self._refresh_at = now + granted * 0.8
        return [RegistrationChanged("registered", status, response.reason)]

    def _authenticate(self, response: SipMessage, status: int, now: float) -> list[Send | RegistrationChanged] | None:
        creds = self.settings.credentials
        header = response.get("www-authenticate" if status == 401 else "proxy-authenticate")
        if creds is None or header is None:
            return None
        try:
            challenge = Challenge.parse(header)
        except ValueError:
            return None
        if challenge.nonce in self._auth_nonces or (self._auth_nonces and not challenge.stale):
            return None  # the credentials were refused
        self._auth_nonces.add(challenge.nonce)
        value = authorization(challenge, creds, "REGISTER", f"sip:{self.settings.domain}")
        self._auth = ("Authorization" if status == 401 else "Proxy-Authorization", value)
        return self._send(now, self._expires_asked)


def _granted_expiry(response: SipMessage, asked: int) -> int:
    """The registrar's grant: the Contact's expires parameter, else the Expires header, else what we asked."""
    for contact in response.get_all("contact"):
        value = NameAddress.parse(contact).params.get("expires", "")
        if value.isdigit():
            return max(1, int(value))
    header = response.get("expires") or ""
    return max(1, int(header)) if header.isdigit() else asked
