"""Differential test: our SPF and DMARC parsers against checkdmarc, used only as a test oracle.

How checkdmarc runs offline. Its parsers mix syntax checks with DNS work: ``parse_spf_record``
resolves include/redirect/a/mx/ptr/exp targets and ``parse_dmarc_record`` checks report
destinations (authorisation record, MX). There is no offline switch, so for the duration of this
module the DNS helpers that checkdmarc's ``spf`` and ``dmarc`` modules call are replaced by
canned answers (every include/redirect target holds ``v=spf1 -all``, every host has an address
and an MX, every report destination authorises us), and dnspython's resolver is made to fail
loudly so that an unpatched path can never reach the network or hang. DMARC selection is compared
through checkdmarc's ``_query_dmarc_record`` fed with the TXT strings of each case.

What is compared (when both sides find a usable record; otherwise only the outcome):

* DMARC: outcome (absent / multiple / invalid / valid), p and sp (effective values, since
  checkdmarc fills in defaults), rua addresses, adkim, aspf, and whether pct was published.
  checkdmarc 6 follows RFC 9989, which removed ``pct``: it drops the value and only warns, so the
  pct number itself cannot be compared; we compare that both sides flag it.
* SPF: validity, the ``all`` result (not for records with an effective redirect: checkdmarc
  reports the redirect target's, which we do not follow) and the evaluated mechanisms.

Every disagreement must be listed in the expected-difference tables below with the reason ours is
right; a new disagreement, or a listed one that no longer happens, fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import checkdmarc.dmarc as cd_dmarc
import checkdmarc.spf as cd_spf
import dns.resolver
import pytest

from hunter.core.dmarc import parse_dmarc, select_dmarc
from hunter.core.spf import QUALIFIER_RESULTS, parse_spf

POLICY_DOMAIN = "example.com"

# --- corpora ----------------------------------------------------------------------------------

# (case id, TXT strings found at _dmarc.<domain>)
DMARC_CASES: list[tuple[str, list[str]]] = [
    ("basic-reject", ["v=DMARC1; p=reject; rua=mailto:dmarc@example.com"]),
    ("basic-none", ["v=DMARC1; p=none"]),
    (
        "quarantine-rua-ruf",
        ["v=DMARC1; p=quarantine; rua=mailto:d@example.com; ruf=mailto:f@example.com; fo=1"],
    ),
    ("P=Reject", ["v=DMARC1; P=Reject"]),
    ("all-upper", ["V=DMARC1; P=REJECT; SP=QUARANTINE"]),
    ("sp=none-before-p", ["v=DMARC1; sp=none; p=reject"]),
    ("sp=none-after-p", ["v=DMARC1; p=reject; sp=none"]),
    ("pct=50", ["v=DMARC1; p=quarantine; pct=50; rua=mailto:d@example.com"]),
    ("pct=100", ["v=DMARC1; p=reject; pct=100"]),
    ("pct=0", ["v=DMARC1; p=reject; pct=0"]),
    ("pct=abc", ["v=DMARC1; p=reject; pct=abc"]),
    ("rua-no-scheme", ["v=DMARC1; p=reject; rua=dmarc@example.com"]),
    ("rua-empty-mailto", ["v=DMARC1; p=reject; rua=mailto:"]),
    ("rua-bad-size", ["v=DMARC1; p=reject; rua=mailto:d@example.com!10x"]),
    ("rua-size", ["v=DMARC1; p=reject; rua=mailto:d@example.com!10m"]),
    ("rua-two", ["v=DMARC1; p=reject; rua=mailto:a@example.com,mailto:b@example.net"]),
    ("rua-two-spaced", ["v=DMARC1; p=reject; rua=mailto:a@example.com, mailto:b@example.net"]),
    ("rua-https", ["v=DMARC1; p=none; rua=https://reports.example.com/dmarc"]),
    ("rua-trailing-comma", ["v=DMARC1; p=reject; rua=mailto:a@example.com,"]),
    ("rua-idn", ["v=DMARC1; p=reject; rua=mailto:d@örnek.com.tr"]),
    ("rua-localhost", ["v=DMARC1; p=reject; rua=mailto:dmarc@localhost"]),
    ("duplicate-p", ["v=DMARC1; p=reject; p=none"]),
    ("duplicate-rua-case", ["v=DMARC1; p=reject; rua=mailto:a@example.com; RUA=mailto:b@example.com"]),
    ("missing-p", ["v=DMARC1; rua=mailto:d@example.com"]),
    ("bare-version", ["v=DMARC1"]),
    ("v-not-first", ["p=reject; v=DMARC1"]),
    ("two-records", ["v=DMARC1; p=none", "v=DMARC1; p=reject"]),
    ("lowercase-version", ["v=dmarc1; p=reject"]),
    ("leading-space", [" v=DMARC1; p=reject"]),
    ("no-separator-after-version", ["v=DMARC1 p=reject"]),
    ("spaces-around", ["v = DMARC1 ; p = quarantine ; adkim = s ; aspf = s"]),
    ("trailing-semicolon", ["v=DMARC1; p=reject;"]),
    ("no-spaces", ["v=DMARC1;p=reject;sp=reject;adkim=s;aspf=s"]),
    ("adkim-invalid", ["v=DMARC1; p=reject; adkim=x"]),
    ("aspf-upper", ["v=DMARC1; p=reject; aspf=S"]),
    ("p-invalid", ["v=DMARC1; p=rejected"]),
    ("p-empty", ["v=DMARC1; p="]),
    ("sp-invalid", ["v=DMARC1; p=reject; sp=block"]),
    ("np", ["v=DMARC1; p=reject; np=quarantine"]),
    ("np-invalid", ["v=DMARC1; p=reject; np=maybe"]),
    ("t=y", ["v=DMARC1; p=reject; t=y"]),
    ("psd-invalid", ["v=DMARC1; p=reject; psd=x"]),
    ("unknown-tag", ["v=DMARC1; p=none; foo=bar"]),
    ("empty-tag", ["v=DMARC1;; p=reject"]),
    ("tag-without-value", ["v=DMARC1; p=reject; adkim"]),
    ("ri", ["v=DMARC1; p=reject; ri=3600"]),
    ("ri-invalid", ["v=DMARC1; p=reject; ri=1h"]),
    ("rf", ["v=DMARC1; p=reject; rf=afrf"]),
    ("fo-invalid", ["v=DMARC1; p=reject; fo=2"]),
    ("fo-list", ["v=DMARC1; p=reject; fo=1:d:s; ruf=mailto:f@example.com"]),
    ("with-unrelated-txt", ["google-site-verification=abc", "v=DMARC1; p=reject"]),
    ("spf-at-dmarc", ["v=spf1 -all"]),
    ("nothing", []),
]

SPF_CASES: list[tuple[str, str]] = [
    ("fail-all", "v=spf1 -all"),
    ("ip4s", "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.7 -all"),
    ("ip6", "v=spf1 ip6:2001:db8::/32 ~all"),
    ("ip6-upper", "v=spf1 ip6:2001:DB8::1 -all"),
    ("m365", "v=spf1 include:spf.protection.outlook.com -all"),
    ("google", "v=spf1 include:_spf.google.com ~all"),
    ("trailing-dot", "v=spf1 include:spf.protection.outlook.com. -all"),
    ("upper-version", "V=SPF1 -ALL"),
    ("extra-spaces", "v=spf1   ip4:192.0.2.1    -all  "),
    ("tabs", "v=spf1\tip4:192.0.2.1\t-all"),
    ("plus-all", "v=spf1 +all"),
    ("bare-all", "v=spf1 all"),
    ("neutral-all", "v=spf1 ?all"),
    ("a-mx", "v=spf1 a mx ~all"),
    ("a-mx-cidr", "v=spf1 a:mail.example.com/24 mx:example.com//64 -all"),
    ("a-mx-short-cidr", "v=spf1 a/24 mx/24//64 -all"),
    ("ptr", "v=spf1 ptr -all"),
    ("ptr-domain", "v=spf1 ptr:example.com ?all"),
    ("exists-macro", "v=spf1 exists:%{i}._spf.example.com -all"),
    ("redirect", "v=spf1 redirect=_spf.example.com"),
    ("redirect-and-all", "v=spf1 include:a.example.com redirect=_spf.example.com -all"),
    ("duplicate-redirect", "v=spf1 redirect=a.example.com redirect=b.example.com"),
    ("duplicate-exp", "v=spf1 exp=explain.example.com exp=other.example.com -all"),
    ("empty-include", "v=spf1 include: -all"),
    ("bare-include", "v=spf1 include -all"),
    ("unknown-mechanism", "v=spf1 foo -all"),
    ("bad-ip4", "v=spf1 ip4:192.0.2.300 -all"),
    ("bad-ip4-cidr", "v=spf1 ip4:192.0.2.0/33 -all"),
    ("ip4-cidr-leading-zero", "v=spf1 ip4:192.0.2.0/024 -all"),
    ("ip6-holds-ip4", "v=spf1 ip6:192.0.2.1 -all"),
    ("concatenated-all", "v=spf1 ip4:192.0.2.1~all"),
    ("qualified-modifier", "v=spf1 +redirect=x.example.com"),
    ("unknown-modifier", "v=spf1 foo=bar -all"),
    ("bare-version", "v=spf1"),
    ("no-all", "v=spf1 ip4:192.0.2.1"),
    ("terms-after-all", "v=spf1 -all include:x.example.com"),
    ("bad-term-after-all", "v=spf1 -all ip4:999.1.1.1"),
    ("two-alls", "v=spf1 -all ~all"),
    ("eleven-lookups", "v=spf1 " + " ".join(f"include:s{i}.example.com" for i in range(11)) + " -all"),
    ("ten-lookups", "v=spf1 " + " ".join(f"include:s{i}.example.com" for i in range(10)) + " -all"),
    ("bad-macro", "v=spf1 include:%{z}.example.com -all"),
    ("all-with-value", "v=spf1 all:example.com"),
    ("include-with-slash", "v=spf1 include:example.com/24 -all"),
]

# --- expected differences: case id -> (fields that differ, why ours is right) -----------------

DMARC_EXPECTED_DIFFERENCES: dict[str, tuple[frozenset[str], str]] = {
    "pct=abc": (
        frozenset({"outcome"}),
        "RFC 7489 §6.3 defines pct as an integer 0-100 and RFC 7489 receivers still apply it; "
        "checkdmarc skips removed tags without validating them. We flag the malformed value.",
    ),
    "ri-invalid": (
        frozenset({"outcome"}),
        "RFC 7489 §6.3 defines ri as a 32-bit unsigned integer; checkdmarc skips the retired "
        "tag unvalidated. We report the publisher's error (the value falls back to 86400).",
    ),
    "rua-bad-size": (
        frozenset({"outcome"}),
        "RFC 7489 §6.2 (dmarc-uri): the size suffix is '!' 1*DIGIT [k/m/g/t]; '10x' violates "
        "it. checkdmarc's mailto pattern accepts any word characters after '!'.",
    ),
    "rua-localhost": (
        frozenset({"outcome"}),
        "RFC 5321 §2.3.5: only fully qualified domain names may be used in SMTP, so reports "
        "to 'localhost' can never be delivered; checkdmarc's pattern accepts any word characters.",
    ),
    "adkim-invalid": (
        frozenset({"outcome"}),
        "RFC 7489 §6.4 / RFC 9989 ABNF allow only r or s. Both sides fall back to r; we count "
        "the grammar violation as an error, checkdmarc only warns (yet errors on invalid p/sp).",
    ),
    "leading-space": (
        frozenset({"outcome"}),
        "RFC 7489 §6.6.3: records that do not start with a v= tag are discarded, so receivers "
        "see no DMARC record; we report 'absent' with a near-miss warning, checkdmarc an error.",
    ),
}

SPF_EXPECTED_DIFFERENCES: dict[str, tuple[frozenset[str], str]] = {
    "upper-version": (
        frozenset({"valid"}),
        'RFC 7208 §12 writes the version as the ABNF literal "v=spf1", which is '
        "case-insensitive (RFC 5234 §2.3); checkdmarc's own record selection agrees, only its "
        "grammar matches the version case-sensitively.",
    ),
    "bad-term-after-all": (
        frozenset({"valid"}),
        "RFC 7208 §4.6: a syntax error anywhere in the record is a permerror, even after 'all'; "
        "checkdmarc only validates terms up to the first 'all'.",
    ),
}


# --- offline checkdmarc -------------------------------------------------------------------------


@dataclass
class _FakeDns:
    dmarc_txt: list[str] = field(default_factory=list)

    def query_dns(self, name: str, rdtype: str, **_: Any) -> list[str]:
        if name.startswith("_dmarc."):
            if not self.dmarc_txt:
                raise dns.resolver.NXDOMAIN
            return list(self.dmarc_txt)
        # report-destination authorisation records (RFC 7489 §7.1): always granted
        return ["v=DMARC1"]


def _no_network(*_: Any, **__: Any) -> Any:
    raise RuntimeError("checkdmarc tried to reach DNS; a helper is not stubbed")


@pytest.fixture(scope="module")
def fake_dns() -> Iterator[_FakeDns]:
    fake = _FakeDns()
    mx = [{"preference": 10, "hostname": "mx.example.net", "addresses": ["192.0.2.25"]}]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(dns.resolver.Resolver, "resolve", _no_network)
        mp.setattr(dns.resolver, "resolve", _no_network)
        mp.setattr(cd_dmarc, "query_dns", fake.query_dns)
        mp.setattr(cd_dmarc, "get_mx_records", lambda *a, **k: mx)
        mp.setattr(cd_spf, "query_spf_record", lambda *a, **k: {"record": "v=spf1 -all", "warnings": []})
        mp.setattr(cd_spf, "get_a_records", lambda *a, **k: ["192.0.2.10"])
        mp.setattr(cd_spf, "get_mx_records", lambda *a, **k: mx)
        mp.setattr(cd_spf, "get_txt_records", lambda *a, **k: ["explanation"])
        mp.setattr(cd_spf, "get_reverse_dns", lambda *a, **k: [])
        yield fake


# --- normalised views ---------------------------------------------------------------------------


def _ours_dmarc(txt: list[str]) -> dict[str, Any]:
    selection = select_dmarc(txt)
    if selection.count > 1:
        return {"outcome": "multiple"}
    if selection.record is None:
        return {"outcome": "absent"}
    parsed = parse_dmarc(selection.record)
    if not parsed.valid:
        return {"outcome": "invalid"}
    return {
        "outcome": "valid",
        "p": parsed.effective_p,
        "sp": parsed.effective_sp,
        "rua": [u.address for u in parsed.rua],
        "adkim": parsed.adkim,
        "aspf": parsed.aspf,
        "pct_flagged": parsed.pct_published,
    }


def _theirs_dmarc(fake: _FakeDns, txt: list[str]) -> dict[str, Any]:
    fake.dmarc_txt = txt
    try:
        record = cd_dmarc._query_dmarc_record(POLICY_DOMAIN, ignore_unrelated_records=True)
    except cd_dmarc.MultipleDMARCRecords:
        return {"outcome": "multiple"}
    except cd_dmarc.DMARCError:
        return {"outcome": "invalid"}
    if record is None:
        return {"outcome": "absent"}
    try:
        result = cd_dmarc.parse_dmarc_record(record, POLICY_DOMAIN)
    except cd_dmarc.DMARCError:
        return {"outcome": "invalid"}
    tags = result["tags"]
    rua = tags.get("rua", {}).get("value", [])
    return {
        "outcome": "valid",
        "p": tags["p"]["value"],
        "sp": tags["sp"]["value"],
        "rua": [u["address"] for u in rua],
        "adkim": tags["adkim"]["value"],
        "aspf": tags["aspf"]["value"],
        "pct_flagged": any("pct tag was removed" in w for w in result["warnings"]),
    }


def _ours_spf(record: str) -> dict[str, Any]:
    parsed = parse_spf(record)
    if not parsed.valid:
        return {"valid": False}
    mechanisms = []
    for m in parsed.mechanisms:
        if m.after_all or m.kind == "all":
            continue
        value = m.network if m.kind in ("ip4", "ip6") else (m.value or POLICY_DOMAIN)
        mechanisms.append((m.result, m.kind, value))
    view: dict[str, Any] = {"valid": True, "mechanisms": mechanisms}
    if parsed.redirect is None or parsed.redirect_ignored:
        view["all"] = QUALIFIER_RESULTS[parsed.all_qualifier] if parsed.all_qualifier else "neutral"
    return view


def _theirs_spf(record: str) -> dict[str, Any]:
    try:
        result = cd_spf.parse_spf_record(record, POLICY_DOMAIN)
    except cd_spf.SPFError:
        return {"valid": False}
    if "error" in result:
        return {"valid": False}
    parsed = result["parsed"]
    # A trailing dot names the same domain (RFC 7208 §12 domain-end); checkdmarc keeps it.
    mechanisms = [
        (m["action"], m["mechanism"], m["value"].rstrip(".") or POLICY_DOMAIN) for m in parsed["mechanisms"]
    ]
    return {"valid": True, "mechanisms": mechanisms, "all": parsed["all"]}


def _differences(ours: dict[str, Any], theirs: dict[str, Any], key: str) -> frozenset[str]:
    # When the outcome itself differs the other fields are not comparable.
    if ours[key] != theirs[key]:
        return frozenset({key})
    return frozenset(name for name in set(ours) | set(theirs) if ours.get(name) != theirs.get(name))


@dataclass
class _Tally:
    total: int
    agreed: int
    explained: dict[str, frozenset[str]]
    unexpected: dict[str, tuple[dict[str, Any], dict[str, Any]]]
    stale: list[str]


def _run_dmarc(fake: _FakeDns) -> _Tally:
    explained: dict[str, frozenset[str]] = {}
    unexpected = {}
    for case_id, txt in DMARC_CASES:
        ours, theirs = _ours_dmarc(txt), _theirs_dmarc(fake, txt)
        diff = _differences(ours, theirs, "outcome")
        expected = DMARC_EXPECTED_DIFFERENCES.get(case_id, (frozenset(), ""))[0]
        if diff and diff == expected:
            explained[case_id] = diff
        elif diff != expected:
            unexpected[case_id] = (ours, theirs)
    stale = [c for c in DMARC_EXPECTED_DIFFERENCES if c not in explained and c not in unexpected]
    agreed = len(DMARC_CASES) - len(explained) - len(unexpected)
    return _Tally(len(DMARC_CASES), agreed, explained, unexpected, stale)


def _run_spf() -> _Tally:
    explained: dict[str, frozenset[str]] = {}
    unexpected = {}
    for case_id, record in SPF_CASES:
        ours = _ours_spf(record)
        theirs = _theirs_spf(record)
        if ours["valid"] and "all" not in ours:
            theirs.pop("all", None)
        diff = _differences(ours, theirs, "valid")
        expected = SPF_EXPECTED_DIFFERENCES.get(case_id, (frozenset(), ""))[0]
        if diff and diff == expected:
            explained[case_id] = diff
        elif diff != expected:
            unexpected[case_id] = (ours, theirs)
    stale = [c for c in SPF_EXPECTED_DIFFERENCES if c not in explained and c not in unexpected]
    agreed = len(SPF_CASES) - len(explained) - len(unexpected)
    return _Tally(len(SPF_CASES), agreed, explained, unexpected, stale)


@pytest.fixture(scope="module")
def tallies(fake_dns: _FakeDns) -> dict[str, _Tally]:
    return {"DMARC": _run_dmarc(fake_dns), "SPF": _run_spf()}


def test_corpus_sizes() -> None:
    assert len(DMARC_CASES) >= 40
    assert len(SPF_CASES) >= 25
    assert len({c for c, _ in DMARC_CASES}) == len(DMARC_CASES)
    assert len({c for c, _ in SPF_CASES}) == len(SPF_CASES)


@pytest.mark.parametrize("kind", ["DMARC", "SPF"])
def test_no_unexplained_disagreement(tallies: dict[str, _Tally], kind: str) -> None:
    tally = tallies[kind]
    assert tally.unexpected == {}, f"new {kind} disagreements with checkdmarc (ours, theirs)"
    assert tally.stale == [], f"listed {kind} differences no longer happen; remove them from the table"


def test_agreement_summary(
    tallies: dict[str, _Tally], capsys: pytest.CaptureFixture[str], record_property: Any
) -> None:
    dmarc, spf = tallies["DMARC"], tallies["SPF"]
    explained = len(dmarc.explained) + len(spf.explained)
    line = (
        f"checkdmarc agreement: DMARC {dmarc.agreed}/{dmarc.total}, SPF {spf.agreed}/{spf.total}; "
        f"{explained} explained"
    )
    record_property("checkdmarc_agreement", line)
    with capsys.disabled():
        print(f"\n{line}")
    assert dmarc.agreed + len(dmarc.explained) == dmarc.total
    assert spf.agreed + len(spf.explained) == spf.total
    assert len(dmarc.explained) == len(DMARC_EXPECTED_DIFFERENCES)
    assert len(spf.explained) == len(SPF_EXPECTED_DIFFERENCES)
