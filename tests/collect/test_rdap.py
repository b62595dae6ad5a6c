"""RDAP / WHOIS collection against the sandbox emulators over real sockets."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from hunter.collect import rdap
from hunter.collect.rdap import (
    BootstrapError,
    RdapConfig,
    RegistrationFetcher,
    fetch_many,
    load_bootstrap,
    parse_bootstrap,
    parse_rdap_domain,
    refresh_bootstrap,
    resolve_route,
)
from hunter.collect.whois import normalise_status, parse_datetime, parse_whois
from hunter.core.evidence import RdapStatus
from hunter.sandbox.rdap_emulator import Fault, RdapEmulator, registration_for, running_rdap_emulator
from hunter.sandbox.whois_emulator import WhoisEmulator, running_whois_emulator

TODAY = date(2026, 6, 15)
# Allowance for the event loop's clock granularity in "took at least" checks.
SLACK = 0.02


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
async def rdap_emulator() -> AsyncIterator[RdapEmulator]:
    async with RdapEmulator(today=TODAY) as emulator:
        yield emulator


@pytest.fixture
async def whois_emulator() -> AsyncIterator[WhoisEmulator]:
    async with WhoisEmulator(today=TODAY) as emulator:
        yield emulator


@pytest.fixture
def rdap_config(rdap_emulator: RdapEmulator, whois_emulator: WhoisEmulator) -> Callable[..., RdapConfig]:
    """Config pointing at both emulators, without pacing unless a test asks for it."""

    def make(**overrides: Any) -> RdapConfig:
        options: dict[str, Any] = {
            "rdap_overrides": rdap_emulator.rdap_overrides(),
            "whois_servers": whois_emulator.whois_servers(),
            "per_server_interval": 0.0,
            "per_server_concurrency": 8,
            "timeout": 2.0,
            "max_retry_after": 5.0,
        }
        options.update(overrides)
        return RdapConfig(**options)

    return make


async def fetch_one(config: RdapConfig, domain: str) -> Any:
    async with RegistrationFetcher(config) as fetcher:
        return await fetcher.fetch(domain)


def outcomes(emulator: RdapEmulator | WhoisEmulator, domain: str) -> list[str]:
    return [r.outcome for r in emulator.requests if r.domain == domain]


# --- RDAP ----------------------------------------------------------------------------------------


async def test_rdap_ok_reads_registrar_dates_statuses_nameservers(rdap_emulator, rdap_config):
    domain = "acme-makina.com"
    expected = registration_for(domain, today=TODAY)
    assert expected is not None

    info = await fetch_one(rdap_config(), domain)

    assert info.status == RdapStatus.OK
    assert info.source == "rdap"
    assert info.server == f"127.0.0.1:{rdap_emulator.port}"
    assert info.registrar == expected["registrar"]
    assert info.created == expected["created"]
    assert info.expires == expected["expires"]
    assert info.updated == expected["updated"]
    assert info.domain_status == expected["status"]
    # The emulator answers .com in upper case like Verisign; we store lower-case names.
    assert info.nameservers == expected["nameservers"]
    assert all(ns == ns.lower() and not ns.endswith(".") for ns in info.nameservers)
    assert info.error is None
    assert info.fetched_at is not None
    assert info.fetched_at.tzinfo is not None


def test_parse_rdap_domain_is_tolerant():
    doc = {
        "objectClassName": "domain",
        "status": ["client transfer prohibited", "clientDeleteProhibited", "ok"],
        "events": [
            {"eventAction": "registration", "eventDate": "2001-01-15T10:00:00.123456789Z"},
            {"eventAction": "expiration", "eventDate": "2027-01-15T13:00:00+03:00"},
            {"eventAction": "last changed", "eventDate": "not a date"},
            "garbage",
        ],
        "entities": [
            {"roles": ["registrant"], "vcardArray": ["vcard", [["fn", {}, "text", "Somebody"]]]},
            {
                "roles": ["reseller"],
                "entities": [
                    {
                        "roles": ["registrar"],
                        "vcardArray": [
                            "vcard",
                            [["version", {}, "text", "4.0"], ["org", {}, "text", "Nested Registrar A.Ş."]],
                        ],
                    }
                ],
            },
        ],
        "nameservers": [{"ldhName": "NS1.Example.COM."}, {"unicodeName": "ns.örnek.com.tr"}, {"x": 1}],
    }
    info = parse_rdap_domain(doc, server="rdap.example")
    assert info.status == RdapStatus.OK
    assert info.registrar == "Nested Registrar A.Ş."
    assert info.created == datetime(2001, 1, 15, 10, 0, 0, 123456, tzinfo=UTC)
    assert info.expires == datetime(2027, 1, 15, 10, 0, tzinfo=UTC)
    assert info.updated is None
    assert info.domain_status == ["client transfer prohibited", "client delete prohibited", "active"]
    assert info.nameservers == ["ns1.example.com", "ns.xn--rnek-4qa.com.tr"]


async def test_rdap_not_found(rdap_config):
    info = await fetch_one(rdap_config(), "nx-nothing-here.com")
    assert info.status == RdapStatus.NOT_FOUND
    assert info.registrar is None
    assert info.error is None


async def test_rdap_429_is_honoured_then_succeeds(rdap_emulator, rdap_config):
    domain = "busy.com"
    rdap_emulator.faults.set(Fault("rate_limit", times=2, retry_after=0.2), domain=domain)

    started = time.monotonic()
    info = await fetch_one(rdap_config(), domain)

    assert info.status == RdapStatus.OK
    assert time.monotonic() - started >= 0.4 - SLACK
    assert outcomes(rdap_emulator, domain) == ["429", "429", "200"]


async def test_rdap_429_beyond_the_cap_is_rate_limited_without_waiting(rdap_emulator, rdap_config):
    rdap_emulator.faults.set(Fault("rate_limit", retry_after=120))

    started = time.monotonic()
    info = await fetch_one(rdap_config(max_retry_after=1.0), "patient.com")

    assert info.status == RdapStatus.RATE_LIMITED
    assert "Retry-After 120" in (info.error or "")
    assert time.monotonic() - started < 1.0


async def test_a_long_server_pause_reports_other_domains_without_asking_again(rdap_emulator, rdap_config):
    rdap_emulator.faults.set(Fault("rate_limit", retry_after=120))
    async with RegistrationFetcher(rdap_config(max_retry_after=1.0)) as fetcher:
        first = await fetcher.fetch("ilk.com")
        started = time.monotonic()
        others = await asyncio.gather(*(fetcher.fetch(f"sonraki{i}.com") for i in range(3)))

    assert first.status == RdapStatus.RATE_LIMITED
    assert {o.status for o in others} == {RdapStatus.RATE_LIMITED}
    assert "paused" in (others[0].error or "")
    assert time.monotonic() - started < 0.5
    assert len(rdap_emulator.requests) == 1  # the server's pause was respected


async def test_a_short_server_pause_is_shared_by_other_domains(rdap_emulator, rdap_config):
    rdap_emulator.faults.set(Fault("rate_limit", times=1, retry_after=0.4), domain="ilk.com")

    async def later(domain: str) -> Any:
        await asyncio.sleep(0.1)  # asks while the server's pause is running
        return await fetcher.fetch(domain)

    async with RegistrationFetcher(rdap_config()) as fetcher:
        first, second = await asyncio.gather(fetcher.fetch("ilk.com"), later("sonraki.com"))

    assert (first.status, second.status) == (RdapStatus.OK, RdapStatus.OK)
    times = {(r.domain, r.outcome): r.at for r in rdap_emulator.requests}
    assert times[("sonraki.com", "200")] - times[("ilk.com", "429")] >= 0.4 - SLACK


async def test_rdap_429_waits_at_most_the_cap_in_total(rdap_emulator, rdap_config):
    rdap_emulator.faults.set(Fault("rate_limit", retry_after=0.3))

    started = time.monotonic()
    info = await fetch_one(rdap_config(max_retry_after=1.0), "always-busy.com")
    elapsed = time.monotonic() - started

    assert info.status == RdapStatus.RATE_LIMITED
    # Three waits of 0.3 s fit in the 1 s budget, a fourth does not.
    assert outcomes(rdap_emulator, "always-busy.com") == ["429"] * 4
    assert 0.9 - SLACK <= elapsed < 1.5


async def test_rdap_500_is_an_error(rdap_emulator, rdap_config):
    rdap_emulator.faults.set(Fault("error", status=500), domain="broken.com")
    info = await fetch_one(rdap_config(), "broken.com")
    assert info.status == RdapStatus.ERROR
    assert info.error is not None
    assert info.error.startswith("HTTP 500")


async def test_rdap_slow_server_times_out(rdap_emulator, rdap_config):
    rdap_emulator.faults.set(Fault("slow", delay=3.0), domain="slow.com")
    started = time.monotonic()
    info = await fetch_one(rdap_config(timeout=0.3), "slow.com")
    assert info.status == RdapStatus.TIMEOUT
    assert "0.3 s" in (info.error or "")
    assert time.monotonic() - started < 1.5


async def test_rdap_malformed_json_is_an_error_with_a_clear_message(rdap_emulator, rdap_config):
    rdap_emulator.faults.set(Fault("malformed"), domain="garbled.com")
    info = await fetch_one(rdap_config(), "garbled.com")
    assert info.status == RdapStatus.ERROR
    assert "malformed RDAP response: not valid JSON" in (info.error or "")


async def test_rdap_dropped_connection_is_retried_once(rdap_emulator, rdap_config):
    rdap_emulator.faults.set(Fault("drop", times=1), domain="flaky.com")
    rdap_emulator.faults.set(Fault("drop"), domain="dead.com")

    assert (await fetch_one(rdap_config(), "flaky.com")).status == RdapStatus.OK
    dead = await fetch_one(rdap_config(), "dead.com")

    assert dead.status == RdapStatus.ERROR
    assert "connection closed" in (dead.error or "")
    assert outcomes(rdap_emulator, "dead.com") == ["drop", "drop"]


async def test_rdap_redirects_are_followed(rdap_emulator, rdap_config):
    config = rdap_config(rdap_overrides={"com": rdap_emulator.base_url + "redirect/"})
    info = await fetch_one(config, "tasindi.com")
    assert info.status == RdapStatus.OK
    assert [r.outcome for r in rdap_emulator.requests] == ["301", "200"]


async def test_https_with_the_sandbox_ca():
    async with RdapEmulator(tls=True, today=TODAY) as emulator:
        assert emulator.base_url.startswith("https://")
        assert emulator.ca_path
        trusted = RdapConfig(rdap_overrides=emulator.rdap_overrides(), verify=emulator.ca_path)
        untrusted = RdapConfig(rdap_overrides=emulator.rdap_overrides(), verify=True)

        ok = await fetch_one(trusted, "guvenli.com")
        refused = await fetch_one(untrusted, "guvenli.com")

    assert ok.status == RdapStatus.OK
    assert refused.status == RdapStatus.ERROR
    assert "TLS certificate not trusted" in (refused.error or "")
    assert "CA bundle" in (refused.error or "")


# --- WHOIS ---------------------------------------------------------------------------------------


async def test_whois_tr_ok(whois_emulator, rdap_config):
    domain = "anadolu-tekstil.com.tr"
    expected = registration_for(domain, today=TODAY)
    assert expected is not None

    info = await fetch_one(rdap_config(), domain)

    assert info.status == RdapStatus.OK
    assert info.source == "whois"
    assert info.server == whois_emulator.address
    assert info.registrar == expected["registrar"]
    # whois.nic.tr shows dates without a time of day.
    assert info.created is not None
    assert info.created.date() == expected["created"].date()
    assert info.expires is not None
    assert info.expires.date() == expected["expires"].date()
    assert info.nameservers == expected["nameservers"]


async def test_whois_tr_no_match(rdap_config):
    info = await fetch_one(rdap_config(), "nx-olmayan.com.tr")
    assert info.status == RdapStatus.NOT_FOUND
    assert info.source == "whois"


async def test_whois_idn_is_queried_as_punycode(whois_emulator, rdap_config):
    info = await fetch_one(rdap_config(), "örnek.com.tr")
    assert info.status == RdapStatus.OK
    assert [r.domain for r in whois_emulator.requests] == ["xn--rnek-4qa.com.tr"]


async def test_whois_slow_times_out(whois_emulator, rdap_config):
    whois_emulator.faults.set(Fault("slow", delay=3.0))
    started = time.monotonic()
    info = await fetch_one(rdap_config(timeout=0.3), "yavas.com.tr")
    assert info.status == RdapStatus.TIMEOUT
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize(
    ("fault", "status", "message"),
    [
        (Fault("drop"), RdapStatus.ERROR, "without an answer"),
        (Fault("rate_limit"), RdapStatus.RATE_LIMITED, "rate limit"),
        (Fault("malformed"), RdapStatus.ERROR, "unrecognised WHOIS answer"),
    ],
)
async def test_whois_faults(whois_emulator, rdap_config, fault, status, message):
    whois_emulator.faults.set(fault)
    info = await fetch_one(rdap_config(), "sorunlu.com.tr")
    assert info.status == status
    assert message in (info.error or "")


async def test_whois_gtld_layout_and_rdap_agree(whois_emulator, rdap_config):
    domain = "ortak-firma.com"
    via_rdap = await fetch_one(rdap_config(), domain)
    # An empty override switches RDAP off for .com, so the WHOIS entry is used.
    via_whois = await fetch_one(
        rdap_config(rdap_overrides={"com": ""}, whois_servers={"com": whois_emulator.address}), domain
    )

    assert (via_rdap.source, via_whois.source) == ("rdap", "whois")
    assert via_whois.status == RdapStatus.OK
    for attribute in ("registrar", "created", "expires", "updated", "domain_status", "nameservers"):
        assert getattr(via_whois, attribute) == getattr(via_rdap, attribute), attribute


# --- switches, pacing, streaming -----------------------------------------------------------------


async def test_disabled_does_no_io(rdap_emulator, whois_emulator, rdap_config):
    async with RegistrationFetcher(rdap_config(enabled=False)) as fetcher:
        results = [await fetcher.fetch(d) for d in ("firma.com", "firma.com.tr", "x.unknown")]
        assert fetcher.bootstrap is None  # not even the bootstrap file was read
    assert {r.status for r in results} == {RdapStatus.DISABLED}
    assert rdap_emulator.requests == []
    assert whois_emulator.requests == []


async def test_requests_to_one_server_are_paced(rdap_emulator, rdap_config):
    domains = [f"sirket{i}.com" for i in range(4)]
    config = rdap_config(per_server_interval=0.25, per_server_concurrency=4)

    started = time.monotonic()
    async with RegistrationFetcher(config) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(d) for d in domains))
    elapsed = time.monotonic() - started

    assert all(r.status == RdapStatus.OK for r in results)
    assert elapsed >= 3 * 0.25 - SLACK
    arrivals = sorted(r.at for r in rdap_emulator.requests)
    assert all(b - a >= 0.25 - 0.05 for a, b in itertools.pairwise(arrivals))


async def test_per_server_concurrency_is_capped(rdap_emulator, rdap_config):
    rdap_emulator.faults.set(Fault("slow", delay=0.3))
    config = rdap_config(per_server_concurrency=2)

    started = time.monotonic()
    async with RegistrationFetcher(config) as fetcher:
        await asyncio.gather(*(fetcher.fetch(f"kuyruk{i}.com") for i in range(4)))

    assert time.monotonic() - started >= 2 * 0.3 - SLACK


async def test_pacing_is_per_server(rdap_emulator, whois_emulator, rdap_config):
    config = rdap_config(per_server_interval=2.0)
    started = time.monotonic()
    async with RegistrationFetcher(config) as fetcher:
        a, b = await asyncio.gather(fetcher.fetch("bir.com"), fetcher.fetch("iki.com.tr"))
    assert (a.status, b.status) == (RdapStatus.OK, RdapStatus.OK)
    assert time.monotonic() - started < 1.0


async def test_fetch_many_streams_and_is_not_held_back_by_a_slow_domain(rdap_emulator, rdap_config):
    rdap_emulator.faults.set(Fault("slow", delay=3.0), domain="yavas.com")

    async def domains() -> AsyncIterator[str]:
        for name in ("yavas.com", "hizli1.com", "hizli2.com", "hizli3.com.tr"):
            yield name

    started = time.monotonic()
    seen: list[tuple[str, float, RdapStatus]] = []
    async for domain, info in fetch_many(domains(), rdap_config(timeout=5.0), concurrency=4):
        seen.append((domain, time.monotonic() - started, info.status))

    assert [d for d, _, _ in seen][-1] == "yavas.com"
    assert all(t < 1.0 for d, t, _ in seen if d != "yavas.com")
    assert seen[-1][1] >= 3.0 - SLACK
    assert {s for _, _, s in seen} == {RdapStatus.OK}


async def test_fetch_many_closed_early_cancels_in_flight_work(rdap_emulator, rdap_config):
    rdap_emulator.faults.set(Fault("slow", delay=3.0), domain="yavas.com")
    started = time.monotonic()
    async with aclosing(fetch_many(["yavas.com", "hizli.com"], rdap_config(timeout=5.0))) as stream:
        async for domain, _ in stream:
            assert domain == "hizli.com"
            break
    assert time.monotonic() - started < 1.5


# --- bootstrap -----------------------------------------------------------------------------------


def test_packaged_bootstrap_covers_common_tlds(monkeypatch, tmp_path):
    monkeypatch.setattr(rdap, "bootstrap_override_path", lambda: tmp_path / "absent.json")
    bootstrap = load_bootstrap()
    assert bootstrap.source == "package"
    for tld in ("com", "net", "org", "info", "io", "co", "biz", "app", "dev", "uk", "xyz"):
        url = bootstrap.base_url(tld)
        assert url is not None, tld
        assert url.startswith("https://"), tld
        assert url.endswith("/"), tld
    assert bootstrap.base_url("com") == "https://rdap.verisign.com/com/v1/"
    assert bootstrap.base_url("tr") is None
    assert bootstrap.base_url("de") is None


def test_bootstrap_lookup_takes_the_longest_match():
    bootstrap = parse_bootstrap(
        {
            "version": "1.0",
            "services": [
                [["tr"], ["http://tr.example/", "https://tr.example/"]],
                [["com.tr"], ["https://com-tr.example/rdap/"]],
            ],
        }
    )
    config = RdapConfig(whois_servers={"tr": "whois.nic.tr:43", "zz": "whois.zz:4343"})

    def route(domain: str) -> tuple[str, str] | None:
        found = resolve_route(domain, bootstrap, config)
        return None if found is None else (found.kind, found.target)

    assert route("firma.com.tr") == ("rdap", "https://com-tr.example/rdap/")
    assert route("kurum.gov.tr") == ("rdap", "https://tr.example/")  # https preferred
    assert route("firma.zz") == ("whois", "whois.zz:4343")
    assert route("firma.yy") is None
    longer = RdapConfig(rdap_overrides={"bel.tr": "https://belediye.example/"})
    assert resolve_route("x.bel.tr", bootstrap, longer).target == "https://belediye.example/"  # type: ignore[union-attr]


async def test_unknown_tld_is_unsupported_unless_whois_is_configured(whois_emulator):
    bootstrap = parse_bootstrap({"services": [[["com"], ["https://rdap.invalid/"]]]})
    async with RegistrationFetcher(RdapConfig(whois_servers={}), bootstrap=bootstrap) as fetcher:
        info = await fetcher.fetch("firma.zz")
    assert info.status == RdapStatus.UNSUPPORTED
    assert ".zz" in (info.error or "")

    config = RdapConfig(whois_servers={"zz": whois_emulator.address})
    async with RegistrationFetcher(config, bootstrap=bootstrap) as fetcher:
        info = await fetcher.fetch("firma.zz")
    assert (info.status, info.source) == (RdapStatus.OK, "whois")


@pytest.mark.parametrize(
    "doc",
    [
        [],
        {"services": []},
        {"services": [[["com"]]]},
        {"services": [[["com"], ["ftp://rdap.example/"]]]},
        {"services": [[[], ["https://rdap.example/"]]]},
    ],
)
def test_parse_bootstrap_rejects_bad_documents(doc):
    with pytest.raises(BootstrapError):
        parse_bootstrap(doc)


async def test_refresh_bootstrap_from_the_emulator(monkeypatch, tmp_path):
    from hunter.config import get_settings

    monkeypatch.setenv("HUNTER_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    async with RdapEmulator(tls=True, today=TODAY) as emulator:
        count = await refresh_bootstrap(emulator.bootstrap_url, verify=emulator.ca_path)

        written = tmp_path / "rdap_bootstrap.json"
        assert count == len(emulator.tlds)
        assert json.loads(written.read_text())["services"]
        # The loader now prefers the refreshed copy, and a fetch follows it to the emulator.
        bootstrap = load_bootstrap()
        assert bootstrap.source == str(written)
        assert bootstrap.base_url("com") == emulator.base_url
        info = await fetch_one(RdapConfig(verify=emulator.ca_path), "yenilenmis.com")
        assert (info.status, info.server) == (RdapStatus.OK, f"127.0.0.1:{emulator.port}")

        # A failed refresh leaves the previous file in place.
        before = written.read_bytes()
        with pytest.raises(BootstrapError):
            await refresh_bootstrap(emulator.base_url + "nowhere.json", verify=emulator.ca_path)
        assert written.read_bytes() == before

    # A damaged refreshed copy never stops scans: the packaged snapshot is used.
    written.write_text("{")
    assert load_bootstrap().source == "package"
    get_settings.cache_clear()


# --- parsers -------------------------------------------------------------------------------------

NIC_TR = """\
** Domain Name: ornek.com.tr
Frozen Status: -
Transfer Status: The domain is LOCKED to transfer.

