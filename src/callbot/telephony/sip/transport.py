"""The SIP endpoint: one UDP socket that moves bytes between the network and the calls' state machines.

It parses each datagram (a malformed one is logged and dropped; the endpoint keeps serving), hands
responses and in-dialog requests to the call (or registration) with that Call-ID, answers OPTIONS
outside a dialog (a trunk's keep-alive), hands a new INVITE to `on_invite` (the gateway's inbound
calls; 404 when there is none), and refuses other requests for unknown calls (481). Each call's
retransmission timers run on `loop.call_at` at the call's `next_deadline`; a call is forgotten once
it has terminated and has nothing left to retransmit.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable, Sequence
from typing import Any, cast

from callbot.telephony.sip.dialog import ALLOW, CallEvent, Send, UacCall, new_tag
from callbot.telephony.sip.message import SipMessage
from callbot.telephony.sip.register import Registration, RegistrationChanged
from callbot.telephony.sip.uas import UasCall

__all__ = ["SipEndpoint"]

log = logging.getLogger(__name__)
RECEIVE_BUFFER = 4 * 1024 * 1024
Address = tuple[str, int]
EventHandler = Callable[[Any], None]  # gets a call's CallEvents, a registration's RegistrationChanged
# What the endpoint drives: a call, or a registration (both sans-IO, keyed by their Call-ID).
Exchange = UacCall | UasCall | Registration
InviteHandler = Callable[[SipMessage, Address], None]


def _ignore(event: object) -> None:
    pass


class SipEndpoint(asyncio.DatagramProtocol):
    def __init__(self, *, user_agent: str = "callbot") -> None:
        self.user_agent = user_agent
        self._transport: asyncio.DatagramTransport | None = None
        self._calls: dict[str, tuple[Exchange, EventHandler]] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._pings: dict[str, asyncio.Future[SipMessage]] = {}
        self.on_invite: InviteHandler | None = None  # a new INVITE: the gateway decides (see `UasCall`)
        self.malformed = 0

    async def start(self, host: str, port: int) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            # A burst of set-ups overflows the default buffer (~200 KB), and a dropped 200 OK costs a
            # retransmitted INVITE; the kernel caps this at net.core.rmem_max.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        await asyncio.get_running_loop().create_datagram_endpoint(lambda: self, sock=sock)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    @property
    def local_address(self) -> Address:
        assert self._transport is not None, "the SIP endpoint is not started"
        host, port = self._transport.get_extra_info("sockname")[:2]
        return host, port

    @property
    def calls(self) -> int:
        """Calls whose signalling is in progress (ringing, talking, or finishing a BYE/CANCEL)."""
        return len(self._calls)

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._calls.clear()
        if self._transport is not None:
            self._transport.close()

    # --- calls ----------------------------------------------------------------------------------------

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def add(self, call: Exchange, handler: EventHandler = _ignore) -> None:
        """Start `call` (send its INVITE or REGISTER) and route what comes for its Call-ID to it."""
        self._calls[call.settings.call_id] = (call, handler)
        kind = "INVITE" if isinstance(call, UacCall) else "inbound INVITE" if isinstance(call, UasCall) else "REGISTER"
        log.info("sip %s: %s", call.settings.call_id, kind)
        self.act(call, call.start(self._now()))

    def act(self, call: Exchange, actions: Sequence[Send | CallEvent | RegistrationChanged]) -> None:
        """Carry out a state machine's actions: send messages, deliver events, re-arm its timer."""
        call_id = call.settings.call_id
        entry = self._calls.get(call_id)
        for action in actions:
            if isinstance(action, Send):
                self.send(action.message, action.addr)
            elif entry is not None:
                try:
                    entry[1](action)
                except Exception:  # a broken handler must not stop the signalling of the call
                    log.exception("sip %s: event handler failed on %r", call_id, action)
        self._arm(call)

    def _arm(self, call: Exchange) -> None:
        call_id = call.settings.call_id
        timer = self._timers.pop(call_id, None)
        if timer is not None:
            timer.cancel()
        if call.finished:
            self._calls.pop(call_id, None)
            return
        deadline = call.next_deadline
        if deadline is not None:
            self._timers[call_id] = asyncio.get_running_loop().call_at(deadline, self._on_timer, call)

    def _on_timer(self, call: Exchange) -> None:
        self._timers.pop(call.settings.call_id, None)
        self.act(call, call.tick(self._now()))

    def send(self, message: SipMessage, addr: Address) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(message.to_bytes(), addr)

    async def ping(self, request: SipMessage, addr: Address, wait_s: float) -> SipMessage | None:
        """Send an out-of-dialog request (OPTIONS) and wait for its final response; None after `wait_s` seconds.

        Retransmitted like any non-INVITE request over UDP (Timer E: from T1 = 0.5 s, doubling to 4 s).
        """
        future: asyncio.Future[SipMessage] = asyncio.get_running_loop().create_future()
        self._pings[request.call_id] = future
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        interval = 0.5
        try:
            while True:
                self.send(request, addr)
                wait = min(interval, deadline - loop.time())
                if wait <= 0:
                    return None
                try:
                    return await asyncio.wait_for(asyncio.shield(future), wait)
                except TimeoutError:
                    interval = min(interval * 2, 4.0)
        finally:
            self._pings.pop(request.call_id, None)

    # --- what comes in --------------------------------------------------------------------------------

    def datagram_received(self, data: bytes, addr: Address) -> None:
        if not data.strip():
            return  # CRLF keep-alives (RFC 5626 §4.4.1)
        try:
            message = SipMessage.parse(data)
        except ValueError as exc:
            self.malformed += 1
            log.warning("sip: dropped a malformed message from %s:%s: %s", addr[0], addr[1], exc)
            return
        ping = self._pings.get(message.call_id)
        if ping is not None and not message.is_request:
            if (message.status or 0) >= 200 and not ping.done():
                ping.set_result(message)
            return
        entry = self._calls.get(message.call_id)
        if entry is not None:
            call = entry[0]
            try:
                actions = call.receive(message, self._now())
            except ValueError as exc:
                self.malformed += 1
                log.warning("sip %s: dropped a message from %s: %s", message.call_id, addr[0], exc)
                return
            self.act(call, actions)
            return
        if message.is_request:
            self._outside_dialog(message, addr)

    def _outside_dialog(self, request: SipMessage, addr: Address) -> None:
        method = request.method
        if method == "ACK":
            return
        if method == "OPTIONS":
            response = SipMessage.response_to(request, 200, to_tag=new_tag())
            response.headers += [("Allow", ALLOW), ("Accept", "application/sdp"), ("User-Agent", self.user_agent)]
        elif method == "INVITE" and self.on_invite is not None:
            self.on_invite(request, addr)
            return
        elif method == "INVITE":
            response = SipMessage.response_to(request, 404, "No Inbound Route", to_tag=new_tag())
        else:
            response = SipMessage.response_to(request, 481)
        self.send(response, _reply_address(request, addr))


def _reply_address(request: SipMessage, source: Address) -> Address:
    """Responses go back where the request came from when the Via asks for rport (RFC 3581), else to the
    Via's sent-by."""
    try:
        via = request.top_via()
    except (ValueError, IndexError):
        return source
    if "rport" in via.params or via.host == source[0]:
        return source
    return via.host, via.port or 5060
