"""Fixtures for the job tests: a sandbox world served by a real DNS server, and job settings."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hunter.config import Settings
from hunter.sandbox.dns_server import DnsServer, running_dns_server
from hunter.sandbox.world import World, build_world, synthetic_domains
from hunter.sandbox.zones import ZoneStore

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
WORLD_SIZE = 600


@pytest.fixture(scope="session")
def world() -> World:
    return build_world(synthetic_domains(WORLD_SIZE, seed=11), seed=11)


@pytest.fixture(scope="session")
def world_domains(world: World) -> list[str]:
    return [c.domain for c in world.companies]


@pytest.fixture(scope="session")
def world_server(world: World) -> Iterator[DnsServer]:
    store = ZoneStore()
    world.populate(store)
    with running_dns_server(store) as server:
        yield server


@pytest.fixture
def make_settings(tmp_path: Path, world_server: DnsServer) -> Callable[..., Settings]:
    """Settings for scans against the sandbox (DNS only) with quick job timings."""

    def make(**overrides: Any) -> Settings:
        options: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "dns_nameservers": world_server.address,
            "rdap_enabled": False,
            "job_lease_seconds": 30.0,
            "job_poll_interval": 0.05,
            "job_sweep_interval": 0.5,
            "rescan_schedule": "",
        }
        options.update(overrides)
        return Settings(**options)

    return make
