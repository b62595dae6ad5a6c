"""Replacing database files under a running IpIntel, and many threads at once."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from enrichment_world import NATRO, WORLD, FakeClock, write_all
from structlog.testing import capture_logs

from hunter.collect.ipintel import EnrichmentConfig, IpIntel
from hunter.sandbox.ipdb import write_geoip_mmdb, write_ip2location_bin

MakeIntel = Callable[..., IpIntel]
BURSA = replace(NATRO, region="Bursa", city="Bursa", isp="Bursa Hosting")


def _swap_in(target: Path, write: Callable[[Path], object]) -> None:
    """Write a new file next to the configured one and rename it over it (how updates ship)."""
    temp = target.with_name(target.name + ".new")
    write(temp)
    os.replace(temp, target)


def test_replaced_files_are_reopened(tmp_path: Path, make_intel: MakeIntel) -> None:
    config = write_all(tmp_path)
    assert config.geoip_city is not None
    assert config.ip2location is not None
    intel = make_intel(config)
    assert intel.lookup("185.122.0.1").city == "Istanbul"
    assert intel.reload_if_changed() is False

    _swap_in(config.geoip_city, lambda p: write_geoip_mmdb(p, "City", [BURSA]))
    _swap_in(config.ip2location, lambda p: write_ip2location_bin(p, 11, [BURSA]))
    assert intel.reload_if_changed() is True
    facts = intel.lookup("185.122.0.1")  # the cache was cleared: new facts at once
    assert facts.city == "Bursa"
    assert facts.sources["city"] == ["geoip_city", "ip2location"]
    assert facts.isp is None  # DB11 has no ISP column
    status = {s.source: s for s in intel.status()}
    assert status["ip2location"].database_type == "IP2Location DB11"
    assert intel.cache_stats.reloads == 2  # initial load + this one
    assert intel.reload_if_changed() is False


def test_a_bad_replacement_is_refused_and_the_old_copy_keeps_serving(
    tmp_path: Path, make_intel: MakeIntel
) -> None:
    config = write_all(tmp_path)
    assert config.geoip_asn is not None
    assert config.ip2proxy is not None
    intel = make_intel(config)
    with capture_logs() as logs:
        _swap_in(config.geoip_asn, lambda p: p.write_text("half-copied download\n"))
        os.remove(config.ip2proxy)
        assert intel.reload_if_changed() is False
    status = {s.source: s for s in intel.status()}
    assert status["geoip_asn"].state == "loaded"
    assert status["geoip_asn"].error is not None
    assert "still serving" in status["geoip_asn"].error
    assert status["ip2proxy"].state == "loaded"
    assert "file not found" in (status["ip2proxy"].error or "")
    facts = intel.lookup("185.122.0.1")
    assert facts.asn == 34619
    assert facts.sources["asn"][0] == "geoip_asn"
    assert facts.is_proxy == 0
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert sorted(e["source"] for e in warnings) == ["geoip_asn", "ip2proxy"]
    # a good file later is picked up
    _swap_in(
        config.geoip_asn, lambda p: write_geoip_mmdb(p, "ASN", [replace(NATRO, asn=64512, as_name="New")])
    )
    assert intel.reload_if_changed() is True
    assert intel.lookup("185.122.0.1").asn == 64512
    assert {s.source: s for s in intel.status()}["geoip_asn"].error is None


def test_lookups_check_for_new_files_every_interval(
    tmp_path: Path, make_intel: MakeIntel, clock: FakeClock
) -> None:
    config = replace(write_all(tmp_path), cache_size=0)
    assert config.geoip_city is not None
    intel = make_intel(config, clock=clock, check_interval=60.0)
    assert intel.lookup("185.122.0.1").city == "Istanbul"
    _swap_in(config.geoip_city, lambda p: write_geoip_mmdb(p, "City", [BURSA]))
    clock.advance(30)
    assert intel.lookup("185.122.0.1").city == "Istanbul"  # not checked yet
    clock.advance(31)
    assert intel.lookup("185.122.0.1").city == "Bursa"


def test_a_missing_file_that_appears_later_is_loaded(tmp_path: Path, make_intel: MakeIntel) -> None:
    path = tmp_path / "GeoLite2-City.mmdb"
    intel = make_intel(EnrichmentConfig(enabled=True, geoip_city=path))
    assert intel.status()[0].state == "error"
    assert intel.lookup("185.122.0.1").city is None
    write_geoip_mmdb(path, "City", WORLD)
    assert intel.reload_if_changed() is True
    assert intel.status()[0].state == "loaded"
    assert intel.lookup("185.122.0.1").city == "Istanbul"


def test_many_threads_with_reloads(tmp_path: Path, make_intel: MakeIntel) -> None:
    config = replace(write_all(tmp_path), cache_size=64)  # small: constant eviction
    assert config.geoip_city is not None
    versions = {"a": tmp_path / "city-a.mmdb", "b": tmp_path / "city-b.mmdb"}
    write_geoip_mmdb(versions["a"], "City", WORLD)
    write_geoip_mmdb(versions["b"], "City", [BURSA, *WORLD[1:]])
    intel = make_intel(config)
    ips = [f"185.122.{i % 4}.{i % 250}" for i in range(300)] + ["2a0c:5c00::1", "45.88.0.1", "5.24.128.7"]
    errors: list[BaseException] = []
    seen_cities: set[str | None] = set()
    stop = threading.Event()

    def worker(offset: int) -> None:
        try:
            for n in range(1500):
                facts = intel.lookup(ips[(n * 7 + offset) % len(ips)])
                assert not facts.errors, facts.errors
                if facts.ip.startswith("185.122."):
                    seen_cities.add(facts.city)
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    def reloader() -> None:
        try:
            n = 0
            while not stop.is_set():
                source = versions["a" if n % 2 else "b"]
                temp = tmp_path / "city.swap"
                shutil.copyfile(source, temp)
                os.replace(temp, config.geoip_city)  # type: ignore[arg-type]
                intel.reload_if_changed()
                intel.status()
                n += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    swapper = threading.Thread(target=reloader)
    swapper.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    swapper.join()
    assert errors == []
    assert seen_cities <= {"Istanbul", "Bursa"}
    stats = intel.cache_stats
    assert stats.hits + stats.misses == 8 * 1500
    assert sum(stats.source_errors.values()) == 0
    assert stats.reloads > 1
