"""Port-43 WHOIS (RFC 3912): a small client and a tolerant parser for registration facts.

WHOIS is the fallback for TLDs without RDAP (``.tr`` above all). Its answers are free text in
registry-specific layouts; the parser understands two families and ignores everything else:

* the whois.nic.tr layout: ``** Section:`` headers, ``Key.........: value`` lines, dates such as
  ``2001-Jan-15.``, name servers listed one per line under ``** Domain Servers:``;
* the ICANN gTLD key-value layout: ``Registrar:``, ``Creation Date:``, ``Registry Expiry
  Date:``, ``Domain Status: clientTransferProhibited https://…``, ``Name Server:``.

Statuses are reported in RDAP's vocabulary (RFC 8056: ``clientTransferProhibited`` →
``client transfer prohibited``, ``ok`` → ``active``) so both sources read the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

__all__ = [
    "WhoisClosedError",
    "WhoisRecord",
    "WhoisServer",
    "normalise_status",
    "parse_datetime",
    "parse_whois",
    "query_whois",
]

DEFAULT_PORT = 43
MAX_ANSWER_BYTES = 1 << 20


class WhoisClosedError(ConnectionError):
    """The server closed the connection without sending anything."""


@dataclass(frozen=True)
class WhoisServer:
    host: str
    port: int = DEFAULT_PORT

    @classmethod
    def parse(cls, spec: str) -> WhoisServer:
        """``host``, ``host:port`` or ``[v6]:port``."""
        spec = spec.strip()
        if not spec:
            raise ValueError("empty WHOIS server")
        if spec.startswith("["):
            host, _, rest = spec[1:].partition("]")
            port = rest.removeprefix(":")
            return cls(host, int(port) if port else DEFAULT_PORT)
        if spec.count(":") == 1:
            host, port = spec.split(":")
            return cls(host, int(port))
        return cls(spec)

    @property
    def label(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORT else f"{host}:{self.port}"


async def query_whois(server: WhoisServer, query: str, *, max_bytes: int = MAX_ANSWER_BYTES) -> str:
    """Send one query and read the answer until the server closes the connection.

    No timeout here: the caller bounds the whole exchange (connect, send, read) with one deadline.
    """
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(query.encode("ascii", "strict") + b"\r\n")
        await writer.drain()
        chunks: list[bytes] = []
        size = 0
        while size < max_bytes:
            chunk = await reader.read(65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    raw = b"".join(chunks)
    if not raw.strip():
        raise WhoisClosedError(f"{server.label} closed the connection without an answer")
    return _decode(raw)


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # whois.nic.tr and other older Turkish services answer in a legacy code page.
        return raw.decode("cp1254", errors="replace")


# --- dates -------------------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1
    )
}
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)
_YMON = re.compile(r"^(\d{4})-([a-z]{3})[a-z]*-(\d{1,2})$", re.IGNORECASE)
_DMONY = re.compile(r"^(\d{1,2})[-\s/]([a-z]{3})[a-z]*[-\s/](\d{4})", re.IGNORECASE)
_NUMERIC_YMD = re.compile(r"^(\d{4})[./](\d{1,2})[./](\d{1,2})")
_NUMERIC_DMY = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})")


def parse_datetime(text: str | None) -> datetime | None:
    """Parse the date styles registries use; always aware (UTC). Unparseable → None.

    Date-only values become midnight UTC. ``dd.mm.yyyy`` is read day-first (European registries).
    """
    if not text:
        return None
    value = text.strip().rstrip(".").strip()
    # "2001-01-15 (YYYY-MM-DD)" and similar explanations registries append.
    value = re.sub(r"\s*\(.*\)$", "", value)
    try:
        if m := _ISO.match(value):
            year, month, day, hh, mm, ss, frac, zone = m.groups()
            micro = int((frac or "0")[:6].ljust(6, "0"))
            tz = _zone(zone)
            stamp = datetime(
                int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0), micro, tz
            )
            return stamp.astimezone(UTC)
        if m := _YMON.match(value):
            return _ymd(int(m[1]), _MONTHS.get(m[2].lower()), int(m[3]))
        if m := _DMONY.match(value):
            return _ymd(int(m[3]), _MONTHS.get(m[2].lower()), int(m[1]))
        if m := _NUMERIC_YMD.match(value):
            return _ymd(int(m[1]), int(m[2]), int(m[3]))
        if m := _NUMERIC_DMY.match(value):
            return _ymd(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        return None
    return None


def _zone(zone: str | None) -> timezone:
    if not zone or zone.upper() in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _ymd(year: int, month: int | None, day: int) -> datetime | None:
    if month is None:
        return None
    return datetime(year, month, day, tzinfo=UTC)


# --- statuses ----------------------------------------------------------------------------------


def normalise_status(value: str) -> str:
    """EPP or RDAP status → RDAP form; the explanatory URL ICANN requires is dropped."""
    token = re.split(r"\s+https?://", value.strip())[0].strip().rstrip(",;").strip()
    if not token:
        return ""
    if token.lower() == "ok":
        return "active"
    if " " in token:
        return token.lower()
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", token).lower()


# --- parser ------------------------------------------------------------------------------------


@dataclass
class WhoisRecord:
    found: bool = False
    not_found: bool = False
    rate_limited: bool = False
    registrar: str | None = None
    created: datetime | None = None
    expires: datetime | None = None
    updated: datetime | None = None
    statuses: list[str] = field(default_factory=list)
    nameservers: list[str] = field(default_factory=list)


_CREATED = (
    "creation date",
    "created on",
    "created",
    "created date",
    "registration date",
    "registered on",
    "registered",
    "domain registration date",
    "registration time",
    "domain create date",
    "record created",
)
# Registry data before registrar data: the registry's expiry is the authoritative one.
_EXPIRES = (
    "registry expiry date",
    "expires on",
    "expiration date",
    "expiry date",
    "expires",
    "expire date",
    "paid-till",
    "expiration time",
    "domain expiration date",
    "registrar registration expiration date",
    "renewal date",
)
_UPDATED = (
    "updated date",
    "last updated",
    "last modified",
    "last update",
    "updated",
    "changed",
    "modified",
    "last-update",
)
_REGISTRAR = ("registrar", "sponsoring registrar", "registrar name", "registrar organization")
_REGISTRAR_SECTION_KEYS = ("organization name", "organisation name", "name")
_STATUS = ("domain status", "status", "state")
_NAMESERVERS = (
    "name server",
    "name servers",
    "nameserver",
    "nameservers",
    "nserver",
    "domain servers",
    "dns",
    "domain nameservers",
)
_NOT_FOUND = re.compile(
    r"no match(?:es)? (?:found )?for|^\s*not found|no data found|no entries found|domain not found"
    r"|no object found|object does not exist|status:\s*(?:free|available)",
    re.IGNORECASE | re.MULTILINE,
)
_RATE_LIMITED = re.compile(
    r"limit exceeded|exceeded (?:the )?(?:query|request|maximum)|too many (?:queries|requests)"
    r"|rate limit|quota exceeded|try again later",
    re.IGNORECASE,
)
_HOSTNAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$")


def parse_whois(text: str) -> WhoisRecord:
    """Extract registrar, dates, statuses and name servers from a WHOIS answer."""
    rec = WhoisRecord()
    values: dict[str, str] = {}
    section = ""  # the last key that had no value: a header for the lines below it
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("%", "#", ">>>")):
            continue
        header = stripped.startswith("**")
        key, sep, value = stripped.lstrip("*").strip().partition(":")
        # "Created on..............: 2001-Jan-15." → "created on"
        key = key.strip().rstrip(".").strip().lower()
        value = value.strip()
        if not sep or not key or key.startswith("http") or _HOSTNAME.match(key.split()[0]):
            # Not a key: a name server under a list header (its glue may hold colons), a
            # registrar name under "Registrar:", or free text.
            if section in _NAMESERVERS:
                _add_nameserver(rec, stripped)
            elif section == "registrar" and rec.registrar is None:
                rec.registrar = stripped
            continue
        if not value:
            section = key
            continue
        if header:
            section = key
        elif section in _NAMESERVERS and key not in _NAMESERVERS:
            section = ""
        if key in _REGISTRAR or (section == "registrar" and key in _REGISTRAR_SECTION_KEYS):
            rec.registrar = rec.registrar or value
        elif key in _STATUS:
            status = normalise_status(value)
            if status and status not in rec.statuses:
                rec.statuses.append(status)
        elif key in _NAMESERVERS:
            _add_nameserver(rec, value)
        else:
            values.setdefault(key, value)
    rec.created = _first_date(values, _CREATED)
    rec.expires = _first_date(values, _EXPIRES)
    rec.updated = _first_date(values, _UPDATED)
    rec.found = any((rec.registrar, rec.created, rec.expires, rec.nameservers))
    if not rec.found:
        rec.not_found = bool(_NOT_FOUND.search(text))
        rec.rate_limited = not rec.not_found and bool(_RATE_LIMITED.search(text))
    return rec


def _add_nameserver(rec: WhoisRecord, text: str) -> None:
    token = text.strip().split()[0] if text.strip() else ""
    name = token.lower().rstrip(".")
    if _HOSTNAME.match(name) and name not in rec.nameservers:
        rec.nameservers.append(name)


def _first_date(values: dict[str, str], keys: tuple[str, ...]) -> datetime | None:
    for key in keys:
        if key in values and (parsed := parse_datetime(values[key])) is not None:
            return parsed
    return None
