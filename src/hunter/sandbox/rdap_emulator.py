"""RDAP emulator: a small HTTP(S) RDAP server for the synthetic world and for tests.

It answers ``GET /domain/<name>`` (RFC 9082) with RFC 9083 domain objects built from a registry
function (``registration_for`` by default: deterministic synthetic registrations), ``404`` for
names the registry does not know, and serves a bootstrap document (RFC 9224) listing itself at
``/bootstrap/dns.json`` so ``refresh_bootstrap`` can be exercised end to end. Any path under
``/redirect/`` answers 301 to the same path without that prefix.

HTTP is spoken by hand on asyncio streams rather than through an ASGI server because the faults
must be real at the socket level: a dropped connection has to be a closed socket, not a 500.
HTTPS uses a local CA made with ``trustme`` (``ca_path`` is the PEM to trust).

Faults are switched per domain or globally (``emulator.faults.set(Fault("rate_limit"))``) and
are thread-safe, so a test can flip them while the server runs in a background thread
(``running_rdap_emulator``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import random
import shutil
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict, TypeVar
from urllib.parse import unquote

import idna

from hunter.sandbox.tcp_service import TcpService

if TYPE_CHECKING:
    import trustme

__all__ = [
    "DEFAULT_TLDS",
    "BackgroundLoop",
    "EmulatorRequest",
    "Fault",
    "FaultSwitch",
    "RdapEmulator",
    "Registry",
    "RegistryRecord",
    "rdap_domain_object",
    "registration_for",
    "running_rdap_emulator",
]

DEFAULT_TLDS: tuple[str, ...] = ("com", "net", "org", "info", "biz", "io", "co", "app", "dev", "eu", "uk")


# --- synthetic registry ------------------------------------------------------------------------


class RegistryRecord(TypedDict):
    domain: str
    handle: str
    registrar: str
    registrar_iana_id: str | None
    registrar_handle: str
    created: datetime
    expires: datetime
    updated: datetime
    status: list[str]
    """RDAP vocabulary (``client transfer prohibited``, ``active``)."""
    nameservers: list[str]


Registry = Callable[[str], RegistryRecord | None]


@dataclass(frozen=True)
class _Registrar:
    name: str
    iana_id: str | None
    nic_handle: str
    nameservers: tuple[str, ...]
    statuses: tuple[str, ...]
    weight_tr: int
    weight_gtld: int


_LOCKS = ("client transfer prohibited",)
_REGISTRARS: tuple[_Registrar, ...] = (
    _Registrar(
        "Natro Bilişim", None, "nat12-metu", ("ns1.natrohost.com", "ns2.natrohost.com"), _LOCKS, 30, 12
    ),
    _Registrar("İsimtescil", None, "isi7-metu", ("ns1.isimtescil.net", "ns2.isimtescil.net"), _LOCKS, 25, 10),
    _Registrar(
        "Turkticaret.net", None, "tyh14-metu", ("ns1.turkticaret.net", "ns2.turkticaret.net"), _LOCKS, 15, 3
    ),
    _Registrar("Metunic", None, "mtn3-metu", ("ns1.metunic.com.tr", "ns2.metunic.com.tr"), (), 10, 0),
    _Registrar(
        "Güzel Hosting", None, "guz5-metu", ("ns1.guzelhosting.com", "ns2.guzelhosting.com"), (), 10, 2
    ),
    _Registrar(
        "GoDaddy.com, LLC",
        "146",
        "gdy1-metu",
        ("ns{n}.domaincontrol.com", "ns{m}.domaincontrol.com"),
        (
            "client delete prohibited",
            "client renew prohibited",
            "client transfer prohibited",
            "client update prohibited",
        ),
        5,
        30,
    ),
    _Registrar(
        "MarkMonitor Inc.",
        "292",
        "mkm1-metu",
        ("ns1.{domain}", "ns2.{domain}"),
        (
            "client delete prohibited",
            "client transfer prohibited",
            "client update prohibited",
            "server delete prohibited",
            "server transfer prohibited",
            "server update prohibited",
        ),
        3,
        8,
    ),
    _Registrar(
        "NameCheap, Inc.",
        "1068",
        "nmc1-metu",
        ("dns1.registrar-servers.com", "dns2.registrar-servers.com"),
        _LOCKS,
        0,
        12,
    ),
    _Registrar("Tucows Domains Inc.", "69", "tcw1-metu", ("ns1.hover.com", "ns2.hover.com"), _LOCKS, 0, 8),
    _Registrar(
        "Key-Systems GmbH", "269", "ksy1-metu", ("ns1.rrpproxy.net", "ns2.rrpproxy.net"), _LOCKS, 2, 5
    ),
)
_CLOUDFLARE_NAMES = (
    "ada",
    "bob",
    "cruz",
    "dana",
    "elle",
    "fred",
    "gina",
    "hank",
    "ivy",
    "jack",
    "kate",
    "leo",
    "mia",
    "noah",
    "olga",
    "pete",
    "rita",
    "sam",
    "tess",
    "vera",
)
_RESERVED_TLDS = frozenset({"test", "example", "invalid", "localhost", "local"})
_UNREGISTERED_PREFIXES = ("nx-", "unregistered", "available-", "free-")
_FIRST_YEAR = 1998
_LAST_YEAR = 2025


def registration_for(domain: str, seed: int = 0, *, today: date | None = None) -> RegistryRecord | None:
    """Deterministic synthetic registration for ``domain``; None when it is not registered.

    The same (domain, seed, today) always gives the same record, so the RDAP and WHOIS emulators
    agree. About 1 in 10 domains is new (registered within the last year), about 1 in 8 expires
    within 30 days of ``today``; the rest were registered 1998–2025 and renew well after it.
    Not registered: reserved TLDs (.test, .example, .invalid, .localhost, .local) and names whose
    first label starts with ``nx-``, ``unregistered``, ``available-`` or ``free-``.
    """
    name = domain.strip().rstrip(".").lower()
    labels = name.split(".")
    if len(labels) < 2 or any(not label for label in labels) or not name.isascii():
        return None
    if labels[-1] in _RESERVED_TLDS or labels[0].startswith(_UNREGISTERED_PREFIXES):
        return None
    day = _as_date(today or date.today())
    rng = random.Random(hashlib.sha256(f"{seed}|{name}".encode()).digest())
    is_tr = labels[-1] == "tr"

    weights = [r.weight_tr if is_tr else r.weight_gtld for r in _REGISTRARS]
    registrar = rng.choices(_REGISTRARS, weights=weights)[0]
    clock = timedelta(hours=rng.randrange(24), minutes=rng.randrange(60), seconds=rng.randrange(60))

    profile = rng.random()
    latest_old = min(date(_LAST_YEAR, 12, 31), day - timedelta(days=400))
    earliest = min(date(_FIRST_YEAR, 1, 1), latest_old)
    if profile < 0.10:  # new domain
        created = day - timedelta(days=rng.randint(7, 330))
        expires = _anniversary(created, created.year + 1)
    elif profile < 0.22:  # expiring within 30 days of today
        expires = day + timedelta(days=rng.randint(1, 29))
        year = rng.randint(earliest.year, max(earliest.year, latest_old.year))
        created = min(_anniversary(expires, year), latest_old)
    else:
        created = earliest + timedelta(days=rng.randrange((latest_old - earliest).days + 1))
        year = day.year
        expires = _anniversary(created, year)
        while expires <= day + timedelta(days=31):
            year += 1
            expires = _anniversary(created, year)
        expires = _anniversary(created, year + rng.choice((0, 0, 0, 1, 1, 2, 4)))
    updated_floor = max(created, day - timedelta(days=3 * 365))
    updated = updated_floor + timedelta(days=rng.randrange(max(1, (day - updated_floor).days)))

    statuses = ["active"] if is_tr or not registrar.statuses else list(registrar.statuses)
    return RegistryRecord(
        domain=name,
        handle=f"{hashlib.sha1(name.encode()).hexdigest()[:10].upper()}_DOMAIN_{labels[-1].upper()}",
        registrar=registrar.name,
        registrar_iana_id=registrar.iana_id,
        registrar_handle=registrar.nic_handle,
        created=_at(created, clock),
        expires=_at(expires, clock),
        updated=_at(updated, clock),
        status=statuses,
        nameservers=_nameservers(rng, registrar, name),
    )


def _as_date(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


def _anniversary(start: date, year: int) -> date:
    try:
        return start.replace(year=year)
    except ValueError:  # 29 February
        return start.replace(year=year, day=28)


def _at(day: date, clock: timedelta) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + clock


def _nameservers(rng: random.Random, registrar: _Registrar, domain: str) -> list[str]:
    pick = rng.random()
    if pick < 0.55:
        n = rng.randrange(1, 78, 2)
        return [ns.format(n=f"{n:02d}", m=f"{n + 1:02d}", domain=domain) for ns in registrar.nameservers]
    if pick < 0.75:
        first, second = rng.sample(_CLOUDFLARE_NAMES, 2)
        return [f"{first}.ns.cloudflare.com", f"{second}.ns.cloudflare.com"]
    if pick < 0.83:
        return [f"ns1.{domain}", f"ns2.{domain}"]
    if pick < 0.90:
        n = rng.randrange(2048)
        return [
            f"ns-{n + i * 500}.awsdns-{(n + i) % 64:02d}.{tld}"
            for i, tld in enumerate(("com", "net", "org", "co.uk"))
        ]
    k = rng.randrange(1, 10)
    return [f"ns{i}-0{k}.azure-dns.{tld}" for i, tld in enumerate(("com", "net", "org", "info"), start=1)]


# --- faults ------------------------------------------------------------------------------------

FaultKind = Literal["rate_limit", "error", "slow", "drop", "malformed"]


@dataclass(frozen=True)
class Fault:
    """A misbehaviour to inject.

    ``rate_limit``: HTTP 429 with ``Retry-After`` (omitted when None) / a WHOIS quota message;
    ``error``: HTTP ``status``; ``slow``: answer after ``delay`` seconds; ``drop``: close the
    connection without answering; ``malformed``: a truncated JSON body / garbage WHOIS text.
    ``times`` limits how many requests it hits (None: all); ``rate`` is the chance per request.
    """

    kind: FaultKind
    times: int | None = None
    rate: float = 1.0
    retry_after: float | None = 1.0
    status: int = 500
    delay: float = 2.0


class FaultSwitch:
    """Per-domain and global faults; per-domain ones win. Safe to use from any thread."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._global: list[Any] | None = None  # [fault, remaining]
        self._domains: dict[str, list[Any]] = {}

    def set(self, fault: Fault, domain: str | None = None) -> None:
        entry = [fault, fault.times]
        with self._lock:
            if domain is None:
                self._global = entry
            else:
                self._domains[domain.strip().rstrip(".").lower()] = entry

    def clear(self, domain: str | None = None) -> None:
        """Clear one domain's fault, or every fault when ``domain`` is None."""
        with self._lock:
            if domain is None:
                self._global = None
                self._domains.clear()
            else:
                self._domains.pop(domain.strip().rstrip(".").lower(), None)

    def take(self, domain: str | None) -> Fault | None:
        """The fault that applies to this request, if any (counts it against ``times``)."""
        with self._lock:
            entry = self._domains.get(domain or "") or self._global
            if entry is None:
                return None
            fault, remaining = entry
            if remaining is not None and remaining <= 0:
                return None
            if fault.rate < 1.0 and self._rng.random() >= fault.rate:
                return None
            if remaining is not None:
                entry[1] = remaining - 1
            return fault


