"""One outbound call's signalling (UAC INVITE transaction and dialog, RFC 3261 §12, §13, §17.1), sans-IO.

`UacCall` is a state machine: `start`, `receive`, `tick`, `cancel` and `hangup` take the current time
and return actions: `Send` (bytes for an address) and call events (`Progress`, `Answered`, `Rejected`,
...). The transport only moves bytes and calls `tick` at `next_deadline`; nothing here does I/O, so
every exchange is tested message by message.

What it does: INVITE with retransmissions (Timer A) until a response, no response at all within
Timer B is `Rejected(408, "No answer to INVITE", timeout=True)`; 1xx become `Progress` (a 183's SDP
is early media); a 2xx is ACKed (and each retransmitted 2xx ACKed again); a non-2xx final is ACKed in
its transaction; 401/407 are answered once with Digest credentials; `cancel` sends CANCEL once a
provisional response has come (RFC 3261 §9.1); `hangup` sends BYE. In the dialog it answers BYE,
re-INVITE and UPDATE (with the current local SDP, so the call carries on), INFO (DTMF) and OPTIONS;
non-INVITE requests it sends (BYE, CANCEL) are retransmitted by Timer E until their final response.
Over UDP only; a 2xx callbot sends to a re-INVITE is not retransmitted (a retransmission of the
re-INVITE is answered with the same 200 instead).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from callbot.media.dtmf import parse_dtmf_info
from callbot.telephony.sip.auth import Challenge, DigestCredentials, authorization
from callbot.telephony.sip.message import NameAddress, SipMessage, SipUri
from callbot.telephony.sip.sdp import SessionDescription

__all__ = [
    "ALLOW",
    "Answered",
    "CallEvent",
    "Cancelled",
    "DtmfReceived",
    "Ended",
    "MediaChanged",
    "Progress",
    "ReferAnswered",
    "Rejected",
    "Send",
    "TransferProgress",
    "UacCall",
    "UacSettings",
    "new_branch",
    "new_tag",
    "options_request",
]

T1 = 0.5  # RFC 3261 §17.1.1.1: RTT estimate
T2 = 4.0  # the longest retransmit interval of a non-INVITE request
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, NOTIFY"
Address: TypeAlias = tuple[str, int]


def new_branch() -> str:
    return "z9hG4bK" + secrets.token_hex(8)  # the RFC 3261 §8.1.1.7 magic cookie first


def new_tag() -> str:
    return secrets.token_hex(6)


# --------------------------------------------------------------------------- actions


@dataclass(frozen=True, slots=True)
class Send:
    message: SipMessage
    addr: Address


@dataclass(frozen=True, slots=True)
class Progress:
    """A provisional response (180 ringing, 183 session progress); `sdp` when it carries early media."""

    code: int
    reason: str
    sdp: SessionDescription | None


@dataclass(frozen=True, slots=True)
class Answered:
    sdp: SessionDescription | None


@dataclass(frozen=True, slots=True)
class Rejected:
    """A final non-2xx to the INVITE (after authentication), or no response at all (`timeout`)."""

    code: int
    reason: str
    timeout: bool = False


@dataclass(frozen=True, slots=True)
class Cancelled:
    """The CANCEL took effect (487), or the call answered meanwhile and was hung up at once."""


@dataclass(frozen=True, slots=True)
class Ended:
    """The dialog is over: `by` who sent the BYE."""

    by: Literal["local", "remote"]
    reason: str = ""


@dataclass(frozen=True, slots=True)
class MediaChanged:
    """A re-INVITE or UPDATE brought a new SDP (new address, hold)."""

    sdp: SessionDescription


@dataclass(frozen=True, slots=True)
class DtmfReceived:
    digit: str


@dataclass(frozen=True, slots=True)
class ReferAnswered:
    """The far end's final response to callbot's REFER (RFC 3515): 2xx accepted it; 408 is no answer."""

    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class TransferProgress:
    """A NOTIFY of the transfer's progress: the status line of the far end's call to the target."""

    code: int


CallEvent: TypeAlias = (
    Progress | Answered | Rejected | Cancelled | Ended | MediaChanged | DtmfReceived | ReferAnswered | TransferProgress
)
Action: TypeAlias = Send | CallEvent


@dataclass(frozen=True, slots=True)
class UacSettings:
    """Who calls whom, and through where.

    `local` is the address put in Via and Contact (the advertised address behind NAT), `destination`
    the trunk or PBX to send requests to (outbound proxy), `request_uri` the callee's URI.
    """

    call_id: str
    local: Address
    destination: Address
    request_uri: str
    from_uri: str
    to_uri: str
    from_display: str = ""
    asserted_identity: str | None = None
    credentials: DigestCredentials | None = None
    user_agent: str = "callbot"
    invite_timeout_s: float = 64 * T1  # Timer B
    transport: str = "UDP"


@dataclass(slots=True)
class _ClientTxn:
    """A request in flight: retransmitted over UDP until a response (INVITE) or a final response."""

    message: SipMessage
    data: bytes
    addr: Address
    branch: str
    method: str
    next_at: float
    interval: float
    expires_at: float
    provisional: bool = False
    done: bool = False


State: TypeAlias = Literal["calling", "proceeding", "confirmed", "terminated"]


@dataclass(slots=True)
class UacCall:
    settings: UacSettings
    offer: bytes
    state: State = "calling"
    local_tag: str = field(default_factory=new_tag)
    remote_tag: str | None = None
    remote_target: str | None = None
    route_set: list[str] = field(default_factory=list)
    local_sdp: bytes | None = None  # what re-INVITE/UPDATE are answered with; the offer until answered
    final_code: int | None = None
    final_reason: str = ""
    cancel_wanted: bool = False
    cancel_sent: bool = False
    _cseq: int = 1
    _invite: _ClientTxn | None = None
    _txns: list[_ClientTxn] = field(default_factory=list)
    _auth_tried: set[str] = field(default_factory=set)
    _auth_header: tuple[str, str] | None = None
    _invite_cseq: int = 1
    _reinvites: dict[str, Send] = field(default_factory=dict)  # branch -> the 200 sent to that re-INVITE

    # --- requests callbot sends -----------------------------------------------------------------------

    def _from_header(self) -> str:
        return str(NameAddress(self.settings.from_uri, self.settings.from_display, {"tag": self.local_tag}))

    def _to_header(self) -> str:
        params = {"tag": self.remote_tag} if self.remote_tag else {}
        return str(NameAddress(self.settings.to_uri, "", params))

    def _contact(self) -> str:
        user = SipUri.parse(self.settings.from_uri).user
        host, port = self.settings.local
        return f"<sip:{user + '@' if user else ''}{host}:{port}>"

    def _via(self, branch: str) -> str:
        host, port = self.settings.local
        return f"SIP/2.0/{self.settings.transport} {host}:{port};branch={branch};rport"

    def _request(self, method: str, cseq: int, branch: str, *, in_dialog: bool, body: bytes = b"") -> SipMessage:
        uri = self.remote_target if in_dialog and self.remote_target else self.settings.request_uri
        headers = [
            ("Via", self._via(branch)),
            ("Max-Forwards", "70"),
            ("From", self._from_header()),
            ("To", self._to_header()),
            ("Call-ID", self.settings.call_id),
            ("CSeq", f"{cseq} {method}"),
        ]
        if in_dialog:
            headers += [("Route", route) for route in self.route_set]
        if method in ("INVITE", "UPDATE"):
            headers.append(("Contact", self._contact()))
            headers.append(("Allow", ALLOW))
        if method == "INVITE" and self.settings.asserted_identity:
            headers.append(("P-Asserted-Identity", self.settings.asserted_identity))
        headers.append(("User-Agent", self.settings.user_agent))
        if body:
            headers.append(("Content-Type", "application/sdp"))
        return SipMessage.request(method, uri, headers, body)

    def _dialog_destination(self) -> Address:
        # Requests go to the trunk (outbound proxy) that carried the INVITE: trunks and PBXs route
        # in-dialog requests themselves, and a Contact behind their NAT would not be reachable.
        return self.settings.destination

    def _client_txn(self, message: SipMessage, addr: Address, now: float, *, timeout: float) -> Send:
        data = message.to_bytes()
        method = message.method or ""
        txn = _ClientTxn(message, data, addr, message.top_via().branch, method, now + T1, T1, now + timeout)
        if method == "INVITE":
            self._invite = txn
        else:
            self._txns.append(txn)
        return Send(message, addr)

    def start(self, now: float) -> list[Action]:
        """The INVITE."""
        self.local_sdp = self.offer
        return [self._send_invite(now)]

    def _send_invite(self, now: float) -> Send:
        self._invite_cseq = self._cseq
        message = self._request("INVITE", self._cseq, new_branch(), in_dialog=False, body=self.offer)
        if self._auth_header is not None:
            message.headers.insert(-2 if self.offer else -1, self._auth_header)
        return self._client_txn(message, self.settings.destination, now, timeout=self.settings.invite_timeout_s)

    def cancel(self, now: float) -> list[Action]:
        """Give up ringing. CANCEL goes out once the far end has answered provisionally (§9.1)."""
        if self.state not in ("calling", "proceeding") or self.cancel_wanted:
            return []
        self.cancel_wanted = True
        return self._send_cancel(now) if self.state == "proceeding" else []

    def _send_cancel(self, now: float) -> list[Action]:
        invite = self._invite
        if invite is None or self.cancel_sent:
            return []
        self.cancel_sent = True
        headers = [
            ("Via", invite.message.get("via") or ""),
            ("Max-Forwards", "70"),
            ("From", invite.message.get("from") or ""),
            ("To", invite.message.get("to") or ""),
            ("Call-ID", self.settings.call_id),
            ("CSeq", f"{self._invite_cseq} CANCEL"),
            ("User-Agent", self.settings.user_agent),
        ]
        message = SipMessage.request("CANCEL", invite.message.uri or "", headers)
        # The CANCEL shares the INVITE's branch; give it its own timer record all the same.
        return [self._client_txn(message, invite.addr, now, timeout=64 * T1)]

    def hangup(self, now: float) -> list[Action]:
        """End the call from callbot's side: BYE when answered, CANCEL while ringing."""
        if self.state in ("calling", "proceeding"):
            return self.cancel(now)
        if self.state != "confirmed":
            return []
        self.state = "terminated"
        self._cseq += 1
        bye = self._request("BYE", self._cseq, new_branch(), in_dialog=True)
        return [self._client_txn(bye, self._dialog_destination(), now, timeout=64 * T1), Ended("local")]

    def refer(self, now: float, refer_to: str) -> list[Action]:
        """Ask the far end to call `refer_to` in our place (blind transfer, RFC 3515); `ReferAnswered` follows."""
        if self.state != "confirmed":
            return [ReferAnswered(481, "the call is not answered")]
        self._cseq += 1
        refer = self._request("REFER", self._cseq, new_branch(), in_dialog=True)
        refer.headers.insert(-1, ("Refer-To", f"<{refer_to}>"))
        refer.headers.insert(-1, ("Referred-By", f"<{self.settings.from_uri}>"))
        refer.headers.insert(-1, ("Contact", self._contact()))
        return [self._client_txn(refer, self._dialog_destination(), now, timeout=64 * T1)]

    # --- timers ---------------------------------------------------------------------------------------

    @property
    def next_deadline(self) -> float | None:
        times = [t.next_at for t in self._live_txns()] + [t.expires_at for t in self._live_txns()]
        return min(times) if times else None

    def _live_txns(self) -> list[_ClientTxn]:
        txns = [t for t in self._txns if not t.done]
        if self._invite is not None and not self._invite.done:
            txns.append(self._invite)
        return txns

    @property
    def finished(self) -> bool:
        """Terminated and nothing left to retransmit: the transport may forget the call."""
        return self.state == "terminated" and not self._live_txns()

    def tick(self, now: float) -> list[Action]:
        actions: list[Action] = []
        invite = self._invite
        if invite is not None and not invite.done:
            if not invite.provisional and now >= invite.expires_at:  # Timer B
                invite.done = True
                self.state = "terminated"
                actions.append(Rejected(408, "No answer to INVITE", timeout=True))
            elif not invite.provisional and now >= invite.next_at:  # Timer A
                invite.interval *= 2
                invite.next_at = now + invite.interval
                actions.append(Send(invite.message, invite.addr))
            elif invite.provisional and self.cancel_sent and now >= invite.expires_at:
                invite.done = True  # the far end never confirmed our CANCEL: give up on the INVITE
                self.state = "terminated"
                actions.append(Cancelled())
        for txn in self._txns:
            if txn.done:
                continue
            if now >= txn.expires_at:  # Timer F: the far end is gone; nothing more to do for it
                txn.done = True
                if txn.method == "REFER":
                    actions.append(ReferAnswered(408, "no answer to REFER"))
            elif now >= txn.next_at:  # Timer E
                txn.interval = T2 if txn.provisional else min(txn.interval * 2, T2)
                txn.next_at = now + txn.interval
                actions.append(Send(txn.message, txn.addr))
        return actions

    # --- what comes in --------------------------------------------------------------------------------

    def receive(self, message: SipMessage, now: float) -> list[Action]:
        if message.is_request:
            return self._on_request(message, now)
        return self._on_response(message, now)

    def _on_response(self, response: SipMessage, now: float) -> list[Action]:
        status = response.status or 0
        number, method = response.cseq()
        branch = response.top_via().branch
        if method == "INVITE":
            return self._on_invite_response(response, status, number, branch, now)
        for txn in self._txns:
            if txn.branch == branch and txn.method == method and not txn.done:
                if status < 200:
                    txn.provisional = True
                    txn.next_at = now + T2
                else:
                    txn.done = True
                    if method == "REFER":
                        return [ReferAnswered(status, response.reason)]
        return []

    def _on_invite_response(
        self, response: SipMessage, status: int, number: int, branch: str, now: float
    ) -> list[Action]:
        invite = self._invite
        if 200 <= status < 300:
            return self._on_invite_ok(response, now)
        if invite is None or invite.branch != branch or number != self._invite_cseq or invite.done:
            return []  # a stray or retransmitted response of an INVITE already settled
        if status < 200:
            actions: list[Action] = []
            invite.provisional = True
            if self.state == "calling":
                self.state = "proceeding"
                if self.cancel_wanted:
                    actions += self._send_cancel(now)
            if status > 100:
                actions.append(Progress(status, response.reason, _sdp_of(response)))
            if self.cancel_sent:
                invite.expires_at = max(invite.expires_at, now + 64 * T1)
            return actions
        # A final non-2xx: ACK it in its transaction (§17.1.1.3), then act on it.
        invite.done = True
        actions = [Send(self._ack_for_failure(invite, response), invite.addr)]
        if status in (401, 407) and not self.cancel_wanted:
            retry = self._authenticate(response, status, now)
            if retry is not None:
                return [*actions, retry]
        self.state = "terminated"
        self.final_code, self.final_reason = status, response.reason
        if self.cancel_sent and status == 487:
            return [*actions, Cancelled()]
        return [*actions, Rejected(status, response.reason)]

    def _authenticate(self, response: SipMessage, status: int, now: float) -> Send | None:
        creds = self.settings.credentials
        header = response.get("www-authenticate" if status == 401 else "proxy-authenticate")
        if creds is None or header is None:
            return None
        try:
            challenge = Challenge.parse(header)
        except ValueError:
            return None
        if creds.realm and creds.realm != challenge.realm:
            return None
        if challenge.nonce in self._auth_tried or (self._auth_tried and not challenge.stale):
            return None  # the credentials were refused
        self._auth_tried.add(challenge.nonce)
        value = authorization(challenge, creds, "INVITE", self.settings.request_uri)
        self._auth_header = ("Authorization" if status == 401 else "Proxy-Authorization", value)
        self._cseq += 1
        self.state = "calling"
        return self._send_invite(now)

    def _ack_for_failure(self, invite: SipMessage | _ClientTxn, response: SipMessage) -> SipMessage:
        request = invite.message if isinstance(invite, _ClientTxn) else invite
        headers = [
            ("Via", request.get("via") or ""),
            ("Max-Forwards", "70"),
            ("From", request.get("from") or ""),
            ("To", response.get("to") or ""),
            ("Call-ID", self.settings.call_id),
            ("CSeq", f"{self._invite_cseq} ACK"),
        ]
        return SipMessage.request("ACK", request.uri or "", headers)

    def _on_invite_ok(self, response: SipMessage, now: float) -> list[Action]:
        tag = response.to_tag()
        if self.state in ("confirmed", "terminated"):
            if self.remote_tag is not None and tag == self.remote_tag:
                return [self._ack()]  # the 2xx was retransmitted: our ACK was lost
            return []
        if self._invite is not None:
            self._invite.done = True
        self.remote_tag = tag
        contact = response.get("contact")
        if contact:
            self.remote_target = NameAddress.parse(contact).uri
        self.route_set = list(reversed(response.get_all("record-route")))
        self.state = "confirmed"
        self.final_code, self.final_reason = response.status, response.reason
        actions: list[Action] = [self._ack()]
        if self.cancel_wanted:  # CANCEL and 200 crossed (§9.1): the call is answered, so end it
            actions += self.hangup(now)
            return [*actions, Cancelled()]
        actions.append(Answered(_sdp_of(response)))
        return actions

    def _ack(self) -> Send:
        ack = self._request("ACK", self._invite_cseq, new_branch(), in_dialog=True)
        ack.remove("user-agent")
        return Send(ack, self._dialog_destination())

    def _on_request(self, request: SipMessage, now: float) -> list[Action]:
        method = request.method or ""
        if method == "ACK":
            return []
        if method == "OPTIONS":
            return [self._respond(request, 200, extra=[("Allow", ALLOW), ("Accept", "application/sdp")])]
        if self.state == "terminated" or (self.remote_tag is not None and request.from_tag() != self.remote_tag):
            return [self._respond(request, 481)]
        if method == "BYE":
            self.state = "terminated"
            return [self._respond(request, 200), Ended("remote", request.get("reason") or "")]
        if method in ("INVITE", "UPDATE"):
            if method == "INVITE" and self.state != "confirmed":
                return [self._respond(request, 491 if self.state == "proceeding" else 481, "Request Pending")]
            branch = request.top_via().branch
            if method == "INVITE" and branch in self._reinvites:
                return [self._reinvites[branch]]  # a retransmitted re-INVITE: the same 200, no new media change
            actions: list[Action] = []
            sdp = _sdp_of(request)
            if sdp is not None:
                actions.append(MediaChanged(sdp))
            # A re-INVITE always gets our SDP (an offer-less one needs our offer); an UPDATE only when it had one.
            body = (self.local_sdp or b"") if (sdp is not None or method == "INVITE") else b""
            response = self._respond(request, 200, body=body, contact=True)
            if method == "INVITE":
                self._reinvites[branch] = response
            return [response, *actions]
        if method == "INFO":
            digit = parse_dtmf_info(request.content_type, request.body)
            info: list[Action] = [self._respond(request, 200)]
            return [*info, DtmfReceived(digit)] if digit else info
        if method == "NOTIFY":
            notified: list[Action] = [self._respond(request, 200)]
            code = _sipfrag_status(request)
            return [*notified, TransferProgress(code)] if code else notified
        return [self._respond(request, 501, extra=[("Allow", ALLOW)])]

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
            to_tag=self.local_tag,
            contact=self._contact() if contact else None,
            user_agent=self.settings.user_agent,
            body=body,
            extra=extra,
        )
        return Send(response, _response_address(request, self.settings.destination))


