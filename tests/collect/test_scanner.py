"""scan_domain / scan_many against the sandbox DNS server: the plan, dependencies, SPF tree,
DMARC fallback, failures recorded, streaming with flat memory."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import textwrap
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hunter.collect.dns import DnsClient, DnsConfig
from hunter.collect.scanner import scan_domain, scan_many
from hunter.core.evidence import Evidence, LookupPurpose, LookupStatus
from hunter.core.lookup_plan import (
    DKIM_GENERIC_SELECTORS,
    DKIM_ROUND1_SELECTORS,
    DKIM_SELECTORS,
    M365_TRACE_LABELS,
    phase1_lookups,
)
from hunter.sandbox.dns_server import DnsServer
from hunter.sandbox.provider_zones import populate_providers
from hunter.sandbox.world import build_world
from hunter.sandbox.zones import Fault, ZoneStore

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
P = LookupPurpose
S = LookupStatus

M365_ZONE = """
firma.com.tr. MX 0 firma-com-tr.mail.protection.outlook.com.
firma.com.tr. TXT "v=spf1 include:spf.protection.outlook.com -all"
firma.com.tr. TXT "MS=ms12345678"
firma.com.tr. A 185.122.3.10
firma.com.tr. NS ns1.natrohost.com.
_dmarc.firma.com.tr. TXT "v=DMARC1; p=quarantine; rua=mailto:d@firma.com.tr"
autodiscover.firma.com.tr. CNAME autodiscover.outlook.com.
lyncdiscover.firma.com.tr. CNAME webdir.online.lync.com.
sip.firma.com.tr. CNAME sipdir.online.lync.com.
enterpriseenrollment.firma.com.tr. CNAME enterpriseenrollment.manage.microsoft.com.
_sipfederationtls._tcp.firma.com.tr. SRV 100 1 5061 sipfed.online.lync.com.
selector1._domainkey.firma.com.tr. CNAME selector1-firma-com-tr._domainkey.firmatr.onmicrosoft.com.
selector2._domainkey.firma.com.tr. CNAME selector2-firma-com-tr._domainkey.firmatr.onmicrosoft.com.
selector1-firma-com-tr._domainkey.firmatr.onmicrosoft.com. TXT "v=DKIM1; k=rsa; p=MIIBIjAN1"
selector2-firma-com-tr._domainkey.firmatr.onmicrosoft.com. TXT "v=DKIM1; k=rsa; p=MIIBIjAN2"
firma-com-tr.mail.protection.outlook.com. A 52.101.68.1
firma-com-tr.mail.protection.outlook.com. A 52.101.68.2
"""


def _statuses(evidence: Evidence, purpose: LookupPurpose) -> dict[str, LookupStatus]:
    return {lk.selector or f"{lk.name}/{lk.rdtype}": lk.status for lk in evidence.find(purpose)}


@pytest.fixture
def providers(store: ZoneStore) -> ZoneStore:
    populate_providers(store)
    return store


async def test_m365_domain(providers: ZoneStore, client: DnsClient) -> None:
    providers.add_text(M365_ZONE)
    evidence = await scan_domain(client, "Firma.com.tr", NOW)

    assert evidence.domain == "firma.com.tr"
    assert evidence.collected_at == NOW
    assert evidence.duration_ms > 0
    mx = evidence.first(P.MX)
    assert mx is not None
    assert mx.status is S.OK
    assert mx.answers == ["0 firma-com-tr.mail.protection.outlook.com."]
    hosts = {(lk.name, lk.rdtype): lk for lk in evidence.find(P.MX_HOST_ADDRESS)}
    assert set(hosts) == {
        ("firma-com-tr.mail.protection.outlook.com", "A"),
        ("firma-com-tr.mail.protection.outlook.com", "AAAA"),
    }
    assert sorted(hosts["firma-com-tr.mail.protection.outlook.com", "A"].answers) == [
        "52.101.68.1",
        "52.101.68.2",
    ]
    assert hosts["firma-com-tr.mail.protection.outlook.com", "AAAA"].status is S.NODATA

    apex = evidence.first(P.APEX_TXT)
    assert apex is not None
    assert "MS=ms12345678" in apex.answers
    assert evidence.first(P.APEX_ADDRESS).answers == ["185.122.3.10"]  # type: ignore[union-attr]
    assert evidence.first(P.NS).answers == ["ns1.natrohost.com."]  # type: ignore[union-attr]
    assert evidence.first(P.DMARC).status is S.OK  # type: ignore[union-attr]
    assert evidence.dmarc_domain == "firma.com.tr"
    assert evidence.find(P.DMARC_ORG) == []
    for purpose in (P.MTA_STS, P.TLS_RPT, P.BIMI):
        assert evidence.first(purpose).status is S.NXDOMAIN  # type: ignore[union-attr]

    traces = {lk.selector: lk for lk in evidence.find(P.M365_TRACE)}
    assert set(traces) == {*M365_TRACE_LABELS, "sipfederationtls"}
    assert traces["autodiscover"].cnames[0] == "autodiscover.outlook.com"
    assert traces["lyncdiscover"].cnames == ["webdir.online.lync.com"]
    assert traces["enterpriseenrollment"].cnames[0] == "enterpriseenrollment.manage.microsoft.com"
    assert traces["enterpriseregistration"].status is S.NXDOMAIN
    assert traces["sipfederationtls"].answers == ["100 1 5061 sipfed.online.lync.com."]
    assert traces["sipfederationtls"].rdtype == "SRV"

    dkim = {lk.selector: lk for lk in evidence.find(P.DKIM)}
    # Round 1 everywhere, selector2 added because MX, SPF, MS= and selector1 all say M365;
    # the generic set is not probed when a mailbox platform is recognised.
    assert set(dkim) == {*DKIM_ROUND1_SELECTORS, "selector2"}
    for selector in ("selector1", "selector2"):
        assert dkim[selector].status is S.OK
        assert dkim[selector].cnames == [f"{selector}-firma-com-tr._domainkey.firmatr.onmicrosoft.com"]
        assert dkim[selector].answers[0].startswith("v=DKIM1")
        assert dkim[selector].name == f"{selector}._domainkey.firma.com.tr"
    assert dkim["google"].status is S.NXDOMAIN

    spf = evidence.find(P.SPF_INCLUDE)
    assert [lk.name for lk in spf] == ["spf.protection.outlook.com", "spfd.protection.outlook.com"]
    assert all(lk.status is S.OK for lk in spf)
    assert evidence.spf_lookup_count == 2
    assert evidence.spf_void_lookups == 0
    assert evidence.spf_errors == []
    assert all(lk.status.is_answer for lk in evidence.lookups), [
        lk for lk in evidence.lookups if lk.status.is_failure
    ]


async def test_every_planned_lookup_is_recorded(store: ZoneStore, client: DnsClient) -> None:
    # A domain that does not exist at all: every lookup still ends with a status.
    store.add_zone("com.tr")
    evidence = await scan_domain(client, "yok-boyle-bir-firma.com.tr", NOW)
    planned = {(p.name, p.rdtype, p.purpose) for p in phase1_lookups("yok-boyle-bir-firma.com.tr")}
    recorded = {(lk.name, lk.rdtype, lk.purpose) for lk in evidence.lookups}
    assert planned <= recorded
    assert {lk.status for lk in evidence.lookups} == {S.NXDOMAIN}
    # NXDOMAIN for MX means no mail: no second DKIM round, no MX hosts, no SPF.
    assert len(evidence.lookups) == len(planned)


async def test_mx_timeout_keeps_everything_else(
    store: ZoneStore, dns_server: DnsServer, make_config: Callable[..., DnsConfig]
) -> None:
    store.add_text(
        """
        yavas.com.tr. MX 10 mail.yavas.com.tr.
        mail.yavas.com.tr. A 185.122.3.20
        yavas.com.tr. TXT "v=spf1 mx -all"
        _dmarc.yavas.com.tr. TXT "v=DMARC1; p=none"
        default._domainkey.yavas.com.tr. TXT "v=DKIM1; p=MIGf"
        """
    )
    store.set_fault("yavas.com.tr", Fault.DROP, rdtype="MX")
    async with DnsClient(make_config(dns_server, timeout=0.15, attempts=2)) as client:
        evidence = await scan_domain(client, "yavas.com.tr", NOW)
    mx = evidence.first(P.MX)
    assert mx is not None
    assert mx.status is S.TIMEOUT
    assert mx.attempts == 2
    assert mx.error
    planned = {(p.name, p.rdtype, p.purpose) for p in phase1_lookups("yavas.com.tr")}
    assert planned <= {(lk.name, lk.rdtype, lk.purpose) for lk in evidence.lookups}
    assert evidence.first(P.APEX_TXT).answers == ["v=spf1 mx -all"]  # type: ignore[union-attr]
    assert evidence.first(P.DMARC).status is S.OK  # type: ignore[union-attr]
    assert evidence.find(P.MX_HOST_ADDRESS) == []  # nothing known to look up
    dkim = _statuses(evidence, P.DKIM)
    assert dkim["default"] is S.OK
    # MX unknown and no cloud hint: the generic selectors are probed too.
    assert set(DKIM_GENERIC_SELECTORS) <= set(dkim)
    assert evidence.spf_lookup_count == 1
    assert [lk for lk in evidence.lookups if lk.status is S.TIMEOUT] == [mx]


async def test_dmarc_fallback_to_organisational_domain(store: ZoneStore, client: DnsClient) -> None:
    store.add_text(
        """
        mail.firma.com.tr. MX 10 mx.firma.com.tr.
        _dmarc.firma.com.tr. TXT "v=DMARC1; p=reject"
        alt.firma.com.tr. A 192.0.2.1
        _dmarc.alt.firma.com.tr. TXT "google-site-verification=abc"
        """
    )
    evidence = await scan_domain(client, "mail.firma.com.tr", NOW)
    assert evidence.first(P.DMARC).status is S.NXDOMAIN  # type: ignore[union-attr]
    org = evidence.first(P.DMARC_ORG)
    assert org is not None
    assert org.name == "_dmarc.firma.com.tr"
    assert org.answers == ["v=DMARC1; p=reject"]
    assert evidence.dmarc_domain == "firma.com.tr"

    # TXT at _dmarc that is not DMARC counts as no record: fall back as well.
    alt = await scan_domain(client, "alt.firma.com.tr", NOW)
    assert alt.first(P.DMARC).status is S.OK  # type: ignore[union-attr]
    assert alt.first(P.DMARC_ORG) is not None
    assert alt.dmarc_domain == "firma.com.tr"

    # The organisational domain itself: no fallback lookup, no DMARC.
    store.add("firma.com.tr", "A", "192.0.2.2")
    store.remove("_dmarc.firma.com.tr")
    own = await scan_domain(client, "firma.com.tr", NOW)
    assert own.find(P.DMARC_ORG) == []
    assert own.dmarc_domain is None


async def test_no_dmarc_fallback_when_lookup_failed(store: ZoneStore, client: DnsClient) -> None:
    store.add("mail.firma.com.tr", "A", "192.0.2.1")
    store.add("_dmarc.firma.com.tr", "TXT", "v=DMARC1; p=reject")
    store.set_fault("_dmarc.mail.firma.com.tr", Fault.SERVFAIL)
    evidence = await scan_domain(client, "mail.firma.com.tr", NOW)
    assert evidence.first(P.DMARC).status is S.SERVFAIL  # type: ignore[union-attr]
    assert evidence.find(P.DMARC_ORG) == []  # unknown is not absent
    assert evidence.dmarc_domain is None


async def test_spf_tree_over_the_limit(store: ZoneStore, client: DnsClient) -> None:
    # apex: 2 includes + mx = 3; a: include b + a = 2 (5); b: include c + 3 a = 4 (9);
    # c: include d + mx + exists = 3 (12 > 10): d is never fetched.
    store.add_text(
        """
        cok.com.tr. MX 10 mail.cok.com.tr.
        cok.com.tr. TXT "v=spf1 mx include:a.spf.test include:e.spf.test -all"
        a.spf.test. TXT "v=spf1 a include:b.spf.test -all"
        e.spf.test. TXT "v=spf1 ip4:192.0.2.0/24 -all"
        b.spf.test. TXT "v=spf1 a:x.test a:y.test a:z.test include:c.spf.test -all"
        c.spf.test. TXT "v=spf1 mx exists:%{i}.e.test include:d.spf.test -all"
        d.spf.test. TXT "v=spf1 -all"
        """
    )
    evidence = await scan_domain(client, "cok.com.tr", NOW)
    fetched = [lk.name for lk in evidence.find(P.SPF_INCLUDE)]
    assert fetched == ["a.spf.test", "e.spf.test", "b.spf.test", "c.spf.test"]
    assert evidence.spf_lookup_count == 12
    assert evidence.spf_void_lookups == 0
    assert len(evidence.spf_errors) == 1
    assert "more than 10 DNS lookups (12 counted)" in evidence.spf_errors[0]


async def test_spf_loop_and_void_lookups(store: ZoneStore, client: DnsClient) -> None:
    store.add_text(
        """
        dongu.com.tr. MX 10 mail.dongu.com.tr.
        dongu.com.tr. TXT "v=spf1 include:x.loop.test include:missing.void.test include:empty.void.test ~all"
        x.loop.test. TXT "v=spf1 include:y.loop.test -all"
        y.loop.test. TXT "v=spf1 include:x.loop.test include:dongu.com.tr -all"
        empty.void.test. A 192.0.2.1
        noise.void.test. TXT "hello"
        """
    )
    evidence = await scan_domain(client, "dongu.com.tr", NOW)
    spf = {lk.name: lk.status for lk in evidence.find(P.SPF_INCLUDE)}
    assert spf == {
        "x.loop.test": S.OK,
        "missing.void.test": S.NXDOMAIN,
        "empty.void.test": S.NODATA,
        "y.loop.test": S.OK,
    }
    assert evidence.spf_void_lookups == 2
    # apex 3 + x 1 + y 2 = 6; the loops are recorded, not followed.
    assert evidence.spf_lookup_count == 6
    assert sorted(evidence.spf_errors) == [
        "include loop: dongu.com.tr -> x.loop.test -> y.loop.test -> dongu.com.tr",
        "include loop: dongu.com.tr -> x.loop.test -> y.loop.test -> x.loop.test",
    ]


async def test_spf_include_without_record_and_redirect(store: ZoneStore, client: DnsClient) -> None:
    store.add_text(
        """
        yonlen.com.tr. MX 10 mail.yonlen.com.tr.
        yonlen.com.tr. TXT "v=spf1 include:noise.spf.test redirect=_spf.yonlen.com.tr"
        noise.spf.test. TXT "not spf"
        _spf.yonlen.com.tr. TXT "v=spf1 ip4:192.0.2.0/24 include:twice.spf.test include:twice.spf.test -all"
        twice.spf.test. TXT "v=spf1 a -all"
        """
    )
    evidence = await scan_domain(client, "yonlen.com.tr", NOW)
    fetched = [lk.name for lk in evidence.find(P.SPF_INCLUDE)]
    assert fetched == ["noise.spf.test", "_spf.yonlen.com.tr", "twice.spf.test"]
    # apex: include + redirect = 2; _spf: two includes = 2; twice.spf.test counted once per
    # distinct target by lookup_targets (fetched once): a = 1.
    assert evidence.spf_lookup_count == 5
    assert evidence.spf_errors == ["noise.spf.test (from yonlen.com.tr) has no SPF record"]


async def test_platform_hints_choose_second_round(store: ZoneStore, client: DnsClient) -> None:
    store.add_text(
        """
        zohocu.com.tr. MX 10 mx.zoho.eu.
        zohocu.com.tr. TXT "v=spf1 include:zoho.eu include:sendgrid.net ~all"
        zmail._domainkey.zohocu.com.tr. TXT "v=DKIM1; p=MIGf"
        yok.com.tr. A 192.0.2.1
        """
    )
    evidence = await scan_domain(client, "zohocu.com.tr", NOW)
    dkim = _statuses(evidence, P.DKIM)
    assert set(dkim) == {*DKIM_ROUND1_SELECTORS, "zmail", "zoho", "s1", "s2"}
    assert dkim["zmail"] is S.OK
    # No MX at all: no second round.
    bare = await scan_domain(client, "yok.com.tr", NOW)
    assert set(_statuses(bare, P.DKIM)) == set(DKIM_ROUND1_SELECTORS)


async def test_world_sample(store: ZoneStore, client: DnsClient) -> None:
    """A synthetic world with every profile: nothing lost, and every DKIM key published under a
    selector we probe is found."""
    from hunter.sandbox.world import PROFILE_WEIGHTS

    domains = [f"ornek{i}.com.tr" for i in range(len(PROFILE_WEIGHTS))]
    world = build_world(domains, profiles=dict(zip(domains, PROFILE_WEIGHTS, strict=True)))
    world.populate(store)
    results = [ev async for ev in scan_many(domains, client=client, domain_concurrency=8)]
    assert sorted(ev.domain for ev in results) == sorted(domains)
    for evidence in results:
        company = world.company(evidence.domain)
        planned = {(p.name, p.rdtype) for p in phase1_lookups(evidence.domain)}
        assert planned <= {(lk.name, lk.rdtype) for lk in evidence.lookups}, company.profile
        published = {
            r.name.split("._domainkey.")[0]
            for r in world.records[evidence.domain]
            if "._domainkey." in r.name and r.name.split("._domainkey.")[0] in DKIM_SELECTORS
        }
        found = {lk.selector for lk in evidence.find(P.DKIM) if lk.status is S.OK}
        # A published selector whose target key is missing (M365 DKIM not enabled) is not "found".
        if company.has_dkim:
            assert published <= {lk.selector for lk in evidence.find(P.DKIM)}, company.profile
            assert found or not published, company.profile
        if company.expected_incomplete:
            assert any(lk.status.is_failure for lk in evidence.lookups), company.profile
        else:
            mx = evidence.first(P.MX)
            assert mx is not None
            assert mx.status.is_answer, company.profile


# ------------------------------------------------------------------------------ streaming


async def test_scan_many_streams_lazily(store: ZoneStore, client: DnsClient) -> None:
    store.add_zone("akis.test")
    pulled = 0

    def domains() -> Iterator[str]:
        nonlocal pulled
        for i in range(40):
            pulled += 1
            yield f"d{i}.akis.test"

    stream = scan_many(domains(), client=client, domain_concurrency=4)
    first = await anext(stream)
    assert first.domain.endswith(".akis.test")
    # Only the in-flight window (plus the one that refilled it) has been read.
    assert pulled <= 5
    rest = [ev async for ev in stream]
    assert len(rest) == 39
    assert pulled == 40


async def test_scan_many_async_source_and_own_client(
    store: ZoneStore, dns_server: DnsServer, make_config: Callable[..., DnsConfig]
) -> None:
    store.add_zone("akis.test")

    async def domains() -> AsyncIterator[str]:
        for i in range(10):
            await asyncio.sleep(0)
            yield f"a{i}.akis.test"

    seen = [
        ev.domain
        async for ev in scan_many(domains(), make_config(dns_server), domain_concurrency=3, clock=lambda: NOW)
    ]
    assert sorted(seen) == sorted(f"a{i}.akis.test" for i in range(10))


async def test_scan_many_stops_cleanly_when_consumer_leaves(store: ZoneStore, client: DnsClient) -> None:
    store.add_zone("akis.test")
    stream = scan_many((f"s{i}.akis.test" for i in range(1000)), client=client, domain_concurrency=16)
    async for _evidence in stream:
        break
    await stream.aclose()
    assert not [t for t in asyncio.all_tasks() if "scan_domain" in repr(t.get_coro())]


_MEMORY_SERVER = textwrap.dedent(
    """
    import asyncio
    from hunter.sandbox.zones import ZoneStore
    from hunter.sandbox.dns_server import serve_forever
    store = ZoneStore()
    store.add_zone("bellek.test")
    asyncio.run(serve_forever(store, ready=lambda server: print(server.port, flush=True)))
    """
)


@pytest.fixture
def memory_server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A sandbox server in its own process, so its answer cache stays out of tracemalloc."""
    script = tmp_path / "server.py"
    script.write_text(_MEMORY_SERVER)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield ("127.0.0.1", port)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_scan_many_memory_is_flat(memory_server: tuple[str, int]) -> None:
    """Peak memory of a 10× longer run must not grow with the number of domains.

    Sizes are small because tracemalloc makes the client three times slower and the Python
    sandbox server renders ~3,000 uncached answers/s: the synthetic names cycle over 64
    non-existent domains (every lookup NXDOMAIN, answered from the server's cache). Leaking
    even 100 bytes per domain, or materialising the input, would show; the benchmark
    (bench/scan_throughput.py) checks RSS at 10,000 and 100,000 real-world domains.
    """
    # A short timeout: the client keeps one small entry per query for ``timeout`` seconds,
    # memory that depends on the query rate, not on the number of domains.
    config = DnsConfig(nameservers=[memory_server], timeout=0.5)

    async def run(count: int) -> int:
        def domains() -> Iterator[str]:
            for i in range(count):
                yield f"m{i % 64}.bellek.test"

        gc.collect()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        seen = 0
        async with DnsClient(config) as client:
            async for evidence in scan_many(domains(), client=client, domain_concurrency=32):
                assert evidence.first(P.MX).status is S.NXDOMAIN  # type: ignore[union-attr]
                seen += 1
        assert seen == count
        return tracemalloc.get_traced_memory()[1] - base

    tracemalloc.start()
    try:
        await run(100)  # warm-up: imports, caches, code objects
        small = await run(200)
        large = await run(2_000)
    finally:
        tracemalloc.stop()
    assert large < 1.25 * small + 128 * 1024, (small, large)


