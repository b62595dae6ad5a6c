"""Sales brief: structure, texts, offers, and the consistency suite.

The consistency suite generates many DNS variants, runs them through the real scanner (against
an in-memory zone), the classifier, the posture, the evaluation and the brief in both languages,
and checks every claim of every sentence against the evidence with a checker written here,
independently of ``core/brief.py`` (it re-reads the raw lookups instead of trusting the posture
wherever that is practical). Prose is never parsed.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hunter.core.brief import Brief, build_brief, default_offers, load_offers, texts
from hunter.core.domains import host_matches_suffix
from hunter.core.evaluation import Evaluation, EvaluationInput, evaluate, inputs_from_evidence
from hunter.core.evidence import Evidence, Lookup, LookupPurpose, LookupStatus
from hunter.core.providers import default_rules as provider_rules
from hunter.core.scoring import ReferralInfo, default_rules

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "regression"))
from dnscase import case_now, evidence_for

P = LookupPurpose
ANSWERED = (LookupStatus.OK, LookupStatus.NXDOMAIN, LookupStatus.NODATA)
PARTNER = "Bulut Ortak A.Ş."
_DMARC_RE = re.compile(r"^[vV][ \t]*=[ \t]*DMARC1[ \t]*(;|$)")
_SPF_RE = re.compile(r"^v=spf1( |$)", re.IGNORECASE)


# --------------------------------------------------------------------------------------------
# Independent reading of the evidence


@dataclass
class Ctx:
    evidence: Evidence
    inputs: EvaluationInput
    evaluation: Evaluation

    def lookups(self, purpose: LookupPurpose) -> list[Lookup]:
        return [lk for lk in self.evidence.lookups if lk.purpose == purpose]

    def one(self, purpose: LookupPurpose) -> Lookup | None:
        found = self.lookups(purpose)
        return found[0] if found else None

    def spf_records(self) -> list[str] | None:
        apex = next((lk for lk in self.lookups(P.APEX_TXT) if lk.name == self.evidence.domain), None)
        if apex is None or apex.status not in ANSWERED:
            return None
        return [a for a in apex.answers if _SPF_RE.match(a.strip())] if apex.status == LookupStatus.OK else []

    def spf_record(self) -> str:
        records = self.spf_records()
        assert records is not None
        assert len(records) == 1
        return records[0]

    def spf_targets(self) -> list[str]:
        """Every include/redirect name in the apex record and in fetched include records."""
        records = [self.spf_record()]
        records += [a for lk in self.lookups(P.SPF_INCLUDE) for a in lk.answers if _SPF_RE.match(a)]
        names = []
        for record in records:
            for term in record.split()[1:]:
                low = term.lower().lstrip("+-~?")
                if low.startswith("include:"):
                    names.append(low.split(":", 1)[1])
                elif low.startswith("redirect="):
                    names.append(low.split("=", 1)[1])
        return names

    def dmarc_lookups(self) -> tuple[Lookup | None, Lookup | None]:
        own = self.one(P.DMARC)
        org = self.one(P.DMARC_ORG)
        return own, org

    @staticmethod
    def dmarc_records(lk: Lookup | None) -> list[str]:
        if lk is None or lk.status != LookupStatus.OK:
            return []
        return [a for a in lk.answers if _DMARC_RE.match(a)]

    def dmarc_record(self) -> str:
        own, org = self.dmarc_lookups()
        records = self.dmarc_records(own) or self.dmarc_records(org)
        assert len(records) == 1, records
        return records[0]

    def dmarc_tags(self) -> dict[str, str]:
        tags: dict[str, str] = {}
        for part in self.dmarc_record().split(";"):
            name, _, value = part.strip().partition("=")
            tags.setdefault(name.strip().lower(), value.strip().lower())
        return tags

    def dkim(self, selector: str) -> Lookup:
        return next(lk for lk in self.lookups(P.DKIM) if lk.selector == selector)

    @staticmethod
    def has_key(lk: Lookup) -> bool:
        if lk.status != LookupStatus.OK:
            return False
        for answer in lk.answers:
            for tag in answer.split(";"):
                name, _, value = tag.strip().partition("=")
                if name.strip().lower() == "p" and value.strip():
                    return True
        return False

    def mx_hosts(self) -> set[str]:
        mx = self.one(P.MX)
        assert mx is not None
        hosts = set()
        for answer in mx.answers:
            parts = answer.split()
            if len(parts) == 2 and parts[1] != ".":
                hosts.add(parts[1].rstrip(".").lower())
        return hosts

    def policy_status(self, purpose: LookupPurpose, version: str) -> str:
        lk = self.one(purpose)
        if lk is None or lk.status not in ANSWERED:
            return "unknown"
        records = [
            a for a in lk.answers if a.split(";")[0].replace(" ", "").lower() == f"v={version.lower()}"
        ]
        return {0: "missing", 1: "present"}.get(len(records), "invalid")


def _provider_spf_patterns(platform: str | None = None, key: str | None = None) -> list[str]:
    return [
        pattern
        for prov in provider_rules().providers
        if (platform is None or prov.platform == platform) and (key is None or prov.key == key)
        for pattern in prov.spf
    ]


def _matches_any(names: Iterable[str], patterns: list[str]) -> bool:
    return any(host_matches_suffix(n, p) for n in names for p in patterns if "*" not in p)


def check_claim(claim: str, ctx: Ctx) -> bool:
    c = ctx.inputs.classification
    posture = ctx.inputs.posture
    ev = ctx.evaluation
    kind, _, arg = claim.partition(":")
    sub, _, rest = arg.partition(":")

    if kind == "platform":
        if arg == "unresolved":
            mx = ctx.one(P.MX)
            return c.platform == arg and mx is not None and mx.status == LookupStatus.NXDOMAIN
        if arg == "none":
            mx = ctx.one(P.MX)
            return c.platform == arg and mx is not None and mx.status in ANSWERED and not ctx.mx_hosts()
        return c.platform == arg
    if kind == "provider":
        return c.provider == arg
    if kind == "confidence":
        return c.confidence_label == arg and (arg != "low" or c.confidence < 0.5)
    if kind == "gateway":
        return c.gateway == arg
    if kind == "secondary":
        return arg in c.secondary_platforms
    if kind == "mx":
        return arg in ctx.mx_hosts()
    if kind == "half_migrated":
        return c.half_migrated
    if kind == "tenant_trace":
        return arg in c.tenant_traces
    if kind == "tenant_name":
        label = arg.split(".")[0]
        return c.tenant_name == arg and any(label in cn for lk in ctx.lookups(P.DKIM) for cn in lk.cnames)
    if kind == "parked":
        return c.parked
    if kind == "spf":
        records = ctx.spf_records()
        if arg == "unknown":
            return records is None
        if arg == "missing":
            return records == []
        if arg in ("present", "invalid") or sub == "count":
            if records is None:
                return False
            if arg == "present":
                return len(records) == 1
            if arg == "invalid":
                return len(records) > 1
            return len(records) == int(rest)
        if sub == "all":
            terms = [t.lower() for t in ctx.spf_record().split()[1:]]
            alls = [t for t in terms if t.lstrip("+-~?") == "all"]
            if rest == "none":
                return not alls
            qualifier = alls[0][0] if alls and alls[0][0] in "+-~?" else "+"
            return (
                bool(alls) and {"-": "fail", "~": "softfail", "?": "neutral", "+": "pass"}[qualifier] == rest
            )
        if sub == "redirect":
            return f"redirect={rest}" in ctx.spf_record().lower()
        if arg == "over_limit":
            return ctx.evidence.spf_lookup_count > 10
        if arg == "void_over_limit":
            return ctx.evidence.spf_void_lookups > 2
        if arg == "tree_incomplete":
            failed = any(lk.status not in ANSWERED for lk in ctx.lookups(P.SPF_INCLUDE))
            fetched = {lk.name for lk in ctx.lookups(P.SPF_INCLUDE)}
            return failed or any(t not in fetched for t in ctx.spf_targets())
        if arg == "errors":
            return any(
                e["code"] not in ("too_many_lookups", "too_many_void_lookups") for e in posture.spf.errors
            )
        if arg == "permissive":
            return False  # never claimed; the qualifier is claimed as spf:all:<result>
    if kind == "spf_includes":
        return _matches_any(ctx.spf_targets(), _provider_spf_patterns(platform=arg))
    if kind == "spf_includes_provider":
        return _matches_any(ctx.spf_targets(), _provider_spf_patterns(key=arg))
    if kind == "spf_not_includes":
        complete = all(lk.status in ANSWERED for lk in ctx.lookups(P.SPF_INCLUDE))
        return complete and not _matches_any(ctx.spf_targets(), _provider_spf_patterns(platform=arg))
    if kind == "dmarc":
        own, org = ctx.dmarc_lookups()
        if arg == "unknown":
            return (own is None or own.status not in ANSWERED) or (
                org is not None and org.status not in ANSWERED
            )
        if arg == "missing":
            own_ok = own is not None and own.status in ANSWERED and not ctx.dmarc_records(own)
            org_ok = org is None or (org.status in ANSWERED and not ctx.dmarc_records(org))
            near_miss = own is not None and any(
                a.lower().replace(" ", "").startswith("v=dmarc1") for a in own.answers
            )
            return own_ok and org_ok and (not near_miss or posture.dmarc.status == "missing")
        if arg == "invalid":
            answered = own is not None and own.status == LookupStatus.OK
            several = len(ctx.dmarc_records(own)) > 1
            return answered and (several or posture.dmarc.status == "invalid")
        if arg == "present":
            return len(ctx.dmarc_records(own) or ctx.dmarc_records(org)) == 1
        if arg == "org_fallback":
            return not ctx.dmarc_records(own) and len(ctx.dmarc_records(org)) == 1
        tags = ctx.dmarc_tags()
        if sub == "policy":
            p = tags.get("p", "none")
            return (p if p in ("none", "quarantine", "reject") else "none") == rest
        if arg == "no_p_tag":
            return "p" not in tags
        if sub == "sp":
            return tags.get("sp") == rest
        if sub == "pct":
            return tags.get("pct") == rest
        if arg == "partial":
            enforced = tags.get("p") in ("quarantine", "reject")
            return enforced and (tags.get("pct", "100") != "100" or tags.get("t") == "y")
        if arg == "rua":
            return bool(tags.get("rua"))
        if arg == "no_rua":
            return not tags.get("rua")
    if kind == "dkim":
        probes = ctx.lookups(P.DKIM)
        if sub == "found":
            return ctx.has_key(ctx.dkim(rest))
        if arg == "not_found":
            return bool(probes) and all(lk.status in ANSWERED and not ctx.has_key(lk) for lk in probes)
        if arg == "unknown":
            return not any(ctx.has_key(lk) for lk in probes) and (
                not probes or any(lk.status not in ANSWERED for lk in probes)
            )
        if sub == "m365_cname_only":
            lk = ctx.dkim(rest)
            m365 = any(cn.endswith((".onmicrosoft.com", ".dkim.mail.microsoft")) for cn in lk.cnames)
            return m365 and not ctx.has_key(lk)
        if sub == "weak_key":
            selector = next(s for s in posture.dkim.selectors if s.selector == rest)
            return ctx.has_key(ctx.dkim(rest)) and selector.key_bits is not None and selector.key_bits < 1024
    if kind == "mta_sts":
        return ctx.policy_status(P.MTA_STS, "STSv1") == arg
    if kind == "tls_rpt":
        return ctx.policy_status(P.TLS_RPT, "TLSRPTv1") == arg
    if kind == "priority":
        return ev.priority == arg
    if kind == "segment":
        return ev.segment == arg
    if kind == "score":
        return ev.score == int(arg)
    if kind == "factor":
        return arg in ev.factor_ids
    if kind == "incomplete":
        return ev.needs_rescan and ev.score is None and ev.priority is None
    if kind == "gaps":
        return arg == "none" and not any(f.group == "security" for f in ev.breakdown)
    if kind == "size":
        attrs = ctx.inputs.attributes
        if arg == "none":
            return ev.size is None
        if sub == "employees":
            if ev.size is None or ev.size.employees_text != rest:
                return False
            referral = ctx.inputs.referral
            return ev.size.raw in attrs.values() or (
                referral is not None and referral.company_size == ev.size.raw
            )
        return ev.size is not None and ev.size.band == arg
    reg = ctx.inputs.registration
    if kind == "registered":
        return reg is not None and reg.created is not None and reg.created.date().isoformat() == arg
    if kind == "expires":
        return reg is not None and reg.expires is not None and reg.expires.date().isoformat() == arg
    if kind == "expires_within":
        return (
            reg is not None
            and reg.expires is not None
            and 0 <= (reg.expires - ctx.inputs.now).days == int(arg)
        )
    if kind == "expired":
        return reg is not None and reg.expires is not None and reg.expires < ctx.inputs.now
    if kind == "registry_status":
        return reg is not None and any(s.replace(" ", "").lower() == arg.lower() for s in reg.domain_status)
    ref = ctx.inputs.referral
    if kind == "referral":
        if ref is None:
            return False
        active = (ref.status or "").lower() in ("new", "active") and (ref.substatus or "").lower() not in (
            "declined",
            "lost",
            "expired",
            "won",
        )
        if arg == "active":
            return active
        if sub == "qualification":
            return active and (ref.qualification or "").lower() == rest
        if arg == "deal_value":
            return active and ref.deal_value is not None and ref.deal_value >= 5000
    if kind == "offer" and sub == "price":
        key, _, price = rest.partition(":")
        offers = default_offers()
        item = offers.licences.get(key) or next((a for a in offers.addons if a.key == key), None)
        return item is not None and abs(item.price - float(price)) < 1e-9
    raise AssertionError(f"unknown claim {claim!r}")


SECURITY_CLAIM_KINDS = ("spf", "dmarc", "dkim", "mta_sts", "tls_rpt", "platform", "gaps", "spf_includes")


def assert_brief_consistent(brief: Brief, ctx: Ctx) -> None:
    for statement in brief.statements():
        assert statement.text.strip(), "empty sentence"
        assert "{" not in statement.text, statement.text
        assert "}" not in statement.text, statement.text
        for claim in statement.claims:
            assert check_claim(claim, ctx), f"[{brief.lang}] false claim {claim!r} in: {statement.text}"
    for statement in brief.security:
        assert statement.claims, f"security sentence without a claim: {statement.text}"
    for factor in ctx.evaluation.breakdown:
        for claim in factor.claims:
            assert check_claim(claim, ctx), f"false factor claim {claim!r} ({factor.factor})"


def claim_profile(brief: Brief) -> Counter[str]:
    return Counter(claim for s in brief.statements() for claim in s.claims)


# --------------------------------------------------------------------------------------------
# Generated variants


MX = {
    "m365": "0 firma-com-tr.mail.protection.outlook.com.",
    "m365_new": "0 firma-com-tr.c-v1.mx.microsoft.",
    "google": ["1 smtp.google.com."],
    "zoho": ["10 mx.zoho.eu.", "20 mx2.zoho.eu."],
    "yandex": "10 mx.yandex.net.",
    "natro": "10 mx.natrohost.com.",
    "godaddy": ["0 smtp.secureserver.net.", "10 mailstore1.secureserver.net."],
    "own": "10 mail.firma.com.tr.",
    "proofpoint": "10 mx0a-001.pphosted.com.",
    "barracuda": "10 d1.ess.barracudanetworks.com.",
    "mixed": ["10 mx.natrohost.com.", "20 firma-com-tr.mail.protection.outlook.com."],
    "unknown": "10 mx.bilinmeyen.io.",
    "parking": "10 mx.parkingcrew.net.",
    "none": None,
    "null": "0 .",
    "timeout": {"status": "timeout"},
    "servfail": {"status": "servfail"},
}
SPF = [
    None,
    "v=spf1 include:spf.protection.outlook.com -all",
    "v=spf1 include:_spf.google.com ~all",
    "v=spf1 include:zoho.eu ~all",
    "v=spf1 include:spf.natrohost.com ?all",
    "v=spf1 include:spf.protection.outlook.com include:pphosted.com -all",
    "v=spf1 a mx +all",
    "v=spf1 redirect=_spf.yandex.net",
    "v=spf1 ipv4:192.0.2.1 -all",
    "v=spf1 include:spf.bozuk-ornek.net -all",
    "v=spf1 include:a.yok-ornek.net include:b.yok-ornek.net include:c.yok-ornek.net ~all",
    "v=spf1 mx",
]
EXTRA_TXT = [None, "MS=ms12345678", "zoho-verification=zb1.zmverify.zoho.eu", "google-site-verification=abc"]
DMARC = [
    None,
    "google-site-verification=xyz",
    "v=DMARC1; p=none",
    "v=DMARC1; p=none; rua=mailto:d@firma.com.tr",
    "v=DMARC1; p=reject; sp=none; rua=mailto:d@firma.com.tr",
    "v=DMARC1; P=Reject",
    "v=DMARC1; p=quarantine; pct=50",
    "v=DMARC1; p=reject; t=y",
    "v=dmarc1; p=reject",
    ["v=DMARC1; p=reject", "v=DMARC1; p=none"],
    "v=DMARC1; rua=mailto:d@firma.com.tr",
    {"status": "timeout"},
    {"status": "servfail"},
]
DKIM_OPTIONS: dict[str, list[Any]] = {
    "selector1": [
        {"cname": "selector1-firma-com-tr._domainkey.firmatr.onmicrosoft.com", "key": True},
        {"cname": "selector1-firma-com-tr._domainkey.firmatr.onmicrosoft.com", "key": False},
        {"status": "timeout"},
    ],
    "google": ["key", {"status": "timeout"}],
    "default": ["key", "key512", "revoked"],
    "zmail": ["key"],
    "mail": ["key"],
}
TRACES = [
    {},
    {"autodiscover": "autodiscover.outlook.com"},
    {"lyncdiscover": "webdir.online.lync.com", "sip": "sipdir.online.lync.com"},
    {"enterpriseenrollment": "enterpriseenrollment-s.manage.microsoft.com"},
]
MTA_STS = [None, "v=STSv1; id=20250101", {"status": "timeout"}, ["v=STSv1; id=1", "v=STSv1; id=2"]]
ATTRIBUTES = [
    {},
    {"Firma Ünvanı": "Örnek Makina A.Ş.", "Çalışan Sayısı": "45"},
    {"employees": "250+"},
    {"Personel Sayısı": "1.200"},
    {"Çalışan Sayısı": "bilinmiyor"},
    {"ÇALIŞAN SAYISI": "50-99"},
]
REFERRALS = [
    None,
    {"status": "Active", "substatus": "Accepted", "qualification": "SalesQualified", "deal_value": 12000},
    {"status": "Closed", "substatus": "Won", "qualification": "SalesQualified"},
    {"status": "New", "substatus": "Pending", "qualification": "Direct", "company_size": "10to50employees"},
    {"status": "Active", "substatus": "Engaged", "qualification": "MarketingQualified"},
]
REGISTRATIONS = [
    None,
    {"created": "2025-07-01", "expires": "2026-07-01"},
    {"created": "2005-01-01", "expires": "2025-11-20"},
    {"created": "2015-01-01", "expires": "2025-10-01", "status": ["pending delete"]},
]


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    case: dict[str, Any] = {"id": "generated"}
    mx = MX[draw(st.sampled_from(sorted(MX)))]
    if mx is not None:
        case["mx"] = mx
    spf = draw(st.sampled_from(SPF))
    extra = draw(st.sampled_from(EXTRA_TXT))
    txt = [t for t in (spf, extra) if t]
    if draw(st.booleans()) and spf and "ipv4" not in spf:
        txt.append(spf.replace("-all", "~all") if "-all" in spf else spf + " ")  # sometimes two SPF records
    if draw(st.integers(0, 9)) == 0:
        case["txt"] = {"status": "timeout"}
    elif txt:
        case["txt"] = txt
    case["spf"] = {"spf.bozuk-ornek.net": {"status": draw(st.sampled_from(["timeout", "servfail"]))}}
    dmarc = draw(st.sampled_from(DMARC))
    if dmarc is not None:
        case["dmarc"] = dmarc
    dkim = {}
    for selector, options in DKIM_OPTIONS.items():
        if draw(st.integers(0, 2)) == 0:
            dkim[selector] = draw(st.sampled_from(options))
    case["dkim"] = dkim
    case["traces"] = draw(st.sampled_from(TRACES))
    mta = draw(st.sampled_from(MTA_STS))
    if mta is not None:
        case["mta_sts"] = mta
    if draw(st.booleans()):
        case["tls_rpt"] = "v=TLSRPTv1; rua=mailto:tls@firma.com.tr"
    case["attributes"] = draw(st.sampled_from(ATTRIBUTES))
    referral = draw(st.sampled_from(REFERRALS))
    if referral is not None:
        case["referral"] = referral
    registration = draw(st.sampled_from(REGISTRATIONS))
    if registration is not None:
        case["registration"] = registration
    if draw(st.booleans()):
        case["ns"] = draw(
            st.sampled_from([["ns1.natrohost.com"], ["ns1.sedoparking.com"], ["ns1.firma.com.tr"]])
        )
    return case


def run_case(case: dict[str, Any]) -> Ctx:
    evidence = evidence_for(case)
    referral = ReferralInfo.from_dict(case["referral"]) if case.get("referral") else None
    inputs = inputs_from_evidence(
        evidence, attributes=case.get("attributes") or {}, now=case_now(case), referral=referral
    )
    return Ctx(evidence, inputs, evaluate(inputs))


@settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(cases())
def test_every_claim_in_both_languages_is_true_of_the_evidence(case: dict[str, Any]) -> None:
    ctx = run_case(case)
    briefs = {lang: build_brief(ctx.evaluation, ctx.inputs, lang, None, PARTNER) for lang in ("tr", "en")}
    for brief in briefs.values():
        assert_brief_consistent(brief, ctx)
        json.dumps(brief.to_dict(), ensure_ascii=False)
    # Both languages make exactly the same claims: the Turkish brief says what the English one says.
    assert claim_profile(briefs["tr"]) == claim_profile(briefs["en"])
    ev = ctx.evaluation
    assert (ev.score is None) == ev.needs_rescan == (ev.priority is None)
    if ev.score is not None:
        assert 0 <= ev.score <= 100


def test_the_regression_set_briefs_are_consistent() -> None:
    """Every hand-written regression case also passes the claim checker."""
    root = Path(__file__).resolve().parents[1] / "regression"
    for path in sorted(root.glob("cases_*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            body = {k: v for k, v in case.items() if k not in ("expect", "brief", "rescan")}
            ctx = run_case(body)
            for lang in ("tr", "en"):
                assert_brief_consistent(build_brief(ctx.evaluation, ctx.inputs, lang, None, PARTNER), ctx)


# --------------------------------------------------------------------------------------------
# Focused checks


def _ctx(**case: Any) -> Ctx:
    return run_case({"id": "t", **case})


NATRO_BARE = {"mx": "10 mx.natrohost.com."}
M365_P_NONE = {
    "mx": "0 firma-com-tr.mail.protection.outlook.com.",
    "txt": ["v=spf1 include:spf.protection.outlook.com -all"],
    "dmarc": "v=DMARC1; p=none",
    "dkim": {
        "selector1": {"cname": "selector1-firma-com-tr._domainkey.firmatr.onmicrosoft.com", "key": True}
    },
}


def test_spf_microsoft_is_claimed_only_when_the_tree_includes_it() -> None:
    without = _ctx(**NATRO_BARE, txt=["v=spf1 include:spf.natrohost.com ~all"])
    claims = claim_profile(build_brief(without.evaluation, without.inputs, "en", None, PARTNER))
    assert "spf_includes:m365" not in claims
    with_ms = _ctx(**M365_P_NONE)
    claims = claim_profile(build_brief(with_ms.evaluation, with_ms.inputs, "en", None, PARTNER))
    assert claims["spf_includes:m365"] >= 1


def test_dmarc_failure_says_could_not_be_checked() -> None:
    ctx = _ctx(**{**M365_P_NONE, "dmarc": {"status": "timeout"}})
    for lang in ("tr", "en"):
        brief = build_brief(ctx.evaluation, ctx.inputs, lang, None, PARTNER)
        dmarc = [s for s in brief.security if any(c.startswith("dmarc:") for c in s.claims)]
        assert [s.claims for s in dmarc] == [("dmarc:unknown",)]
        expected = "could not be checked" if lang == "en" else "kontrol edilemedi"
        assert expected in dmarc[0].text


def test_partner_name_is_a_parameter_not_a_literal() -> None:
    ctx = _ctx(**NATRO_BARE)
    a = build_brief(ctx.evaluation, ctx.inputs, "tr", None, "Alfa Bilişim").to_text()
    b = build_brief(ctx.evaluation, ctx.inputs, "tr", None, "Beta Bulut").to_text()
    assert "Alfa Bilişim" in a
    assert "Beta Bulut" not in a
    assert a.replace("Alfa Bilişim", "Beta Bulut") == b
    with pytest.raises(ValueError, match="partner_name"):
        build_brief(ctx.evaluation, ctx.inputs, "tr", None, " ")
    with pytest.raises(ValueError, match="lang"):
        build_brief(ctx.evaluation, ctx.inputs, "de", None, "X")  # type: ignore[arg-type]


def test_no_user_count_is_invented_without_a_size_hint() -> None:
    ctx = _ctx(**NATRO_BARE)
    brief = build_brief(ctx.evaluation, ctx.inputs, "en", None, PARTNER)
    assert "size:none" in brief.offer.summary.claims
    for line in brief.offer.lines:
        assert line.users_min is None
        assert line.monthly_min is None
        assert line.detail is None
    assert "per user" in brief.offer.summary.text
    keys = [line.key for line in brief.offer.lines]
    assert keys[:3] == ["business_basic", "business_standard", "business_premium"]
    assert "defender_o365_p1" in keys
    assert "email_auth_setup" in keys


def test_size_hint_picks_the_family_and_totals() -> None:
    ctx = _ctx(**NATRO_BARE, attributes={"Çalışan Sayısı": "50-99"})
    brief = build_brief(ctx.evaluation, ctx.inputs, "tr", None, PARTNER)
    licence = brief.offer.lines[0]
    assert licence.key == "business_premium"
    assert (licence.users_min, licence.users_max) == (50, 99)
    assert (licence.monthly_min, licence.monthly_max) == (1100.0, 2178.0)
    assert licence.detail is not None
    assert "1.100 USD – 2.178 USD" in licence.detail.text
    # Business Premium already contains Defender for Office 365 P1: not sold twice.
    assert "defender_o365_p1" not in [line.key for line in brief.offer.lines]


def test_offers_currency_is_a_field() -> None:
    raw = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "src/hunter/data/offers.yaml").read_text(encoding="utf-8")
    )
    raw["currency"] = "try"
    for licence in raw["licences"]:
        licence["price"] = licence["price"] * 40
    offers = load_offers(raw)
    assert offers.currency == "TRY"
    ctx = _ctx(**NATRO_BARE)
    text = build_brief(ctx.evaluation, ctx.inputs, "tr", offers, PARTNER).to_text()
    assert "240,00 TRY" in text
    assert "USD" not in text
    with pytest.raises(ValueError, match="currency"):
        load_offers({**raw, "currency": ""})
    with pytest.raises(ValueError, match="unknown licence"):
        load_offers({**raw, "by_band": {"micro": "nope"}})


def test_existing_customer_gets_security_upsell_and_healthy_one_copilot() -> None:
    gaps = _ctx(**M365_P_NONE)
    brief = build_brief(gaps.evaluation, gaps.inputs, "en", None, PARTNER)
    keys = [line.key for line in brief.offer.lines]
    assert "offer:price:business_premium:22" in brief.offer.summary.claims
    assert {"defender_o365_p1", "entra_id_p1", "email_auth_setup"} <= set(keys)
    assert "copilot" not in keys
    healthy = _ctx(**{**M365_P_NONE, "dmarc": "v=DMARC1; p=reject"})
    brief = build_brief(healthy.evaluation, healthy.inputs, "en", None, PARTNER)
    assert healthy.evaluation.priority == "P4"
    assert [line.key for line in brief.offer.lines] == ["copilot"]


def test_next_step_by_priority_and_referral() -> None:
    assert build_brief(*_pair(**NATRO_BARE), "en", None, PARTNER).next_step.action == "call"
    p3 = build_brief(*_pair(**M365_P_NONE), "en", None, PARTNER).next_step
    assert (p3.action, p3.within_days) == ("email", 7)
    skip = build_brief(*_pair(a="203.0.113.1"), "en", None, PARTNER).next_step
    assert (skip.action, skip.within_days) == ("archive", None)
    wait = build_brief(*_pair(mx={"status": "timeout"}), "tr", None, PARTNER).next_step
    assert wait.action == "wait"
    assert "1 gün" in wait.text.text
    referral = {"status": "Active", "substatus": "Accepted", "qualification": "SalesQualified"}
    hot = build_brief(*_pair(**M365_P_NONE, referral=referral), "en", None, PARTNER).next_step
    assert (hot.action, hot.within_days) == ("call", 1)


def _pair(**case: Any) -> tuple[Evaluation, EvaluationInput]:
    ctx = _ctx(**case)
    return ctx.evaluation, ctx.inputs


def test_brief_text_and_dict() -> None:
    ctx = _ctx(**NATRO_BARE, attributes={"Firma Ünvanı": "Örnek Makina A.Ş.", "Çalışan Sayısı": "45"})
    tr = build_brief(ctx.evaluation, ctx.inputs, "tr", None, PARTNER)
    en = build_brief(ctx.evaluation, ctx.inputs, "en", None, PARTNER)
    text = tr.to_text()
    for title in (
        "Neden bu öncelik",
        "Güvenlik değerlendirmesi",
        "Arama senaryosu",
        "Teklif önerisi",
        "CRM notu",
    ):
        assert title in text
    assert "Örnek Makina A.Ş. bünyesinde" in text  # the company name column is used in the script
    assert "Why this priority" in en.to_text()
    data = json.loads(json.dumps(tr.to_dict(), ensure_ascii=False))
    assert data["lang"] == "tr"
    assert data["priority"] == "P1"
    assert data["crm_note"] == tr.crm_note
    assert 4 <= len(tr.crm_note.splitlines()) <= 8
    # Every Turkish sentence differs from its English counterpart (no untranslated template).
    for a, b in zip(tr.statements(), en.statements(), strict=True):
        assert a.claims == b.claims
        assert a.text != b.text or a.text.startswith(("v=", "MX"))


def test_idn_domain_is_shown_in_unicode() -> None:
    ctx = _ctx(domain="örnek.com.tr", mx="10 mx.natrohost.com.")
    assert ctx.evaluation.domain == "xn--rnek-4qa.com.tr"
    brief = build_brief(ctx.evaluation, ctx.inputs, "tr", None, PARTNER)
    assert brief.display_domain == "örnek.com.tr"
    assert brief.one_liner.text.startswith("örnek.com.tr:")


def test_catalogue_entries_have_both_languages_with_the_same_placeholders() -> None:
    field = re.compile(r"\{([a-z_]+)\}")

    def walk(node: Any, path: str) -> Iterable[tuple[str, dict[str, Any]]]:
        if isinstance(node, dict):
            if set(node) >= {"tr", "en"}:
                yield path, node
            else:
                for key, value in node.items():
                    yield from walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from walk(value, f"{path}[{i}]")

    entries = list(walk(texts(), ""))
    assert len(entries) > 150
    for path, entry in entries:
        assert entry["tr"], path
        assert entry["en"], path
        assert set(field.findall(str(entry["tr"]))) == set(field.findall(str(entry["en"]))), path
    # Every priority, segment and gap has its phrases.
    rules = default_rules()
    assert set(texts()["next_steps"]) >= {*rules.priority_labels, "incomplete", "referral"}
    assert set(texts()["call_script"]["angle"]) == {"P1", "P2", "P3", "P4", "P5"}


def test_evaluation_dict_round_trip() -> None:
    ctx = _ctx(**M365_P_NONE, attributes={"employees": "120"}, registration={"created": "2010-01-01"})
    ev = ctx.evaluation
    data = json.loads(json.dumps(ev.to_dict()))
    back = Evaluation.from_dict(data)
    assert back.to_dict() == ev.to_dict()
    assert back.priority_rank == 3


def test_now_is_taken_from_the_input_never_the_clock() -> None:
    early = run_case(
        {"id": "t", **NATRO_BARE, "registration": {"expires": "2030-01-01"}, "now": "2029-12-20"}
    )
    late = run_case({"id": "t", **NATRO_BARE, "registration": {"expires": "2030-01-01"}, "now": "2020-01-01"})
    assert "risk:expiring" in early.evaluation.factor_ids
    assert "risk:expiring" not in late.evaluation.factor_ids
    assert early.evaluation.evaluated_at == datetime(2029, 12, 20, tzinfo=UTC)
