"""Helpers that bend the sandbox DNS world for enrichment scenarios."""

from __future__ import annotations

from typing import Any

from hunter.collect.ipintel import EnrichmentConfig
from hunter.sandbox.testing import SandboxWorld

LOCAL = "http://localhost"  # cookies are Secure on any other host
METRICS_TOKEN = "metrics-token-for-tests"

# Inside the sandbox world's networks (hunter.sandbox.ipdb.demo_networks):
NATRO_IP = "185.122.2.50"  # Natro, AS34619: a hosting company
NATRO_WEB_IP = "185.122.2.51"
TT_ISP_IP = "5.24.200.7"  # Türk Telekom access network, AS9121: an ISP

# The ``hunter scan --json`` keys before IP enrichment existed.
SCAN_JSON_KEYS = frozenset(
    {
        "domain",
        "complete",
        "incomplete_reasons",
        "platform",
        "secondary_platforms",
        "provider",
        "gateway",
        "confidence",
        "confidence_label",
        "m365_tenant",
        "half_migrated",
        "parked",
        "spf",
        "dmarc",
        "dkim",
        "score",
        "segment",
        "priority",
        "needs_rescan",
        "tags",
        "breakdown",
        "rules_version",
        "evidence_lines",
        "lookups",
        "duration_ms",
    }
)
IP_KEYS = frozenset(
    {
        "ip",
        "role",
        "country",
        "city",
        "asn",
        "asn_org",
        "isp",
        "usage_type",
        "is_proxy",
        "proxy_type",
        "kind",
        "sources",
    }
)


def primary_mx(sandbox: SandboxWorld, domain: str) -> str:
    company = next(c for c in sandbox.world.companies if c.domain == domain)
    return company.mx_hosts[0]


def point_primary_mx(sandbox: SandboxWorld, domain: str, ip: str) -> str:
    """Make the domain's primary MX host resolve to ``ip`` only; returns the host."""
    host = primary_mx(sandbox, domain)
    sandbox.store.replace(host, "A", [ip])
    sandbox.store.remove(host, "AAAA")
    return host


def point_apex(sandbox: SandboxWorld, domain: str, ip: str) -> None:
    sandbox.store.replace(domain, "A", [ip])


def without_duration(line: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in line.items() if k != "duration_ms"}


def enrichment_settings(config: EnrichmentConfig) -> dict[str, Any]:
    """Settings fields that switch enrichment on with ``config``'s files."""
    return {
        "enrichment_enabled": True,
        "geoip_city_path": config.geoip_city,
        "geoip_country_path": config.geoip_country,
        "geoip_asn_path": config.geoip_asn,
        "ip2location_path": config.ip2location,
        "ip2proxy_path": config.ip2proxy,
    }
