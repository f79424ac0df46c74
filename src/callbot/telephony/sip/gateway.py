"""The SIP gateway ("sip"): real outbound calls to a SIP trunk or PBX, with G.711 audio over RTP.

Why our own SIP core rather than aiosipua: the parts a call robot needs (one INVITE client, a dialog,
Digest, SDP for G.711) are a few hundred lines when written sans-IO, and then every exchange is tested
message by message without sockets; aiosipua 0.7.1 works but needs a monkeypatch on Python 3.11,
mixes parsing, state and sockets in one layer, and its RTP side runs a task per stream, which the
shared media clock replaces at a quarter of the CPU. The wire formats live in `message`, `sdp`,
`auth`; the call state in `dialog`; the socket in `transport`; audio in `callbot.media`.

How a dial goes: the line's trunk settings are read (`TrunkSettings`), an RTP port is bound from the
line's range, the INVITE goes out with the offer; 180/183 call `on_ringing` (a 183's SDP points the
stream at the early media, which is kept as frames marked `early`); a 2xx is ACKed and becomes a
`SipLeg`; a final response becomes a dial result by the table in `results`; the ring timeout sends
CANCEL and is NO_ANSWER. No response at all to the INVITE is CAN_NOT_CONNECT.

Inbound calls (呼入): an INVITE for no call callbot knows becomes an `IncomingCall` (100 Trying at
once; 488 when its offer has no codec callbot speaks) handed to the handler set with `on_incoming`
(the inbound service: which line, which script, a free seat?), which rings it, answers it (a
`SipLeg` like an outbound call's) or rejects it (404, 486). Without a handler every INVITE is 404.

Transfer: `SipLeg.transfer` sends REFER; when the far end refuses it (or the call is inbound) it dials
the agent on a second leg and joins the two legs' audio; `transfer_status` says which happened.

Recordings: with a `recordings_dir`, every answered call is recorded from the answer to the end (the
leg's `RtpStream` taps both directions); `SipLeg.save_recording` writes the mixed and the
customer-only WAV under `<recordings_dir>/<yyyy-mm-dd>/` once the call is over and returns their
paths relative to the folder (what the record keeps).

With speech engines (`speech=`, a `callbot.speech.voice.SpeechEngines`) a leg talks through a
`VoiceChannel` on its stream: synthesised or recorded prompts, VAD turns recognised by the ASR,
barge-in, DTMF. Without them it speaks a prompt's recording when it is an 8 kHz 16-bit mono WAV,
else `synthesize(text)` if the gateway was given one, else the prompt's length in silence; it hears
DTMF (RFC 4733 and SIP INFO) and hang-ups, and reports no speech (`listen` times out as Silence).
The leg's `audio` is the `RtpStream`, the interface the speech layer plugs into.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import wave
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from callbot.media.clock import MediaClock
from callbot.media.stream import RtpStream
from callbot.telephony.gateway import (
    DialOutcome,
    DialRequest,
    DialStatus,
    Dtmf,
    Hangup,
    Heard,
    PlayOutcome,
    Prompt,
    Silence,
)
from callbot.telephony.sip.auth import DigestCredentials
from callbot.telephony.sip.dialog import (
    Answered,
    CallEvent,
    Cancelled,
    DtmfReceived,
    Ended,
    MediaChanged,
    Progress,
    ReferAnswered,
    Rejected,
    TransferProgress,
    UacCall,
    UacSettings,
    options_request,
)
from callbot.telephony.sip.message import SipMessage, SipUri
from callbot.telephony.sip.register import Registration, RegistrationSettings
from callbot.telephony.sip.results import dial_status, sip_reason
from callbot.telephony.sip.sdp import NoCommonCodec, SessionDescription, answer_offer, make_offer, read_answer
from callbot.telephony.sip.transport import SipEndpoint
from callbot.telephony.sip.trunk import TrunkSettings
from callbot.telephony.sip.uas import UasCall, UasSettings

if TYPE_CHECKING:
    from callbot.speech.voice import SpeechEngines, VoiceChannel

__all__ = ["IncomingCall", "SipGateway", "SipLeg", "TrunkCheck"]

log = logging.getLogger(__name__)
Synthesize = Callable[[str], Awaitable[bytes]]
IncomingHandler = Callable[["IncomingCall"], Awaitable[None]]
_CHARS_PER_SECOND = 4.5  # how long a prompt without audio lasts in silence, as the sim reckons it


class SipGateway:
    """SIP for every line whose gateway is "sip". One UDP socket for signalling, one per call for RTP,
    one media clock for all calls.

    `bind_host`/`sip_port` is where the signalling socket listens (0: any port); `advertised_host` is
    the address put in Via/Contact/SDP when a line names no `public_ip` (default: the bound address).
    The socket is bound by the first dial, so a process whose lines are all on the sim binds nothing.
    """

    def __init__(
        self,
        *,
        bind_host: str = "127.0.0.1",
        sip_port: int = 5060,
        advertised_host: str | None = None,
        clock: MediaClock | None = None,
        user_agent: str = "callbot",
        invite_timeout_s: float = 32.0,
        inactivity_timeout_s: float = 30.0,
        synthesize: Synthesize | None = None,
        speech: SpeechEngines | None = None,
        decrypt: Callable[[str], str] | None = None,
        recordings_dir: Path | None = None,
        name: str = "sip",
    ) -> None:
        self._name = name
        self.bind_host = bind_host
        self.sip_port = sip_port
        self.advertised_host = advertised_host or bind_host
        self.clock = clock or MediaClock()
        self.endpoint = SipEndpoint(user_agent=user_agent)
        self.user_agent = user_agent
        self.invite_timeout_s = invite_timeout_s
        self.inactivity_timeout_s = inactivity_timeout_s
        self.synthesize = synthesize
        self.speech = speech
        self.decrypt = decrypt  # turns a line's stored `password_encrypted` back into its password
        self.recordings_dir = recordings_dir  # None: calls are not recorded
        self._started: asyncio.Future[None] | None = None
        self._legs: set[SipLeg] = set()
        self._next_rtp_port: dict[tuple[int, int], int] = {}
        self._registrations: dict[str, Registration] = {}
        self._incoming_handler: IncomingHandler | None = None
        self._incoming: set[asyncio.Task[None]] = set()
        self.endpoint.on_invite = self._on_invite
        self._closed = False

    @property
    def name(self) -> str:
        return self._name

    @property
    def calls_in_progress(self) -> int:
        """SIP calls whose signalling is under way (ringing, answered, or finishing)."""
        return self.endpoint.calls

    @property
    def open_legs(self) -> int:
        return len(self._legs)

    def check_line_settings(self, settings: Mapping[str, Any]) -> None:
        TrunkSettings.parse(settings)

    # --- inbound calls --------------------------------------------------------------------------------

    def on_incoming(self, handler: IncomingHandler | None) -> None:
        """Who decides about inbound calls (the inbound service); None: every INVITE is 404."""
        self._incoming_handler = handler

    @property
    def incoming_calls(self) -> int:
        """Inbound calls being decided or talking (their handlers still running)."""
        return len(self._incoming)

    def _on_invite(self, invite: SipMessage, source: tuple[str, int]) -> None:
        _, port = self.local_address
        call = UasCall(
            invite,
            UasSettings(
                call_id=invite.call_id, local=(self.advertised_host, port), source=source, user_agent=self.user_agent
            ),
        )
        incoming = IncomingCall(self, call)
        self.endpoint.add(call, incoming.on_event)  # 100 Trying
        now = asyncio.get_running_loop().time()
        try:
            offer = SessionDescription.parse(invite.body) if invite.body else None
            if offer is None:
                raise NoCommonCodec("the INVITE has no SDP offer (callbot answers only INVITEs with an offer)")
            answer_offer(offer, self.advertised_host, 0)  # only to know now whether a codec matches
        except (NoCommonCodec, ValueError) as exc:
            log.info("sip %s: inbound INVITE refused: %s", call.call_id, exc)
            self.endpoint.act(call, call.reject(now, 488))
            return
        handler = self._incoming_handler
        if handler is None or self._closed:
            self.endpoint.act(call, call.reject(now, 404, "No Inbound Route"))
            return
        log.info("sip %s: inbound call from %s to %s", call.call_id, call.caller or "?", call.callee or "?")
        task = asyncio.get_running_loop().create_task(self._handle(handler, incoming), name=f"sip-in:{call.call_id}")
        self._incoming.add(task)
        task.add_done_callback(self._incoming.discard)

    async def _handle(self, handler: IncomingHandler, incoming: IncomingCall) -> None:
        try:
            await handler(incoming)
        except Exception:  # a broken handler loses this call only: the process keeps serving
            log.exception("sip %s: the inbound call handler failed", incoming.sip_call_id)
            incoming.reject(500)
        finally:
            if incoming.leg is not None:
                await incoming.leg.hangup()
            else:
                incoming.reject(500)  # the handler neither answered nor rejected: do not leave it ringing

    async def start(self) -> None:
        """Bind the signalling socket (done by the first dial if not before). Idempotent."""
        if self._started is None:
            self._started = asyncio.get_running_loop().create_future()
            try:
                await self.endpoint.start(self.bind_host, self.sip_port)
            except BaseException as exc:
                self._started.set_exception(exc)
                self._started = None
                raise
            self._started.set_result(None)
        await self._started

    @property
    def local_address(self) -> tuple[str, int]:
        return self.endpoint.local_address

    async def _open_rtp(self, trunk: TrunkSettings) -> RtpStream:
        low, high = trunk.rtp_port_min, trunk.rtp_port_max
        if low is None or high is None:
            return await RtpStream.open(self.clock, self.bind_host, 0, inactivity_timeout_s=self.inactivity_timeout_s)
        # RTP ports are even (RFC 3550 §11); walk the range from where the last call left off.
        first = low + (low % 2)
        count = max(1, (high - first) // 2 + 1)
        start = self._next_rtp_port.get((low, high), first)
        for i in range(count):
            port = first + ((start - first) // 2 + i) % count * 2
            try:
                stream = await RtpStream.open(
                    self.clock, self.bind_host, port, inactivity_timeout_s=self.inactivity_timeout_s
                )
            except OSError:
                continue
            self._next_rtp_port[(low, high)] = port + 2
            return stream
        raise OSError(f"no free RTP port in {low}-{high}")

    async def dial(self, request: DialRequest, on_ringing: Callable[[], None] | None = None) -> DialOutcome:
        try:
            trunk = TrunkSettings.parse(request.line_settings, decrypt=self.decrypt)
        except Exception as exc:  # a line saved before validation existed: a result, not a crash
            problems = getattr(exc, "problems", None) or [("settings.sip", str(exc))]
            return DialOutcome(
                DialStatus.SYSTEM_ERROR, 0.0, None, "bad line settings: " + "; ".join(f"{w}: {m}" for w, m in problems)
            )
        if self._closed:
            return DialOutcome(DialStatus.SYSTEM_ERROR, 0.0, None, "the SIP gateway is closed")
        if trunk.username and not trunk.password:
            reason = "the line's trunk password is stored encrypted and this gateway was given no key to read it"
            return DialOutcome(DialStatus.SYSTEM_ERROR, 0.0, None, reason)
        await self.start()
        try:
            stream = await self._open_rtp(trunk)
        except OSError as exc:
            return DialOutcome(DialStatus.SYSTEM_ERROR, 0.0, None, f"RTP: {exc}")
        dialing = _Dialing(self, request, trunk, stream, on_ringing)
        try:
            outcome = await dialing.run()
        except BaseException:
            dialing.abandon()
            raise
        if self.speech is not None and request.screen_announcements:
            outcome = await self._screen(outcome, stream)
        return outcome

    async def _screen(self, outcome: DialOutcome, stream: RtpStream) -> DialOutcome:
        """An answer that is an announcement, a voicemail or an assistant, or a failure whose early media
        said which (关机 behind a 480), becomes that dial result with the heard text as its reason."""
        from callbot.media.stream import ReceivedFrame
        from callbot.speech.announce import screen

        assert self.speech is not None
        leg = outcome.leg
        if isinstance(leg, SipLeg) and leg.voice is not None:
            found = await leg.voice.screen(self.speech.screen_s)
            if found is None:
                return outcome
            log.info("sip %s: answered by %s", leg.sip_call_id, found.reason)
            await leg.hangup()
            return DialOutcome(found.status, outcome.ring_seconds, None, found.reason)
        early: list[ReceivedFrame] = [frame for frame in stream.received if frame.early]
        if outcome.leg is not None or not early:
            return outcome
        pcm = b"".join(frame.pcm.astype("<i2").tobytes() for frame in early)
        found = await screen(pcm, self.speech.asr, self.speech.vad())
        if found is None:
            return outcome
        return DialOutcome(found.status, outcome.ring_seconds, None, f"{outcome.reason}; {found.reason}")

    async def check(self, line_settings: Mapping[str, Any], caller: str, *, wait_s: float = 5.0) -> TrunkCheck:
        """Ping a line's trunk with OPTIONS (what `callbot sip check` shows): does it answer, how, how fast."""
        trunk = TrunkSettings.parse(line_settings, decrypt=self.decrypt)
        await self.start()
        host = trunk.public_ip or self.advertised_host
        _, port = self.local_address
        target = f"sip:{trunk.host}" + (f":{trunk.port}" if trunk.port != 5060 else "")
        request = options_request(
            local=(host, port),
            request_uri=target,
            from_uri=f"sip:{trunk.from_user or caller}@{host}",
            call_id=f"check-{secrets.token_hex(6)}@callbot",
            user_agent=self.user_agent,
        )
        loop = asyncio.get_running_loop()
        started = loop.time()
        response = await self.endpoint.ping(request, (trunk.host, trunk.port), wait_s)
        if response is None:
            return TrunkCheck(target, False, None, f"no response within {wait_s:g} s", None)
        rtt = round((loop.time() - started) * 1000, 1)
        # Any final response proves the trunk is there; 200 says it accepts us, 401/407/403 that it wants auth.
        return TrunkCheck(target, True, response.status, response.reason, rtt)

    # --- registration -------------------------------------------------------------------------------

    def _registration(self, trunk: TrunkSettings, caller: str, call_id: str) -> Registration:
        host = trunk.public_ip or self.advertised_host
        _, port = self.local_address
        credentials = (
            DigestCredentials(trunk.username, trunk.password, trunk.realm)
            if trunk.username and trunk.password
            else None
        )
        return Registration(
            RegistrationSettings(
                call_id=call_id,
                local=(host, port),
                registrar=(trunk.host, trunk.port),
                domain=trunk.host,
                user=trunk.username or trunk.from_user or caller,
                credentials=credentials,
                expires=trunk.register_expires,
                user_agent=self.user_agent,
            )
        )

    async def keep_registered(self, lines: Mapping[str, Mapping[str, Any]]) -> None:
        """Keep these lines (key → settings) registered: new ones start, changed ones restart, lines no
        longer listed are unregistered. The runtime calls it with every SIP line that asks to register."""
        await self.start()
        wanted: dict[str, TrunkSettings] = {}
        for key, settings in lines.items():
            try:
                trunk = TrunkSettings.parse(settings, decrypt=self.decrypt)
            except Exception as exc:  # one bad line must not stop the others registering
                log.warning("sip: line %s cannot register: %s", key, exc)
                continue
            if trunk.register:
                wanted[f"{key}|{trunk.username}@{trunk.host}:{trunk.port}|{trunk.register_expires}"] = trunk
        now = asyncio.get_running_loop().time()
        for key in list(self._registrations):
            if key not in wanted:
                registration = self._registrations.pop(key)
                self.endpoint.act(registration, registration.close(now))
        for key, trunk in wanted.items():
            if key not in self._registrations:
                registration = self._registration(trunk, key.split("|")[0], f"reg-{secrets.token_hex(6)}@callbot")
                self._registrations[key] = registration
                self.endpoint.add(registration)

    def registrations(self) -> dict[str, Registration]:
        """The registrations kept, by "line|account|expires" (state, last status, expiry)."""
        return dict(self._registrations)

    async def register_once(
        self, line_settings: Mapping[str, Any], caller: str, *, wait_s: float = 5.0
    ) -> Registration:
        """Register a line's account once and remove the binding again (what `callbot sip check` does)."""
        trunk = TrunkSettings.parse(line_settings, decrypt=self.decrypt)
        await self.start()
        registration = self._registration(trunk, caller, f"check-reg-{secrets.token_hex(6)}@callbot")
        settled = asyncio.Event()
        self.endpoint.add(registration, lambda _changed: settled.set())
        try:
            await asyncio.wait_for(settled.wait(), wait_s)
        except TimeoutError:
            registration.last_reason = f"no response within {wait_s:g} s"
        self.endpoint.act(registration, registration.close(asyncio.get_running_loop().time()))
        await asyncio.sleep(0.05)  # let the un-REGISTER leave
        return registration

    def _forget(self, leg: SipLeg) -> None:
        self._legs.discard(leg)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for task in list(self._incoming):
            task.cancel()
        if self._incoming:
            await asyncio.gather(*self._incoming, return_exceptions=True)
        for leg in list(self._legs):
            await leg.hangup()
        now = asyncio.get_running_loop().time()
        for registration in self._registrations.values():
            self.endpoint.act(registration, registration.close(now))
        self._registrations.clear()
        await asyncio.sleep(0)  # let the BYEs leave before the socket closes
        self.endpoint.close()
        await self.clock.close()


