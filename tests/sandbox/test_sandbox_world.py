"""The synthetic world: determinism, population mix, and that every record really resolves."""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections import Counter, defaultdict
from collections.abc import Callable

import dns.asyncquery
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

from hunter.sandbox import provider_zones as pz
from hunter.sandbox.dns_server import DnsServer, running_dns_server
from hunter.sandbox.world import (
    EXPECTED,
    PROFILE_WEIGHTS,
    PROFILES,
    World,
    build_world,
    profile_for,
    synthetic_domains,
)
from hunter.sandbox.zones import Fault, ZoneStore, normalize_name

Dig = Callable[..., dns.message.Message]


def resolve(store: ZoneStore, name: str, rdtype: str) -> list[str]:
    """Final-name rdata after the server's CNAME chasing (what a stub would end up with)."""
    result = store.lookup(name, rdtype)
    wanted = dns.rdatatype.from_text(rdtype)
    return [rd.to_text() for rr in result.answer if rr.rdtype == wanted for rd in rr]


# ------------------------------------------------------------------ domains and profiles
def test_synthetic_domains_are_unique_valid_and_deterministic() -> None:
    domains = synthetic_domains(3000, seed=1)
    assert len(domains) == len(set(domains)) == 3000
    assert domains == synthetic_domains(3000, seed=1)
    assert domains != synthetic_domains(3000, seed=2)
    assert synthetic_domains(50, seed=1) == domains[:50]
    assert all(normalize_name(d) == d for d in domains)
    tlds = Counter(d.split(".", 1)[1] for d in domains)
    assert tlds["com.tr"] > 0.4 * len(domains)
    assert tlds["com"] > 0.2 * len(domains)
    assert {"net", "org", "tr", "gen.tr"} <= set(tlds)
    idn = [d for d in domains if d.startswith("xn--")]
    assert 0.005 * len(domains) < len(idn) < 0.05 * len(domains)
    assert not set(domains) & set(pz.PROVIDER_ZONES)


def test_profile_assignment_is_deterministic_and_weighted() -> None:
    domains = synthetic_domains(2000, seed=3)
    assert [profile_for(d, 3) for d in domains] == [profile_for(d, 3) for d in domains]
    assert profile_for("Firma.COM.TR.", 0) == profile_for("firma.com.tr", 0)
    counts = Counter(profile_for(d, 3) for d in domains)
    total = sum(PROFILE_WEIGHTS.values())
    for profile, weight in PROFILE_WEIGHTS.items():
        expected = len(domains) * weight / total
        # Hash-based assignment behaves like sampling: allow four standard deviations.
        assert abs(counts[profile] - expected) <= 4 * expected**0.5 + 3, profile
    assert counts["servfail"] == counts["timeout"] == 0  # override-only profiles


def test_population_mix_on_2000_domains(world_2000: World) -> None:
    n = len(world_2000.companies)
    platforms = Counter(c.expected_platform for c in world_2000.companies)
    share = {k: v / n for k, v in platforms.items()}
    assert 0.22 <= share["m365"] <= 0.32
    assert 0.08 <= share["google"] <= 0.14
    assert 0.28 <= share["hosting"] <= 0.42
    assert 0.07 <= share["self_hosted"] <= 0.16
    assert 0.005 <= share["yandex"] <= 0.05
    assert 0.004 <= share["zoho"] <= 0.04
    assert 0.02 <= share["none"] + share["unresolved"] <= 0.10
    gateways = sum(1 for c in world_2000.companies if c.expected_gateway)
    assert 0.03 <= gateways / n <= 0.08
    half = sum(c.half_migrated for c in world_2000.companies)
    assert 0.02 <= half / n <= 0.07
    assert set(platforms) <= {
        "m365", "google", "zoho", "yandex", "amazon", "icloud", "other_cloud",
        "hosting", "self_hosted", "none", "unresolved", "unknown",
    }  # fmt: skip


def test_same_seed_same_world_and_records_do_not_depend_on_neighbours() -> None:
    domains = synthetic_domains(300, seed=11)
    first = build_world(domains, seed=11)
    second = build_world(list(domains), seed=11)
    assert first.zone_text() == second.zone_text()
    assert first.companies == second.companies
    alone = build_world(domains[100:101], seed=11)
    assert alone.records[domains[100]] == first.records[domains[100]]
    other_seed = build_world(domains, seed=12)
    assert other_seed.zone_text() != first.zone_text()
    store_a, store_b = ZoneStore(), ZoneStore()
    first.populate(store_a)
    second.populate(store_b)
    assert store_a.to_text() == store_b.to_text()


