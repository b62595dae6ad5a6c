"""Registration data per domain: RDAP (RFC 9082/9083) with port-43 WHOIS where a TLD has none.

Which server answers for a domain comes from the IANA bootstrap (RFC 9224). A snapshot ships
as package data; ``refresh_bootstrap`` downloads the current file into the data directory and
the loader prefers that copy. Configuration can point any suffix elsewhere (the sandbox, a
mirror) and names the WHOIS servers (``.tr`` → whois.nic.tr by default).

Routing takes the longest matching suffix across the RDAP overrides, the bootstrap and the
WHOIS map; at equal length RDAP wins. An empty override (``{"com": ""}``) switches RDAP off
for that suffix so its WHOIS entry is used.

Every fetch ends as a :class:`~hunter.core.evidence.RegistrationInfo` with a status; nothing
raises out of :meth:`RegistrationFetcher.fetch` except cancellation. Registries are slow and
rate-limit hard, so each server gets a concurrency cap and a minimum interval between request
starts, a 429 pauses that whole server for its ``Retry-After``, and no domain ever waits longer
than ``max_retry_after`` in total: past that it is reported ``rate_limited`` and the scan goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import ssl
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import httpx
import idna

from hunter.collect.whois import (
    WhoisClosedError,
    WhoisServer,
    normalise_status,
    parse_datetime,
    parse_whois,
    query_whois,
)
from hunter.core.evidence import RdapStatus, RegistrationInfo

__all__ = [
    "IANA_BOOTSTRAP_URL",
    "BootstrapError",
    "RdapBootstrap",
    "RdapConfig",
    "RegistrationFetcher",
    "Route",
    "bootstrap_override_path",
    "fetch_many",
    "load_bootstrap",
    "parse_bootstrap",
    "parse_rdap_domain",
    "refresh_bootstrap",
]

IANA_BOOTSTRAP_URL: Final = "https://data.iana.org/rdap/dns.json"
BOOTSTRAP_FILENAME: Final = "rdap_bootstrap.json"
USER_AGENT: Final = "hunter-rdap/0.1"
MAX_REDIRECTS: Final = 3
MAX_RATE_LIMIT_RETRIES: Final = 5
# A 429 without Retry-After still deserves a pause before asking again.
DEFAULT_RETRY_AFTER: Final = 1.0
WHOIS_RATE_LIMIT_PAUSE: Final = 10.0
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class RdapConfig:
    enabled: bool = True
    timeout: float = 10.0
    """Seconds for one request (connect + answer); waiting for a server's turn is not counted."""
    per_server_concurrency: int = 2
    per_server_interval: float = 0.5
    """Minimum seconds between the starts of two requests to one server."""
    rdap_overrides: Mapping[str, str] = field(default_factory=dict)
    """Suffix (``com``, ``com.tr``) → RDAP base URL; ``""`` switches RDAP off for the suffix."""
    whois_servers: Mapping[str, str] = field(default_factory=lambda: {"tr": "whois.nic.tr:43"})
    """Suffix → ``host[:port]`` of a port-43 server, used where no RDAP service matches."""
    verify: bool | str = True
    """TLS verification: True (system CAs), False, or a CA bundle path (the sandbox's CA)."""
    max_retry_after: float = 30.0
    """Most seconds one domain may spend waiting out 429s before it is reported rate_limited."""
    bootstrap_path: Path | None = None
    """Bootstrap file to use instead of the refreshed copy / packaged snapshot."""


# --- bootstrap ---------------------------------------------------------------------------------


class BootstrapError(ValueError):
    """A bootstrap document that does not have the RFC 9224 structure."""


@dataclass(frozen=True)
class RdapBootstrap:
    services: Mapping[str, tuple[str, ...]]
    """Suffix (lower-case, no dots at the ends) → base URLs, https first."""
    publication: str | None = None
    source: str = ""

    def base_url(self, suffix: str) -> str | None:
        urls = self.services.get(suffix)
        return urls[0] if urls else None


