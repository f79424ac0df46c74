"""Where outbound requests may go: public addresses only, unless an operator allows specific hosts or
ranges. Callback URLs are chosen by tenants, so without this any tenant could make the server POST to
its own loopback, the private network or a cloud metadata service (SSRF) and read the reply.

A URL is checked when it is saved (literal addresses, local names, credentials, scheme) and every
address a name resolves to is checked again when a request is sent, so a name that later resolves
somewhere else (DNS rebinding) is refused at send time.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Names that always mean this machine or a cloud provider's metadata service.
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
METADATA_NAMES = frozenset(
    {"metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"}
)
# IPv6 ranges that carry an IPv4 address in their last 32 bits (NAT64): judged by that address.
NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_LOOPBACKS = (ipaddress.IPv4Address("127.0.0.1"), ipaddress.IPv6Address("::1"))
_LEGACY_IPV4 = re.compile(r"[0-9a-fA-FxX.]+")
ALLOW_SETTING = "CALLBOT_CALLBACK_ALLOW"


class ForbiddenDestination(ValueError):
    """An outbound request would go somewhere it may not (the message says where and why)."""


def literal_address(host: str) -> IpAddress | None:
    """The address a host names literally, in any notation a socket library accepts: dotted, IPv6, and the
    legacy IPv4 forms (2130706433, 0x7f.1, 017700000001, 127.1). None for a name."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if _LEGACY_IPV4.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def why_forbidden(address: IpAddress) -> str | None:
    """Why an address is not a public destination, None when it is one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is None and any(address in net for net in NAT64):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return why_forbidden(embedded)
    for forbidden, reason in (
        (address.is_loopback, "a loopback address"),
        (address.is_unspecified, "an unspecified address"),
        (address.is_link_local, "a link-local address (cloud metadata lives there)"),
        (address.is_multicast, "a multicast address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    ):
        if forbidden:
            return reason
    return None


@dataclass(frozen=True)
class EgressPolicy:
    """Public destinations only, plus the hosts and networks an operator allows. An allowed host name may
    resolve to any address; an allowed network admits its addresses whatever name leads there."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IpNetwork, ...] = field(default=())

    @classmethod
    def parse(cls, allow: str | Iterable[str]) -> EgressPolicy:
        """From a comma-separated list of host names, addresses and CIDR ranges, e.g. the setting
        `127.0.0.1,10.20.0.0/16,crm.internal`."""
        entries = allow.split(",") if isinstance(allow, str) else list(allow)
        hosts: set[str] = set()
        networks: list[IpNetwork] = []
        for raw in entries:
            entry = raw.strip().lower()
            if not entry:
                continue
            if "/" in entry or literal_address(entry) is not None:
                try:
                    networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                except ValueError:
                    raise ValueError(f"{ALLOW_SETTING}: {raw.strip()!r} is not an address or CIDR range") from None
            elif re.fullmatch(r"[a-z0-9_.-]+", entry):
                hosts.add(entry.rstrip("."))
            else:
                raise ValueError(f"{ALLOW_SETTING}: {raw.strip()!r} is not a host name, address or CIDR range")
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def check_address(self, host: str, address: str | IpAddress) -> None:
        """Refuse an address `host` resolved to (or names) unless it is public or allowed."""
        if self.allows_host(host):
            return
        ip = ipaddress.ip_address(address.split("%", 1)[0]) if isinstance(address, str) else address
        if any(ip in net for net in self.networks if net.version == ip.version):
            return
        reason = why_forbidden(ip)
        if reason is not None:
            shown = host if str(ip) == host.strip("[]") else f"{host} ({ip})"
            raise ForbiddenDestination(f"{shown} is {reason}; an operator may allow it with {ALLOW_SETTING}")

    def check_url(self, url: str) -> str:
        """Refuse a URL that is not plain http(s), carries credentials, or names a destination that is not
        public and not allowed. Names are judged here by what they say; what they resolve to is judged at
        send time (`check_address`). Returns the URL."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise ForbiddenDestination(f"{url!r} is not a valid URL: {exc}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ForbiddenDestination(f"{url!r} is not an http:// or https:// URL with a host")
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            raise ForbiddenDestination("a callback URL may not carry credentials (user:password@)")
        if port == 0:
            raise ForbiddenDestination(f"{url!r} has port 0")
        host = parts.hostname
        if self.allows_host(host):
            return url
        address = literal_address(host)
        if address is not None:
            self.check_address(host, address)
        elif host.rstrip(".") in LOCAL_NAMES or host.rstrip(".").endswith(".localhost"):
            if any(
                loopback in net for net in self.networks for loopback in _LOOPBACKS if net.version == loopback.version
            ):
                return url  # loopback allowed: its names too
            raise ForbiddenDestination(f"{host} is this machine; an operator may allow it with {ALLOW_SETTING}")
        elif host.rstrip(".") in METADATA_NAMES:
            raise ForbiddenDestination(f"{host} is a cloud metadata service")
        return url

    async def check_resolved(self, url: str) -> None:
        """`check_url`, then every address the URL's host resolves to now. For clients that resolve again to
        connect (a short rebinding window remains); the deliverer's own client connects to the checked
        addresses instead."""
        self.check_url(url)
        parts = urlsplit(url)
        host = parts.hostname or ""
        if literal_address(host) is not None or self.allows_host(host):
            return
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 0, type=socket.SOCK_STREAM)
        except OSError:
            return  # unresolvable: the request fails with a connection error of its own
        for *_, sockaddr in infos:
            self.check_address(host, str(sockaddr[0]))
