"""Mail-security posture facts on Evidence built in code."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hunter.core.evidence import Evidence, Lookup, LookupPurpose, LookupStatus
from hunter.core.posture import MailPosture, assess_posture

OK = LookupStatus.OK
P = LookupPurpose
DOMAIN = "firma.com.tr"


class EvidenceBuilder:
    def __init__(self, domain: str = DOMAIN) -> None:
        self.domain = domain
        self.lookups: list[Lookup] = []
        self.spf_count = 0
        self.spf_void = 0
        self.spf_errors: list[str] = []
        self.dmarc_domain: str | None = None

    def add(
        self,
        name: str,
        purpose: LookupPurpose,
        answers: list[str] | None = None,
        *,
        rdtype: str = "TXT",
        status: LookupStatus | None = None,
        cnames: list[str] | None = None,
        selector: str | None = None,
    ) -> EvidenceBuilder:
        answers = answers or []
        if status is None:
            status = OK if answers else LookupStatus.NXDOMAIN
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

    def txt(self, *records: str, status: LookupStatus | None = None) -> EvidenceBuilder:
        if status is None and not records:
            status = LookupStatus.NODATA
        return self.add(self.domain, P.APEX_TXT, list(records), status=status)

    def include(self, name: str, *records: str, status: LookupStatus | None = None) -> EvidenceBuilder:
        return self.add(name, P.SPF_INCLUDE, list(records), status=status)

    def dmarc(self, *records: str, status: LookupStatus | None = None) -> EvidenceBuilder:
        return self.add(f"_dmarc.{self.domain}", P.DMARC, list(records), status=status)

    def dkim(
        self,
        selector: str,
        *records: str,
        status: LookupStatus | None = None,
        cnames: list[str] | None = None,
    ) -> EvidenceBuilder:
        return self.add(
            f"{selector}._domainkey.{self.domain}",
            P.DKIM,
            list(records),
            status=status,
            cnames=cnames,
            selector=selector,
        )

    def build(self) -> Evidence:
        return Evidence(
            domain=self.domain,
            collected_at=datetime(2025, 1, 1, tzinfo=UTC),
            lookups=self.lookups,
            spf_lookup_count=self.spf_count,
            spf_void_lookups=self.spf_void,
            spf_errors=self.spf_errors,
            dmarc_domain=self.dmarc_domain,
        )

    def posture(self) -> MailPosture:
        return assess_posture(self.build())


def ev(domain: str = DOMAIN) -> EvidenceBuilder:
    return EvidenceBuilder(domain)


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def rsa_key(bits: int, *, spki: bool = True) -> str:
    """A syntactically real RSA public key of the given modulus size (not a usable key)."""
    modulus = b"\x00" + b"\xc3" + b"\x01" * (bits // 8 - 1)  # leading 0x00: INTEGER stays positive
    rsa = _der(0x30, _der(0x02, modulus) + _der(0x02, b"\x01\x00\x01"))
    if spki:
        algorithm = _der(0x30, _der(0x06, bytes.fromhex("2a864886f70d010101")) + _der(0x05, b""))
        rsa = _der(0x30, algorithm + _der(0x03, b"\x00" + rsa))
    return base64.b64encode(rsa).decode()


# --- SPF ------------------------------------------------------------------------------------------


def test_spf_present_with_microsoft_in_a_nested_include() -> None:
    builder = (
        ev()
        .txt("MS=ms1", "v=spf1 include:_spf.firma.com.tr -all")
        .include("_spf.firma.com.tr", "v=spf1 include:spf.protection.outlook.com ip4:192.0.2.1 -all")
        .include("spf.protection.outlook.com", "v=spf1 ip4:40.92.0.0/15 -all")
    )
    builder.spf_count = 2
    spf = builder.posture().spf
    assert (spf.status, spf.valid, spf.record_count) == ("present", True, 1)
    assert spf.record == "v=spf1 include:_spf.firma.com.tr -all"
    assert spf.includes == ("_spf.firma.com.tr",)
    assert spf.tree_targets == ("_spf.firma.com.tr", "spf.protection.outlook.com")
    assert spf.includes_microsoft
    assert not spf.includes_google
    assert spf.includes_platform["m365"]
    assert not spf.includes_platform["hosting"]
    assert (spf.all_qualifier, spf.all_result) == ("-", "fail")
    assert (spf.lookups_used, spf.over_limit) == (2, False)
    assert spf.tree_complete
    assert spf.include_providers == ("m365",)


def test_spf_microsoft_claim_needs_the_include() -> None:
    spf = ev().txt("v=spf1 a mx include:spf.natrohost.com ~all").include("spf.natrohost.com").posture().spf
    assert not spf.includes_microsoft
    assert spf.includes_platform["hosting"]
    assert spf.all_result == "softfail"


def test_spf_gateway_include() -> None:
    spf = ev().txt("v=spf1 include:_netblocks.mimecast.com -all").posture().spf
    assert spf.includes_gateway["mimecast"]
    assert not spf.tree_complete
    assert spf.unresolved_includes == ("_netblocks.mimecast.com",)


def test_two_spf_records_are_invalid() -> None:
    spf = ev().txt("v=spf1 -all", "v=spf1 include:_spf.google.com ~all").posture().spf
    assert (spf.status, spf.valid, spf.record_count, spf.record) == ("invalid", False, 2, None)
    assert spf.errors[0]["code"] == "multiple_records"


def test_spf_over_ten_lookups_and_void_lookups() -> None:
    builder = ev().txt("v=spf1 " + " ".join(f"include:s{i}.example.com" for i in range(12)) + " -all")
    builder.spf_count = 12
    builder.spf_void = 3
    builder.spf_errors = ["more than 10 DNS lookups (12 counted)"]
    spf = builder.posture().spf
    assert spf.status == "present"
    assert spf.over_limit
    assert spf.void_over_limit
    assert not spf.valid
    codes = [e["code"] for e in spf.errors]
    assert codes.count("too_many_lookups") == 1
    assert "too_many_void_lookups" in codes
    assert spf.walk_errors == ("more than 10 DNS lookups (12 counted)",)


def test_spf_include_loop_is_an_error() -> None:
    spf = (
        ev()
        .txt("v=spf1 include:a.example -all")
        .include("a.example", "v=spf1 include:b.example -all")
        .include("b.example", "v=spf1 include:a.example -all")
        .posture()
        .spf
    )
    assert spf.include_loops == ("a.example",)
    assert not spf.valid
    assert any(e["code"] == "include_loop" for e in spf.errors)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (LookupStatus.NODATA, "missing"),
        (LookupStatus.NXDOMAIN, "missing"),
        (LookupStatus.TIMEOUT, "unknown"),
        (LookupStatus.SERVFAIL, "unknown"),
    ],
)
def test_spf_missing_only_on_definite_answers(status: LookupStatus, expected: str) -> None:
    spf = ev().txt(status=status).posture().spf
    assert spf.status == expected
    assert spf.lookup_status == status.value
    assert not spf.includes_microsoft


def test_spf_missing_when_txt_has_no_spf_and_reports_near_miss() -> None:
    spf = ev().txt("MS=ms1", "v=spf1-all").posture().spf
    assert spf.status == "missing"
    assert spf.warnings[0]["code"] == "malformed_spf_like_record"


def test_spf_without_apex_lookup_is_unknown() -> None:
    assert ev().posture().spf.status == "unknown"


# --- DMARC ----------------------------------------------------------------------------------------


def test_dmarc_sp_none_does_not_override_p_reject() -> None:
    dmarc = ev().dmarc("v=DMARC1; p=reject; sp=none; rua=mailto:d@firma.com.tr").posture().dmarc
    assert dmarc.status == "present"
    assert (dmarc.p, dmarc.sp, dmarc.effective_p, dmarc.effective_sp) == ("reject", "none", "reject", "none")
    assert dmarc.enforced
    assert dmarc.rua == ("mailto:d@firma.com.tr",)
    assert dmarc.source_domain == DOMAIN
    assert not dmarc.from_organisational_domain


def test_dmarc_upper_case_policy() -> None:
    dmarc = ev().dmarc("v=DMARC1; P=Reject").posture().dmarc
    assert (dmarc.effective_p, dmarc.enforced) == ("reject", True)


def test_dmarc_pct_and_none() -> None:
    dmarc = ev().dmarc("v=DMARC1; p=quarantine; pct=25").posture().dmarc
    assert (dmarc.effective_p, dmarc.pct, dmarc.enforced, dmarc.fully_enforced) == (
        "quarantine",
        25,
        True,
        False,
    )
    none = ev().dmarc("v=DMARC1; p=none").posture().dmarc
    assert (none.status, none.enforced) == ("present", False)


@pytest.mark.parametrize(
    ("status", "answers", "expected", "reason"),
    [
        (LookupStatus.NXDOMAIN, [], "missing", "nxdomain"),
        (LookupStatus.NODATA, [], "missing", "nodata"),
        (OK, ["some-verification=abc"], "missing", "no_dmarc_record"),
        (LookupStatus.SERVFAIL, [], "unknown", None),
        (LookupStatus.TIMEOUT, [], "unknown", None),
        (LookupStatus.REFUSED, [], "unknown", None),
    ],
)
def test_dmarc_missing_only_on_definite_answers(
    status: LookupStatus, answers: list[str], expected: str, reason: str | None
) -> None:
    dmarc = ev().dmarc(*answers, status=status).posture().dmarc
    assert (dmarc.status, dmarc.missing_reason) == (expected, reason)
    assert dmarc.lookup_status == status.value
    assert dmarc.effective_p is None
    assert not dmarc.enforced


def test_dmarc_without_lookup_is_unknown() -> None:
    assert ev().posture().dmarc.status == "unknown"


def test_dmarc_two_records_are_invalid() -> None:
    dmarc = ev().dmarc("v=DMARC1; p=reject", "v=DMARC1; p=none").posture().dmarc
    assert (dmarc.status, dmarc.record_count, dmarc.enforced) == ("invalid", 2, False)


def test_dmarc_version_not_first_is_no_record_and_duplicates_keep_the_first() -> None:
    dmarc = ev().dmarc("p=reject; v=DMARC1").posture().dmarc
    # Not a DMARC record at all (v= must come first) → the domain has none.
    assert dmarc.status == "missing"
    wrong_case = ev().dmarc("v=DMARC1; p=reject; p=none").posture().dmarc
    assert wrong_case.status == "present"
    assert not wrong_case.valid  # duplicate tag: an error, the first p wins
    assert wrong_case.effective_p == "reject"


def test_dmarc_organisational_fallback() -> None:
    builder = ev("mail.firma.com.tr").dmarc(status=LookupStatus.NXDOMAIN)
    builder.add("_dmarc.firma.com.tr", P.DMARC_ORG, ["v=DMARC1; p=quarantine"])
    dmarc = builder.posture().dmarc
    assert (dmarc.status, dmarc.source_domain, dmarc.from_organisational_domain) == (
        "present",
        "firma.com.tr",
        True,
    )
    failing = ev("mail.firma.com.tr").dmarc(status=LookupStatus.NXDOMAIN)
    failing.add("_dmarc.firma.com.tr", P.DMARC_ORG, status=LookupStatus.TIMEOUT)
    assert failing.posture().dmarc.status == "unknown"


# --- DKIM ----------------------------------------------------------------------------------------


def test_dkim_found_with_key_size() -> None:
    posture = (
        ev()
        .dkim("default", f"v=DKIM1; k=rsa; p={rsa_key(2048)}")
        .dkim("google", f"v=DKIM1; p={rsa_key(1024, spki=False)}")
        .dkim("selector1")
        .posture()
    )
    dkim = posture.dkim
    assert dkim.status == "found"
    assert dkim.found == ("default", "google")
    assert dkim.probed == 3
    by_name = {s.selector: s for s in dkim.selectors}
    assert (by_name["default"].key_bits, by_name["google"].key_bits) == (2048, 1024)
    assert by_name["selector1"].status == "absent"


def test_dkim_revoked_key_is_not_a_key() -> None:
    dkim = ev().dkim("default", "v=DKIM1; p=").posture().dkim
    assert dkim.selectors[0].status == "found"
    assert not dkim.selectors[0].key_present
    assert dkim.status == "not_found"


def test_dkim_txt_without_dkim_tags_is_not_found() -> None:
    dkim = ev().dkim("mail", "hello world").posture().dkim
    assert dkim.selectors[0].status == "no_record"
    assert dkim.status == "not_found"


def test_dkim_ed25519() -> None:
    key = base64.b64encode(bytes(32)).decode()
    selector = ev().dkim("s1", f"v=DKIM1; k=ed25519; p={key}").posture().dkim.selectors[0]
    assert (selector.key_type, selector.key_bits) == ("ed25519", 256)


def test_dkim_m365_cname_only_is_a_trace_not_a_key() -> None:
    target = "selector1-firma-com-tr._domainkey.firmatr.onmicrosoft.com"
    dkim = ev().dkim("selector1", cnames=[target]).dkim("selector2").posture().dkim
    s1 = dkim.selectors[0]
    assert (s1.status, s1.m365, s1.cname_target, s1.key_present) == ("cname_only", True, target, False)
    assert dkim.status == "not_found"
    assert dkim.m365_cname_selectors == ("selector1",)
    assert not dkim.m365_signing


def test_dkim_m365_cname_resolving_to_a_key_is_signing() -> None:
    target = "selector1-firma-com-tr._domainkey.firmatr.onmicrosoft.com"
    dkim = ev().dkim("selector1", f"v=DKIM1; k=rsa; p={rsa_key(2048)}", cnames=[target]).posture().dkim
    assert dkim.status == "found"
    assert dkim.m365_signing


def test_dkim_failure_is_unknown_not_missing() -> None:
    dkim = ev().dkim("selector1", status=LookupStatus.TIMEOUT).dkim("google").posture().dkim
    assert dkim.status == "unknown"
    assert dkim.selectors[0].status == "unknown"
    assert ev().posture().dkim.status == "unknown"  # nothing probed: nothing known


# --- MTA-STS, TLS-RPT, BIMI -------------------------------------------------------------------------


def test_policy_records() -> None:
    builder = (
        ev()
        .add(f"_mta-sts.{DOMAIN}", P.MTA_STS, ["v=STSv1; id=20240101"])
        .add(f"_smtp._tls.{DOMAIN}", P.TLS_RPT, ["v=TLSRPTv1; rua=mailto:tls@firma.com.tr"])
        .add(f"default._bimi.{DOMAIN}", P.BIMI, status=LookupStatus.TIMEOUT)
    )
    posture = builder.posture()
    assert (posture.mta_sts.status, posture.mta_sts.valid, posture.mta_sts.tags["id"]) == (
        "present",
        True,
        "20240101",
    )
    assert (posture.tls_rpt.status, posture.tls_rpt.valid) == ("present", True)
    assert posture.bimi.status == "unknown"


def test_policy_records_missing_and_invalid() -> None:
    posture = (
        ev()
        .add(f"_mta-sts.{DOMAIN}", P.MTA_STS, status=LookupStatus.NXDOMAIN)
        .add(
            f"_smtp._tls.{DOMAIN}",
            P.TLS_RPT,
            ["v=TLSRPTv1; rua=mailto:a@x.com", "v=TLSRPTv1; rua=mailto:b@x.com"],
        )
        .add(f"default._bimi.{DOMAIN}", P.BIMI, ["v=BIMI1;"])
        .posture()
    )
    assert posture.mta_sts.status == "missing"
    assert (posture.tls_rpt.status, posture.tls_rpt.record_count) == ("invalid", 2)
    assert (posture.bimi.status, posture.bimi.valid) == ("present", False)


# --- output -------------------------------------------------------------------------------------------


def test_to_dict_is_json_ready() -> None:
    posture = (
        ev()
        .txt("v=spf1 include:spf.protection.outlook.com -all")
        .dmarc("v=DMARC1; p=reject")
        .dkim("selector1", cnames=["selector1-x._domainkey.t.onmicrosoft.com"])
        .posture()
    )
    data = json.loads(json.dumps(posture.to_dict()))
    assert data["spf"]["includes_microsoft"] is True
    assert data["dmarc"]["effective_p"] == "reject"
    assert data["dkim"]["selectors"][0]["status"] == "cname_only"
    assert set(data) == {"domain", "spf", "dmarc", "dkim", "mta_sts", "tls_rpt", "bimi"}


_txt = st.text(alphabet=st.sampled_from("v=spf1DMARCKIp;: -~+?aeinclude.xyz%{}/"), max_size=60)


@settings(max_examples=200, deadline=None)
@given(apex=st.lists(_txt, max_size=3), dmarc=st.lists(_txt, max_size=2), dkim=st.lists(_txt, max_size=2))
def test_posture_never_raises_and_never_claims_absence_it_did_not_see(
    apex: list[str], dmarc: list[str], dkim: list[str]
) -> None:
    builder = ev().txt(*apex).dmarc(*dmarc, status=OK if dmarc else LookupStatus.TIMEOUT)
    builder.dkim("default", *dkim, status=OK if dkim else LookupStatus.SERVFAIL)
    posture = builder.posture()
    json.dumps(posture.to_dict())
    if not dmarc:
        assert posture.dmarc.status == "unknown"
    if not dkim:
        assert posture.dkim.status == "unknown"
