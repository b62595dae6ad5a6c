"""DMARC selection and parsing (RFC 7489, RFC 9989): table-driven rules plus property tests."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hunter.core.dmarc import parse_dmarc, parse_report_uri, policy_strength, select_dmarc

# --- selection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("txt", "record", "count", "error", "near_misses"),
    [
        (["v=DMARC1; p=reject"], "v=DMARC1; p=reject", 1, None, 0),
        ([], None, 0, None, 0),
        (["v=spf1 -all"], None, 0, None, 0),
        (["v=DMARC1; p=none", "v=DMARC1; p=reject"], None, 2, "multiple_records", 0),
        (["V = DMARC1; p=reject"], "V = DMARC1; p=reject", 1, None, 0),
        (["v=DMARC1"], "v=DMARC1", 1, None, 0),
        (["v=DMARC1;"], "v=DMARC1;", 1, None, 0),
        (["v=dmarc1; p=reject"], None, 0, None, 1),
        (["v=DMARC1 p=reject"], None, 0, None, 1),
        ([" v=DMARC1; p=reject"], None, 0, None, 1),
        (["v=DMARC2; p=reject"], None, 0, None, 1),
        (["p=reject; v=DMARC1"], None, 0, None, 0),
        (["unrelated", "v=DMARC1; p=quarantine"], "v=DMARC1; p=quarantine", 1, None, 0),
    ],
)
def test_select_dmarc(
    txt: list[str], record: str | None, count: int, error: str | None, near_misses: int
) -> None:
    selection = select_dmarc(txt)
    assert selection.record == record
    assert selection.count == count
    assert (selection.error.code if selection.error else None) == error
    assert len(selection.warnings) == near_misses
    json.dumps(selection.to_dict())


# --- field values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ("v=DMARC1; p=reject", {"p": "reject", "sp": None, "effective_sp": "reject", "pct": 100}),
        # the earlier tool's traps: case and substring reading
        ("v=DMARC1; P=Reject", {"p": "reject", "effective_p": "reject"}),
        ("V=DMARC1; P=REJECT; SP=QUARANTINE", {"p": "reject", "sp": "quarantine"}),
        ("v=DMARC1; p=reject; sp=none", {"p": "reject", "sp": "none", "effective_sp": "none"}),
        ("v=DMARC1; sp=none; p=reject", {"p": "reject", "sp": "none", "enforced": True}),
        ("v=DMARC1; p=none; sp=reject", {"p": "none", "effective_sp": "reject", "enforced": False}),
        # whitespace around "=" and ";", trailing ";"
        ("v = DMARC1 ;  p = quarantine ; adkim = s ;", {"p": "quarantine", "adkim": "s"}),
        ("v=DMARC1;p=reject;", {"p": "reject"}),
        ("v=DMARC1;\tp=reject", {"p": "reject"}),
        # defaults
        (
            "v=DMARC1; p=none",
            {
                "adkim": "r",
                "aspf": "r",
                "fo": "0",
                "rf": "afrf",
                "ri": 86400,
                "pct": 100,
                "t": None,
                "np": None,
            },
        ),
        ("v=DMARC1; p=reject; adkim=S; aspf=s", {"adkim": "s", "aspf": "s"}),
        ("v=DMARC1; p=quarantine; pct=50", {"pct": 50, "pct_published": True, "fully_enforced": False}),
        ("v=DMARC1; p=quarantine; pct=100", {"pct": 100, "pct_published": True, "fully_enforced": True}),
        ("v=DMARC1; p=quarantine; pct=0", {"pct": 0, "enforced": True, "fully_enforced": False}),
        ("v=DMARC1; p=reject; ri=3600", {"ri": 3600}),
        ("v=DMARC1; p=reject; fo=1:D:s", {"fo": "1:d:s"}),
        ("v=DMARC1; p=reject; fo = 0 : s", {"fo": "0:s"}),
        ("v=DMARC1; p=reject; rf=AFRF", {"rf": "afrf"}),
        # DMARCbis tags
        ("v=DMARC1; p=reject; np=quarantine", {"np": "quarantine", "effective_np": "quarantine"}),
        ("v=DMARC1; p=reject; sp=quarantine", {"np": None, "effective_np": "quarantine"}),
        ("v=DMARC1; p=reject", {"effective_np": "reject"}),
        ("v=DMARC1; p=reject; t=y", {"t": "y", "testing": True, "enforced": True, "fully_enforced": False}),
        ("v=DMARC1; p=reject; t=N", {"t": "n", "testing": False, "fully_enforced": True}),
        ("v=DMARC1; p=none; psd=y", {"psd": "y"}),
        # missing p: RFC 9989 treats as none
        ("v=DMARC1", {"p": None, "effective_p": "none", "policy_strength": 1, "valid": True}),
        ("v=DMARC1; rua=mailto:d@example.com", {"p": None, "effective_p": "none"}),
        # unknown tags are kept
        ("v=DMARC1; p=none; foo=Bar", {"unknown_tags": (("foo", "Bar"),)}),
        # strength
        ("v=DMARC1; p=quarantine", {"policy_strength": 2}),
        ("v=DMARC1; p=reject", {"policy_strength": 3}),
        ("v=dmarc1; p=reject", {"policy_strength": 0, "discarded": True, "enforced": False, "p": "reject"}),
    ],
)
def test_fields(record: str, expected: dict[str, Any]) -> None:
    parsed = parse_dmarc(record)
    for name, value in expected.items():
        assert getattr(parsed, name) == value, (name, getattr(parsed, name))


@pytest.mark.parametrize(
    ("value", "addresses", "sizes"),
    [
        ("mailto:dmarc@example.com", ["dmarc@example.com"], [None]),
        ("mailto:dmarc@example.com!10m", ["dmarc@example.com"], ["10m"]),
        ("MAILTO:Dmarc@Example.com!50", ["Dmarc@Example.com"], ["50"]),
        (
            "mailto:a@example.com, mailto:b@reports.example.net!1G",
            ["a@example.com", "b@reports.example.net"],
            [None, "1G"],
        ),
        ("mailto:re+abc%2cdef@rep.example.com", ["re+abc%2cdef@rep.example.com"], [None]),
        ("https://reports.example.com/dmarc", ["https://reports.example.com/dmarc"], [None]),
    ],
)
def test_rua(value: str, addresses: list[str], sizes: list[str | None]) -> None:
    parsed = parse_dmarc(f"v=DMARC1; p=reject; rua={value}; ruf={value}")
    assert parsed.valid, parsed.errors
    assert [u.address for u in parsed.rua] == addresses
    assert [u.size_limit for u in parsed.rua] == sizes
    assert [u.address for u in parsed.ruf] == addresses


def test_uri_domain() -> None:
    uri = parse_report_uri("mailto:DMARC@Reports.Example.COM")
    assert not isinstance(uri, str)
    assert uri.domain == "reports.example.com"
    https = parse_report_uri("https://x.example/r")
    assert not isinstance(https, str)
    assert https.domain is None


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "code", "tag"),
    [
        ("p=reject", "missing_version", None),
        ("", "missing_version", None),
        ("p=reject; v=DMARC1", "version_not_first", "v"),
        ("v=dmarc1; p=reject", "bad_version", "v"),
        ("v=DMARC2; p=reject", "bad_version", "v"),
        ("v=DMARC1 p=reject", "bad_version", "v"),
        (" v=DMARC1; p=reject", "leading_whitespace", None),
        ("v=DMARC1; p=rejected", "invalid_value", "p"),
        ("v=DMARC1; p=", "invalid_value", "p"),
        ("v=DMARC1; p=re ject", "invalid_value", "p"),
        ("v=DMARC1; p=reject; sp=block", "invalid_value", "sp"),
        ("v=DMARC1; p=reject; np=yes", "invalid_value", "np"),
        ("v=DMARC1; p=reject; adkim=x", "invalid_value", "adkim"),
        ("v=DMARC1; p=reject; aspf=relaxed", "invalid_value", "aspf"),
        ("v=DMARC1; p=reject; pct=150", "invalid_value", "pct"),
        ("v=DMARC1; p=reject; pct=abc", "invalid_value", "pct"),
        ("v=DMARC1; p=reject; pct=-1", "invalid_value", "pct"),
        ("v=DMARC1; p=reject; ri=1h", "invalid_value", "ri"),
        ("v=DMARC1; p=reject; fo=2", "invalid_value", "fo"),
        ("v=DMARC1; p=reject; rf=iodef", "invalid_value", "rf"),
        ("v=DMARC1; p=reject; t=maybe", "invalid_value", "t"),
        ("v=DMARC1; p=reject; psd=x", "invalid_value", "psd"),
        ("v=DMARC1; p=reject; rua=dmarc@example.com", "invalid_uri", "rua"),
        ("v=DMARC1; p=reject; rua=mailto:", "invalid_uri", "rua"),
        ("v=DMARC1; p=reject; rua=mailto:dmarc", "invalid_uri", "rua"),
        ("v=DMARC1; p=reject; rua=mailto:dmarc@localhost", "invalid_uri", "rua"),
        ("v=DMARC1; p=reject; rua=mailto:d@example.com!10x", "invalid_uri", "rua"),
        ("v=DMARC1; p=reject; rua=mailto:d@örnek.com.tr", "invalid_uri", "rua"),
        ("v=DMARC1; p=reject; rua=mailto:a@example.com,", "invalid_uri", "rua"),
        ("v=DMARC1; p=reject; ruf=mailto:a@exa mple.com", "invalid_uri", "ruf"),
        ("v=DMARC1; p=reject; p=none", "duplicate_tag", "p"),
        ("v=DMARC1; p=reject; rua=mailto:a@x.com; RUA=mailto:b@x.com", "duplicate_tag", "rua"),
        ("v=DMARC1; v=DMARC1; p=reject", "duplicate_tag", "v"),
        ("v=DMARC1; p=reject; adkim", "bad_tag", "adkim"),
        ("v=DMARC1; p=reject; 1x=2", "bad_tag", "1x=2"),
        ("v=DMARC1;; p=reject", "empty_tag", None),
    ],
)
def test_errors(record: str, code: str, tag: str | None) -> None:
    parsed = parse_dmarc(record)
    assert not parsed.valid
    assert (code, tag) in [(e.code, e.tag) for e in parsed.errors], parsed.errors


def test_duplicate_keeps_first_and_invalid_falls_back() -> None:
    parsed = parse_dmarc("v=DMARC1; p=reject; p=none; adkim=x; pct=500; ri=z")
    assert parsed.p == "reject"
    assert (parsed.adkim, parsed.pct, parsed.ri) == ("r", 100, 86400)


def test_invalid_p_is_none_and_effective_none() -> None:
    parsed = parse_dmarc("v=DMARC1; p=rejcet; sp=reject")
    assert parsed.p is None
    assert parsed.effective_p == "none"
    assert parsed.effective_sp == "reject"
    assert not parsed.enforced


def test_bad_rua_keeps_good_ones() -> None:
    parsed = parse_dmarc("v=DMARC1; p=reject; rua=mailto:ok@example.com,bad@example.com")
    assert [u.address for u in parsed.rua] == ["ok@example.com"]
    assert [e.code for e in parsed.errors] == ["invalid_uri"]


# --- warnings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "code"),
    [
        ("v=DMARC1; p=quarantine; pct=100; rua=mailto:a@example.com", "pct_retired"),
        ("v=DMARC1; p=quarantine; pct=20; rua=mailto:a@example.com", "pct_partial"),
        ("v=DMARC1; p=reject; ri=3600; rua=mailto:a@example.com", "ri_retired"),
        ("v=DMARC1; p=reject; rf=afrf; rua=mailto:a@example.com", "rf_retired"),
        ("v=DMARC1; sp=none; p=reject; rua=mailto:a@example.com", "p_not_second"),
        ("v=DMARC1; rua=mailto:a@example.com; p=reject", "p_not_second"),
        ("v=DMARC1; p=reject; sp=none; rua=mailto:a@example.com", "sp_weaker"),
        ("v=DMARC1; rua=mailto:a@example.com", "missing_p"),
        ("v=DMARC1; p=none; rua=mailto:a@example.com", "policy_none"),
        ("v=DMARC1; p=reject", "no_rua"),
        ("v=DMARC1; p=reject; foo=bar; rua=mailto:a@example.com", "unknown_tag"),
        ("v=DMARC1; p=reject; t=y; rua=mailto:a@example.com", "testing_mode"),
        ("v=DMARC1; p=reject; rua=https://r.example.com/x", "non_mailto_uri"),
        ("v=DMARC1; p=reject; fo=0:1; ruf=mailto:a@example.com; rua=mailto:a@example.com", "fo_conflict"),
    ],
)
def test_warnings(record: str, code: str) -> None:
    parsed = parse_dmarc(record)
    assert parsed.valid, parsed.errors
    assert code in [w.code for w in parsed.warnings]


def test_pct_warning_message() -> None:
    parsed = parse_dmarc("v=DMARC1; p=reject; pct=100; rua=mailto:a@example.com")
    assert any("pct is retired by RFC 9989" in w.message for w in parsed.warnings)


def test_clean_record_has_no_warnings() -> None:
    parsed = parse_dmarc("v=DMARC1; p=reject; rua=mailto:dmarc@example.com; adkim=s; aspf=s")
    assert parsed.valid
    assert parsed.warnings == ()


def test_not_dmarc_at_all_has_only_the_version_error() -> None:
    parsed = parse_dmarc("hello world")
    assert [e.code for e in parsed.errors] == ["bad_tag", "missing_version"]
    assert parsed.warnings == ()


def test_policy_strength_function() -> None:
    assert policy_strength(None) < policy_strength("none") < policy_strength("quarantine")
    assert policy_strength("quarantine") < policy_strength("reject")


def test_to_dict_is_json() -> None:
    parsed = parse_dmarc("v=DMARC1; p=reject; sp=none; pct=50; rua=mailto:a@example.com!5m; foo=1")
    data = json.loads(json.dumps(parsed.to_dict()))
    assert data["p"] == "reject"
    assert data["sp"] == "none"
    assert data["effective_sp"] == "none"
    assert data["rua"] == [
        {
            "uri": "mailto:a@example.com!5m",
            "scheme": "mailto",
            "address": "a@example.com",
            "size_limit": "5m",
            "domain": "example.com",
        }
    ]
    assert data["unknown_tags"] == {"foo": "1"}
    assert data["enforced"] is True
    assert data["fully_enforced"] is False


# --- properties ---------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_never_raises_on_any_text(text: str) -> None:
    json.dumps(parse_dmarc(text).to_dict())
    select_dmarc([text])


_TAG_ALPHABET = st.sampled_from(list("vV=DMARC1; pPsSnrejctquaiol!@.:,0123456789mxkgtfy \t"))


@settings(max_examples=300, deadline=None)
@given(st.text(_TAG_ALPHABET, max_size=60))
def test_parse_never_raises_on_dmarc_like_text(text: str) -> None:
    parsed = parse_dmarc("v=DMARC1;" + text)
    json.dumps(parsed.to_dict())
    assert parsed.effective_p in ("none", "quarantine", "reject")


def _case(draw: st.DrawFn, text: str) -> str:
    return "".join(c.upper() if draw(st.booleans()) else c for c in text)


_POLICY = st.sampled_from(["none", "quarantine", "reject"])
_LOCAL = st.from_regex(r"[a-z0-9][a-z0-9._+\-]{0,10}", fullmatch=True).filter(lambda s: ".." not in s)
_HOST = st.from_regex(r"[a-z][a-z0-9]{0,8}(\.[a-z][a-z0-9]{0,8}){1,2}", fullmatch=True)
_SIZE = st.one_of(st.none(), st.from_regex(r"[1-9][0-9]{0,3}[kmgt]?", fullmatch=True))


@st.composite
def _record(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    expected: dict[str, Any] = {"p": draw(_POLICY)}
    tags: list[tuple[str, str]] = []
    if draw(st.booleans()):
        expected["sp"] = draw(_POLICY)
    if draw(st.booleans()):
        expected["np"] = draw(_POLICY)
    if draw(st.booleans()):
        expected["pct"] = draw(st.integers(0, 100))
    if draw(st.booleans()):
        expected["adkim"] = draw(st.sampled_from(["r", "s"]))
    if draw(st.booleans()):
        expected["aspf"] = draw(st.sampled_from(["r", "s"]))
    if draw(st.booleans()):
        expected["ri"] = draw(st.integers(0, 2**32 - 1))
    if draw(st.booleans()):
        expected["t"] = draw(st.sampled_from(["y", "n"]))
    uris = draw(st.lists(st.tuples(_LOCAL, _HOST, _SIZE), max_size=3))
    for name in ("sp", "np", "pct", "adkim", "aspf", "ri", "t"):
        if name in expected:
            value = str(expected[name])
            tags.append((name, value))
    rest = draw(st.permutations(tags))
    if uris:
        rua = ",".join(f"mailto:{lp}@{host}" + (f"!{size}" if size else "") for lp, host, size in uris)
        rest = [*rest, ("rua", rua)]
        expected["rua"] = [(f"{lp}@{host}", size) for lp, host, size in uris]
    ordered = [("p", expected["p"]), *rest]
    sep = draw(st.sampled_from([";", "; ", " ; ", ";\t"]))
    eq = draw(st.sampled_from(["=", " = ", "= "]))
    body = sep.join(
        f"{_case(draw, name)}{eq}{value if name == 'rua' else _case(draw, value)}" for name, value in ordered
    )
    trailing = draw(st.sampled_from(["", ";", "; "]))
    return f"v=DMARC1{sep}{body}{trailing}", expected


@settings(max_examples=300, deadline=None)
@given(_record())
def test_round_trip_generated_record(case: tuple[str, dict[str, Any]]) -> None:
    record, expected = case
    parsed = parse_dmarc(record)
    assert parsed.valid, parsed.errors
    assert not parsed.discarded
    assert parsed.p == expected["p"]
    assert parsed.sp == expected.get("sp")
    assert parsed.effective_sp == expected.get("sp", expected["p"])
    assert parsed.np == expected.get("np")
    assert parsed.pct == expected.get("pct", 100)
    assert parsed.adkim == expected.get("adkim", "r")
    assert parsed.aspf == expected.get("aspf", "r")
    assert parsed.ri == expected.get("ri", 86400)
    assert parsed.t == expected.get("t")
    assert [(u.address, u.size_limit) for u in parsed.rua] == expected.get("rua", [])
    assert select_dmarc(["some other txt", record]).record == record