@dataclass(frozen=True, slots=True)
class TrunkCheck:
    """The result of an OPTIONS ping."""

    target: str
    reachable: bool
    status: int | None
    reason: str
    rtt_ms: float | None


class IncomingCall:
    """An inbound INVITE waiting for callbot's decision: `ring`, `answer` or `reject` (once)."""

    def __init__(self, gateway: SipGateway, call: UasCall) -> None:
        self.gateway = gateway
        self.call = call
        self.leg: SipLeg | None = None
        self.cancelled = asyncio.Event()  # the caller gave up (CANCEL) before the answer

    @property
    def caller(self) -> str:
        return self.call.caller

    @property
    def callee(self) -> str:
        return self.call.callee

    @property
    def sip_call_id(self) -> str:
        return self.call.call_id

    def on_event(self, event: CallEvent) -> None:
        if self.leg is not None:
            self.leg.on_event(event)
        elif isinstance(event, Cancelled | Ended):
            self.cancelled.set()

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def ring(self) -> None:
        self.gateway.endpoint.act(self.call, self.call.ring(self._now()))

    def reject(self, code: int, reason: str | None = None) -> None:
        """Refuse the call (404 no such number, 486 no free seat, ...); nothing once answered."""
        if self.call.state == "ringing":
            self.gateway.endpoint.act(self.call, self.call.reject(self._now(), code, reason))

    async def answer(self, call_id: str, line_settings: Mapping[str, Any] | None = None) -> SipLeg | None:
        """Answer with 200 OK and open the media: the leg, or None when the caller hung up meanwhile
        or the line's codecs match nothing offered (488). `line_settings` give the RTP port range,
        the codec order and the public IP (a line without trunk settings: any port, PCMA then PCMU)."""
        if self.call.state != "ringing" or self.cancelled.is_set():
            return None
        trunk = _inbound_trunk(line_settings or {}, self.gateway.decrypt)
        try:
            stream = await self.gateway._open_rtp(trunk)
        except OSError as exc:
            log.warning("sip %s: RTP: %s", self.sip_call_id, exc)
            self.reject(503)
            return None
        host = trunk.public_ip or self.gateway.advertised_host
        try:
            offer = SessionDescription.parse(self.call.offer)
            answer, media = answer_offer(
                offer, host, stream.local_address[1], codecs=trunk.codecs, session_id=secrets.randbits(31)
            )
        except (NoCommonCodec, ValueError) as exc:
            log.info("sip %s: %s", self.sip_call_id, exc)
            stream.close()
            self.reject(488)
            return None
        if self.call.state != "ringing" or self.cancelled.is_set():  # CANCEL came while the port was bound
            stream.close()
            return None
        stream.set_media(media.remote, media.codec, media.payload_type, media.dtmf_payload_type)
        leg = SipLeg(self.gateway, call_id, self.call, stream, line_settings=line_settings, caller=self.callee)
        self.leg = leg
        self.gateway._legs.add(leg)
        self.gateway.endpoint.act(self.call, self.call.answer(self._now(), answer.to_bytes()))
        stream.answered = True
        stream.start_sending()
        log.info("sip %s: answered the inbound call (%s)", self.sip_call_id, media.codec)
        return leg