def parse_bootstrap(doc: object, *, source: str = "") -> RdapBootstrap:
    if not isinstance(doc, dict):
        raise BootstrapError("bootstrap must be a JSON object")
    services = doc.get("services")
    if not isinstance(services, list) or not services:
        raise BootstrapError("bootstrap has no 'services' list")
    mapping: dict[str, tuple[str, ...]] = {}
    for index, entry in enumerate(services):
        if not (isinstance(entry, list) and len(entry) >= 2):
            raise BootstrapError(f"service #{index} is not a [entries, urls] pair")
        entries, urls = entry[0], entry[1]
        if not (isinstance(entries, list) and entries and all(isinstance(e, str) and e for e in entries)):
            raise BootstrapError(f"service #{index} has no list of DNS labels")
        if not (isinstance(urls, list) and urls and all(isinstance(u, str) for u in urls)):
            raise BootstrapError(f"service #{index} has no list of URLs")
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise BootstrapError(f"service #{index} has an invalid URL {url!r}")
        # RFC 9224 §3: prefer https where a service lists both.
        ordered = tuple(sorted(urls, key=lambda u: not u.startswith("https:")))
        for label in entries:
            mapping[label.strip(".").lower()] = ordered
    publication = doc.get("publication")
    return RdapBootstrap(mapping, publication if isinstance(publication, str) else None, source)


def bootstrap_override_path() -> Path:
    """Where ``refresh_bootstrap`` writes and the loader looks first (in the data directory)."""
    from hunter.config import get_settings

    return get_settings().data_dir / BOOTSTRAP_FILENAME


def load_bootstrap(path: Path | None = None) -> RdapBootstrap:
    """``path`` if given; else the refreshed copy when present and valid; else the snapshot."""
    if path is not None:
        return _read_bootstrap(path)
    override = bootstrap_override_path()
    if override.is_file():
        with contextlib.suppress(OSError, ValueError):
            # A damaged download must not stop scans: fall back to the packaged snapshot.
            return _read_bootstrap(override)
    packaged = resources.files("hunter.data").joinpath(BOOTSTRAP_FILENAME)
    return parse_bootstrap(json.loads(packaged.read_text(encoding="utf-8")), source="package")


def _read_bootstrap(path: Path) -> RdapBootstrap:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BootstrapError(f"{path}: not valid JSON ({exc})") from exc
    return parse_bootstrap(doc, source=str(path))