@dataclass(frozen=True)
class EmulatorRequest:
    at: float
    """time.monotonic() when the request arrived."""
    target: str
    domain: str | None
    outcome: str
    """HTTP status as text, ``drop``, or for WHOIS ``ok`` / ``no match`` / fault name."""


# --- background thread -------------------------------------------------------------------------

_T = TypeVar("_T")


class BackgroundLoop:
    """An event loop in a daemon thread, for running emulators beside synchronous code."""

    def __init__(self, name: str = "hunter-emulator") -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)

    def __enter__(self) -> BackgroundLoop:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def run(self, coro: Coroutine[Any, Any, _T], timeout: float = 30.0) -> _T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)


# --- RDAP server -------------------------------------------------------------------------------

_REASONS = {
    200: "OK",
    301: "Moved Permanently",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
_CONFORMANCE = [
    "rdap_level_0",
    "icann_rdap_response_profile_0",
    "icann_rdap_technical_implementation_guide_0",
]


class RdapEmulator(TcpService):
    """RDAP over HTTP, or HTTPS with a local trustme CA (``tls=True`` or a ``ca``)."""

    def __init__(
        self,
        registry: Registry | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = False,
        ca: trustme.CA | None = None,
        tlds: tuple[str, ...] = DEFAULT_TLDS,
        seed: int = 0,
        today: date | None = None,
    ) -> None:
        super().__init__(host, port)
        day = _as_date(today or date.today())
        self.registry: Registry = registry or (lambda name: registration_for(name, seed, today=day))
        self.tls = tls or ca is not None
        self.tlds = tlds
        self.faults = FaultSwitch(seed)
        self.requests: list[EmulatorRequest] = []
        self._ca = ca
        self._tmpdir: Path | None = None
        self._ca_path: str | None = None

    # -- lifecycle --

    async def start(self) -> str:
        """Start listening; returns the base URL (ends with ``/``)."""
        await self._listen(self._server_context() if self.tls else None)
        return self.base_url

    async def stop(self) -> None:
        await super().stop()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
            self._ca_path = None

    # -- addresses --

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host_for_url}:{self._port}/"

    @property
    def bootstrap_url(self) -> str:
        return self.base_url + "bootstrap/dns.json"

    @property
    def ca(self) -> trustme.CA | None:
        return self._ca

    @property
    def ca_path(self) -> str | None:
        """PEM file of the CA that signed the server certificate (pass as ``verify=``)."""
        return self._ca_path

    def rdap_overrides(self, tlds: tuple[str, ...] | None = None) -> dict[str, str]:
        """``RdapConfig.rdap_overrides`` that send these TLDs here."""
        return {tld: self.base_url for tld in (tlds or self.tlds)}

    def bootstrap_document(self) -> dict[str, Any]:
        return {
            "version": "1.0",
            "publication": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "description": "Hunter sandbox RDAP emulator",
            "services": [[sorted(self.tlds), [self.base_url]]],
        }

    def _server_context(self) -> ssl.SSLContext:
        import trustme  # only the HTTPS sandbox needs it

        if self._ca is None:
            self._ca = trustme.CA()
        cert = self._ca.issue_cert(self.host, "localhost", "127.0.0.1")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        self._tmpdir = Path(tempfile.mkdtemp(prefix="hunter-rdap-ca-"))
        path = self._tmpdir / "ca.pem"
        self._ca.cert_pem.write_to_path(str(path))
        self._ca_path = str(path)
        return context

    # -- HTTP --

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await self._serve_one(reader, writer):
            pass

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection should close."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split()
        if len(parts) != 3:
            await self._send(writer, 400, _error_body(400, "Bad Request"), keep_alive=False)
            return False
        method, target, version = parts
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
        if length := int(headers.get("content-length", "0") or 0):
            await reader.readexactly(length)
        keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        path = target.split("?", 1)[0]

        if method not in ("GET", "HEAD"):
            self._log(target, None, "405")
            await self._send(writer, 405, _error_body(405, "Method Not Allowed"), keep_alive=keep_alive)
            return keep_alive
        if path in ("/bootstrap/dns.json", "/dns.json"):
            self._log(target, None, "200")
            body = json.dumps(self.bootstrap_document()).encode()
            await self._send(writer, 200, body, keep_alive=keep_alive, content_type="application/json")
            return keep_alive
        if path.startswith("/redirect/"):
            # Like a thin registry pointing at another server: exercises clients' redirect handling.
            location = path.removeprefix("/redirect")
            self._log(target, None, "301")
            await self._send(
                writer,
                301,
                b"",
                keep_alive=keep_alive,
                extra={"Location": location},
                content_type="text/plain",
            )
            return keep_alive
        if path == "/help":
            self._log(target, None, "200")
            doc = {
                "rdapConformance": _CONFORMANCE,
                "notices": [{"title": "Hunter sandbox", "description": ["Synthetic registration data."]}],
            }
            await self._send(writer, 200, json.dumps(doc).encode(), keep_alive=keep_alive)
            return keep_alive
        if not path.startswith("/domain/"):
            self._log(target, None, "400")
            await self._send(writer, 400, _error_body(400, "Unsupported query"), keep_alive=keep_alive)
            return keep_alive

        try:
            domain = _query_name(unquote(path.removeprefix("/domain/")))
        except ValueError:
            self._log(target, None, "400")
            await self._send(writer, 400, _error_body(400, "Invalid domain name"), keep_alive=keep_alive)
            return keep_alive

        fault = self.faults.take(domain)
        if fault is not None and fault.kind == "drop":
            self._log(target, domain, "drop")
            return False
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.kind == "rate_limit":
            self._log(target, domain, "429")
            extra = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
            await self._send(
                writer, 429, _error_body(429, "Too Many Requests"), keep_alive=keep_alive, extra=extra
            )
            return keep_alive
        if fault is not None and fault.kind == "error":
            self._log(target, domain, str(fault.status))
            body = _error_body(fault.status, _REASONS.get(fault.status, "Error"))
            await self._send(writer, fault.status, body, keep_alive=keep_alive)
            return keep_alive
        if fault is not None and fault.kind == "malformed":
            self._log(target, domain, "200")
            await self._send(
                writer, 200, b'{"objectClassName": "domain", "ldhName": "', keep_alive=keep_alive
            )
            return keep_alive

        record = self.registry(domain)
        if record is None:
            self._log(target, domain, "404")
            await self._send(writer, 404, _error_body(404, "Not Found"), keep_alive=keep_alive)
            return keep_alive
        self._log(target, domain, "200")
        body = json.dumps(rdap_domain_object(record, self.base_url), ensure_ascii=False).encode()
        await self._send(writer, 200, body, keep_alive=keep_alive, head_only=method == "HEAD")
        return keep_alive

    def _log(self, target: str, domain: str | None, outcome: str) -> None:
        self.requests.append(EmulatorRequest(time.monotonic(), target, domain, outcome))

    @staticmethod
    async def _send(
        writer: asyncio.StreamWriter,
        status: int,
        body: bytes,
        *,
        keep_alive: bool,
        content_type: str = "application/rdap+json",
        extra: dict[str, str] | None = None,
        head_only: bool = False,
    ) -> None:
        headers = {
            "Content-Type": content_type,
            "Content-Length": str(len(body)),
            "Access-Control-Allow-Origin": "*",
            "Connection": "keep-alive" if keep_alive else "close",
            **(extra or {}),
        }
        head = f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        writer.write(head.encode("latin-1") + (b"" if head_only else body))
        await writer.drain()


