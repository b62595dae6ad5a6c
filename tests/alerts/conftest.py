"""Fixtures for alert tests: webhook receivers (HTTP and HTTPS) and SMTP servers on 127.0.0.1."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import pytest
import trustme
from alerting_world import Inbox, Receiver, ReceiverServer, Rejecter, start_smtp


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with ReceiverServer(Receiver()) as running:
        yield running


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    """What Hunter trusts in these tests: the test CA only."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(context)
    return context


@pytest.fixture
def tls_receiver(ca: trustme.CA) -> Iterator[Receiver]:
    """An HTTPS receiver whose certificate names only ``hooks.example.test``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("hooks.example.test").configure_cert(context)
    with ReceiverServer(Receiver(), tls=context) as running:
        yield running


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    controller = start_smtp(handler)
    yield handler, controller.port
    controller.stop()


@pytest.fixture
def rejecter() -> Iterator[tuple[Rejecter, int]]:
    handler = Rejecter()
    controller = start_smtp(handler)
    yield handler, controller.port
    controller.stop()
