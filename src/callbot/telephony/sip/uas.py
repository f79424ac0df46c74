"""One inbound call's signalling (UAS INVITE transaction and dialog, RFC 3261 §12, §13.3, §17.2), sans-IO.

`UasCall` is built from the INVITE that came in and, like `UacCall`, takes the current time and returns
actions (`Send`, call events). The gateway decides what to do with the call: `ring` (180), `answer`
(200 with the SDP answer), `reject` (a final non-2xx: 404, 486, 488, ...); later `hangup` (BYE).

What it does: `start` sends 100 Trying; a final response to the INVITE is retransmitted (Timer G,
from T1 doubling to T2) until the ACK comes, and given up after 64*T1 (a 200 never ACKed ends the call
with a BYE, RFC 3261 §13.3.1.4); a retransmitted INVITE is answered with the same last response, and
a retransmitted re-INVITE with the same 200. CANCEL before the answer is 200 OK and the INVITE gets
487 (`Cancelled`); in the dialog it answers BYE (`Ended("remote")`), re-INVITE and UPDATE (with the
current local SDP; `MediaChanged`), INFO (DTMF) and OPTIONS. Over UDP only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from callbot.media.dtmf import parse_dtmf_info
from callbot.telephony.sip.dialog import (
    ALLOW,
    T1,
    T2,
    Action,
    Address,
    Cancelled,
    DtmfReceived,
    Ended,
    MediaChanged,
    Send,
    _sdp_of,
    build_response,
    new_branch,
    new_tag,
)
from callbot.telephony.sip.message import NameAddress, SipMessage, SipUri

__all__ = ["UasCall", "UasSettings", "reply_address"]

State: TypeAlias = Literal["ringing", "answered", "confirmed", "terminated"]


@dataclass(frozen=True, slots=True)
class UasSettings:
    """`local` goes in Contact (the advertised address); `source` is where the INVITE came from."""

    call_id: str
    local: Address
    source: Address
    user_agent: str = "callbot"


@dataclass(slots=True)
class _Retransmit:
    """A message sent again until something stops it: a final response to the INVITE (until the ACK),
    or a BYE callbot sent (until its final response)."""

    message: SipMessage
    addr: Address
    next_at: float
    interval: float
    expires_at: float
    done: bool = False


@dataclass(slots=True)
class UasCall:
    invite: SipMessage
    settings: UasSettings
    state: State = "ringing"
    local_tag: str = field(default_factory=new_tag)
    local_sdp: bytes | None = None  # our answer, what a re-INVITE or UPDATE is answered with
    final_code: int | None = None
    _last_response: SipMessage | None = None  # the INVITE's latest response, for retransmitted INVITEs
    _final: _Retransmit | None = None
    _bye: _Retransmit | None = None
    _reinvites: dict[str, SipMessage] = field(default_factory=dict)  # branch -> the 200 sent to it
    _cseq: int = 0

    def __post_init__(self) -> None:
        self._cseq = 1 if self.invite.cseq()[0] != 1 else 2  # any number of ours; it only has to grow

    # --- who is who -----------------------------------------------------------------------------------

    @property
    def call_id(self) -> str:
        return self.settings.call_id

    @property
    def callee(self) -> str:
        """The number called (the DID): the user part of the Request-URI, else of To."""
        user = SipUri.parse(self.invite.uri or "").user
        if not user:
            user = SipUri.parse(NameAddress.parse(self.invite.get("to") or "").uri).user
        return user

    @property
    def caller(self) -> str:
        """The caller's number: the user part of P-Asserted-Identity when present, else of From."""
        for header in ("p-asserted-identity", "from"):
            value = self.invite.get(header)
            if value:
                user = SipUri.parse(NameAddress.parse(value).uri).user
                if user:
                    return user
        return ""

    @property
    def offer(self) -> bytes:
        return self.invite.body

    @property
    def remote_tag(self) -> str | None:
        return self.invite.from_tag()

    # --- what callbot does ----------------------------------------------------------------------------

    def start(self, now: float) -> list[Action]:
        return [self._respond_invite(100)]

    def ring(self, now: float) -> list[Action]:
        if self.state != "ringing":
            return []
        return [self._respond_invite(180)]

    def answer(self, now: float, sdp: bytes) -> list[Action]:
        """200 OK with our SDP answer; retransmitted until the ACK."""
        if self.state != "ringing":
            return []
        self.local_sdp = sdp
        self.state = "answered"
        self.final_code = 200
        response = self._respond_invite(200, body=sdp)
        self._final = _Retransmit(response.message, response.addr, now + T1, T1, now + 64 * T1)
        return [response]

    def reject(self, now: float, code: int, reason: str | None = None) -> list[Action]:
        """A final non-2xx (404 no such number, 486 no free seat, 488 no common codec, ...)."""
        if self.state != "ringing":
            return []
        self.state = "terminated"
        self.final_code = code
        response = self._respond_invite(code, reason)
        self._final = _Retransmit(response.message, response.addr, now + T1, T1, now + 64 * T1)
        return [response]

    def hangup(self, now: float) -> list[Action]:
        """End the call from callbot's side: BYE once answered (RFC 3261 §15: even before the ACK), 480
        while it still rings."""
        if self.state == "ringing":
            return self.reject(now, 480)
        if self.state == "terminated":
            return []
        self.state = "terminated"
        if self._final is not None:
            self._final.done = True
        self._cseq += 1
        bye = self._request("BYE", self._cseq)
        addr = self.settings.source
        self._bye = _Retransmit(bye, addr, now + T1, T1, now + 64 * T1)
        return [Send(bye, addr), Ended("local")]

    def _request(self, method: str, cseq: int) -> SipMessage:
        # In the dialog callbot is the callee: our From is the INVITE's To with our tag, and To is their From.
        to_value = self.invite.get("to") or ""
        remote = self.invite.get("contact")
        uri = NameAddress.parse(remote).uri if remote else NameAddress.parse(self.invite.get("from") or "").uri
        host, port = self.settings.local
        headers = [
            ("Via", f"SIP/2.0/UDP {host}:{port};branch={new_branch()};rport"),
            ("Max-Forwards", "70"),
            ("From", f"{to_value};tag={self.local_tag}" if ";tag=" not in to_value else to_value),
            ("To", self.invite.get("from") or ""),
            ("Call-ID", self.call_id),
            ("CSeq", f"{cseq} {method}"),
        ]
        # The Record-Route set, in the order received, is the route of requests callbot sends (§12.1.1).
        headers += [("Route", route) for route in self.invite.get_all("record-route")]
        headers.append(("User-Agent", self.settings.user_agent))
        return SipMessage.request(method, uri, headers)

    # --- timers ---------------------------------------------------------------------------------------

    def _live(self) -> list[_Retransmit]:
        return [r for r in (self._final, self._bye) if r is not None and not r.done]

    @property
    def next_deadline(self) -> float | None:
        times = [t for r in self._live() for t in (r.next_at, r.expires_at)]
        return min(times) if times else None

    @property
    def finished(self) -> bool:
        return self.state == "terminated" and not self._live()

    def tick(self, now: float) -> list[Action]:
        actions: list[Action] = []
        for item in self._live():
            if now >= item.expires_at:
                item.done = True
                if item is self._final and self.state == "answered":  # Timer H: the ACK never came
                    actions += self.hangup(now)
                    actions = [a for a in actions if not isinstance(a, Ended)]
                    actions.append(Ended("remote", "no ACK for the 200 OK"))
            elif now >= item.next_at:
                item.interval = min(item.interval * 2, T2)
                item.next_at = now + item.interval
                actions.append(Send(item.message, item.addr))
        return actions

    # --- what comes in --------------------------------------------------------------------------------

    def receive(self, message: SipMessage, now: float) -> list[Action]:
        if not message.is_request:
            if self._bye is not None and message.cseq()[1] == "BYE" and (message.status or 0) >= 200:
                self._bye.done = True
            return []
        method = message.method or ""
        is_first = message.top_via().branch == self.invite.top_via().branch
        if method == "INVITE" and is_first:
            # A retransmission of the INVITE: the same last response again (§17.2.1).
            return [Send(self._last_response, self._reply_to(message))] if self._last_response else []
        if method == "ACK":
            # The ACK of a 2xx is a new transaction, a non-2xx's shares the INVITE's: match on the CSeq.
            if message.cseq()[0] == self.invite.cseq()[0] and self._final is not None:
                self._final.done = True
                if self.state == "answered":
                    self.state = "confirmed"
            return []
        if method == "CANCEL":
            if not is_first:
                return [self._respond(message, 481)]
            ok = self._respond(message, 200)
            if self.state != "ringing":
                return [ok]
            return [ok, *self.reject(now, 487), Cancelled()]
        if method == "OPTIONS":
            return [self._respond(message, 200, extra=[("Allow", ALLOW), ("Accept", "application/sdp")])]
        if self.state == "terminated" or message.from_tag() != self.remote_tag:
            return [self._respond(message, 481)]
        if method == "BYE":
            self.state = "terminated"
            if self._final is not None:
                self._final.done = True
            return [self._respond(message, 200), Ended("remote", message.get("reason") or "")]
        if method in ("INVITE", "UPDATE"):
            if self.state == "ringing" and method == "INVITE":
                return [self._respond(message, 491, "Request Pending")]
            branch = message.top_via().branch
            if method == "INVITE" and branch in self._reinvites:
                return [Send(self._reinvites[branch], self._reply_to(message))]  # a retransmitted re-INVITE
            sdp = _sdp_of(message)
            body = (self.local_sdp or b"") if (sdp is not None or method == "INVITE") else b""
            response = self._respond(message, 200, body=body, contact=True)
            if method == "INVITE":
                self._reinvites[branch] = response.message
            return [response, MediaChanged(sdp)] if sdp is not None else [response]
        if method == "INFO":
            digit = parse_dtmf_info(message.content_type, message.body)
            info: list[Action] = [self._respond(message, 200)]
            return [*info, DtmfReceived(digit)] if digit else info
        return [self._respond(message, 501, extra=[("Allow", ALLOW)])]

    # --- responses ------------------------------------------------------------------------------------

    def _contact(self) -> str:
        host, port = self.settings.local
        user = self.callee
        return f"<sip:{user + '@' if user else ''}{host}:{port}>"

    def _reply_to(self, request: SipMessage) -> Address:
        return reply_address(request, self.settings.source)

    def _respond_invite(self, status: int, reason: str | None = None, *, body: bytes = b"") -> Send:
        response = self._respond(self.invite, status, reason, body=body, contact=200 <= status < 300 or status == 180)
        if status > 100:
            self._last_response = response.message
        return response

    def _respond(
        self,
        request: SipMessage,
        status: int,
        reason: str | None = None,
        *,
        body: bytes = b"",
        contact: bool = False,
        extra: list[tuple[str, str]] | None = None,
    ) -> Send:
        response = build_response(
            request,
            status,
            reason,
            to_tag=self.local_tag if status > 100 else None,  # 100 Trying carries no tag (§8.2.6.2)
            contact=self._contact() if contact else None,
            user_agent=self.settings.user_agent,
            body=body,
            extra=extra,
        )
        return Send(response, self._reply_to(request))


def reply_address(request: SipMessage, source: Address) -> Address:
    """Where a response goes: back to the source when the Via asks for rport (RFC 3581) or names the
    source's host, else to the Via's sent-by (RFC 3261 §18.2.2)."""
    try:
        via = request.top_via()
    except (ValueError, IndexError):
        return source
    if "rport" in via.params or via.host == source[0]:
        return source
    return via.host, via.port or 5060
