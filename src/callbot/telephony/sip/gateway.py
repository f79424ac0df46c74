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
import secrets
import wave
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
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
    Rejected,
    UacCall,
    UacSettings,
    options_request,
)
from callbot.telephony.sip.register import Registration, RegistrationSettings
from callbot.telephony.sip.results import dial_status, sip_reason
from callbot.telephony.sip.sdp import NoCommonCodec, SessionDescription, make_offer, read_answer
from callbot.telephony.sip.transport import SipEndpoint
from callbot.telephony.sip.trunk import TrunkSettings

if TYPE_CHECKING:
    from callbot.speech.voice import SpeechEngines, VoiceChannel

__all__ = ["SipGateway", "SipLeg", "TrunkCheck"]

log = logging.getLogger(__name__)
Synthesize = Callable[[str], Awaitable[bytes]]
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
        self._started: asyncio.Future[None] | None = None
        self._legs: set[SipLeg] = set()
        self._next_rtp_port: dict[tuple[int, int], int] = {}
        self._registrations: dict[str, Registration] = {}
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
            leg = SipLeg(self.gateway, self.request.call_id, self.call, self.stream)
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

    def __init__(self, gateway: SipGateway, call_id: str, call: UacCall, stream: RtpStream) -> None:
        self._gateway = gateway
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
        speech = gateway.speech
        self.voice: VoiceChannel | None = speech.channel(stream, origin=self._answered_at) if speech else None

    @property
    def call_id(self) -> str:
        return self._call_id

    @property
    def sip_call_id(self) -> str:
        return self.call.settings.call_id

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
        if isinstance(event, Ended) and event.by == "remote":
            self._end("customer", "BYE from the far end")
        elif isinstance(event, DtmfReceived):
            if self.voice is not None:
                self.voice.dtmf(event.digit)
            else:
                self._heard.put_nowait(Dtmf(event.digit))
        elif isinstance(event, MediaChanged):
            try:
                offer = SessionDescription.parse(self.call.offer)
                media = read_answer(offer, event.sdp)
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
        self.audio.close()
        if self.voice is not None:
            self.voice.hung_up()
        self._ended.set()
        self._heard.put_nowait(Hangup())
        self._gateway._forget(self)

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

    async def transfer(self, target: str) -> bool:
        return False  # REFER and the bridged second leg come with the transfer work; the call goes on

    async def hangup(self) -> None:
        if self.closed:
            return
        with contextlib.suppress(Exception):  # never raises: the leg is closed whatever the socket says
            self._gateway.endpoint.act(self.call, self.call.hangup(asyncio.get_running_loop().time()))
        self._end("robot", "hung up by the robot")


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