async def refresh_bootstrap(
    url: str = IANA_BOOTSTRAP_URL,
    dest: Path | None = None,
    *,
    verify: bool | str = True,
    request_timeout: float = 30.0,
) -> int:
    """Download a bootstrap file, check it, and replace ``dest`` atomically.

    Returns the number of suffixes it covers. ``dest`` defaults to the data directory copy that
    :func:`load_bootstrap` prefers. Raises :class:`BootstrapError` (a bad document or HTTP
    status) or ``httpx.HTTPError`` (transport); ``dest`` is untouched when anything fails.
    """
    target = dest if dest is not None else bootstrap_override_path()
    async with httpx.AsyncClient(
        verify=_ssl_verify(verify),
        timeout=request_timeout,
        follow_redirects=True,
        headers={"User-Agent": USER_AGENT},
    ) as client:
        response = await client.get(url)
    if response.status_code != 200:
        raise BootstrapError(f"HTTP {response.status_code} from {url}")
    try:
        doc = response.json()
    except ValueError as exc:
        raise BootstrapError(f"{url} did not return JSON ({exc})") from exc
    bootstrap = parse_bootstrap(doc, source=url)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename: readers see the old file or the new one, never half.
    fd, tmp_name = tempfile.mkstemp(prefix=".rdap_bootstrap.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(response.content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    return len(bootstrap.services)


# --- routing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    kind: Literal["rdap", "whois"]
    target: str
    """RDAP base URL, or WHOIS ``host[:port]``."""
    suffix: str


def resolve_route(domain: str, bootstrap: RdapBootstrap, config: RdapConfig) -> Route | None:
    """Longest matching suffix wins (RFC 9224 §4); RDAP before WHOIS at equal length."""
    overrides = {k.strip(".").lower(): v for k, v in config.rdap_overrides.items()}
    whois = {k.strip(".").lower(): v for k, v in config.whois_servers.items()}
    labels = domain.split(".")
    for start in range(len(labels)):
        suffix = ".".join(labels[start:])
        if suffix in overrides:
            if overrides[suffix]:
                return Route("rdap", overrides[suffix], suffix)
        elif (base := bootstrap.base_url(suffix)) is not None:
            return Route("rdap", base, suffix)
        if whois.get(suffix):
            return Route("whois", whois[suffix], suffix)
    return None


# --- per-server pacing ---------------------------------------------------------------------------


class _ServerPaused(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class _ServerGate:
    """Concurrency cap, minimum interval between request starts, and 429 pauses for one server."""

    def __init__(self, concurrency: int, interval: float) -> None:
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._interval = max(0.0, interval)
        self._next_start = 0.0
        # Kept apart from the pacing queue: only a server-requested pause counts against a
        # domain's Retry-After budget, not the ordinary wait for its turn.
        self._paused_until = 0.0

    @contextlib.asynccontextmanager
    async def turn(self, max_pause: float) -> AsyncIterator[float]:
        """Wait for this server's next start slot; yields the seconds spent in a server pause.

        Raises :class:`_ServerPaused` at once, without waiting, when the server's pause is
        longer than ``max_pause``.
        """
        async with self._slots:
            loop = asyncio.get_running_loop()
            now = loop.time()
            paused = max(0.0, self._paused_until - now)
            if paused > max_pause:
                raise _ServerPaused(paused)
            # Reserve a start time before sleeping, so waiters queue in order without a lock.
            start = max(now, self._next_start, self._paused_until)
            self._next_start = start + self._interval
            if start > now:
                await asyncio.sleep(start - now)
            yield paused

    def pause(self, seconds: float) -> None:
        """The server asked for a pause (429): nobody starts a request before it ends."""
        until = asyncio.get_running_loop().time() + seconds
        self._paused_until = max(self._paused_until, until)


# --- fetcher -------------------------------------------------------------------------------------


class RegistrationFetcher:
    """Fetches registration data; use as ``async with RegistrationFetcher(config) as f``."""

    def __init__(
        self,
        config: RdapConfig | None = None,
        *,
        bootstrap: RdapBootstrap | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.config = config or RdapConfig()
        self._bootstrap = bootstrap
        self._client = client
        self._owns_client = client is None
        self._gates: dict[str, _ServerGate] = {}

    async def __aenter__(self) -> RegistrationFetcher:
        if not self.config.enabled:
            return self  # switched off: no bootstrap, no client, no I/O at all
        if self._bootstrap is None:
            self._bootstrap = load_bootstrap(self.config.bootstrap_path)
        if self._client is None:
            self._client = httpx.AsyncClient(
                verify=_ssl_verify(self.config.verify),
                timeout=self.config.timeout,
                follow_redirects=False,  # followed by hand so every hop is paced
                headers={"Accept": "application/rdap+json, application/json;q=0.8", "User-Agent": USER_AGENT},
                limits=httpx.Limits(max_keepalive_connections=32, keepalive_expiry=30.0),
            )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    @property
    def bootstrap(self) -> RdapBootstrap | None:
        return self._bootstrap

    async def fetch(self, domain: str) -> RegistrationInfo:
        """Registration data for one registrable domain (Unicode or punycode)."""
        if not self.config.enabled:
            return _info("rdap", None, RdapStatus.DISABLED)
        try:
            name = _ascii_domain(domain)
        except ValueError as exc:
            return _info("rdap", None, RdapStatus.ERROR, error=f"invalid domain {domain!r}: {exc}")
        if self._bootstrap is None or (self._client is None and self._owns_client):
            raise RuntimeError("RegistrationFetcher must be used with 'async with'")
        route = resolve_route(name, self._bootstrap, self.config)
        if route is None:
            tld = name.rsplit(".", 1)[-1]
            return _info(
                "rdap",
                None,
                RdapStatus.UNSUPPORTED,
                error=f"no RDAP service in the bootstrap and no WHOIS server configured for .{tld}",
            )
        try:
            if route.kind == "rdap":
                return await self._fetch_rdap(name, route.target)
            return await self._fetch_whois(name, route.target)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug or an odd answer must not lose the domain
            return _info(route.kind, None, RdapStatus.ERROR, error=f"unexpected {type(exc).__name__}: {exc}")

    def _gate(self, key: str) -> _ServerGate:
        gate = self._gates.get(key)
        if gate is None:
            gate = self._gates[key] = _ServerGate(
                self.config.per_server_concurrency, self.config.per_server_interval
            )
        return gate

    # -- RDAP --

    async def _fetch_rdap(self, domain: str, base_url: str) -> RegistrationInfo:
        assert self._client is not None
        url = httpx.URL(base_url.rstrip("/") + "/domain/" + domain)
        waited = 0.0
        retries = 0
        redirects = 0
        dropped = 0
        cap = self.config.max_retry_after
        while True:
            server = url.netloc.decode("ascii")
            gate = self._gate(server)
            try:
                async with gate.turn(cap - waited) as paused, asyncio.timeout(self.config.timeout):
                    waited += paused
                    response = await self._client.get(url)
            except _ServerPaused as exc:
                # The server asked everyone to wait longer than we may: don't queue, report.
                return _info(
                    "rdap",
                    server,
                    RdapStatus.RATE_LIMITED,
                    error=f"server paused after HTTP 429 for another {exc.seconds:.0f} s, "
                    f"more than the {cap:g} s allowed (waited {waited:.1f} s)",
                )
            except (TimeoutError, httpx.TimeoutException):
                return _info(
                    "rdap", server, RdapStatus.TIMEOUT, error=f"no answer within {self.config.timeout:g} s"
                )
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                # A dropped keep-alive connection is routine; one fresh try before calling it an error.
                if dropped == 0:
                    dropped += 1
                    continue
                return _info("rdap", server, RdapStatus.ERROR, error=f"connection closed by server: {exc}")
            except httpx.ConnectError as exc:
                return _info("rdap", server, RdapStatus.ERROR, error=_connect_error(exc, self.config.verify))
            except httpx.HTTPError as exc:
                return _info("rdap", server, RdapStatus.ERROR, error=f"{type(exc).__name__}: {exc}")

            status = response.status_code
            if status in _REDIRECTS and "location" in response.headers:
                if redirects >= MAX_REDIRECTS:
                    return _info("rdap", server, RdapStatus.ERROR, error="too many redirects")
                redirects += 1
                url = response.url.join(response.headers["location"])
                continue
            if status == 200:
                return _rdap_answer(response, server)
            if status == 404:
                return _info("rdap", server, RdapStatus.NOT_FOUND)
            if status == 429:
                delay = _retry_after(response.headers.get("retry-after"))
                pause = DEFAULT_RETRY_AFTER if delay is None else delay
                # Every domain on this server honours the pause, the full length the server asked.
                gate.pause(pause)
                if pause > cap - waited or retries >= MAX_RATE_LIMIT_RETRIES:
                    asked = "no Retry-After" if delay is None else f"Retry-After {delay:g} s"
                    return _info(
                        "rdap",
                        server,
                        RdapStatus.RATE_LIMITED,
                        error=f"HTTP 429 ({asked}); gave up after waiting {waited:.1f} s "
                        f"of the {cap:g} s allowed",
                    )
                retries += 1
                continue  # the next turn waits out the pause and counts it
            return _info("rdap", server, RdapStatus.ERROR, error=_http_error(response))

    # -- WHOIS --

    async def _fetch_whois(self, domain: str, spec: str) -> RegistrationInfo:
        try:
            server = WhoisServer.parse(spec)
        except ValueError as exc:
            return _info("whois", spec, RdapStatus.ERROR, error=f"bad WHOIS server {spec!r}: {exc}")
        label = server.label
        gate = self._gate(f"whois:{server.host}:{server.port}")
        try:
            async with gate.turn(self.config.max_retry_after), asyncio.timeout(self.config.timeout):
                text = await query_whois(server, domain)
        except _ServerPaused as exc:
            return _info(
                "whois",
                label,
                RdapStatus.RATE_LIMITED,
                error=f"server paused for another {exc.seconds:.0f} s",
            )
        except TimeoutError:
            return _info(
                "whois", label, RdapStatus.TIMEOUT, error=f"no answer within {self.config.timeout:g} s"
            )
        except WhoisClosedError as exc:
            return _info("whois", label, RdapStatus.ERROR, error=str(exc))
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            return _info("whois", label, RdapStatus.ERROR, error=f"cannot query {label}: {reason}")
        record = parse_whois(text)
        if record.found:
            return _info(
                "whois",
                label,
                RdapStatus.OK,
                registrar=record.registrar,
                created=record.created,
                expires=record.expires,
                updated=record.updated,
                domain_status=record.statuses,
                nameservers=record.nameservers,
            )
        if record.not_found:
            return _info("whois", label, RdapStatus.NOT_FOUND)
        if record.rate_limited:
            # Port 43 has no Retry-After: give the server a short rest before anyone asks again.
            gate.pause(min(WHOIS_RATE_LIMIT_PAUSE, self.config.max_retry_after))
            return _info("whois", label, RdapStatus.RATE_LIMITED, error=_first_line(text))
        return _info(
            "whois", label, RdapStatus.ERROR, error=f"unrecognised WHOIS answer: {_first_line(text)!r}"
        )


async def fetch_many(
    domains: AsyncIterable[str] | Iterable[str],
    config: RdapConfig,
    *,
    concurrency: int = 16,
) -> AsyncIterator[tuple[str, RegistrationInfo]]:
    """Fetch many domains, yielding ``(domain, info)`` as each finishes (not in input order).

    The input is consumed lazily, at most ``concurrency`` domains in flight, so one slow registry
    holds back only its own domains. Close the iterator (``contextlib.aclosing``) when stopping
    early, so in-flight fetches are cancelled at once.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    async with RegistrationFetcher(config) as fetcher:
        results: asyncio.Queue[tuple[str, RegistrationInfo] | None] = asyncio.Queue()  # None: done
        slots = asyncio.Semaphore(concurrency)
        workers: set[asyncio.Task[None]] = set()

        async def work(domain: str) -> None:
            try:
                info = await fetcher.fetch(domain)
            finally:
                slots.release()
            results.put_nowait((domain, info))

        async def feed() -> None:
            try:
                async for domain in _aiter(domains):
                    await slots.acquire()
                    task = asyncio.create_task(work(domain))
                    workers.add(task)
                    task.add_done_callback(workers.discard)
                if workers:
                    await asyncio.gather(*workers)
            finally:
                results.put_nowait(None)

        feeder = asyncio.create_task(feed())
        try:
            while (item := await results.get()) is not None:
                yield item
            feeder.result()  # re-raise a failure of the input iterator
        finally:
            for task in (feeder, *workers):
                task.cancel()
            await asyncio.gather(feeder, *workers, return_exceptions=True)


async def _aiter(domains: AsyncIterable[str] | Iterable[str]) -> AsyncIterator[str]:
    if isinstance(domains, AsyncIterable):
        async for domain in domains:
            yield domain
    else:
        for domain in domains:
            yield domain


# --- RDAP answer ---------------------------------------------------------------------------------


def parse_rdap_domain(doc: Mapping[str, Any], *, server: str | None = None) -> RegistrationInfo:
    """RDAP domain object (RFC 9083 §5.3) → RegistrationInfo; tolerant of missing parts."""
    dates: dict[str, datetime] = {}
    for event in _dicts(doc.get("events")):
        action = str(event.get("eventAction", "")).lower()
        when = parse_datetime(event.get("eventDate") if isinstance(event.get("eventDate"), str) else None)
        if when is not None:
            dates.setdefault(action, when)
    statuses: list[str] = []
    for value in doc.get("status") or []:
        if isinstance(value, str) and (status := normalise_status(value)) and status not in statuses:
            statuses.append(status)
    nameservers: list[str] = []
    for ns in _dicts(doc.get("nameservers")):
        name = ns.get("ldhName") or ns.get("unicodeName")
        if isinstance(name, str) and name.strip():
            host = name.strip().rstrip(".").lower()
            if not host.isascii():
                with contextlib.suppress(idna.IDNAError, UnicodeError):
                    host = idna.encode(host, uts46=True).decode("ascii")
            if host not in nameservers:
                nameservers.append(host)
    return _info(
        "rdap",
        server,
        RdapStatus.OK,
        registrar=_registrar_name(doc.get("entities")),
        created=dates.get("registration"),
        expires=dates.get("expiration"),
        updated=dates.get("last changed"),
        domain_status=statuses,
        nameservers=nameservers,
    )


def _rdap_answer(response: httpx.Response, server: str) -> RegistrationInfo:
    try:
        doc = json.loads(response.content)
    except ValueError as exc:
        return _info(
            "rdap",
            server,
            RdapStatus.ERROR,
            error=f"malformed RDAP response: not valid JSON ({exc}); starts with {response.text[:60]!r}",
        )
    if not isinstance(doc, dict):
        return _info(
            "rdap",
            server,
            RdapStatus.ERROR,
            error=f"malformed RDAP response: expected a JSON object, got {type(doc).__name__}",
        )
    kind = doc.get("objectClassName")
    if kind is not None and kind != "domain":
        return _info(
            "rdap", server, RdapStatus.ERROR, error=f"malformed RDAP response: objectClassName {kind!r}"
        )
    return parse_rdap_domain(doc, server=server)


def _registrar_name(entities: object) -> str | None:
    # Top-level registrar first; some servers nest it under another entity.
    queue = list(_dicts(entities))
    while queue:
        entity = queue.pop(0)
        roles = entity.get("roles") or []
        if isinstance(roles, list) and "registrar" in roles:
            name = _vcard_text(entity.get("vcardArray"), "fn") or _vcard_text(entity.get("vcardArray"), "org")
            if name:
                return name
        queue.extend(_dicts(entity.get("entities")))
    return None


def _vcard_text(vcard: object, prop: str) -> str | None:
    # jCard (RFC 7095): ["vcard", [[name, params, type, value, ...], ...]]
    if not (isinstance(vcard, list) and len(vcard) >= 2 and isinstance(vcard[1], list)):
        return None
    for item in vcard[1]:
        if isinstance(item, list) and len(item) >= 4 and str(item[0]).lower() == prop:
            value = item[3]
            if isinstance(value, list):  # "org" may be structured
                value = " ".join(str(v) for v in value if v)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def _dicts(value: object) -> Iterable[Mapping[str, Any]]:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


# --- helpers ---------------------------------------------------------------------------------------


def _info(source: str, server: str | None, status: RdapStatus, **fields: Any) -> RegistrationInfo:
    return RegistrationInfo(
        source=source, server=server, status=status, fetched_at=datetime.now(UTC), **fields
    )


def _ascii_domain(domain: str) -> str:
    name = domain.strip().rstrip(".").lower()
    if not name:
        raise ValueError("empty")
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise ValueError(str(exc)) from exc
    labels = name.split(".")
    if len(labels) < 2 or any(not label or len(label) > 63 for label in labels):
        raise ValueError("not a registrable domain name")
    if any(ch in name for ch in "/?#@: "):
        raise ValueError("not a domain name")
    return name


def _ssl_verify(verify: bool | str) -> bool | ssl.SSLContext:
    # httpx 0.28 deprecates a path in verify=; a context built from the bundle is the supported way.
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return verify


def _connect_error(exc: httpx.ConnectError, verify: bool | str) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            hint = (
                f"the CA bundle {verify!r} does not trust it"
                if isinstance(verify, str)
                else "set verify to the CA bundle that signed it"
            )
            return f"TLS certificate not trusted ({cause.verify_message or cause.reason}); {hint}"
        cause = cause.__cause__ or cause.__context__
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return f"TLS certificate not trusted ({exc})"
    return f"cannot connect: {exc or type(exc).__name__}"


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, seconds) if seconds == seconds else None  # NaN guard


def _http_error(response: httpx.Response) -> str:
    message = f"HTTP {response.status_code}"
    # RDAP error objects (RFC 9083 §6) carry a title and description worth showing.
    with contextlib.suppress(ValueError):
        doc = json.loads(response.content)
        if isinstance(doc, dict):
            parts = [doc.get("title"), *(doc.get("description") or [])]
            text = "; ".join(str(p) for p in parts if p)
            if text:
                message += f": {text}"
    return message[:300]


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""
