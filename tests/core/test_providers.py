"""Mail-platform / gateway / M365-tenant classification on Evidence built in code."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hunter.core.domains import host_matches_suffix
from hunter.core.evidence import Evidence, Lookup, LookupPurpose, LookupStatus
from hunter.core.providers import (
    GATEWAYS,
    PLATFORMS,
    Classification,
    HostIndex,
    classify,
    default_rules,
    load_rules,
    spf_include_tree,
)

OK = LookupStatus.OK
P = LookupPurpose


class EvidenceBuilder:
    """Evidence for one domain; critical lookups default to definite "nothing there" answers."""

    def __init__(self, domain: str = "firma.com.tr") -> None:
        self.domain = domain
        self.lookups: list[Lookup] = []
        self.spf_count = 0
        self.spf_void = 0

    def add(
        self,
        name: str,
        rdtype: str,
        purpose: LookupPurpose,
        answers: list[str] | None = None,
        *,
        status: LookupStatus | None = None,
        cnames: list[str] | None = None,
        selector: str | None = None,
    ) -> EvidenceBuilder:
        answers = answers or []
        if status is None:
            status = OK if answers else LookupStatus.NODATA
        self.lookups.append(
            Lookup(
                name=name,
                rdtype=rdtype,
                purpose=purpose,
                status=status,
                answers=answers,
                cnames=cnames or [],
                selector=selector,
            )
        )
        return self

    def mx(self, *records: str, status: LookupStatus | None = None) -> EvidenceBuilder:
        return self.add(self.domain, "MX", P.MX, list(records), status=status)

    def txt(self, *records: str, status: LookupStatus | None = None) -> EvidenceBuilder:
        return self.add(self.domain, "TXT", P.APEX_TXT, list(records), status=status)

    def dmarc(self, record: str | None = None, *, status: LookupStatus | None = None) -> EvidenceBuilder:
        if status is None:
            status = OK if record else LookupStatus.NXDOMAIN
        return self.add(f"_dmarc.{self.domain}", "TXT", P.DMARC, [record] if record else [], status=status)

    def spf_include(
        self, name: str, record: str | None, *, status: LookupStatus | None = None
    ) -> EvidenceBuilder:
        return self.add(name, "TXT", P.SPF_INCLUDE, [record] if record else [], status=status)

    def mx_address(self, host: str, *addresses: str, cnames: list[str] | None = None) -> EvidenceBuilder:
        return self.add(host, "A", P.MX_HOST_ADDRESS, list(addresses), cnames=cnames)

    def apex_address(self, *addresses: str) -> EvidenceBuilder:
        return self.add(self.domain, "A", P.APEX_ADDRESS, list(addresses))

    def ns(self, *hosts: str) -> EvidenceBuilder:
        return self.add(self.domain, "NS", P.NS, [f"{h}." for h in hosts])

    def trace(
        self,
        label: str,
        *cnames: str,
        answers: list[str] | None = None,
        status: LookupStatus | None = None,
    ) -> EvidenceBuilder:
        if label == "sipfederationtls":
            return self.add(
                f"_sipfederationtls._tcp.{self.domain}",
                "SRV",
                P.M365_TRACE,
                answers,
                status=status,
                selector=label,
            )
        if status is None and cnames and not answers:
            status = LookupStatus.NXDOMAIN  # the sandbox has no zone for the target
        return self.add(
            f"{label}.{self.domain}",
            "A",
            P.M365_TRACE,
            answers,
            status=status,
            cnames=list(cnames),
            selector=label,
        )

    def dkim(
        self,
        selector: str,
        record: str | None = None,
        *,
        cnames: list[str] | None = None,
        status: LookupStatus | None = None,
    ) -> EvidenceBuilder:
        if status is None:
            status = OK if record else LookupStatus.NXDOMAIN
        return self.add(
            f"{selector}._domainkey.{self.domain}",
            "TXT",
            P.DKIM,
            [record] if record else [],
            status=status,
            cnames=cnames,
            selector=selector,
        )

    def build(self) -> Evidence:
        purposes = {lk.purpose for lk in self.lookups}
        extra = []
        if P.MX not in purposes:
            extra.append(Lookup(name=self.domain, rdtype="MX", purpose=P.MX, status=LookupStatus.NODATA))
        if P.APEX_TXT not in purposes:
            extra.append(
                Lookup(name=self.domain, rdtype="TXT", purpose=P.APEX_TXT, status=LookupStatus.NODATA)
            )
        if P.DMARC not in purposes:
            extra.append(
                Lookup(
                    name=f"_dmarc.{self.domain}", rdtype="TXT", purpose=P.DMARC, status=LookupStatus.NXDOMAIN
                )
            )
        return Evidence(
            domain=self.domain,
            collected_at=datetime(2025, 1, 1, tzinfo=UTC),
            lookups=[*self.lookups, *extra],
            spf_lookup_count=self.spf_count,
            spf_void_lookups=self.spf_void,
        )

    def classify(self, **kwargs: object) -> Classification:
        return classify(self.build(), **kwargs)  # type: ignore[arg-type]


def ev(domain: str = "firma.com.tr") -> EvidenceBuilder:
    return EvidenceBuilder(domain)


M365_MX = "0 firma-com-tr.mail.protection.outlook.com."


# --- rules file --------------------------------------------------------------------------------


def test_packaged_rules_load_and_cover_every_gateway_class() -> None:
    rules = default_rules()
    assert rules.version
    assert default_rules() is rules  # cached
    gateways = {p.gateway for p in rules.providers if p.kind == "gateway"}
    assert gateways == set(GATEWAYS)
    platforms = {p.platform for p in rules.providers if p.platform}
    assert platforms == set(PLATFORMS) - {"self_hosted", "none", "unresolved", "unknown"}


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("providers: [{key: a, kind: mail, platform: nope}]", "platform"),
        ("providers: [{key: a, kind: gadget}]", "kind"),
        ("providers: [{key: a, kind: gateway, gateway: acme}]", "gateway"),
        ("providers: [{key: a, kind: dns, ns: [Foo.com]}]", "lower-case"),
        ("providers: [{key: a, kind: dns, ns: [.foo.com]}]", "empty labels"),
        ('providers: [{key: a, kind: dns, ns: ["f?o.com"]}]', "wildcard"),
        ("providers: [", "YAML"),
        ("providers: [{key: a, kind: dns, colour: red}]", "unknown field"),
        ("providers: [{key: a, kind: dns}, {key: a, kind: dns}]", "duplicate"),
        ("providers: []\nextras: 1", "unknown section"),
        ("m365_traces: {teams: [x.com]}", "unknown trace"),
    ],
)
def test_bad_rules_are_rejected(yaml_text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_rules(yaml_text)


def test_rules_can_be_passed_explicitly() -> None:
    rules = load_rules(
        "version: t1\n"
        "providers:\n"
        "  - {key: acme, kind: hosting, platform: hosting, domains: [acme-host.net]}\n"
    )
    result = ev().mx("10 mx.acme-host.net.").classify(rules=rules)
    assert (result.platform, result.provider, result.rules_version) == ("hosting", "acme", "t1")


# --- suffix matching ---------------------------------------------------------------------------

_label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=6)
_name = st.lists(_label, min_size=1, max_size=4).map(".".join)


@given(host=_name, patterns=st.lists(_name, min_size=1, max_size=5))
def test_host_index_agrees_with_host_matches_suffix(host: str, patterns: list[str]) -> None:
    index = HostIndex((p, p) for p in patterns)
    match = index.match(host)
    expected = [p for p in patterns if host_matches_suffix(host, p)]
    if not expected:
        assert match is None
    else:
        assert match is not None
        assert match[0] == max(expected, key=lambda p: p.count("."))


def test_host_index_wildcards_stay_inside_one_label() -> None:
    index = HostIndex([("awsdns-*.com", "route53"), ("inbound-smtp.*.amazonaws.com", "ses")])
    assert index.match("ns-12.awsdns-01.com") == ("awsdns-*.com", "route53")
    assert index.match("awsdns.evil.com") is None
    assert index.match("inbound-smtp.eu-west-1.amazonaws.com") is not None
    assert index.match("inbound-smtp.a.b.amazonaws.com") is None


@pytest.mark.parametrize(
    "mx",
    [
        "10 mail.protection.outlook.com.evil.com.",
        "10 firma-mail.protection-outlook.com.",
        "10 notoutlook.com.",
        "10 evilpphosted.com.",
        "10 mx.smtp-google.com.",
    ],
)
def test_substring_look_alikes_are_not_providers(mx: str) -> None:
    result = ev().mx(mx).classify()
    assert result.platform == "unknown"
    assert result.gateway is None
    assert "mx" not in result.tenant_traces
    assert result.confidence_label == "low"


def test_opendns_is_not_dns_com() -> None:
    rules = load_rules("providers: [{key: dnscom, kind: dns, ns: [dns.com]}]")
    assert ev().ns("ns1.opendns.com").classify(rules=rules).dns_host is None
    assert ev().ns("ns1.dns.com").classify(rules=rules).dns_host == "dnscom"


# --- platforms --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mx", "platform", "provider"),
    [
        ([M365_MX], "m365", "m365"),
        (["0 firma-com-tr.l-v1.mx.microsoft."], "m365", "m365"),
        (["1 smtp.google.com."], "google", "google"),
        (
            [
                "1 aspmx.l.google.com.",
                "5 alt1.aspmx.l.google.com.",
                "5 alt2.aspmx.l.google.com.",
                "10 aspmx2.googlemail.com.",
                "10 aspmx3.googlemail.com.",
            ],
            "google",
            "google",
        ),
        (["10 mx.zoho.eu.", "20 mx2.zoho.eu."], "zoho", "zoho"),
        (["10 mx.yandex.net."], "yandex", "yandex"),
        (["10 inbound-smtp.eu-west-1.amazonaws.com."], "amazon", "amazon_workmail"),
        (["10 mx01.mail.icloud.com.", "10 mx02.mail.icloud.com."], "icloud", "icloud"),
        (["10 mail.protonmail.ch.", "20 mailsec.protonmail.ch."], "other_cloud", "proton"),
        (["10 mx.natrohost.com."], "hosting", "natro"),
        (["0 smtp.secureserver.net.", "10 mailstore1.secureserver.net."], "hosting", "godaddy"),
        (["5 mx1.hostinger.com.", "10 mx2.hostinger.com."], "hosting", "hostinger"),
        (["10 mx00.ionos.de.", "10 mx01.ionos.de."], "hosting", "ionos"),
        (["10 mail.ttmail.com."], "hosting", "ttnet"),
        (["10 mx1.privateemail.com."], "hosting", "namecheap"),
    ],
)
def test_platform_from_mx(mx: list[str], platform: str, provider: str) -> None:
    result = ev().mx(*mx).classify()
    assert result.complete
    assert (result.platform, result.provider, result.gateway) == (platform, provider, None)
    assert result.confidence_label == "high"
    assert result.secondary_platforms == ()
    first_host = mx[0].split()[1]
    assert any(first_host in line and "→" in line for line in result.evidence_lines)


def test_evidence_line_quotes_the_mx_record() -> None:
    result = ev().mx(M365_MX).classify()
    assert result.evidence_lines[0] == "MX 0 firma-com-tr.mail.protection.outlook.com. → Microsoft 365"
    assert "mx:m365:m365" in result.signals
    assert result.tenant_traces == ("mx",)
    assert not result.half_migrated


def test_spf_include_agrees_raises_confidence() -> None:
    alone = ev().mx(M365_MX).classify()
    both = ev().mx(M365_MX).txt("v=spf1 include:spf.protection.outlook.com -all").classify()
    assert both.confidence > alone.confidence
    assert both.tenant_traces == ("mx", "spf_include")


def test_self_hosted_mx_under_own_domain() -> None:
    result = ev().mx("10 mail.firma.com.tr.").classify()
    assert result.platform == "self_hosted"
    assert result.confidence_label == "medium"
    assert result.mx_hosts[0].category == "own"
    assert "own domain" in result.evidence_lines[0]


def test_on_premises_exchange_autodiscover_raises_self_hosted_confidence() -> None:
    plain = ev().mx("10 mail.firma.com.tr.").apex_address("198.51.100.1").classify()
    exchange = (
        ev()
        .mx("10 mail.firma.com.tr.")
        .apex_address("198.51.100.1")
        .trace("autodiscover", answers=["203.0.113.5"], status=OK)
        .classify()
    )
    assert plain.platform == exchange.platform == "self_hosted"
    assert exchange.confidence > plain.confidence
    assert "on-premises Exchange" in exchange.evidence_lines[0]


def test_cpanel_mail_host_cname_to_hosting() -> None:
    result = (
        ev()
        .mx("10 mail.firma.com.tr.")
        .mx_address("mail.firma.com.tr", "203.0.113.9", cnames=["cp12.natrohost.com"])
        .classify()
    )
    assert (result.platform, result.provider) == ("hosting", "natro")
    assert result.mx_hosts[0].via == "cp12.natrohost.com"
    assert "CNAME cp12.natrohost.com" in result.evidence_lines[0]


def test_own_mx_sharing_the_web_address_at_a_hosting_dns_host_is_hosting() -> None:
    result = (
        ev()
        .mx("10 mail.firma.com.tr.")
        .mx_address("mail.firma.com.tr", "203.0.113.9")
        .apex_address("203.0.113.9")
        .ns("ns1.turhost.com", "ns2.turhost.com")
        .classify()
    )
    assert (result.platform, result.provider, result.dns_host) == ("hosting", "turhost", "turhost")


def test_own_mx_with_hosting_spf_include_is_hosting() -> None:
    result = ev().mx("10 mail.firma.com.tr.").txt("v=spf1 a mx include:spf.isimtescil.net ~all").classify()
    assert (result.platform, result.provider) == ("hosting", "isimtescil")


def test_network_hint_turns_self_hosted_into_hosting() -> None:
    builder = ev().mx("10 mail.firma.com.tr.").mx_address("mail.firma.com.tr", "192.0.2.10")
    seen: list[str] = []

    def hint(address: str) -> str | None:
        seen.append(address)
        return "hosting"

    assert builder.classify(network_hint=hint).platform == "hosting"
    assert seen == ["192.0.2.10"]
    isp = builder.classify(network_hint=lambda _ip: "isp")
    assert isp.platform == "self_hosted"
    assert isp.confidence > builder.classify().confidence
    assert builder.classify(network_hint=lambda _ip: None).platform == "self_hosted"


def test_unrecognised_mx_run_by_the_dns_host_is_hosting() -> None:
    result = ev().mx("10 mx.kucukhost.net.").ns("ns1.kucukhost.net").classify()
    assert result.platform == "hosting"
    assert result.confidence_label == "medium"
    assert ev().mx("10 mx.kucukhost.net.").classify().platform == "unknown"


def test_idn_domain_own_mx() -> None:
    domain = "xn--rnek-5qa.com.tr"  # örnek.com.tr
    result = ev(domain).mx(f"10 mail.{domain}.").classify()
    assert result.platform == "self_hosted"
    assert result.domain == domain


# --- no mail / unresolved / incomplete -----------------------------------------------------------


def test_no_mx_is_none() -> None:
    result = ev().classify()
    assert (result.platform, result.complete, result.confidence_label) == ("none", True, "high")
    assert "no MX records" in result.evidence_lines[0]


def test_null_mx_is_none() -> None:
    result = ev().mx("0 .").classify()
    assert result.platform == "none"
    assert "null MX" in result.evidence_lines[0]
    assert "mx:null" in result.signals


def test_nxdomain_is_unresolved_and_complete() -> None:
    result = (
        ev()
        .mx(status=LookupStatus.NXDOMAIN)
        .txt(status=LookupStatus.NXDOMAIN)
        .dmarc(status=LookupStatus.NXDOMAIN)
        .classify()
    )
    assert (result.platform, result.complete) == ("unresolved", True)
    assert "NXDOMAIN" in result.evidence_lines[0]


@pytest.mark.parametrize("status", [LookupStatus.TIMEOUT, LookupStatus.SERVFAIL, LookupStatus.REFUSED])
def test_mx_failure_is_incomplete_never_none(status: LookupStatus) -> None:
    result = ev().mx(status=status).txt("v=spf1 -all").dmarc("v=DMARC1; p=reject").classify()
    assert result.complete is False
    assert result.platform is None
    assert result.incomplete_reasons == (f"mx: {status.value} (firma.com.tr MX)",)
    assert result.confidence == 0.0
    assert not result.half_migrated
    assert any(status.value in line and "rescan" in line for line in result.evidence_lines)


def test_dmarc_servfail_makes_it_incomplete_even_with_a_good_mx() -> None:
    result = ev().mx(M365_MX).dmarc(status=LookupStatus.SERVFAIL).classify()
    assert result.complete is False
    assert result.platform is None
    assert result.incomplete_reasons == ("dmarc: servfail (_dmarc.firma.com.tr TXT)",)
    assert result.tenant_traces == ("mx",)  # facts that were seen are still reported


def test_dmarc_org_fallback_failure_is_incomplete() -> None:
    builder = ev("sub.firma.com.tr").mx(M365_MX)
    builder.add("_dmarc.firma.com.tr", "TXT", P.DMARC_ORG, status=LookupStatus.TIMEOUT)
    result = builder.classify()
    assert not result.complete
    assert result.incomplete_reasons == ("dmarc_org: timeout (_dmarc.firma.com.tr TXT)",)


def test_apex_txt_failure_and_missing_lookups_are_incomplete() -> None:
    result = ev().mx(M365_MX).txt(status=LookupStatus.ERROR).classify()
    assert result.incomplete_reasons == ("apex_txt: error (firma.com.tr TXT)",)
    bare = Evidence(domain="firma.com.tr", collected_at=datetime(2025, 1, 1, tzinfo=UTC))
    assert classify(bare).incomplete_reasons == (
        "mx: not looked up",
        "apex_txt: not looked up",
        "dmarc: not looked up",
    )


# --- gateways ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mx", "gateway", "provider"),
    [
        ("10 mx0a-001234.pphosted.com.", "proofpoint", "proofpoint"),
        ("10 mx1-eu1.ppe-hosted.com.", "proofpoint", "proofpoint"),
        ("10 eu-smtp-inbound-1.mimecast.com.", "mimecast", "mimecast"),
        ("10 d123456.a.ess.barracudanetworks.com.", "barracuda", "barracuda"),
        ("10 mx1.hc1234-56.iphmx.com.", "cisco", "cisco"),
        ("10 firma.in.tmes.trendmicro.eu.", "trendmicro", "trendmicro"),
        ("10 cluster9.eu.messagelabs.com.", "symantec", "symantec"),
        ("10 mx01.hornetsecurity.com.", "hornetsecurity", "hornetsecurity"),
        ("10 mx-01-eu-central-1.prod.hydra.sophos.com.", "sophos", "sophos"),
        ("10 cluster1.eu.mailcontrol.com.", "other_gateway", "forcepoint"),
        ("10 mx.spamexperts.com.", "other_gateway", "spamexperts"),
    ],
)
def test_every_gateway_with_nothing_behind_is_unknown(mx: str, gateway: str, provider: str) -> None:
    result = ev().mx(mx).classify()
    assert (result.gateway, result.gateway_provider) == (gateway, provider)
    assert result.behind_gateway
    assert result.platform == "unknown"
    assert result.confidence_label == "low"
    assert any("Nothing behind" in line for line in result.evidence_lines)


def test_gateway_with_m365_behind_it_from_spf_and_autodiscover() -> None:
    result = (
        ev()
        .mx("10 mx0a-001234.pphosted.com.", "10 mx0b-001234.pphosted.com.")
        .txt("v=spf1 include:spf.protection.outlook.com include:spf-001234.pphosted.com -all")
        .trace("autodiscover", "autodiscover.outlook.com")
        .classify()
    )
    assert (result.gateway, result.platform) == ("proofpoint", "m365")
    assert result.confidence_label == "high"
    assert not result.half_migrated
    assert result.tenant_traces == ("spf_include", "autodiscover")
    lines = "\n".join(result.evidence_lines)
    assert "SPF include:spf.protection.outlook.com" in lines
    assert "CNAME autodiscover.firma.com.tr → autodiscover.outlook.com" in lines


def test_gateway_with_only_spf_behind_it_is_medium() -> None:
    result = (
        ev().mx("10 eu-smtp-inbound-1.mimecast.com.").txt("v=spf1 include:_spf.google.com ~all").classify()
    )
    assert (result.gateway, result.platform, result.confidence_label) == ("mimecast", "google", "medium")


def test_gateway_with_only_ms_token_is_m365_low() -> None:
    result = ev().mx("10 mx1.hc1234-56.iphmx.com.").txt("MS=ms12345678").classify()
    assert (result.platform, result.confidence_label) == ("m365", "low")
    assert result.tenant_traces == ("ms_txt",)


def test_gateway_with_m365_backup_mx() -> None:
    result = ev().mx("10 eu-smtp-inbound-1.mimecast.com.", f"20 {M365_MX.split()[1]}").classify()
    assert (result.gateway, result.platform) == ("mimecast", "m365")
    assert result.confidence_label == "high"
    assert not result.half_migrated


def test_gateway_with_own_backup_mx_is_self_hosted_behind() -> None:
    result = ev().mx("10 mx01.hornetsecurity.com.", "20 mail.firma.com.tr.").classify()
    assert (result.gateway, result.platform) == ("hornetsecurity", "self_hosted")


def test_gateway_only_as_backup_is_not_the_gateway() -> None:
    result = ev().mx(M365_MX, "20 eu-smtp-inbound-1.mimecast.com.").classify()
    assert (result.gateway, result.platform) == (None, "m365")
    assert "mx:gateway_backup_only" in result.signals


def test_gateway_dkim_google_selector_key_counts() -> None:
    result = (
        ev().mx("10 mx01.hornetsecurity.com.").dkim("google", "v=DKIM1; k=rsa; p=MIIBIjANBgkq").classify()
    )
    assert result.platform == "google"
    assert result.confidence_label == "low"


def test_gateway_with_enrolment_traces_only_stays_unknown_and_not_half_migrated() -> None:
    result = (
        ev()
        .mx("10 mx0a-001234.pphosted.com.")
        .trace("enterpriseenrollment", "enterpriseenrollment.manage.microsoft.com")
        .classify()
    )
    assert result.platform == "unknown"
    assert result.tenant_traces == ("enterpriseenrollment",)
    assert not result.half_migrated


# --- tenant traces and half-migration -------------------------------------------------------------


def test_half_migrated_ms_token_with_hosting_mx() -> None:
    result = ev().mx("10 mx.natrohost.com.").txt("MS=ms87654321", "v=spf1 a mx ~all").classify()
    assert result.platform == "hosting"
    assert result.tenant_traces == ("ms_txt",)
    assert result.half_migrated
    assert "half_migrated" in result.signals
    assert 'TXT "MS=ms87654321" → the domain is verified in a Microsoft 365 tenant' in result.evidence_lines


def test_spf_include_alone_does_not_make_half_migrated() -> None:
    result = ev().mx("10 mx.natrohost.com.").txt("v=spf1 include:spf.protection.outlook.com ~all").classify()
    assert result.tenant_traces == ("spf_include",)
    assert not result.half_migrated


def test_every_tenant_trace_is_seen() -> None:
    result = (
        ev()
        .mx("10 mail.firma.com.tr.")
        .txt("MS=ms1", "v=spf1 include:spf.protection.outlook.com -all")
        .trace("autodiscover", "autodiscover.outlook.com")
        .trace("lyncdiscover", "webdir.online.lync.com")
        .trace("sip", "sipdir.online.lync.com")
        .trace("enterpriseenrollment", "enterpriseenrollment-s.manage.microsoft.com")
        .trace("enterpriseregistration", "enterpriseregistration.windows.net")
        .trace("sipfederationtls", answers=["100 1 5061 sipfed.online.lync.com."])
        .dkim("selector1", cnames=["selector1-firma-com-tr._domainkey.firmatr.onmicrosoft.com"])
        .classify()
    )
    assert set(result.tenant_traces) == {
        "spf_include",
        "ms_txt",
        "autodiscover",
        "dkim_cname",
        "lyncdiscover",
        "sip",
        "sipfederationtls",
        "enterpriseenrollment",
        "enterpriseregistration",
    }
    assert result.tenant_name == "firmatr.onmicrosoft.com"
    assert result.platform == "self_hosted"
    assert result.half_migrated


def test_lookalike_trace_targets_do_not_count() -> None:
    result = (
        ev()
        .mx("10 mx.natrohost.com.")
        .trace("autodiscover", "autodiscover.outlook.com.evil.net")
        .trace("lyncdiscover", "webdir.online-lync.com")
        .dkim("selector1", cnames=["selector1-x._domainkey.firma.onmicrosoft.com.evil.net"])
        .classify()
    )
    assert result.tenant_traces == ()
    assert result.tenant_name is None
    assert not result.half_migrated


@pytest.mark.parametrize(
    ("target", "tenant"),
    [
        ("selector1-firma-com-tr._domainkey.firmatr.onmicrosoft.com", "firmatr.onmicrosoft.com"),
        ("selector1-firma-com-tr._domainkey.firmatr.r-v1.dkim.mail.microsoft", "firmatr.onmicrosoft.com"),
        ("selector1-firma-com-tr._domainkey.onmicrosoft.com", None),
    ],
)
def test_tenant_name_from_dkim_cname_chain(target: str, tenant: str | None) -> None:
    result = ev().mx(M365_MX).dkim("selector1", cnames=[target]).classify()
    assert result.tenant_name == tenant
    assert "dkim_cname" in result.tenant_traces


def test_tenant_name_found_deeper_in_the_chain() -> None:
    chain = ["s1.dkim-relay.firma.com.tr", "selector2-firma-com-tr._domainkey.deep.onmicrosoft.com"]
    result = ev().mx(M365_MX).dkim("selector2", cnames=chain).classify()
    assert result.tenant_name == "deep.onmicrosoft.com"


def test_mixed_mx_google_primary_m365_secondary_is_half_migrated() -> None:
    result = ev().mx("1 smtp.google.com.", "5 firma-com-tr.mail.protection.outlook.com.").classify()
    assert result.platform == "google"
    assert result.secondary_platforms == ("m365",)
    assert result.confidence_label == "high" or result.confidence_label == "medium"
    assert result.half_migrated
    assert "mx:mixed" in result.signals


def test_mixed_mx_same_preference_majority_wins() -> None:
    result = (
        ev()
        .mx("10 aspmx.l.google.com.", "10 alt1.aspmx.l.google.com.", f"10 {M365_MX.split()[1]}")
        .classify()
    )
    assert (result.platform, result.secondary_platforms) == ("google", ("m365",))


def test_lowest_preference_beats_count() -> None:
    result = ev().mx(M365_MX, "10 mx1.natrohost.com.", "10 mx2.natrohost.com.").classify()
    assert (result.platform, result.secondary_platforms) == ("m365", ("hosting",))
    assert not result.half_migrated


def test_unknown_front_mx_with_known_backup() -> None:
    result = ev().mx("10 filter.unlisted-av.example.", f"20 {M365_MX.split()[1]}").classify()
    assert result.platform == "m365"
    assert result.confidence_label == "medium"
    assert "mx:unrecognised_front" in result.signals


# --- DNS host, parking, footprint -------------------------------------------------------------------


def test_dns_host_and_parking() -> None:
    assert ev().ns("ada.ns.cloudflare.com", "bob.ns.cloudflare.com").classify().dns_host == "cloudflare"
    assert ev().ns("ns-1.awsdns-12.com", "ns-2.awsdns-34.net").classify().dns_host == "route53"
    assert ev().ns("ns1.firma.com.tr").classify().dns_host == "self"
    hostinger = ev().ns("ns1.dns-parking.com").classify()
    assert (hostinger.dns_host, hostinger.parked) == ("hostinger", False)
    parked = ev().ns("ns1.sedoparking.com", "ns2.sedoparking.com").classify()
    assert parked.parked
    assert parked.dns_host == "sedo"
    assert any("domain parking" in line for line in parked.evidence_lines)


def test_footprint_tokens() -> None:
    result = (
        ev()
        .mx(M365_MX)
        .txt("google-site-verification=abc", "atlassian-domain-verification=xyz", "MS=ms1")
        .classify()
    )
    assert result.footprint == ("google_search_console", "atlassian")
    # A Search Console token says nothing about mail.
    assert not any(s.startswith("txt:google") for s in result.signals)


def test_zoho_verification_token_behind_gateway() -> None:
    result = (
        ev().mx("10 mx01.hornetsecurity.com.").txt("zoho-verification=zb12345.zmverify.zoho.eu").classify()
    )
    assert result.platform == "zoho"


# --- SPF tree -----------------------------------------------------------------------------------------


def test_spf_tree_follows_nested_includes_and_finds_loops() -> None:
    builder = (
        ev()
        .mx("10 mx0a-001234.pphosted.com.")
        .txt("v=spf1 include:_spf.firma.com.tr include:%{i}._spf.mta.example.com -all")
        .spf_include("_spf.firma.com.tr", "v=spf1 include:_spf2.firma.com.tr include:gone.example ~all")
        .spf_include(
            "_spf2.firma.com.tr", "v=spf1 include:spf.protection.outlook.com include:_spf.firma.com.tr"
        )
        .spf_include("spf.protection.outlook.com", "v=spf1 ip4:40.92.0.0/15 -all")
        .spf_include("gone.example", None, status=LookupStatus.NXDOMAIN)
    )
    tree = spf_include_tree(builder.build())
    assert tree.targets == (  # depth-first, in record order
        "_spf.firma.com.tr",
        "_spf2.firma.com.tr",
        "spf.protection.outlook.com",
        "gone.example",
        "%{i}._spf.mta.example.com",
    )
    assert tree.loops == ("_spf.firma.com.tr",)
    assert tree.void == ("gone.example",)
    assert tree.macro_targets == ("%{i}._spf.mta.example.com",)
    assert tree.complete
    result = builder.classify()
    assert result.platform == "m365"
    assert "spf_include" in result.tenant_traces


def test_spf_tree_reports_unfetched_targets() -> None:
    tree = spf_include_tree(ev().txt("v=spf1 include:a.example include:b.example -all").build())
    assert tree.unresolved == ("a.example", "b.example")
    assert not tree.complete


# --- output -----------------------------------------------------------------------------------------


def test_to_dict_is_json_ready_and_complete() -> None:
    result = (
        ev()
        .mx("10 mx.natrohost.com.")
        .txt("MS=ms1")
        .dkim("selector1", cnames=["selector1-firma-com-tr._domainkey.firmatr.onmicrosoft.com"])
        .classify()
    )
    data = json.loads(json.dumps(result.to_dict()))
    assert data["platform"] == "hosting"
    assert data["half_migrated"] is True
    assert data["tenant_name"] == "firmatr.onmicrosoft.com"
    assert data["mx_hosts"][0]["provider"] == "natro"
    assert set(data) >= {"confidence", "confidence_label", "evidence_lines", "signals", "parked", "dns_host"}


def test_classification_is_deterministic() -> None:
    builder = ev().mx("10 a.natrohost.com.", "10 mx.zoho.eu.").txt("MS=ms1")
    assert builder.classify() == builder.classify()


# --- robustness ---------------------------------------------------------------------------------

_statuses = st.sampled_from(list(LookupStatus))
_hosts = st.sampled_from(
    [
        "firma-com-tr.mail.protection.outlook.com",
        "smtp.google.com",
        "mx1.natrohost.com",
        "mail.firma.com.tr",
        "mx0a-1.pphosted.com",
        "odd.example.net",
        "",
        "xn--rnek-5qa.com.tr",
    ]
)
_mx_answers = st.lists(
    st.one_of(
        st.builds(lambda p, h: f"{p} {h}.", st.integers(0, 100), _hosts),
        st.text(max_size=20),
    ),
    max_size=5,
)


@given(
    mx_status=_statuses,
    mx=_mx_answers,
    txt_status=_statuses,
    txt=st.lists(st.text(max_size=40), max_size=3),
    dmarc_status=_statuses,
    trace_target=_hosts,
)
def test_classify_never_raises_and_keeps_its_invariants(
    mx_status: LookupStatus,
    mx: list[str],
    txt_status: LookupStatus,
    txt: list[str],
    dmarc_status: LookupStatus,
    trace_target: str,
) -> None:
    builder = (
        ev()
        .mx(*mx, status=mx_status)
        .txt(*txt, status=txt_status)
        .dmarc("v=DMARC1; p=none", status=dmarc_status)
        .trace("autodiscover", trace_target)
        .dkim("selector1", cnames=[trace_target])
    )
    result = builder.classify()
    json.dumps(result.to_dict())
    assert 0.0 <= result.confidence <= 1.0
    assert result.platform is None or result.platform in PLATFORMS
    assert result.gateway is None or result.gateway in GATEWAYS
    if mx_status == LookupStatus.NXDOMAIN:
        assert result.platform == "unresolved"
    elif mx_status.is_failure or txt_status.is_failure or dmarc_status.is_failure:
        assert not result.complete
        assert result.platform is None
        assert not result.half_migrated
    if result.platform == "none":
        assert mx_status in (LookupStatus.OK, LookupStatus.NODATA)
    if result.half_migrated:
        assert result.platform != "m365"
        assert set(result.tenant_traces) - {"spf_include"}