** Registrant:
   Hidden upon user request
   Hidden upon user request


** Registrar:
NIC Handle\t\t: tyh14-metu
Organization Name\t: Natro Bilişim
Address\t\t\t: Hidden upon user request
Phone\t\t\t: Hidden upon user request


** Domain Servers:
ns1.ornek.com.tr 195.175.1.1
ns2.ornek.com.tr 2001:db8::53
NS3.NATROHOST.COM.

** Additional Info:
Created on..............: 2001-Jan-15.
Expires on..............: 2026-Jan-14.
"""

GTLD = """\
   Domain Name: EXAMPLE.COM
   Registrar WHOIS Server: whois.markmonitor.com
   Registrar URL: http://www.markmonitor.com
   Updated Date: 2024-08-14T07:01:38Z
   Creation Date: 1995-08-14T04:00:00Z
   Registrar Registration Expiration Date: 2025-08-13T04:00:00Z
   Registry Expiry Date: 2025-08-13T04:00:00Z
   Registrar: MarkMonitor Inc.
   Registrar IANA ID: 292
   Domain Status: clientDeleteProhibited https://icann.org/epp#clientDeleteProhibited
   Domain Status: serverTransferProhibited https://icann.org/epp#serverTransferProhibited
   Name Server: A.IANA-SERVERS.NET
   Name Server: B.IANA-SERVERS.NET
   DNSSEC: signedDelegation
