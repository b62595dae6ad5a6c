"""Port-43 WHOIS emulator: an asyncio TCP server answering like whois.nic.tr.

``.tr`` names are answered in the whois.nic.tr layout (``** Domain Name:``, ``Created on....:
2001-Jan-15.``, ``** Domain Servers:``), other names in the ICANN gTLD key-value layout, both
from the same registry function as the RDAP emulator, so the two sources agree. Unknown names
get ``No match found for "<name>"``. Faults (``slow``, ``drop``, ``rate_limit``, ``malformed``)
are switched like the RDAP emulator's; ``error`` behaves as ``malformed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import idna

from hunter.sandbox.rdap_emulator import (
    BackgroundLoop,
    EmulatorRequest,
    FaultSwitch,
    Registry,
    RegistryRecord,
    registration_for,
)
from hunter.sandbox.tcp_service import TcpService

__all__ = ["WhoisEmulator", "render_gtld", "render_nic_tr", "running_whois_emulator"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_HIDDEN = "Hidden upon user request"


class WhoisEmulator(TcpService):
    def __init__(
        self,
        registry: Registry | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        today: date | None = None,
    ) -> None:
        super().__init__(host, port)
        day = today.date() if isinstance(today, datetime) else (today or date.today())
        self.registry: Registry = registry or (lambda name: registration_for(name, seed, today=day))
        self.faults = FaultSwitch(seed)
        self.requests: list[EmulatorRequest] = []

    async def start(self) -> str:
        """Start listening; returns ``host:port``."""
        await self._listen()
        return self.address

    @property
    def address(self) -> str:
        return f"{self.host_for_url}:{self._port}"

    def whois_servers(self, suffixes: tuple[str, ...] = ("tr",)) -> dict[str, str]:
        """``RdapConfig.whois_servers`` that send these suffixes here."""
        return {suffix: self.address for suffix in suffixes}

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = await asyncio.wait_for(reader.readline(), timeout=30)
        query = _query_name(line.decode("utf-8", "replace"))
        fault = self.faults.take(query)
        if fault is not None and fault.kind == "drop":
            self._log(query, "drop")
            return
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.kind == "rate_limit":
            self._log(query, "rate_limit")
            text = "Query rate limit exceeded. Please try again later.\r\n"
        elif fault is not None and fault.kind in ("malformed", "error"):
            self._log(query, "malformed")
            text = "%% internal error\r\n\x00\x01garbage\r\n"
        else:
            record = self.registry(query) if query else None
            self._log(query, "ok" if record else "no match")
            text = _answer(query, record)
        writer.write(text.encode("utf-8"))
        await writer.drain()

    def _log(self, domain: str, outcome: str) -> None:
        self.requests.append(EmulatorRequest(time.monotonic(), domain, domain or None, outcome))


def _query_name(raw: str) -> str:
    query = raw.strip()
    # Some servers take "domain example.com" or "=example.com"; accept both.
    query = query.removeprefix("=").strip()
    if query.lower().startswith("domain "):
        query = query[7:].strip()
    name = query.rstrip(".").lower()
    if name and not name.isascii():
        with contextlib.suppress(idna.IDNAError, UnicodeError):
            name = idna.encode(name, uts46=True).decode("ascii")
    return name


def _answer(query: str, record: RegistryRecord | None) -> str:
    is_tr = query.endswith(".tr")
    if record is None:
        if is_tr:
            return f'No match found for "{query}"\r\n'
        stamp = _iso(datetime.now(UTC))
        return f'No match for "{query.upper()}".\r\n>>> Last update of whois database: {stamp} <<<\r\n'
    return render_nic_tr(record) if is_tr else render_gtld(record)


def render_nic_tr(record: RegistryRecord) -> str:
    """whois.nic.tr layout."""
    lines = [
        f"** Domain Name: {record['domain']}",
        "Frozen Status: -",
        "Transfer Status: The domain is LOCKED to transfer.",
        "",
        "** Registrant:",
        *(f"   {_HIDDEN}" for _ in range(5)),
        "",
        "",
        "** Registrar:",
        f"NIC Handle\t\t: {record['registrar_handle']}",
        f"Organization Name\t: {record['registrar']}",
        f"Address\t\t\t: {_HIDDEN}",
        f"Phone\t\t\t: {_HIDDEN}",
        f"Fax\t\t\t: {_HIDDEN}",
        "",
        "",
        "** Domain Servers:",
        *(f"{ns} " for ns in record["nameservers"]),
        "",
        "** Additional Info:",
        f"Created on..............: {_nic_tr_date(record['created'])}",
        f"Expires on..............: {_nic_tr_date(record['expires'])}",
        "",
    ]
    return "\r\n".join(lines) + "\r\n"


def render_gtld(record: RegistryRecord) -> str:
    """ICANN gTLD registry layout (thin key-value, EPP statuses with their ICANN URL)."""
    lines = [
        f"   Domain Name: {record['domain'].upper()}",
        f"   Registry Domain ID: {record['handle']}",
        "   Registrar WHOIS Server: whois.registrar.invalid",
        f"   Updated Date: {_iso(record['updated'])}",
        f"   Creation Date: {_iso(record['created'])}",
        f"   Registry Expiry Date: {_iso(record['expires'])}",
        f"   Registrar: {record['registrar']}",
        f"   Registrar IANA ID: {record['registrar_iana_id'] or 'not applicable'}",
        *(f"   Domain Status: {_epp(s)} https://icann.org/epp#{_epp(s)}" for s in record["status"]),
        *(f"   Name Server: {ns.upper()}" for ns in record["nameservers"]),
        "   DNSSEC: unsigned",
        f">>> Last update of whois database: {_iso(datetime.now(UTC))} <<<",
        "",
        "NOTICE: synthetic data served by the Hunter sandbox.",
        "",
    ]
    return "\r\n".join(lines) + "\r\n"


def _nic_tr_date(value: datetime) -> str:
    return f"{value.year}-{_MONTHS[value.month - 1]}-{value.day:02d}."


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epp(status: str) -> str:
    if status == "active":
        return "ok"
    first, *rest = status.split()
    return first + "".join(word.capitalize() for word in rest)


@contextlib.contextmanager
def running_whois_emulator(registry: Registry | None = None, **options: Any) -> Iterator[WhoisEmulator]:
    """Run a :class:`WhoisEmulator` in a background thread; yields it (``.address``, ``.faults``)."""
    emulator = WhoisEmulator(registry, **options)
    with BackgroundLoop("hunter-whois-emulator") as loop:
        loop.run(emulator.start())
        try:
            yield emulator
        finally:
            loop.run(emulator.stop())
