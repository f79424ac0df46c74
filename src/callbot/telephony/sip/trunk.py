"""A line's SIP trunk settings (中继配置): what `line.settings["sip"]` holds, checked field by field.

    {"sip": {"host": "trunk.example.com", "port": 5060, "transport": "udp",
             "username": "02150001234", "password": "…", "realm": null,
             "register": false, "register_expires": 600,
             "from_user": null, "asserted_identity": false,
             "dial_prefix": "", "strip_plus": true,
             "codecs": ["PCMA", "PCMU"],
             "public_ip": null, "rtp_port_min": 20000, "rtp_port_max": 30000}}

The line service stores the password encrypted, as `password_encrypted` in place of `password`
(the gateway decrypts it when it dials), and never shows it back. `from_user` defaults to the line's
number; `asserted_identity` adds P-Asserted-Identity with it; `dial_prefix` is put before the
callee's number (after `strip_plus` drops a leading "+"); `public_ip` is advertised in Via, Contact
and SDP when callbot is behind NAT; `register: true` keeps the account registered with the trunk
(`register_expires` seconds, refreshed before they run out). Only UDP is spoken for now: a setting
asking for TCP is refused rather than ignored.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from callbot.errors import ValidationFailed
from callbot.telephony.sip.sdp import CODECS

__all__ = ["TrunkSettings"]

_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$")
_USER = re.compile(r"^[A-Za-z0-9_.!~*'()&=+$,;?/%-]{1,64}$")
_DIGITS = re.compile(r"^[0-9*#+]{0,16}$")
_KNOWN = {
    "host",
    "port",
    "transport",
    "username",
    "password",
    "password_encrypted",
    "realm",
    "register",
    "register_expires",
    "from_user",
    "asserted_identity",
    "dial_prefix",
    "strip_plus",
    "codecs",
    "public_ip",
    "rtp_port_min",
    "rtp_port_max",
}


@dataclass(frozen=True, slots=True)
class TrunkSettings:
    host: str
    port: int = 5060
    transport: str = "udp"
    username: str | None = None
    password: str | None = None
    realm: str | None = None
    register: bool = False
    register_expires: int = 600
    from_user: str | None = None
    asserted_identity: bool = False
    dial_prefix: str = ""
    strip_plus: bool = True
    codecs: tuple[str, ...] = ("PCMA", "PCMU")
    public_ip: str | None = None
    rtp_port_min: int | None = None
    rtp_port_max: int | None = None

    @classmethod
    def parse(
        cls,
        line_settings: Mapping[str, Any],
        *,
        where: str = "settings.sip",
        decrypt: Callable[[str], str] | None = None,
    ) -> TrunkSettings:
        """Read and check `line_settings["sip"]`; ValidationFailed lists every bad field.

        `decrypt` turns a stored `password_encrypted` back into the password (the gateway passes it);
        without it a stored password is checked for presence only.
        """
        raw = line_settings.get("sip")
        if not isinstance(raw, Mapping):
            raise ValidationFailed(
                "bad SIP trunk settings", [(where, "a line on the sip gateway needs its trunk settings")]
            )
        problems: list[tuple[str, str]] = []

        def bad(field: str, message: str) -> None:
            problems.append((f"{where}.{field}", message))

        for key in raw:
            if key not in _KNOWN:
                bad(str(key), f"unknown setting (known: {', '.join(sorted(_KNOWN))})")
        host = raw.get("host")
        if not isinstance(host, str) or not (_is_ip(host) or _HOST.match(host)):
            bad("host", "must be the trunk's IP address or host name")
        port = raw.get("port", 5060)
        if not _is_port(port):
            bad("port", "must be a port number between 1 and 65535")
        transport = raw.get("transport", "udp")
        if transport != "udp":
            bad("transport", "only udp is supported for now")
        password = raw.get("password")
        encrypted = raw.get("password_encrypted")
        if password is not None and encrypted is not None:
            bad("password", "give the password, not password_encrypted (callbot encrypts it)")
        if encrypted is not None:
            if not isinstance(encrypted, str) or not encrypted:
                bad("password_encrypted", "must be the stored, encrypted password")
            elif decrypt is not None:
                try:
                    password = decrypt(encrypted)
                except ValueError as exc:
                    bad("password", str(exc))
            else:
                password = ""  # present; its value is only needed to dial
        for field in ("username", "password", "realm", "from_user"):
            value = raw.get(field)
            if value is not None and (not isinstance(value, str) or not value):
                bad(field, "must be a non-empty string when given")
        for field in ("username", "from_user"):
            value = raw.get(field)
            if isinstance(value, str) and value and not _USER.match(value):
                bad(field, "may hold letters, digits and -_.!~*'()&=+$,;?/% only (at most 64)")
        if (raw.get("username") is None) != (password is None):
            bad("password" if password is None else "username", "username and password go together")
        register = raw.get("register", False)
        if not isinstance(register, bool):
            bad("register", "must be true or false")
        elif register and raw.get("username") is None:
            bad("register", "registering needs the account's username and password")
        expires = raw.get("register_expires", 600)
        if not isinstance(expires, int) or isinstance(expires, bool) or not 60 <= expires <= 86400:
            bad("register_expires", "must be between 60 and 86400 seconds")
        for field in ("asserted_identity", "strip_plus"):
            if field in raw and not isinstance(raw[field], bool):
                bad(field, "must be true or false")
        prefix = raw.get("dial_prefix", "")
        if not isinstance(prefix, str) or not _DIGITS.match(prefix):
            bad("dial_prefix", "must be up to 16 digits, * # or +")
        codecs = raw.get("codecs", ["PCMA", "PCMU"])
        if (
            not isinstance(codecs, list)
            or not codecs
            or any(c not in CODECS for c in codecs)
            or len(set(codecs)) != len(codecs)
        ):
            bad("codecs", f"must be a non-empty list of distinct codecs among {sorted(CODECS)}")
        public_ip = raw.get("public_ip")
        if public_ip is not None and (not isinstance(public_ip, str) or not _is_ip(public_ip)):
            bad("public_ip", "must be an IPv4 address")
        low, high = raw.get("rtp_port_min"), raw.get("rtp_port_max")
        if (low is None) != (high is None):
            bad("rtp_port_max" if high is None else "rtp_port_min", "give both ends of the RTP port range")
        elif low is not None:
            if not _is_port(low) or not _is_port(high):
                bad("rtp_port_min", "the RTP port range must be within 1-65535")
            elif low > high:
                bad("rtp_port_min", "must not be above rtp_port_max")
        if problems:
            raise ValidationFailed("bad SIP trunk settings", problems)
        return cls(
            host=host,  # type: ignore[arg-type]
            port=port,
            transport=transport,
            username=raw.get("username"),
            password=password,
            realm=raw.get("realm"),
            register=register,
            register_expires=expires,
            from_user=raw.get("from_user"),
            asserted_identity=raw.get("asserted_identity", False),
            dial_prefix=prefix,
            strip_plus=raw.get("strip_plus", True),
            codecs=tuple(codecs),
            public_ip=public_ip,
            rtp_port_min=low,
            rtp_port_max=high,
        )

    def dial_number(self, callee: str) -> str:
        """The callee as the trunk wants it: "+" dropped if asked, the prefix put in front."""
        number = callee[1:] if self.strip_plus and callee.startswith("+") else callee
        return self.dial_prefix + number


def _is_ip(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).version == 4
    except ValueError:
        return False


def _is_port(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535