def test_profile_overrides_and_unknown_profiles() -> None:
    world = build_world(["a-firma.com.tr", "b-firma.com"], profiles={"A-FIRMA.com.tr": "zoho"})
    assert world.company("a-firma.com.tr").profile == "zoho"
    assert world.company("a-firma.com.tr").expected_platform == "zoho"
    with pytest.raises(ValueError, match="unknown profile"):
        build_world(["x.com.tr"], profiles={"x.com.tr": "exchange_2003"})


# ------------------------------------------------------------------ a world with every profile
@pytest.fixture(scope="module")
def every_profile_world() -> World:
    """Each profile on a few domains, so every kind of record is exercised."""
    domains = synthetic_domains(len(PROFILES) * 4, seed=5)
    profiles = {d: PROFILES[i % len(PROFILES)] for i, d in enumerate(domains)}
    return build_world(domains, seed=5, profiles=profiles)


@pytest.fixture(scope="module")
def every_profile_store(every_profile_world: World) -> ZoneStore:
    store = ZoneStore()
    every_profile_world.populate(store)
    return store


@pytest.fixture(scope="module")
def every_profile_server(every_profile_store: ZoneStore):  # type: ignore[no-untyped-def]
    with running_dns_server(every_profile_store) as server:
        yield server


async def test_every_record_the_world_writes_comes_back_over_the_wire(
    every_profile_world: World, every_profile_server: DnsServer
) -> None:
    expected: dict[tuple[str, str], set[str]] = defaultdict(set)
    for company in every_profile_world.companies:
        if company.profile in ("servfail", "timeout"):
            continue  # scripted to fail; checked separately
        for record in every_profile_world.records[company.domain]:
            rdata = dns.rdata.from_text(
                dns.rdataclass.IN,
                dns.rdatatype.from_text(record.rdtype),
                record.value,
                origin=dns.name.root,
                relativize=False,
            )
            expected[(record.name, record.rdtype)].add(rdata.to_text())
    seen_types = {rdtype for _, rdtype in expected}
    assert {"A", "AAAA", "MX", "TXT", "CNAME", "NS", "SRV"} <= seen_types

    limit = asyncio.Semaphore(64)
    host, port = every_profile_server.host, every_profile_server.port

    async def ask(name: str, rdtype: str) -> tuple[tuple[str, str], set[str]]:
        query = dns.message.make_query(name, rdtype, use_edns=0, payload=4096)
        async with limit:
            response = await dns.asyncquery.udp(query, host, timeout=3, port=port)
            if response.flags & dns.flags.TC:
                response = await dns.asyncquery.tcp(query, host, timeout=3, port=port)
        assert response.rcode() == dns.rcode.NOERROR, (name, rdtype)
        owner = dns.name.from_text(name)
        got = {rd.to_text() for rr in response.answer if rr.name == owner for rd in rr}
        return (name, rdtype), got

    results = await asyncio.gather(*(ask(name, rdtype) for name, rdtype in expected))
    mismatches = {key: (got, expected[key]) for key, got in results if got != expected[key]}
    assert not mismatches


def test_every_mx_host_resolves(world_2000: World, world_store: ZoneStore) -> None:
    dangling = []
    for company in world_2000.companies:
        if company.profile in ("nxdomain", "servfail", "timeout"):
            continue
        hosts = [rd.split()[1] for rd in resolve(world_store, company.domain, "MX")]
        assert {h.rstrip(".") or "." for h in hosts} == set(company.mx_hosts), company.domain
        for host in hosts:
            if host == ".":
                continue  # null MX, intended
            if not resolve(world_store, host, "A") and not resolve(world_store, host, "AAAA"):
                dangling.append((company.domain, host))
    assert not dangling


def test_mx_hosts_resolve_over_the_wire(world_2000: World, world_dig: Dig) -> None:
    for company in world_2000.companies[:150]:
        response = world_dig(company.domain, "MX")
        if company.profile == "nxdomain":
            assert response.rcode() == dns.rcode.NXDOMAIN
            continue
        assert response.rcode() == dns.rcode.NOERROR
        for rr in response.answer:
            for rd in rr:
                if rd.exchange == dns.name.root:
                    continue
                answer = world_dig(rd.exchange.to_text(), "A")
                assert answer.answer, (company.domain, rd.exchange)


