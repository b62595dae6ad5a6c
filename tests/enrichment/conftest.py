"""Fixtures for the IP enrichment tests: the synthetic world written into all five formats."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from enrichment_world import FakeClock, write_all

from hunter.collect.ipintel import SOURCES, EnrichmentConfig, IpIntel


@pytest.fixture(scope="session")
def world_config(tmp_path_factory: pytest.TempPathFactory) -> EnrichmentConfig:
    """All five databases for WORLD (read-only: tests that change files build their own)."""
    return write_all(tmp_path_factory.mktemp("ipdb-world"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_intel() -> Iterator[Callable[..., IpIntel]]:
    """IpIntel factory that closes what it opened (check_interval off unless asked for)."""
    opened: list[IpIntel] = []

    def make(config: EnrichmentConfig, **kwargs: object) -> IpIntel:
        kwargs.setdefault("check_interval", None)
        intel = IpIntel(config, **kwargs)  # type: ignore[arg-type]
        opened.append(intel)
        return intel

    yield make
    for intel in opened:
        intel.close()


@pytest.fixture
def only() -> Callable[[EnrichmentConfig, str], EnrichmentConfig]:
    """The same config with a single source configured."""

    def pick(config: EnrichmentConfig, source: str) -> EnrichmentConfig:
        paths: dict[str, Any] = dict.fromkeys(SOURCES)
        paths[source] = getattr(config, source)
        return replace(config, **paths)

    return pick
