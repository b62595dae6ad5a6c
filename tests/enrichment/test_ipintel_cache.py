"""The in-process cache: hits skip the readers, TTL, LRU bound, counters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from enrichment_world import FakeClock

from hunter.collect.ipintel import EnrichmentConfig, IpIntel

MakeIntel = Callable[..., IpIntel]


def test_second_lookup_is_a_cache_hit(world_config: EnrichmentConfig, make_intel: MakeIntel) -> None:
    intel = make_intel(world_config)
    first = intel.lookup("185.122.0.1")
    after_first = intel.cache_stats
    assert (after_first.hits, after_first.misses) == (0, 1)
    assert after_first.source_lookups == {
        "geoip_city": 1,
        "geoip_country": 0,  # the City database already gave the country
        "geoip_asn": 1,
        "ip2location": 1,
        "ip2proxy": 1,
    }
    second = intel.lookup("185.122.0.1")
    assert second is first
    stats = intel.cache_stats
    assert (stats.hits, stats.misses, stats.size) == (1, 1, 1)
    assert stats.source_lookups == after_first.source_lookups  # no reader was called
    assert stats.hit_rate == 0.5


def test_ttl_expiry_uses_the_injected_clock(
    world_config: EnrichmentConfig, make_intel: MakeIntel, clock: FakeClock
) -> None:
    intel = make_intel(replace(world_config, cache_ttl=3600), clock=clock)
    first = intel.lookup("45.88.0.1")
    assert first.fetched_at == clock.now
    clock.advance(3599)
    assert intel.lookup("45.88.0.1") is first
    clock.advance(2)
    again = intel.lookup("45.88.0.1")
    assert again is not first
    assert again.fetched_at == clock.now
    assert again.asn == first.asn
    stats = intel.cache_stats
    assert (stats.hits, stats.misses, stats.expired) == (1, 2, 1)
    assert stats.source_lookups["ip2location"] == 2


def test_lru_bound(world_config: EnrichmentConfig, make_intel: MakeIntel) -> None:
    intel = make_intel(replace(world_config, cache_size=2))
    intel.lookup("185.122.0.1")
    intel.lookup("185.122.0.2")
    intel.lookup("185.122.0.1")  # refresh: .2 is now the oldest
    intel.lookup("185.122.0.3")  # evicts .2
    assert intel.cache_stats.evictions == 1
    intel.lookup("185.122.0.1")
    assert intel.cache_stats.hits == 2
    intel.lookup("185.122.0.2")
    stats = intel.cache_stats
    assert (stats.hits, stats.misses, stats.size, stats.capacity) == (2, 4, 2, 2)


def test_cache_size_zero_disables_the_cache(world_config: EnrichmentConfig, make_intel: MakeIntel) -> None:
    intel = make_intel(replace(world_config, cache_size=0))
    intel.lookup("185.122.0.1")
    intel.lookup("185.122.0.1")
    stats = intel.cache_stats
    assert (stats.hits, stats.misses, stats.size) == (0, 2, 0)
    assert stats.source_lookups["ip2location"] == 2
    assert set(stats.to_dict()) >= {"hits", "misses", "hit_rate", "source_lookups", "source_errors"}


def test_clear_cache(world_config: EnrichmentConfig, make_intel: MakeIntel) -> None:
    intel = make_intel(world_config)
    intel.lookup("185.122.0.1")
    intel.clear_cache()
    intel.lookup("185.122.0.1")
    assert intel.cache_stats.misses == 2