def test_every_address_belongs_to_a_synthetic_network(world_store: ZoneStore) -> None:
    for name, rdtype, _ttl, value in world_store.records():
        if rdtype in ("A", "AAAA"):
            assert pz.network_for_ip(value) is not None, (name, value)


def test_network_tables_do_not_overlap() -> None:
    nets = [
        (ipaddress.ip_network(cidr), key)
        for table in (pz.PROVIDER_NETWORKS, pz.HOSTING_NETWORKS, pz.ISP_NETWORKS)
        for key, cidrs in table.items()
        for cidr in cidrs
    ]
    assert len({key for _, key in nets}) == len(pz.NETWORKS)
    for i, (a, key_a) in enumerate(nets):
        for b, key_b in nets[i + 1 :]:
            if a.version == b.version:
                assert not a.overlaps(b), (key_a, key_b)
    assert {"natro", "turhost", "isimtescil"} <= set(pz.HOSTING_NETWORKS)
    assert {"microsoft", "google", "proofpoint", "cloudflare"} <= set(pz.PROVIDER_NETWORKS)
    assert all(64512 <= n.asn <= 65534 for n in pz.NETWORKS.values())  # private-use ASNs


# ------------------------------------------------------------------ realism of the evidence
def _spf_lookups(store: ZoneStore, name: str, depth: int = 0) -> int:
    """RFC 7208 DNS-mechanism count for a name's SPF record (includes followed)."""
    records = [t for t in resolve(store, name, "TXT") if t.startswith('"v=spf1')]
    if not records or depth > 10:
        return 0
    text = "".join(re.findall(r'"([^"]*)"', records[0]))
    count = 0
    for term in text.split()[1:]:
        mech = term.lstrip("+-~?")
        if mech.startswith(("include:", "redirect=")):
            count += 1 + _spf_lookups(store, mech.split(":", 1)[-1].split("=", 1)[-1], depth + 1)
        elif mech.startswith(("a", "mx", "exists:", "ptr")) and not mech.startswith("all"):
            count += 1
    return count


def test_spf_styles_match_the_records(world_2000: World, world_store: ZoneStore) -> None:
    for company in world_2000.companies:
        if company.profile in ("nxdomain", "servfail", "timeout"):
            continue
        spf = [t for t in resolve(world_store, company.domain, "TXT") if t.startswith('"v=spf1')]
        style = company.spf_style
        if style is None:
            assert not spf, company.domain
            continue
        assert len(spf) == (2 if style == "double" else 1), company.domain
        lookups = _spf_lookups(world_store, company.domain)
        if style == "over_limit":
            assert lookups > 10, company.domain
        elif style in ("strict", "soft", "neutral", "pass_all", "redirect"):
            assert lookups <= 10, company.domain
        if style == "void":
            includes = re.findall(r"include:(\S+)", spf[0])
            assert any(world_store.lookup(i, "TXT").rcode == dns.rcode.NXDOMAIN for i in includes)


def test_dmarc_styles_match_the_records(world_2000: World, world_store: ZoneStore) -> None:
    for company in world_2000.companies:
        if company.profile in ("nxdomain", "servfail", "timeout"):
            continue
        dmarc = resolve(world_store, f"_dmarc.{company.domain}", "TXT")
        if company.dmarc_style is None:
            assert not dmarc
            continue
        assert len(dmarc) == 1
        if company.dmarc_style == "upper_reject":
            assert "P=Reject" in dmarc[0]
        if company.dmarc_style == "reject_sp_none":
            assert "p=reject; sp=none" in dmarc[0]


