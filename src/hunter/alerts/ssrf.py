"""Webhook target validation: resolve once, refuse internal addresses, pin the vetted IP.

A webhook URL is user input that makes the server open a connection, so it is checked the way an
attacker would abuse it:

* only ``http`` / ``https``, no credentials in the URL, no ambiguous numeric hosts (``127.1``,
  ``0x7f000001``, ``2130706433`` are all 127.0.0.1 to some parsers);
* the host name is resolved *here*, every address it resolves to is checked, and the caller
  connects to the vetted address (``ResolvedTarget.ip``) while sending the name as ``Host`` /
  SNI. A second resolution by the HTTP client could return another address (DNS rebinding);
* IPv6 forms that embed an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, 6to4 ``2002::/16``,
  NAT64 ``64:ff9b::/96`` and ``64:ff9b:1::/48``) are judged by the embedded address.

``allow_private`` (set by an admin per channel) lifts the ban on loopback, private, link-local,
shared (CGNAT), unique-local and other non-global unicast addresses. Unspecified, multicast,
broadcast and reserved addresses are refused even then: no HTTP receiver lives there, and
``0.0.0.0`` / ``::`` reach the local host on many systems, a classic filter bypass.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna

__all__ = [
    "ResolvedTarget",
    "Resolver",
    "TargetRefused",
    "TargetUnresolved",
    "address_problem",
    "system_resolver",
    "validate_webhook_target",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Iterable[str]]
"""``(host, port) -> IP address strings``. Called from a worker thread; may block."""

_SCHEMES = {"http": 80, "https": 443}
_SHARED_V4 = ipaddress.ip_network("100.64.0.0/10")
_UNIQUE_LOCAL_V6 = ipaddress.ip_network("fc00::/7")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# WHATWG URL parsing treats a host whose last label is a number as IPv4 (decimal, octal or hex).
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")
_ALWAYS_REFUSED = frozenset({"unspecified", "multicast", "reserved"})


class TargetRefused(ValueError):
    """The URL is not an acceptable webhook target; ``reason`` says why (shown to admins)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TargetUnresolved(TargetRefused):
    """The host name did not resolve (now): a transient failure, worth retrying."""


@dataclass(frozen=True, slots=True)
class ResolvedTarget:
    url: str
    scheme: str
    host: str
    """ASCII host name (IDNA), or the IP literal without brackets."""
    port: int
    path: str
    """Path and query, as sent in the request line."""
    addresses: tuple[str, ...]
    """Every address the host resolved to; all passed the check."""
    ip: str
    """The address to connect to (the first vetted one)."""

    @property
    def is_ip_literal(self) -> bool:
        return _parse_ip(self.host) is not None

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _SCHEMES[self.scheme] else f"{host}:{self.port}"

    @property
    def connect_url(self) -> str:
        """The URL with the vetted IP in place of the name (send ``host_header`` and SNI = ``host``)."""
        ip = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"{self.scheme}://{ip}:{self.port}{self.path}"


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _category(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public unicast address (None if it is)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "link-local"
        inner = _embedded_v4(ip)
        if inner is not None:
            return _category(inner)
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_multicast:
        return "multicast"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED_V4:
        return "shared (carrier-grade NAT)"
    if isinstance(ip, ipaddress.IPv6Address) and ip in _UNIQUE_LOCAL_V6:
        return "unique-local"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "non-global"
    return None


def address_problem(address: str, *, allow_private: bool) -> str | None:
    """A reason to refuse connecting to ``address``, or None if it is acceptable."""
    ip = _parse_ip(address)
    if ip is None:
        return f"{address!r} is not an IP address"
    category = _category(ip)
    if category is None:
        return None
    if allow_private and category not in _ALWAYS_REFUSED:
        return None
    if category in _ALWAYS_REFUSED:
        return f"{address} is not a public address ({category}); never a webhook target"
    return f"{address} is not a public address ({category}); refused unless the channel allows private"


def _connect_form(address: str) -> str:
    """Connect to the IPv4 address itself rather than its IPv4-mapped IPv6 form."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def _ascii_host(host: str) -> str:
    host = host.rstrip(".")
    if not host:
        raise TargetRefused("URL has no host")
    try:
        ascii_host = host if host.isascii() else idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise TargetRefused(f"invalid host name {host!r}: {exc}") from None
    ascii_host = ascii_host.lower()
    labels = ascii_host.split(".")
    if _NUMERIC_LABEL.match(labels[-1]):
        raise TargetRefused(f"ambiguous numeric host {host!r}; write an IP address in its usual form")
    if len(ascii_host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise TargetRefused(f"invalid host name {host!r}")
    return ascii_host


def validate_webhook_target(
    url: str, *, allow_private: bool, resolver: Resolver = system_resolver
) -> ResolvedTarget:
    """Check ``url`` and resolve its host; raise :class:`TargetRefused` with the reason if unsafe.

    Raises :class:`TargetUnresolved` (a subclass) when the name does not resolve.
    """
    if not url or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise TargetRefused("URL is empty or contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        port_given = parts.port
    except ValueError as exc:
        raise TargetRefused(f"malformed URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise TargetRefused(f"scheme {parts.scheme!r} not allowed; use http or https")
    if "@" in parts.netloc:
        raise TargetRefused("credentials in the URL are not allowed")
    if parts.hostname is None:
        raise TargetRefused("URL has no host")
    port = port_given if port_given is not None else _SCHEMES[scheme]
    if not 0 < port < 65536:
        raise TargetRefused(f"port {port} out of range")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"

    literal = _parse_ip(parts.hostname)
    if literal is not None:
        host = str(literal)
        addresses = [host]
    elif "[" in parts.netloc or "%" in parts.hostname:
        raise TargetRefused(f"invalid IP literal {parts.hostname!r}")
    else:
        host = _ascii_host(parts.hostname)
        try:
            addresses = list(dict.fromkeys(resolver(host, port)))
        except (OSError, UnicodeError) as exc:
            raise TargetUnresolved(f"host {host} did not resolve: {exc}") from None
        if not addresses:
            raise TargetUnresolved(f"host {host} has no addresses")

    # Any bad answer refuses the target: with a mixed answer set the client could pick either.
    for address in addresses:
        problem = address_problem(address, allow_private=allow_private)
        if problem is not None:
            raise TargetRefused(problem if literal is not None else f"host {host}: {problem}")
    vetted = tuple(_connect_form(a) for a in addresses)
    return ResolvedTarget(
        url=url, scheme=scheme, host=host, port=port, path=path, addresses=vetted, ip=vetted[0]
    )