def build_response(
    request: SipMessage,
    status: int,
    reason: str | None,
    *,
    to_tag: str | None,
    contact: str | None,
    user_agent: str,
    body: bytes = b"",
    extra: list[tuple[str, str]] | None = None,
) -> SipMessage:
    """A response of either side of a dialog: with a Contact (and what we allow) when it sets up or
    refreshes the dialog, an SDP body when there is one."""
    response = SipMessage.response_to(request, status, reason, to_tag=to_tag)
    if contact is not None:
        response.headers.append(("Contact", contact))
        response.headers.append(("Allow", ALLOW))
    response.headers.extend(extra or [])
    response.headers.append(("User-Agent", user_agent))
    if body:
        response.headers.append(("Content-Type", "application/sdp"))
        response.body = body
    return response


def options_request(
    *, local: Address, request_uri: str, from_uri: str, call_id: str, user_agent: str = "callbot"
) -> SipMessage:
    """An out-of-dialog OPTIONS (RFC 3261 §11): the ping that tells whether a trunk answers."""
    host, port = local
    headers = [
        ("Via", f"SIP/2.0/UDP {host}:{port};branch={new_branch()};rport"),
        ("Max-Forwards", "70"),
        ("From", str(NameAddress(from_uri, "", {"tag": new_tag()}))),
        ("To", f"<{request_uri}>"),
        ("Call-ID", call_id),
        ("CSeq", "1 OPTIONS"),
        ("Accept", "application/sdp"),
        ("User-Agent", user_agent),
    ]
    return SipMessage.request("OPTIONS", request_uri, headers)


def _sipfrag_status(request: SipMessage) -> int | None:
    """The status code of a REFER NOTIFY's message/sipfrag body ("SIP/2.0 200 OK"), if it is one."""
    if not (request.get("event") or "").lower().startswith("refer"):
        return None
    first = request.body.split(b"\r\n", 1)[0].split(b"\n", 1)[0].decode("utf-8", "replace").split()
    if len(first) >= 2 and first[0] == "SIP/2.0" and first[1].isdigit():
        return int(first[1])
    return None


def _sdp_of(message: SipMessage) -> SessionDescription | None:
    if not message.body or message.content_type not in ("application/sdp", ""):
        return None
    try:
        return SessionDescription.parse(message.body)
    except ValueError:
        return None


def _response_address(request: SipMessage, fallback: Address) -> Address:
    """Where a response goes (RFC 3261 §18.2.2 with RFC 3581 rport): the Via's received/rport if
    the transport filled them in, else its sent-by."""
    try:
        via = request.top_via()
    except (ValueError, IndexError):
        return fallback
    host = via.params.get("received") or via.host
    port_text = via.params.get("rport") or ""
    port = int(port_text) if port_text.isdigit() else via.port or 5060
    return (host, port) if host else fallback
