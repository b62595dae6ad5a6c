"""Run the whole sandbox (DNS world, RDAP, WHOIS) for `hunter sandbox`, `hunter demo` and tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from hunter.sandbox.dns_server import running_dns_server
from hunter.sandbox.rdap_emulator import RegistryRecord, registration_for, running_rdap_emulator
from hunter.sandbox.whois_emulator import running_whois_emulator
from hunter.sandbox.world import World, build_world, synthetic_domains
from hunter.sandbox.zones import ZoneStore

# TLDs whose registries speak RDAP in the real world; the rest of the world (.tr) uses WHOIS.
RDAP_TLDS = ("com", "net", "org", "info", "biz", "io", "co")


def sample_domains() -> list[str]:
    """Domains of the shipped sample list, so the demo's import finds them in the sandbox."""
    from hunter.imports import read_file, sample_path

    return [c.domain for c in read_file(sample_path("xlsx")).companies]


def sample_world(extra: int = 200, seed: int = 0) -> World:
    domains = sample_domains()
    known = set(domains)
    domains += [d for d in synthetic_domains(extra, seed) if d not in known]
    return build_world(domains, seed)


@dataclass(frozen=True)
class SandboxInfo:
    dns: str
    rdap: str
    whois: str
    companies: int

    def settings_env(self) -> dict[str, str]:
        """HUNTER_* variables that point Hunter at this sandbox."""
        return {
            "HUNTER_DNS_NAMESERVERS": self.dns,
            "HUNTER_RDAP_SERVERS": ",".join(f"{tld}={self.rdap}" for tld in RDAP_TLDS),
            "HUNTER_WHOIS_SERVERS": f"tr={self.whois}",
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "dns": self.dns,
            "rdap": self.rdap,
            "whois": self.whois,
            "companies": self.companies,
            "env": self.settings_env(),
        }

    def describe(self) -> str:
        env = "\n".join(f"  export {k}={v}" for k, v in self.settings_env().items())
        return (
            f"Sandbox world: {self.companies} companies\n"
            f"  DNS (UDP+TCP)  {self.dns}\n  RDAP (HTTP)    {self.rdap}\n  WHOIS (TCP)    {self.whois}\n"
            f"Point Hunter at it:\n{env}"
        )


class Sandbox:
    def __init__(
        self,
        world: World,
        *,
        host: str = "127.0.0.1",
        dns_port: int = 0,
        rdap_port: int = 0,
        whois_port: int = 0,
        today: date | None = None,
    ) -> None:
        self.world = world
        self.store = ZoneStore()
        world.populate(self.store)
        self.host = host
        self.ports = (dns_port, rdap_port, whois_port)
        self.today = today
        self._stop = threading.Event()
        self._unregistered = {c.domain for c in world.companies if c.profile == "nxdomain"}

    def registry(self, name: str) -> RegistryRecord | None:
        if name in self._unregistered:
            return None
        return registration_for(name, today=self.today)

    @contextmanager
    def running(self) -> Iterator[SandboxInfo]:
        dns_port, rdap_port, whois_port = self.ports
        with ExitStack() as stack:
            dns = stack.enter_context(running_dns_server(self.store, self.host, dns_port))
            rdap = stack.enter_context(
                running_rdap_emulator(self.registry, host=self.host, port=rdap_port, today=self.today)
            )
            whois = stack.enter_context(
                running_whois_emulator(self.registry, host=self.host, port=whois_port, today=self.today)
            )
            yield SandboxInfo(
                dns=dns.address, rdap=rdap.base_url, whois=whois.address, companies=len(self.world.companies)
            )

    def wait(self) -> None:
        self._stop.wait()

    def stop(self) -> None:
        self._stop.set()
