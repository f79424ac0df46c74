"""SIP messages (RFC 3261 §7): parse and serialise requests and responses, pure.

`SipMessage.parse` takes one datagram and either returns the message or raises ValueError naming
what is wrong (start line, header, Content-Length). Headers keep their order and spelling, so a
message parsed and serialised again is the same bytes when it was written in canonical form (one
header per line, CRLF, a correct Content-Length). Compact header names (RFC 3261 §7.3.3) are
understood on lookup. Addresses (`NameAddress`, `SipUri`) and Via (`Via`) are parsed on demand.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

__all__ = [
    "MAX_MESSAGE",
    "REASONS",
    "NameAddress",
    "SipMessage",
    "SipUri",
    "Via",
    "parse_params",
]

# A UDP datagram bigger than this is not a SIP message we accept (RFC 3261 §18.1.1 uses 1300 as the
# threshold to switch to TCP; peers still send up to the path MTU and beyond on loopback).
MAX_MESSAGE = 65_000
SIP_VERSION = "SIP/2.0"

_COMPACT = {
    "i": "call-id",
    "m": "contact",
    "e": "content-encoding",
    "l": "content-length",
    "c": "content-type",
    "f": "from",
    "s": "subject",
    "k": "supported",
    "t": "to",
    "v": "via",
    "o": "event",
    "r": "refer-to",
}
_METHOD = re.compile(r"^[A-Za-z][A-Za-z0-9.!%*_+`'~-]*$")

REASONS = {
    100: "Trying",
    180: "Ringing",
    183: "Session Progress",
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    415: "Unsupported Media Type",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    603: "Decline",
}


@functools.lru_cache(maxsize=512)  # header lookups run this on every header of every message
def _canonical(name: str) -> str:
    lower = name.strip().lower()
    return _COMPACT.get(lower, lower)


@dataclass(slots=True)
class SipMessage:
    """A request (`method`, `uri`) or a response (`status`, `reason`), with ordered headers and a body."""

    method: str | None = None
    uri: str | None = None
    status: int | None = None
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    # --- construction ---------------------------------------------------------------------------------

    @classmethod
    def request(cls, method: str, uri: str, headers: list[tuple[str, str]], body: bytes = b"") -> SipMessage:
        return cls(method=method, uri=uri, headers=list(headers), body=body)

    @classmethod
    def response_to(
        cls, request: SipMessage, status: int, reason: str | None = None, *, to_tag: str | None = None
    ) -> SipMessage:
        """A response copying the request's Via, From, To, Call-ID and CSeq (RFC 3261 §8.2.6.2); `to_tag`
        is added to To when it has none yet."""
        headers: list[tuple[str, str]] = []
        for name, value in request.headers:
            key = _canonical(name)
            if key in ("via", "from", "call-id", "cseq", "record-route"):
                headers.append((name, value))
            elif key == "to":
                if to_tag and ";tag=" not in value.replace(" ", "").lower():
                    value = f"{value};tag={to_tag}"
                headers.append((name, value))
        return cls(status=status, reason=reason or REASONS.get(status, ""), headers=headers)

    # --- wire format ----------------------------------------------------------------------------------

    @classmethod
    def parse(cls, data: bytes) -> SipMessage:
        if len(data) > MAX_MESSAGE:
            raise ValueError(f"SIP message too long: {len(data)} bytes (at most {MAX_MESSAGE})")
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            head, sep, rest = data.partition(b"\n\n")
            if not sep:
                raise ValueError("malformed SIP message: no blank line after the headers")
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"malformed SIP message: headers are not UTF-8 (byte {exc.start})") from None
        lines = text.replace("\r\n", "\n").split("\n")
        start = lines[0]
        message = cls._parse_start(start)
        for raw in lines[1:]:
            if raw[:1] in (" ", "\t"):  # a folded continuation line (RFC 3261 §7.3.1)
                if not message.headers:
                    raise ValueError("malformed SIP header: continuation line before any header")
                name, value = message.headers[-1]
                message.headers[-1] = (name, f"{value} {raw.strip()}")
                continue
            name, colon, value = raw.partition(":")
            if not colon or not name.strip() or " " in name.strip():
                raise ValueError(f"malformed SIP header line: {raw[:60]!r}")
            message.headers.append((name.strip(), value.strip()))
        length_text = message.get("content-length")
        if length_text is None:
            message.body = rest  # RFC 3261 §18.3: optional over UDP, the body runs to the datagram's end
        else:
            if not length_text.isdigit():
                raise ValueError(f"malformed Content-Length: {length_text!r}")
            length = int(length_text)
            if length > len(rest):
                raise ValueError(f"SIP body truncated: Content-Length {length}, {len(rest)} bytes received")
            message.body = rest[:length]
        for required in ("via", "call-id", "cseq", "from", "to"):
            if message.get(required) is None:
                raise ValueError(f"SIP message has no {required.title()} header")
        message.cseq()  # validates it
        return message

    @classmethod
    def _parse_start(cls, line: str) -> SipMessage:
        if line.startswith(SIP_VERSION + " "):
            _, _, rest = line.partition(" ")
            code, _, reason = rest.partition(" ")
            if len(code) != 3 or not code.isdigit() or not 100 <= int(code) <= 699:
                raise ValueError(f"malformed SIP status line: {line[:60]!r}")
            return cls(status=int(code), reason=reason.strip())
        parts = line.split(" ")
        if len(parts) != 3 or parts[2] != SIP_VERSION or not _METHOD.match(parts[0]) or not parts[1]:
            raise ValueError(f"malformed SIP start line: {line[:60]!r}")
        return cls(method=parts[0], uri=parts[1])

    def to_bytes(self) -> bytes:
        if self.method is not None:
            start = f"{self.method} {self.uri} {SIP_VERSION}"
        else:
            start = f"{SIP_VERSION} {self.status} {self.reason}"
        lines = [start]
        lines.extend(f"{name}: {value}" for name, value in self.headers if _canonical(name) != "content-length")
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body

    # --- headers --------------------------------------------------------------------------------------

    @property
    def is_request(self) -> bool:
        return self.method is not None

    def get(self, name: str) -> str | None:
        """The first value of header `name` (any case, compact form understood)."""
        key = _canonical(name)
        for hname, value in self.headers:
            if _canonical(hname) == key:
                return value
        return None

    def get_all(self, name: str) -> list[str]:
        """Every value of header `name`, comma-separated lists split (not inside quotes or <>)."""
        key = _canonical(name)
        values: list[str] = []
        for hname, value in self.headers:
            if _canonical(hname) == key:
                values.extend(_split_list(value))
        return values

    def set(self, name: str, value: str) -> None:
        """Replace header `name` (first occurrence kept in place, the others removed), or append it."""
        key = _canonical(name)
        out: list[tuple[str, str]] = []
        done = False
        for hname, hvalue in self.headers:
            if _canonical(hname) == key:
                if not done:
                    out.append((hname, value))
                    done = True
            else:
                out.append((hname, hvalue))
        if not done:
            out.append((name, value))
        self.headers = out

    def remove(self, name: str) -> None:
        key = _canonical(name)
        self.headers = [(n, v) for n, v in self.headers if _canonical(n) != key]

    @property
    def call_id(self) -> str:
        return self.get("call-id") or ""

    def cseq(self) -> tuple[int, str]:
        value = self.get("cseq") or ""
        number, _, method = value.partition(" ")
        if not number.isdigit() or not method.strip():
            raise ValueError(f"malformed CSeq: {value!r}")
        return int(number), method.strip().upper()

    def from_tag(self) -> str | None:
        return NameAddress.parse(self.get("from") or "").params.get("tag")

    def to_tag(self) -> str | None:
        return NameAddress.parse(self.get("to") or "").params.get("tag")

    def top_via(self) -> Via:
        return Via.parse(self.get_all("via")[0])

    @property
    def content_type(self) -> str:
        return (self.get("content-type") or "").split(";")[0].strip().lower()


def _split_list(value: str) -> list[str]:
    """Split a comma-separated header value, not inside quotes or angle brackets."""
    if "," not in value:
        return [value.strip()] if value.strip() else []
    items: list[str] = []
    depth = 0
    quoted = False
    current: list[str] = []
    for ch in value:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth = max(0, depth - 1)
        if ch == "," and not quoted and depth == 0:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        items.append("".join(current).strip())
    return items


def parse_params(text: str) -> dict[str, str]:
    """`;a=1;b;c="x"` → {"a": "1", "b": "", "c": "x"} (names lower-cased, quotes removed)."""
    params: dict[str, str] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        name, _, value = part.partition("=")
        params[name.strip().lower()] = value.strip().strip('"')
    return params


@dataclass(frozen=True, slots=True)
class SipUri:
    """`sip:user@host:port;params` (RFC 3261 §19.1), the parts callbot routes on."""

    host: str
    user: str = ""
    port: int | None = None
    scheme: str = "sip"
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> SipUri:
        scheme, colon, rest = text.strip().partition(":")
        if not colon or scheme.lower() not in ("sip", "sips", "tel"):
            raise ValueError(f"not a SIP URI: {text[:60]!r}")
        rest, _, _headers = rest.partition("?")
        hostport, *param_parts = rest.split(";")
        user = ""
        if "@" in hostport:
            user, _, hostport = hostport.rpartition("@")
            user = user.partition(":")[0]  # drop a password (deprecated by RFC 3261 §19.1.1)
        if hostport.startswith("["):  # IPv6 reference
            end = hostport.find("]")
            host, port_text = hostport[: end + 1], hostport[end + 2 :] if end >= 0 else ""
        else:
            host, _, port_text = hostport.partition(":")
        if not host and scheme.lower() != "tel":
            raise ValueError(f"SIP URI has no host: {text[:60]!r}")
        if port_text and (not port_text.isdigit() or not 0 < int(port_text) < 65536):
            raise ValueError(f"SIP URI has a bad port: {text[:60]!r}")
        params = tuple(parse_params(";".join(param_parts)).items())
        return cls(
            host=host, user=user, port=int(port_text) if port_text else None, scheme=scheme.lower(), params=params
        )

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        params = "".join(f";{k}={v}" if v else f";{k}" for k, v in self.params)
        return f"{self.scheme}:{user}{self.host}{port}{params}"


@dataclass(frozen=True, slots=True)
class NameAddress:
    """A From/To/Contact value: `"Display" <uri>;tag=x` or `uri;tag=x` (RFC 3261 §20.10)."""

    uri: str
    display: str = ""
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> NameAddress:
        text = text.strip()
        if "<" in text:
            display, _, rest = text.partition("<")
            uri, closing, params = rest.partition(">")
            if not closing:
                raise ValueError(f"address without a closing '>': {text[:60]!r}")
            return cls(uri.strip(), display.strip().strip('"'), parse_params(params))
        uri, _, params = text.partition(";")
        return cls(uri.strip(), "", parse_params(params))

    def __str__(self) -> str:
        display = f'"{self.display}" ' if self.display else ""
        params = "".join(f";{k}={v}" if v else f";{k}" for k, v in self.params.items())
        return f"{display}<{self.uri}>{params}"


@dataclass(frozen=True, slots=True)
class Via:
    """One Via value: `SIP/2.0/UDP host:port;branch=z9hG4bK...;rport` (RFC 3261 §20.42)."""

    transport: str
    host: str
    port: int | None
    params: dict[str, str]

    @classmethod
    def parse(cls, text: str) -> Via:
        proto, _, rest = text.strip().partition(" ")
        parts = proto.split("/")
        if len(parts) != 3 or parts[0].upper() != "SIP":
            raise ValueError(f"malformed Via: {text[:60]!r}")
        sent_by, _, params = rest.strip().partition(";")
        host, _, port = sent_by.strip().partition(":")
        return cls(parts[2].upper(), host, int(port) if port.isdigit() else None, parse_params(params))

    @property
    def branch(self) -> str:
        return self.params.get("branch", "")
