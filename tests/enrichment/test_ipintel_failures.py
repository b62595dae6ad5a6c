"""Unusable database files: one clear log line, an error on the status page, no crash, and the
other databases keep working. A disabled config opens nothing."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import maxminddb
import pytest
from enrichment_world import WORLD, write_all
from structlog.testing import capture_logs

from hunter.collect.ipintel import SOURCES, EnrichmentConfig, IpIntel
from hunter.sandbox.ipdb import write_geoip_mmdb, write_ip2location_bin, write_ip2proxy_bin

MakeIntel = Callable[..., IpIntel]


def _truncate(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _cut_tail(path: Path, count: int) -> None:
    path.write_bytes(path.read_bytes()[:-count])


def _replace_with_directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _garbage(path: Path) -> None:
    path.write_bytes(os.urandom(4096))


def _text(path: Path) -> None:
    path.write_text("# this is not a database\n" * 20)


def _zip_of_bin(path: Path) -> None:
    inner = path.with_suffix(".inner")
    write_ip2location_bin(inner, 11, WORLD)
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(inner, "IP2LOCATION-LITE-DB11.BIN")
    inner.unlink()


CASES: list[tuple[str, str, Callable[[Path], object], str]] = [
    # (case id, source, how the configured file is spoiled, expected words in the error)
    ("mmdb-missing", "geoip_city", lambda p: p.unlink(), "file not found"),
    ("mmdb-garbage", "geoip_city", _garbage, "not a readable MaxMind DB"),
    ("mmdb-text", "geoip_country", _text, "not a readable MaxMind DB"),
    ("mmdb-truncated", "geoip_asn", lambda p: _truncate(p, 0.5), "not a readable MaxMind DB"),
    ("asn-as-city", "geoip_city", lambda p: write_geoip_mmdb(p, "ASN", WORLD), "'GeoLite2-ASN'"),
    ("city-as-asn", "geoip_asn", lambda p: write_geoip_mmdb(p, "City", WORLD), "containing 'ASN'"),
    (
        "city-as-country",
        "geoip_country",
        lambda p: write_geoip_mmdb(p, "City", WORLD),
        "containing 'Country'",
    ),
    ("bin-missing", "ip2location", lambda p: p.unlink(), "file not found"),
    ("bin-text", "ip2location", _text, "not an IP2Location BIN"),
    ("bin-garbage", "ip2proxy", _garbage, "IP2Proxy"),
    ("bin-tiny", "ip2proxy", lambda p: p.write_bytes(b"\x0b\x08"), "only 2 bytes"),
    ("bin-truncated-table", "ip2location", lambda p: _truncate(p, 0.6), "truncated"),
    ("bin-truncated-strings", "ip2proxy", lambda p: _cut_tail(p, 5), "points to a string"),
    (
        "proxy-as-location",
        "ip2location",
        lambda p: write_ip2proxy_bin(p, 11, WORLD),
        "this is an IP2Proxy BIN",
    ),
    (
        "location-as-proxy",
        "ip2proxy",
        lambda p: write_ip2location_bin(p, 11, WORLD),
        "this is an IP2Location BIN",
    ),
    ("mmdb-as-bin", "ip2location", lambda p: write_geoip_mmdb(p, "City", WORLD), "IP2Location"),
    ("bin-as-mmdb", "geoip_city", lambda p: write_ip2location_bin(p, 26, WORLD), "not a readable MaxMind DB"),
    ("zip", "ip2location", _zip_of_bin, "ZIP archive"),
    ("directory", "ip2proxy", lambda p: _replace_with_directory(p), "not a file"),
]


@pytest.mark.parametrize(("source", "spoil", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_unusable_file(
    tmp_path: Path, make_intel: MakeIntel, source: str, spoil: Callable[[Path], object], message: str
) -> None:
    config = write_all(tmp_path)
    path = config.path_for(source)
    assert path is not None
    spoil(path)
    with capture_logs() as logs:
        intel = make_intel(config)
    status = {s.source: s for s in intel.status()}
    assert status[source].state == "error"
    assert not status[source].loaded
    assert message in (status[source].error or ""), status[source].error
    assert status[source].path == str(path)
    problems = [e for e in logs if e["log_level"] in ("warning", "error", "critical")]
    assert len(problems) == 1, problems
    assert problems[0]["source"] == source
    assert message in problems[0]["error"]
    for other in SOURCES:
        if other != source:
            assert status[other].state == "loaded", other
    # the others still answer, the broken one is simply absent
    facts = intel.lookup("185.122.0.1")
    assert facts.errors == {}
    assert facts.asn == 34619
    assert facts.country == "TR"
    assert source not in {name for names in facts.sources.values() for name in names}
    raw = intel.lookup_source(source, "185.122.0.1")
    assert raw["loaded"] is False
    assert message in raw["error"]
    # asking again does not log again: nothing changed on disk
    with capture_logs() as again:
        intel.reload_if_changed()
    assert again == []


def test_every_database_broken_still_answers(tmp_path: Path, make_intel: MakeIntel) -> None:
    config = EnrichmentConfig(enabled=True, **{name: tmp_path / f"{name}.missing" for name in SOURCES})  # type: ignore[arg-type]
    with capture_logs() as logs:
        intel = make_intel(config)
    assert len(logs) == 5
    facts = intel.lookup("185.122.0.1")
    assert not facts.known
    assert facts.sources == {}
    assert facts.is_proxy is None


def test_disabled_config_opens_nothing(
    tmp_path: Path, make_intel: MakeIntel, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = replace(write_all(tmp_path), enabled=False)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a database was opened while enrichment is disabled")

    monkeypatch.setattr(maxminddb, "open_database", refuse)
    monkeypatch.setattr("hunter.collect.ipintel._open", refuse)
    with capture_logs() as logs:
        intel = make_intel(config)
        assert intel.reload_if_changed() is False
        facts = intel.lookup("185.122.0.1")
    assert logs == []
    assert not intel.enabled
    assert [s.state for s in intel.status()] == ["disabled"] * 5
    assert not facts.known
    assert intel.lookup_source("geoip_city", "185.122.0.1")["loaded"] is False


def test_unconfigured_sources_are_not_errors(tmp_path: Path, make_intel: MakeIntel) -> None:
    city = write_geoip_mmdb(tmp_path / "city.mmdb", "City", WORLD)
    with capture_logs() as logs:
        intel = make_intel(EnrichmentConfig(enabled=True, geoip_city=city))
    assert [e for e in logs if e["log_level"] == "warning"] == []
    states = {s.source: s.state for s in intel.status()}
    assert states == {
        "geoip_city": "loaded",
        "geoip_country": "not_configured",
        "geoip_asn": "not_configured",
        "ip2location": "not_configured",
        "ip2proxy": "not_configured",
    }
