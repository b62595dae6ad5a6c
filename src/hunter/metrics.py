"""Prometheus metrics and the ``/metrics`` endpoint (``Authorization: Bearer HUNTER_METRICS_TOKEN``).

* Scans: domains scanned by outcome, DNS lookups by status (counters updated by the scan path).
* IP enrichment: read at scrape time from the process's ``IpIntel`` counters (lookups and errors
  per source, cache hits / misses / expiries / evictions, hit ratio, database load state and
  build date), so the hot lookup path pays nothing for metrics.

Everything is registered in :data:`REGISTRY` (not prometheus_client's global one), so importing
this module twice in tests or adding metrics elsewhere never collides with a library's metrics.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hunter.core.evidence import LookupStatus

if TYPE_CHECKING:
    from hunter.services.scanning import ScanReport

__all__ = ["REGISTRY", "SCAN_DOMAINS", "SCAN_LOOKUPS", "record_scan", "router"]

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

SCAN_DOMAINS = Counter(
    "hunter_scan_domains",
    "Domains scanned, by outcome (complete or incomplete).",
    ["outcome"],
    registry=REGISTRY,
)
SCAN_LOOKUPS = Counter(
    "hunter_scan_dns_lookups", "DNS lookups made by scans, by status.", ["status"], registry=REGISTRY
)
# Every series exists from the start, so rate() works before the first failure.
_OUTCOMES = {True: SCAN_DOMAINS.labels("complete"), False: SCAN_DOMAINS.labels("incomplete")}
_LOOKUPS = {status.value: SCAN_LOOKUPS.labels(status.value) for status in LookupStatus}


def record_scan(report: ScanReport) -> None:
    _OUTCOMES[bool(report.classification.complete)].inc()
    counts: dict[str, int] = {}
    for lookup in report.evidence.lookups:
        counts[lookup.status.value] = counts.get(lookup.status.value, 0) + 1
    for status, count in counts.items():
        child = _LOOKUPS.get(status)
        if child is None:  # a status added to the enum later
            child = _LOOKUPS[status] = SCAN_LOOKUPS.labels(status)
        child.inc(count)


class EnrichmentCollector(Collector):
    """IpIntel's own counters, read when Prometheus scrapes."""

    def collect(self) -> Iterator[Metric]:
        from hunter.services.enrichment import current_ip_intel

        intel = current_ip_intel()
        if intel is None:
            return
        stats = intel.cache_stats
        lookups = CounterMetricFamily(
            "hunter_ip_enrichment_lookups", "Lookups answered per IP database.", labels=["source"]
        )
        errors = CounterMetricFamily(
            "hunter_ip_enrichment_errors", "Failed lookups per IP database.", labels=["source"]
        )
        for source, count in sorted(stats.source_lookups.items()):
            lookups.add_metric([source], count)
        for source, count in sorted(stats.source_errors.items()):
            errors.add_metric([source], count)
        yield lookups
        yield errors
        for name, value, text in (
            ("hits", stats.hits, "Addresses answered from the in-process cache."),
            ("misses", stats.misses, "Addresses looked up in the databases (cache misses)."),
            ("expired", stats.expired, "Cache entries dropped because their TTL passed."),
            ("evictions", stats.evictions, "Cache entries dropped to stay within the cache size."),
            ("reloads", stats.reloads, "Times a replaced database file was swapped in."),
        ):
            yield CounterMetricFamily(f"hunter_ip_enrichment_cache_{name}", text, value=value)
        yield GaugeMetricFamily(
            "hunter_ip_enrichment_cache_entries", "Addresses in the cache.", value=stats.size
        )
        yield GaugeMetricFamily(
            "hunter_ip_enrichment_cache_capacity", "Cache size setting.", value=stats.capacity
        )
        yield GaugeMetricFamily(
            "hunter_ip_enrichment_cache_hit_ratio",
            "Hits / (hits + misses) since start.",
            value=stats.hit_rate,
        )
        loaded = GaugeMetricFamily(
            "hunter_ip_database_loaded", "1 when the IP database is loaded and in use.", labels=["source"]
        )
        built = GaugeMetricFamily(
            "hunter_ip_database_build_timestamp_seconds",
            "Build date of the loaded IP database (Unix time), to alert on stale files.",
            labels=["source"],
        )
        for status in intel.status():
            loaded.add_metric([status.source], 1 if status.loaded else 0)
            if status.loaded and status.build_date is not None:
                day = datetime(
                    status.build_date.year, status.build_date.month, status.build_date.day, tzinfo=UTC
                )
                built.add_metric([status.source], day.timestamp())
        yield loaded
        yield built


REGISTRY.register(EnrichmentCollector())

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
def metrics_endpoint(request: Request) -> Response:
    """Prometheus text format; the router is included with ``require_metrics_token``."""
    settings: Any = request.app.state.settings
    if settings.enrichment_enabled:
        from hunter.services.enrichment import get_ip_intel

        # So the database gauges show before the first scan in this process; metrics must answer
        # whatever the databases do.
        with contextlib.suppress(Exception):
            get_ip_intel(settings)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