>>> Last update of whois database: 2026-11-22T10:00:00Z <<<

NOTICE: The expiration date displayed in this record is the date the registrar's sponsorship of
the domain name registration in the registry is currently set to expire.
"""


def test_parse_nic_tr_layout():
    record = parse_whois(NIC_TR)
    assert record.found
    assert not record.not_found
    assert record.registrar == "Natro Bilişim"
    assert record.created == datetime(2001, 1, 15, tzinfo=UTC)
    assert record.expires == datetime(2026, 1, 14, tzinfo=UTC)
    assert record.nameservers == ["ns1.ornek.com.tr", "ns2.ornek.com.tr", "ns3.natrohost.com"]


def test_parse_gtld_layout():
    record = parse_whois(GTLD)
    assert record.registrar == "MarkMonitor Inc."
    assert record.created == datetime(1995, 8, 14, 4, tzinfo=UTC)
    assert record.expires == datetime(2025, 8, 13, 4, tzinfo=UTC)
    assert record.updated == datetime(2024, 8, 14, 7, 1, 38, tzinfo=UTC)
    assert record.statuses == ["client delete prohibited", "server transfer prohibited"]
    assert record.nameservers == ["a.iana-servers.net", "b.iana-servers.net"]


@pytest.mark.parametrize(
    ("text", "not_found", "rate_limited"),
    [
        ('No match found for "yok.com.tr"\r\n', True, False),
        ('No match for "NOTHING.COM".\r\n>>> Last update of whois database: 2026 <<<', True, False),
        ("Query rate limit exceeded. Please try again later.", False, True),
        ("%% something odd", False, False),
    ],
)
def test_parse_whois_without_data(text, not_found, rate_limited):
    record = parse_whois(text)
    assert not record.found
    assert (record.not_found, record.rate_limited) == (not_found, rate_limited)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2001-Jan-15.", datetime(2001, 1, 15, tzinfo=UTC)),
        ("2020-05-01T12:00:00Z", datetime(2020, 5, 1, 12, tzinfo=UTC)),
        ("2020-05-01T12:00:00.5Z", datetime(2020, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)),
        ("2020-05-01T15:00:00+03:00", datetime(2020, 5, 1, 12, tzinfo=UTC)),
        ("2020-05-01 12:00:00 UTC", datetime(2020, 5, 1, 12, tzinfo=UTC)),
        ("2020-05-01", datetime(2020, 5, 1, tzinfo=UTC)),
        ("15-jan-2001", datetime(2001, 1, 15, tzinfo=UTC)),
        ("2001.01.15", datetime(2001, 1, 15, tzinfo=UTC)),
        ("15.01.2001", datetime(2001, 1, 15, tzinfo=UTC)),
        ("2001-Foo-15", None),
        ("2001-02-30", None),
        ("soon", None),
        ("", None),
    ],
)
def test_parse_datetime(text, expected):
    assert parse_datetime(text) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "clientTransferProhibited https://icann.org/epp#clientTransferProhibited",
            "client transfer prohibited",
        ),
        ("client transfer prohibited", "client transfer prohibited"),
        ("ok", "active"),
        ("Active", "active"),
        ("pendingDelete", "pending delete"),
    ],
)
def test_normalise_status(raw, expected):
    assert normalise_status(raw) == expected


def test_retry_after_accepts_seconds_and_http_dates():
    soon = (datetime.now(UTC) + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert rdap._retry_after("7") == 7.0
    assert 80 <= (rdap._retry_after(soon) or 0) <= 91
    assert rdap._retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert rdap._retry_after("later") is None


# --- emulator ------------------------------------------------------------------------------------


def test_registration_for_is_deterministic_and_varied():
    names = [f"firma{i}.com.tr" for i in range(300)] + [f"company{i}.com" for i in range(300)]
    records = [registration_for(n, today=TODAY) for n in names]
    assert records == [registration_for(n, today=TODAY) for n in names]
    assert registration_for("firma1.com.tr", seed=1, today=TODAY) != records[1]
    assert all(r is not None for r in records)

    today = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC)
    expiring = [r for r in records if r and today < r["expires"] <= today + timedelta(days=30)]
    new = [r for r in records if r and r["created"] > today - timedelta(days=365)]
    assert len(expiring) >= 20
    assert len(new) >= 20
    for r in records:
        assert r is not None
        assert datetime(1998, 1, 1, tzinfo=UTC) <= r["created"] < today
        assert r["created"] < r["expires"]
        assert r["created"] <= r["updated"] <= today + timedelta(days=1)
        assert r["expires"] > today
    registrars = {r["registrar"] for r in records if r}
    assert {"Natro Bilişim", "İsimtescil", "GoDaddy.com, LLC"} <= registrars

    assert registration_for("nx-firma.com.tr") is None
    assert registration_for("unregistered-brand.com") is None
    assert registration_for("firma.test") is None


def test_emulators_run_in_background_threads():
    with (
        running_rdap_emulator(today=TODAY) as rdap_server,
        running_whois_emulator(today=TODAY) as whois_server,
    ):
        config = RdapConfig(
            rdap_overrides=rdap_server.rdap_overrides(),
            whois_servers=whois_server.whois_servers(),
            per_server_interval=0.0,
        )
        # Faults are switched from this thread while the servers run in theirs.
        rdap_server.faults.set(Fault("error", status=503), domain="bakim.com")

        async def scan() -> dict[str, RdapStatus]:
            return {d: i.status async for d, i in fetch_many(["a.com", "b.com.tr", "bakim.com"], config)}

        assert asyncio.run(scan()) == {
            "a.com": RdapStatus.OK,
            "b.com.tr": RdapStatus.OK,
            "bakim.com": RdapStatus.ERROR,
        }