def test_m365_tenants_gateways_and_half_migrated(world_2000: World, world_store: ZoneStore) -> None:
    tenants = 0
    for company in world_2000.companies:
        if company.tenant_name:
            tenants += 1
            target = resolve(world_store, f"selector1._domainkey.{company.domain}", "CNAME")
            assert target[0].endswith(f".{company.tenant_name}.")
        if company.expected_platform == "m365" and not company.expected_gateway:
            assert company.mx_hosts[0].endswith((".mail.protection.outlook.com", ".mx.microsoft"))
        if company.expected_gateway:
            assert company.mx_hosts
            assert not company.mx_hosts[0].endswith(company.domain)
        if company.half_migrated:
            apex_txt = " ".join(resolve(world_store, company.domain, "TXT"))
            autodiscover = resolve(world_store, f"autodiscover.{company.domain}", "CNAME")
            other_traces = [
                resolve(world_store, f"{label}.{company.domain}", "CNAME")
                for label in ("lyncdiscover", "enterpriseenrollment")
            ]
            assert "MS=ms" in apex_txt or autodiscover or company.tenant_name or any(other_traces)
            assert company.expected_platform in ("hosting", "self_hosted", "google")
        assert company.has_dkim == bool(company.dkim_selectors)
        for selector in company.dkim_selectors:
            key = resolve(world_store, f"{selector}._domainkey.{company.domain}", "TXT")
            assert key, (company.domain, selector)
            assert key[0].startswith('"v=DKIM1; k=rsa; p=')
        if company.profile in ("google_new", "google_legacy") and company.has_dkim:
            assert {"google", "k1", "s1", "mandrill"} & set(company.dkim_selectors)
    assert tenants > 100


def test_m365_dkim_cname_resolves_to_the_tenant_key(world_2000: World, world_dig: Dig) -> None:
    company = next(c for c in world_2000.companies if c.tenant_name and c.has_dkim)
    # A 2048-bit key plus the CNAME does not fit 512 bytes: ask with EDNS, as resolvers do.
    response = world_dig(f"selector1._domainkey.{company.domain}", "TXT", payload=4096)
    types = [rr.rdtype for rr in response.answer]
    assert types == [dns.rdatatype.CNAME, dns.rdatatype.TXT]
    assert b"".join(response.answer[1][0].strings).startswith(b"v=DKIM1; k=rsa; p=")


def test_negative_answers_in_the_world(world_2000: World, world_dig: Dig) -> None:
    nx_company = next(c for c in world_2000.companies if c.profile == "nxdomain")
    for rdtype in ("MX", "A", "TXT"):
        assert world_dig(nx_company.domain, rdtype).rcode() == dns.rcode.NXDOMAIN
    assert world_dig(f"_dmarc.{nx_company.domain}", "TXT").rcode() == dns.rcode.NXDOMAIN
    assert world_dig("bu-alan-adi-yok.com.tr", "MX").rcode() == dns.rcode.NXDOMAIN
    assert world_dig("unknown-name.mail.protection.outlook.com", "A").rcode() == dns.rcode.NXDOMAIN
    assert world_dig("example.de", "MX").rcode() == dns.rcode.REFUSED  # no zone for .de
    no_mx = next(c for c in world_2000.companies if c.profile == "no_mx")
    response = world_dig(no_mx.domain, "MX")
    assert response.rcode() == dns.rcode.NOERROR
    assert not response.answer
    null_mx = next(c for c in world_2000.companies if c.profile == "null_mx")
    assert [rd.to_text() for rd in world_dig(null_mx.domain, "MX").answer[0]] == ["0 ."]
    parked = next(c for c in world_2000.companies if c.profile == "parked")
    ns = {rd.to_text() for rd in world_dig(parked.domain, "NS").answer[0]}
    assert any(("parkingcrew" in n or "sedoparking" in n or "bodis" in n) for n in ns)


def test_broken_dns_profiles_script_faults() -> None:
    world = build_world(
        ["kirik.com.tr", "sessiz.com.tr"], profiles={"kirik.com.tr": "servfail", "sessiz.com.tr": "timeout"}
    )
    assert world.company("kirik.com.tr").expected_incomplete
    store = ZoneStore()
    world.populate(store)
    assert store.lookup("_dmarc.kirik.com.tr", "TXT").rcode == dns.rcode.SERVFAIL
    assert store.lookup("sessiz.com.tr", "MX").fault is Fault.DROP


def test_expected_table_covers_every_profile() -> None:
    assert set(EXPECTED) == set(PROFILES)
    for platform, gateway in EXPECTED.values():
        assert platform
        assert gateway is None or gateway in {
            "proofpoint", "mimecast", "barracuda", "cisco", "trendmicro",
            "symantec", "hornetsecurity", "sophos",
        }  # fmt: skip
