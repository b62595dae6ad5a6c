"""A small sandbox world on a loopback DNS server, for tests and examples."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from hunter.config import Settings
from hunter.sandbox.dns_server import DnsServer, running_dns_server
from hunter.sandbox.world import World, build_world
from hunter.sandbox.zones import ZoneStore

# One company per interesting profile; names say what they are.
PROFILES = {
    "natro-musteri.com.tr": "hosting_natro",
    "bulut-m365.com.tr": "m365_classic",
    "google-firma.com.tr": "google_new",
    "yarim-gecis.com.tr": "half_migrated",
    "kendi-sunucu.com.tr": "self_hosted",
    "posta-yok.com.tr": "no_mx",
    "olmayan-firma.com.tr": "nxdomain",
    "korumali.com.tr": "gateway_proofpoint_m365",
}


@dataclass
class SandboxWorld:
    store: ZoneStore
    server: DnsServer
    world: World
    profiles: dict[str, str] = field(default_factory=dict)

    def settings(self, **overrides: object) -> Settings:
        """Settings that scan against this world (DNS only; RDAP off unless overridden)."""
        values: dict[str, object] = {
            "dns_nameservers": self.server.address,
            "dns_timeout": 0.5,
            "dns_attempts": 2,
            "rdap_enabled": False,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    def change_profile(self, domain: str, profile: str) -> None:
        """Rebuild one company's records as another profile (a company that moved its mail)."""
        self.store.remove_zone(domain)
        build_world([domain], profiles={domain: profile}).populate(self.store)


@contextmanager
def sandbox_world(profiles: dict[str, str] | None = None) -> Iterator[SandboxWorld]:
    chosen = dict(profiles or PROFILES)
    store = ZoneStore()
    world = build_world(list(chosen), profiles=chosen)
    world.populate(store)
    with running_dns_server(store) as server:
        yield SandboxWorld(store=store, server=server, world=world, profiles=chosen)