# ------------------------------------------------------------------------- plan (pure)


def test_primary_mx_hosts() -> None:
    from hunter.core.lookup_plan import primary_mx_hosts

    assert primary_mx_hosts(["20 b.example.", "10 A.example.", "10 c.example.", "10 d.example."]) == [
        "a.example",
        "c.example",
    ]
    assert primary_mx_hosts(["0 ."]) == []  # null MX (RFC 7505)
    assert primary_mx_hosts(["junk", "5"]) == []
    assert primary_mx_hosts(["10 mx.example.", "10 mx.example."], limit=3) == ["mx.example"]


def test_platform_hints_match_at_label_boundaries() -> None:
    from hunter.core.lookup_plan import dkim_round2_selectors, platform_hints

    assert platform_hints(["aspmx.l.google.com"], [], []) == {"google"}
    assert platform_hints(["mx.notgoogle.com", "zoho.com.evil.example"], [], []) == set()
    assert platform_hints([], ["MS=ms123", "zoho-verification=zb1.zmverify.zoho.com"], []) == {"m365", "zoho"}
    assert platform_hints([], [], ["spf.protection.outlook.com", "servers.mcsv.net"]) == {"m365", "mailchimp"}
    # No mailbox platform recognised: generic selectors; no MX at all: nothing generic.
    assert dkim_round2_selectors(has_mx=True, hints=set()) == ["mail", "dkim", "x", "k1", "s1"]
    assert dkim_round2_selectors(has_mx=None, hints=set()) == ["mail", "dkim", "x", "k1", "s1"]
    assert dkim_round2_selectors(has_mx=False, hints=set()) == []
    assert dkim_round2_selectors(has_mx=False, hints={"sendgrid"}) == ["s1", "s2"]
    assert dkim_round2_selectors(has_mx=True, hints={"google"}, mx_hints={"google"}) == []
    assert dkim_round2_selectors(
        has_mx=True, hints={"google"}, mx_hints={"google"}, selector1_found=True
    ) == ["selector2"]
    # Half-migrated: MS= token and M365 SPF, mail still on hosting → M365 and generic selectors.
    assert dkim_round2_selectors(has_mx=True, hints={"m365"}, mx_hints=set()) == [
        "selector2",
        "mail",
        "dkim",
        "x",
        "k1",
        "s1",
    ]