def _inbound_trunk(line_settings: Mapping[str, Any], decrypt: Callable[[str], str] | None) -> TrunkSettings:
    """The media settings of an inbound line: its trunk's when it has them, else the defaults."""
    if isinstance(line_settings.get("sip"), Mapping):
        try:
            return TrunkSettings.parse(line_settings, decrypt=decrypt)
        except Exception:  # a line saved before validation existed: answer with the defaults
            log.warning("inbound line settings cannot be read; answering with the default media settings")
    return TrunkSettings(host="127.0.0.1")


class _Dialing:
    """One dial attempt: from the INVITE to a leg or a result."""

    def __init__(
        self,
        gateway: SipGateway,
        request: DialRequest,
        trunk: TrunkSettings,
        stream: RtpStream,
        on_ringing: Callable[[], None] | None,
    ) -> None:
        self.gateway = gateway
        self.request = request
        self.trunk = trunk
        self.stream = stream
        self.on_ringing = on_ringing
        self.loop = asyncio.get_running_loop()
        self.settled: asyncio.Future[CallEvent] = self.loop.create_future()
        self.leg: SipLeg | None = None
        self.rang = False
        host = trunk.public_ip or gateway.advertised_host
        _, rtp_port = stream.local_address
        self.offer = make_offer(host, rtp_port, codecs=trunk.codecs, session_id=secrets.randbits(31))
        _, sip_port = gateway.local_address
        callee = trunk.dial_number(request.callee)
        from_user = trunk.from_user or request.caller
        target = f"sip:{callee}@{trunk.host}" + (f":{trunk.port}" if trunk.port != 5060 else "")
        credentials = (
            DigestCredentials(trunk.username, trunk.password, trunk.realm)
            if trunk.username and trunk.password
            else None
        )
        self.call_id = f"{request.call_id}-{secrets.token_hex(4)}@callbot"
        self.call = UacCall(
            UacSettings(
                call_id=self.call_id,
                local=(trunk.public_ip or gateway.advertised_host, sip_port),
                destination=(trunk.host, trunk.port),
                request_uri=target,
                from_uri=f"sip:{from_user}@{trunk.public_ip or gateway.advertised_host}",
                to_uri=target,
                asserted_identity=f"<sip:{from_user}@{trunk.host}>" if trunk.asserted_identity else None,
                credentials=credentials,
                user_agent=gateway.user_agent,
                invite_timeout_s=gateway.invite_timeout_s,
            ),
            self.offer.to_bytes(),
        )

    def on_event(self, event: CallEvent) -> None:
        if self.leg is not None:
            self.leg.on_event(event)
            return
        if isinstance(event, Progress):
            if event.sdp is not None:
                self._point_stream(event.sdp)  # early media: 关机/停机/空号 announcements come this way
            if not self.rang:
                self.rang = True
                if self.on_ringing is not None:
                    self.on_ringing()
        elif isinstance(event, MediaChanged):
            self._point_stream(event.sdp)
        elif not self.settled.done() and isinstance(event, Answered | Rejected | Cancelled | Ended):
            self.settled.set_result(event)

    def _point_stream(self, sdp: SessionDescription) -> bool:
        try:
            media = read_answer(self.offer, sdp)
        except NoCommonCodec as exc:
            log.warning("sip %s: %s", self.call_id, exc)
            return False
        self.stream.set_media(media.remote, media.codec, media.payload_type, media.dtmf_payload_type)
        return True

    async def run(self) -> DialOutcome:
        started = self.loop.time()
        self.gateway.endpoint.add(self.call, self.on_event)
        timeout = max(0.0, self.request.ring_timeout_s)
        try:
            event = await asyncio.wait_for(asyncio.shield(self.settled), timeout)
        except TimeoutError:
            ring = round(self.loop.time() - started, 3)
            no_response = self.call.state == "calling"
            self.gateway.endpoint.act(self.call, self.call.cancel(self.loop.time()))
            self.stream.close()
            if no_response:
                return DialOutcome(DialStatus.CAN_NOT_CONNECT, ring, None, "no response to INVITE")
            return DialOutcome(DialStatus.NO_ANSWER, ring, None, f"ring timeout after {timeout:g} s (CANCEL sent)")
        ring = round(self.loop.time() - started, 3)
        if isinstance(event, Answered):
            if (event.sdp is not None and not self._point_stream(event.sdp)) or self.stream.remote is None:
                self.gateway.endpoint.act(self.call, self.call.hangup(self.loop.time()))
                self.stream.close()
                return DialOutcome(DialStatus.CAN_NOT_CONNECT, ring, None, "the answer has no codec callbot offered")
            self.stream.answered = True
            self.stream.start_sending()
            leg = SipLeg(
                self.gateway,
                self.request.call_id,
                self.call,
                self.stream,
                line_settings=self.request.line_settings,
                caller=self.request.caller,
            )
            self.leg = leg
            self.gateway._legs.add(leg)
            log.info("sip %s: answered after %.2f s (%s)", self.call_id, ring, self.stream.codec)
            return DialOutcome(
                DialStatus.ANSWERED, ring, leg, sip_reason(self.call.final_code or 200, self.call.final_reason)
            )
        # Early media is how carriers announce 关机/停机/空号: its length goes on the record with the code.
        early = sum(1 for frame in self.stream.received if frame.early) * 0.02
        self.stream.close()
        if isinstance(event, Rejected):
            if event.timeout:
                return DialOutcome(DialStatus.CAN_NOT_CONNECT, ring, None, "no response to INVITE")
            status = dial_status(event.code)
            log.info("sip %s: %s %s -> %s", self.call_id, event.code, event.reason, status)
            reason = sip_reason(event.code, event.reason)
            if early:
                reason += f"; early media {early:.1f} s"
            return DialOutcome(status, ring, None, reason)
        return DialOutcome(DialStatus.NO_ANSWER, ring, None, "cancelled")

    def abandon(self) -> None:
        """The dial coroutine was cancelled: end the call whatever state it is in."""
        if self.leg is not None:
            return
        self.gateway.endpoint.act(self.call, self.call.hangup(self.loop.time()))
        self.stream.close()


