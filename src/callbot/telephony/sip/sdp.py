"""SDP offer/answer for a G.711 telephone call (RFC 4566, RFC 3264), pure.

callbot offers PCMA and/or PCMU (in the line's order) plus telephone-event (RFC 4733), ptime 20, and
answers an offer by picking the first of the offerer's codecs it supports. No common codec is
`NoCommonCodec`, which a UAS turns into 488 Not Acceptable Here. Only the first audio stream is used;
other media lines are refused with port 0 in an answer, as RFC 3264 §6 asks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "CODECS",
    "MediaDescription",
    "NegotiatedMedia",
    "NoCommonCodec",
    "SessionDescription",
    "answer_offer",
    "make_offer",
    "read_answer",
]

# Static payload types of RFC 3551 §6; telephone-event is dynamic, 101 by custom.
CODECS = {"PCMU": 0, "PCMA": 8}
TELEPHONE_EVENT_PT = 101


class NoCommonCodec(ValueError):
    """The offer has no audio codec callbot speaks (PCMA, PCMU)."""


@dataclass(slots=True)
class MediaDescription:
    """One m= section and its attributes, in order."""

    kind: str
    port: int
    proto: str
    formats: list[str]
    connection: str | None = None
    attributes: list[tuple[str, str | None]] = field(default_factory=list)

    def attribute(self, name: str) -> str | None:
        for key, value in self.attributes:
            if key == name:
                return value if value is not None else ""
        return None

    def rtpmap(self) -> dict[int, tuple[str, int]]:
        """Payload type → (encoding name upper-cased, clock rate), static types included."""
        mapping: dict[int, tuple[str, int]] = {pt: (name, 8000) for name, pt in CODECS.items()}
        for key, value in self.attributes:
            if key == "rtpmap" and value:
                pt_text, _, encoding = value.partition(" ")
                name, _, rate = encoding.partition("/")
                if pt_text.isdigit():
                    mapping[int(pt_text)] = (name.upper(), int(rate.partition("/")[0] or 8000))
        return mapping

    @property
    def direction(self) -> str:
        for key, _ in self.attributes:
            if key in ("sendrecv", "sendonly", "recvonly", "inactive"):
                return key
        return "sendrecv"


@dataclass(slots=True)
class SessionDescription:
    origin: str
    session_name: str = "-"
    connection: str | None = None
    media: list[MediaDescription] = field(default_factory=list)
    attributes: list[tuple[str, str | None]] = field(default_factory=list)

    @classmethod
    def parse(cls, data: bytes | str) -> SessionDescription:
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        origin = ""
        name = "-"
        connection: str | None = None
        media: list[MediaDescription] = []
        attributes: list[tuple[str, str | None]] = []
        lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]
        if not lines or not lines[0].startswith("v="):
            raise ValueError("malformed SDP: it must start with v=")
        for line in lines:
            key, eq, value = line.partition("=")
            if not eq or len(key) != 1:
                raise ValueError(f"malformed SDP line: {line[:60]!r}")
            if key == "o":
                origin = value
            elif key == "s":
                name = value
            elif key == "c":
                address = _connection_address(value)
                if media:
                    media[-1].connection = address
                else:
                    connection = address
            elif key == "m":
                parts = value.split()
                if len(parts) < 3 or not parts[1].split("/")[0].isdigit():
                    raise ValueError(f"malformed SDP media line: {line[:60]!r}")
                media.append(MediaDescription(parts[0], int(parts[1].split("/")[0]), parts[2], parts[3:]))
            elif key == "a":
                attr, colon, attr_value = value.partition(":")
                (media[-1].attributes if media else attributes).append((attr, attr_value if colon else None))
        if not origin:
            raise ValueError("malformed SDP: no o= line")
        return cls(origin, name, connection, media, attributes)

    def to_bytes(self) -> bytes:
        lines = ["v=0", f"o={self.origin}", f"s={self.session_name}"]
        if self.connection:
            lines.append(f"c=IN IP4 {self.connection}")
        lines.append("t=0 0")
        lines.extend(_attr_line(k, v) for k, v in self.attributes)
        for m in self.media:
            lines.append(f"m={m.kind} {m.port} {m.proto} {' '.join(m.formats)}")
            if m.connection and m.connection != self.connection:
                lines.append(f"c=IN IP4 {m.connection}")
            lines.extend(_attr_line(k, v) for k, v in m.attributes)
        return ("\r\n".join(lines) + "\r\n").encode()

    def audio(self) -> MediaDescription | None:
        return next((m for m in self.media if m.kind == "audio" and m.port != 0), None)

    def audio_address(self) -> tuple[str, int] | None:
        m = self.audio()
        if m is None:
            return None
        host = m.connection or self.connection
        return (host, m.port) if host else None


def _connection_address(value: str) -> str:
    parts = value.split()
    if len(parts) != 3 or parts[0] != "IN":
        raise ValueError(f"malformed SDP connection line: c={value[:60]!r}")
    return parts[2].split("/")[0]


def _attr_line(key: str, value: str | None) -> str:
    return f"a={key}" if value is None else f"a={key}:{value}"


@dataclass(frozen=True, slots=True)
class NegotiatedMedia:
    """What both sides agreed: the codec and its payload type, telephone-event's type (None if the far
    end has none), the far end's RTP address and the direction it asked for."""

    codec: str
    payload_type: int
    dtmf_payload_type: int | None
    remote: tuple[str, int]
    direction: str = "sendrecv"


