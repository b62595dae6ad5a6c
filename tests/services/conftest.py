"""A sandbox world on a loopback DNS server for the service tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hunter.sandbox.testing import SandboxWorld, sandbox_world


@pytest.fixture
def sandbox() -> Iterator[SandboxWorld]:
    with sandbox_world() as world:
        yield world