class SipLeg:
    """An answered SIP call as the robot's side sees it (see `callbot.telephony.gateway.CallLeg`)."""

    def __init__(
        self,
        gateway: SipGateway,
        call_id: str,
        call: UacCall | UasCall,
        stream: RtpStream,
        *,
        line_settings: Mapping[str, Any] | None = None,
        caller: str = "",
    ) -> None:
        self._gateway = gateway
        self._line_settings = line_settings or {}
        self._caller = caller
        # How a transfer went, for the record: "" (none), "referred" (the far end took the REFER),
        # "bridged" (REFER refused; the agent answered a second call and the two were joined), or
        # "agent not reached: <result>" (REFER refused and the agent's call failed).
        self.transfer_status = ""
        self.agent: SipLeg | None = None  # the agent's leg of a bridged transfer
        self._refer: asyncio.Future[ReferAnswered] | None = None
        self._call_id = call_id
        self.call = call
        self.audio = stream
        self._heard: asyncio.Queue[Heard] = asyncio.Queue()
        self._ended = asyncio.Event()
        self._ended_by: Literal["robot", "customer", "transfer"] | None = None
        self.end_reason = ""
        self._answered_at = asyncio.get_running_loop().time()
        self._ended_at: float | None = None
        stream.on_dtmf = lambda digit: self._heard.put_nowait(Dtmf(digit))
        stream.on_inactive = self._on_inactive
        if gateway.recordings_dir is not None:
            stream.start_recording()
        self._saved: tuple[str, str] | None = None
        speech = gateway.speech
        self.voice: VoiceChannel | None = speech.channel(stream, origin=self._answered_at) if speech else None

    @property
    def call_id(self) -> str:
        return self._call_id

    @property
    def sip_call_id(self) -> str:
        return self.call.settings.call_id

    @property
    def inbound(self) -> bool:
        return isinstance(self.call, UasCall)

    @property
    def closed(self) -> bool:
        return self._ended_by is not None

    @property
    def ended_by(self) -> Literal["robot", "customer", "transfer"] | None:
        return self._ended_by

    @property
    def elapsed_s(self) -> float:
        end = self._ended_at if self._ended_at is not None else asyncio.get_running_loop().time()
        return round(end - self._answered_at, 3)

    def offset_ms(self) -> int:
        return round(self.elapsed_s * 1000)

    # --- events from the signalling and the stream ----------------------------------------------------

    def on_event(self, event: CallEvent) -> None:
        if isinstance(event, ReferAnswered):
            if self._refer is not None and not self._refer.done():
                self._refer.set_result(event)
        elif isinstance(event, TransferProgress):
            log.info("sip %s: transfer progress %d", self.sip_call_id, event.code)
        elif isinstance(event, Ended) and event.by == "remote":
            self._end("customer", "BYE from the far end")
        elif isinstance(event, DtmfReceived):
            if self.voice is not None:
                self.voice.dtmf(event.digit)
            else:
                self._heard.put_nowait(Dtmf(event.digit))
        elif isinstance(event, MediaChanged):
            try:
                ours = SessionDescription.parse(self.call.local_sdp or b"")
                media = read_answer(ours, event.sdp)
            except (NoCommonCodec, ValueError) as exc:
                log.warning("sip %s: ignoring a media change: %s", self.sip_call_id, exc)
                return
            self.audio.set_media(media.remote, media.codec, media.payload_type, media.dtmf_payload_type)

    def _on_inactive(self) -> None:
        log.warning("sip %s: no RTP for %.0f s, ending the call", self.sip_call_id, self.audio.inactivity_timeout_s)
        self._gateway.endpoint.act(self.call, self.call.hangup(asyncio.get_running_loop().time()))
        self._end("customer", f"no RTP for {self.audio.inactivity_timeout_s:g} s")

    def _end(self, by: Literal["robot", "customer", "transfer"], reason: str) -> None:
        if self._ended_by is not None:
            return
        self._ended_by = by
        self.end_reason = reason
        self._ended_at = asyncio.get_running_loop().time()
        stats = self.audio.stats
        log.info(
            "sip %s: ended after %.1f s (%s); RTP sent %d, received %d, bad %d, foreign %d",
            self.sip_call_id,
            self.elapsed_s,
            reason,
            stats.sent,
            stats.received,
            stats.bad,
            stats.foreign,
        )
        self.audio.close()
        if self.voice is not None:
            self.voice.hung_up()
        self._ended.set()
        self._heard.put_nowait(Hangup())
        self._gateway._forget(self)

    async def save_recording(self) -> tuple[str, str]:
        """Write the call's recording once it is over: (mixed, customer-only) paths relative to the
        gateway's `recordings_dir`, or ("", "") when calls are not recorded or the write failed."""
        if self._saved is not None:
            return self._saved
        recording, folder = self.audio.recording, self._gateway.recordings_dir
        if recording is None or folder is None or not recording.robot:
            self._saved = ("", "")
            return self._saved
        name = re.sub(r"[^A-Za-z0-9_-]", "_", self._call_id)[:80] + "-" + secrets.token_hex(3)
        day = date.today().isoformat()
        mixed, customer = f"{day}/{name}.wav", f"{day}/{name}.customer.wav"
        try:
            await asyncio.to_thread(recording.write, folder / mixed, folder / customer)
        except OSError as exc:  # a full disk loses the recording, not the call's record
            log.error("sip %s: the recording could not be written: %s", self.sip_call_id, exc)
            self._saved = ("", "")
            return self._saved
        self.audio.recording = None  # the frames are on disk: free them
        self._saved = (mixed, customer)
        return self._saved

    # --- CallLeg --------------------------------------------------------------------------------------

    async def _prompt_audio(self, prompt: Prompt) -> bytes:
        if prompt.audio:
            pcm = _read_wav_8k(Path(prompt.audio))
            if pcm is not None:
                return pcm
        if self._gateway.synthesize is not None:
            return await self._gateway.synthesize(prompt.text)
        seconds = max(0.5, len(prompt.text) / _CHARS_PER_SECOND)
        return bytes(2 * round(seconds * 8000))

    async def play(self, prompt: Prompt) -> PlayOutcome:
        if self.closed:
            return PlayOutcome("hangup", 0.0)
        if self.voice is not None:
            return await self.voice.play(prompt)
        pcm = await self._prompt_audio(prompt)
        started = asyncio.get_running_loop().time()
        self.audio.play_pcm(pcm)
        played = asyncio.ensure_future(self.audio.wait_played())
        ended = asyncio.ensure_future(self._ended.wait())
        try:
            await asyncio.wait({played, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (played, ended):
                waiter.cancel()
        seconds = round(asyncio.get_running_loop().time() - started, 3)
        if self.closed:
            return PlayOutcome("hangup", seconds)
        return PlayOutcome("completed", seconds)

    async def listen(self, timeout_s: float) -> Heard:
        if self.voice is not None:
            return await self.voice.listen(timeout_s)
        if self.closed and self._heard.empty():
            return Hangup()
        try:
            return await asyncio.wait_for(self._heard.get(), max(0.0, timeout_s))
        except TimeoutError:
            return Silence()

    async def transfer(self, target: str, *, refer_wait_s: float = 8.0) -> bool:
        """Hand the customer to `target` (a number, or a SIP URI "sip:agent@pbx:5060"): REFER first (the
        far end calls the agent and callbot leaves the call); when the far end refuses or ignores REFER
        (or the call is inbound), callbot dials the agent on a second leg and joins the two legs' audio
        until either hangs up. True when the customer reached the agent (or the REFER was taken)."""
        if self.closed:
            return False
        if isinstance(self.call, UacCall):
            answer = await self._send_refer(self._refer_uri(target), refer_wait_s)
            if answer is not None and 200 <= answer.code < 300:
                self.transfer_status = "referred"
                log.info("sip %s: transferred to %s by REFER", self.sip_call_id, target)
                with contextlib.suppress(Exception):  # blind transfer: our part of the call is over
                    self._gateway.endpoint.act(self.call, self.call.hangup(asyncio.get_running_loop().time()))
                self._end("transfer", f"transferred to {target} by REFER")
                return True
            why = f"{answer.code} {answer.reason}" if answer is not None else "no answer"
            log.info("sip %s: REFER refused (%s); dialling %s", self.sip_call_id, why, target)
        return await self._bridge_to(target)

    def _refer_uri(self, target: str) -> str:
        if target.startswith(("sip:", "sips:")):
            return target
        assert isinstance(self.call, UacCall)
        host, port = self.call.settings.destination
        return f"sip:{target}@{host}" + (f":{port}" if port != 5060 else "")

    async def _send_refer(self, uri: str, wait_s: float) -> ReferAnswered | None:
        assert isinstance(self.call, UacCall)
        refer: asyncio.Future[ReferAnswered] = asyncio.get_running_loop().create_future()
        self._refer = refer
        self._gateway.endpoint.act(self.call, self.call.refer(asyncio.get_running_loop().time(), uri))
        ended = asyncio.ensure_future(self._ended.wait())
        waiters: set[asyncio.Future[Any]] = {refer, ended}
        try:
            await asyncio.wait(waiters, timeout=wait_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ended.cancel()
        return refer.result() if refer.done() else None

    async def _bridge_to(self, target: str) -> bool:
        """Dial the agent and join the two calls' audio until either side hangs up."""
        settings, callee = _agent_route(self._line_settings, target)
        request = DialRequest(
            call_id=f"{self._call_id}-agent",
            caller=self._caller,
            callee=callee,
            line_settings=settings,
            ring_timeout_s=30.0,
        )
        dialled = await self._gateway.dial(request)
        agent = dialled.leg
        if not isinstance(agent, SipLeg):
            self.transfer_status = f"agent not reached: {dialled.status.value} {dialled.reason}".strip()
            log.info("sip %s: the agent %s was not reached: %s", self.sip_call_id, target, self.transfer_status)
            return False
        if self.closed:  # the customer left while the agent's phone rang
            await agent.hangup()
            self.transfer_status = "agent not reached: the customer hung up"
            return False
        self.transfer_status = "bridged"
        self.agent = agent
        log.info("sip %s: joined with the agent %s (%s)", self.sip_call_id, target, agent.sip_call_id)
        pumps = [asyncio.ensure_future(_pump(self, agent)), asyncio.ensure_future(_pump(agent, self))]
        ends = [asyncio.ensure_future(self._ended.wait()), asyncio.ensure_future(agent._ended.wait())]
        try:
            await asyncio.wait(ends, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (*pumps, *ends):
                task.cancel()
            await agent.hangup()
        return True

    async def hangup(self) -> None:
        if self.closed:
            return
        with contextlib.suppress(Exception):  # never raises: the leg is closed whatever the socket says
            self._gateway.endpoint.act(self.call, self.call.hangup(asyncio.get_running_loop().time()))
        self._end("robot", "hung up by the robot")


async def _pump(source: SipLeg, target: SipLeg) -> None:
    """One direction of a bridged call: every frame heard on `source` is played on `target` (decoded and
    encoded again, so the two legs may speak different codecs)."""
    source.audio.received.clear()  # what was heard before the bridge is not replayed
    async for frame in source.audio.frames():
        if target.closed:
            return
        target.audio.play_pcm(frame.pcm)


def _agent_route(line_settings: Mapping[str, Any], target: str) -> tuple[dict[str, Any], str]:
    """How to reach a transfer target: a SIP URI with a host goes straight there (keeping the line's media
    settings); a number goes out on the line's own trunk."""
    if not target.startswith(("sip:", "sips:")):
        return dict(line_settings), target
    uri = SipUri.parse(target)
    sip = line_settings.get("sip") if isinstance(line_settings.get("sip"), Mapping) else {}
    media = {k: v for k, v in dict(sip or {}).items() if k in ("codecs", "public_ip", "rtp_port_min", "rtp_port_max")}
    return {"sip": {**media, "host": uri.host, "port": uri.port or 5060}}, uri.user or "agent"


def _read_wav_8k(path: Path) -> bytes | None:
    """The samples of an 8 kHz 16-bit mono WAV; None for anything else (the caller falls back)."""
    try:
        with wave.open(str(path), "rb") as wav:
            if (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) != (8000, 2, 1):
                log.warning("prompt %s is not 8 kHz 16-bit mono; not played", path)
                return None
            return wav.readframes(wav.getnframes())
    except (OSError, wave.Error, EOFError) as exc:
        log.warning("prompt %s cannot be read: %s", path, exc)
        return None