def make_offer(
    address: str,
    port: int,
    *,
    codecs: tuple[str, ...] = ("PCMA", "PCMU"),
    session_id: int = 0,
    version: int = 0,
    username: str = "callbot",
) -> SessionDescription:
    """callbot's offer: `codecs` in order of preference, telephone-event, ptime 20, sendrecv."""
    unknown = [c for c in codecs if c not in CODECS]
    if unknown or not codecs:
        raise ValueError(f"codecs must be among {sorted(CODECS)}, got {list(codecs)}")
    formats = [str(CODECS[c]) for c in codecs] + [str(TELEPHONE_EVENT_PT)]
    attributes: list[tuple[str, str | None]] = [(("rtpmap"), f"{CODECS[c]} {c}/8000") for c in codecs]
    attributes += [
        ("rtpmap", f"{TELEPHONE_EVENT_PT} telephone-event/8000"),
        ("fmtp", f"{TELEPHONE_EVENT_PT} 0-16"),
        ("ptime", "20"),
        ("sendrecv", None),
    ]
    return SessionDescription(
        origin=f"{username} {session_id} {version} IN IP4 {address}",
        connection=address,
        media=[MediaDescription("audio", port, "RTP/AVP", formats, attributes=attributes)],
    )


def _dtmf_type(media: MediaDescription) -> int | None:
    for pt, (name, rate) in media.rtpmap().items():
        if name == "TELEPHONE-EVENT" and rate == 8000 and str(pt) in media.formats:
            return pt
    return None


_ANSWER_DIRECTION = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}


def answer_offer(
    offer: SessionDescription,
    address: str,
    port: int,
    *,
    codecs: tuple[str, ...] = ("PCMA", "PCMU"),
    session_id: int = 0,
    version: int = 0,
    username: str = "callbot",
) -> tuple[SessionDescription, NegotiatedMedia]:
    """Answer `offer` (RFC 3264 §6): the first offered codec callbot speaks, and telephone-event if offered.

    Raises NoCommonCodec (→ 488) when nothing matches, ValueError when the offer has no usable audio.
    """
    audio = offer.audio()
    remote = offer.audio_address()
    if audio is None or remote is None:
        raise NoCommonCodec("the offer has no audio stream with an address")
    rtpmap = audio.rtpmap()
    chosen: tuple[str, int] | None = None
    for fmt in audio.formats:
        if not fmt.isdigit():
            continue
        name, rate = rtpmap.get(int(fmt), ("", 0))
        if name in codecs and rate == 8000:
            chosen = (name, int(fmt))
            break
    if chosen is None:
        offered = [rtpmap.get(int(f), (f, 0))[0] for f in audio.formats if f.isdigit()]
        raise NoCommonCodec(f"no common codec: offered {offered}, callbot speaks {list(codecs)}")
    dtmf = _dtmf_type(audio)
    formats = [str(chosen[1])] + ([str(dtmf)] if dtmf is not None else [])
    attributes: list[tuple[str, str | None]] = [("rtpmap", f"{chosen[1]} {chosen[0]}/8000")]
    if dtmf is not None:
        attributes += [("rtpmap", f"{dtmf} telephone-event/8000"), ("fmtp", f"{dtmf} 0-16")]
    direction = _ANSWER_DIRECTION[audio.direction]
    attributes += [("ptime", "20"), (direction, None)]
    media = [MediaDescription("audio", port, "RTP/AVP", formats, attributes=attributes)]
    first_audio = True
    answered: list[MediaDescription] = []
    for m in offer.media:  # one answer line per offered line, in order (RFC 3264 §6)
        if m is audio and first_audio:
            answered.append(media[0])
            first_audio = False
        else:
            answered.append(MediaDescription(m.kind, 0, m.proto, m.formats[:1]))
    answer = SessionDescription(
        origin=f"{username} {session_id} {version} IN IP4 {address}", connection=address, media=answered
    )
    return answer, NegotiatedMedia(chosen[0], chosen[1], dtmf, remote, audio.direction)


def read_answer(offer: SessionDescription, answer: SessionDescription) -> NegotiatedMedia:
    """What an answer to callbot's `offer` settled: the first codec of the answer that was offered.

    Raises NoCommonCodec when the answer picked nothing callbot offered.
    """
    ours = offer.audio()
    theirs = answer.audio()
    remote = answer.audio_address()
    if ours is None or theirs is None or remote is None:
        raise NoCommonCodec("the answer has no audio stream with an address")
    offered = {name: pt for pt, (name, _) in ours.rtpmap().items() if str(pt) in ours.formats}
    rtpmap = theirs.rtpmap()
    for fmt in theirs.formats:
        if fmt.isdigit():
            name, _ = rtpmap.get(int(fmt), ("", 0))
            if name in CODECS and name in offered:
                return NegotiatedMedia(name, int(fmt), _dtmf_type(theirs), remote, theirs.direction)
    raise NoCommonCodec(f"the answer's formats {theirs.formats} include none of the codecs offered")