def _query_name(raw: str) -> str:
    name = raw.strip().rstrip(".").lower()
    if not name or "/" in name:
        raise ValueError(raw)
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise ValueError(raw) from exc
    return name


def _error_body(code: int, title: str) -> bytes:
    return json.dumps(
        {
            "rdapConformance": ["rdap_level_0"],
            "errorCode": code,
            "title": title,
            "description": [f"{title} (Hunter sandbox)"],
        }
    ).encode()


def rdap_domain_object(record: RegistryRecord, base_url: str) -> dict[str, Any]:
    """RFC 9083 domain object for a registry record, shaped like a gTLD registry's answer."""
    name = record["domain"]
    # Verisign answers in upper case; clients must not depend on case.
    upper = name.rsplit(".", 1)[-1] in ("com", "net")
    ldh = name.upper() if upper else name
    registrar: dict[str, Any] = {
        "objectClassName": "entity",
        "handle": record["registrar_iana_id"] or record["registrar_handle"],
        "roles": ["registrar"],
        "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", record["registrar"]]]],
        "entities": [
            {
                "objectClassName": "entity",
                "roles": ["abuse"],
                "vcardArray": [
                    "vcard",
                    [
                        ["version", {}, "text", "4.0"],
                        ["fn", {}, "text", "Abuse desk"],
                        ["email", {}, "text", "abuse@registrar.invalid"],
                    ],
                ],
            }
        ],
    }
    if record["registrar_iana_id"]:
        registrar["publicIds"] = [{"type": "IANA Registrar ID", "identifier": record["registrar_iana_id"]}]
    doc: dict[str, Any] = {
        "objectClassName": "domain",
        "rdapConformance": _CONFORMANCE,
        "handle": record["handle"],
        "ldhName": ldh,
        "links": [
            {
                "value": f"{base_url}domain/{name}",
                "rel": "self",
                "href": f"{base_url}domain/{name}",
                "type": "application/rdap+json",
            }
        ],
        "status": list(record["status"]),
        "entities": [registrar],
        "events": [
            {"eventAction": "registration", "eventDate": _stamp(record["created"])},
            {"eventAction": "expiration", "eventDate": _stamp(record["expires"])},
            {"eventAction": "last changed", "eventDate": _stamp(record["updated"])},
            {"eventAction": "last update of RDAP database", "eventDate": _stamp(datetime.now(UTC))},
        ],
        "secureDNS": {"delegationSigned": False},
        "nameservers": [
            {"objectClassName": "nameserver", "ldhName": ns.upper() if upper else ns}
            for ns in record["nameservers"]
        ],
        "notices": [
            {"title": "Terms of Use", "description": ["Synthetic data served by the Hunter sandbox."]}
        ],
    }
    if name.startswith("xn--") or ".xn--" in name:
        with contextlib.suppress(idna.IDNAError, UnicodeError):
            doc["unicodeName"] = idna.decode(name)
    return doc


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextlib.contextmanager
def running_rdap_emulator(registry: Registry | None = None, **options: Any) -> Iterator[RdapEmulator]:
    """Run an :class:`RdapEmulator` in a background thread; yields it (``.base_url``, ``.faults``)."""
    emulator = RdapEmulator(registry, **options)
    with BackgroundLoop("hunter-rdap-emulator") as loop:
        loop.run(emulator.start())
        try:
            yield emulator
        finally:
            loop.run(emulator.stop())
