"""Admin-only debug endpoints for IP enrichment (included with ``require_admin`` in the app).

* ``GET /api/v1/debug/ip-config`` — which databases are loaded (type, build date, records),
  cache counters and the status-page lines.
* ``GET /api/v1/debug/ip/{ip}`` — the combined facts, every database's own answer and the cache
  state (in-process cache hit or miss, the ``ip_facts`` row and whether it is still fresh).

``ip-config`` is declared first; the two paths differ in a segment anyway (``ip-config`` vs
``ip/…``), and a test keeps it so.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from hunter.collect.ipintel import IpIntel, maxminddb_c_extension
from hunter.config import Settings
from hunter.services.enrichment import (
    enrichment_config,
    enrichment_status,
    get_ip_intel,
    ip_report,
    stored_ip_fact,
)
from hunter.store.db import Database
from hunter.store.types import utcnow

router = APIRouter(prefix="/api/v1/debug", tags=["debug"])


def _intel(settings: Settings) -> IpIntel:
    if settings.enrichment_enabled:
        return get_ip_intel(settings)
    # Flag off: a disabled reader opens nothing and reports every source as "disabled".
    return IpIntel(enrichment_config(settings), check_interval=None)


@router.get("/ip-config")
def ip_config(request: Request) -> dict[str, Any]:
    """Which IP databases are loaded, with their type, build date and record counts."""
    settings: Settings = request.app.state.settings
    intel = _intel(settings)
    if settings.enrichment_enabled:
        intel.reload_if_changed()
    return {
        "enabled": settings.enrichment_enabled,
        "maxminddb_c_extension": maxminddb_c_extension(),
        "databases": [status.to_dict() for status in intel.status()],
        "cache": {**intel.cache_stats.to_dict(), "ttl_seconds": settings.enrichment_cache_ttl},
        "status": [line.to_dict() for line in enrichment_status(settings, intel)],
    }


@router.get("/ip/{ip}")
def ip_lookup(ip: str, request: Request) -> dict[str, Any]:
    """One address: combined facts, each database's answer, and the cache state."""
    settings: Settings = request.app.state.settings
    db: Database = request.app.state.db
    intel = _intel(settings)
    try:
        report = ip_report(intel, ip)
    except ValueError as exc:
        raise HTTPException(422, f"not an IP address: {ip!r}") from exc
    row = stored_ip_fact(db, report["ip"])
    stored: dict[str, Any] | None = None
    if row is not None:
        age = utcnow() - row.fetched_at
        stored = {
            "fetched_at": row.fetched_at.isoformat(),
            "age_seconds": round(age.total_seconds()),
            "fresh": age < timedelta(seconds=settings.enrichment_cache_ttl),
            "facts": row.facts,
        }
    in_process = report.pop("in_process_cache")
    return {**report, "cache": {"in_process": in_process, "ip_facts_row": stored}}
