"""SPF selection and parsing (RFC 7208): table-driven rules plus property tests."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hunter.core.spf import (
    SpfLimits,
    check_tree_limits,
    lookup_targets,
    parse_spf,
    select_spf,
)

# --- selection (RFC 7208 §4.5) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("txt", "record", "count", "error", "near_misses"),
    [
        (["v=spf1 -all"], "v=spf1 -all", 1, None, 0),
        ([], None, 0, None, 0),
        (["MS=ms12345678", "google-site-verification=abc"], None, 0, None, 0),
        (
            ["MS=ms1", "v=spf1 include:_spf.google.com ~all"],
            "v=spf1 include:_spf.google.com ~all",
            1,
            None,
            0,
        ),
        (["v=spf1 -all", "v=spf1 ~all"], None, 2, "multiple_records", 0),
        (["V=SPF1 -all"], "V=SPF1 -all", 1, None, 0),
        (["v=spf1"], "v=spf1", 1, None, 0),
        (["v=spf10 -all"], None, 0, None, 1),
        (["v=spf1-all"], None, 0, None, 1),
        ([" v=spf1 -all"], None, 0, None, 1),
        (['"v=spf1 -all"'], None, 0, None, 1),
        (["v=spf1\t-all"], None, 0, None, 1),
        (["v=spf2.0/pra -all"], None, 0, None, 0),
        (["v=spf1 -all", "v=spf1-all"], "v=spf1 -all", 1, None, 1),
    ],
)
def test_select_spf(
    txt: list[str], record: str | None, count: int, error: str | None, near_misses: int
) -> None:
    selection = select_spf(txt)
    assert selection.record == record
    assert selection.count == count
    assert (selection.error.code if selection.error else None) == error
    assert len(selection.warnings) == near_misses
    json.dumps(selection.to_dict())


# --- mechanisms ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ("v=spf1 -all", [("-", "all", None, None, None)]),
        ("v=spf1 all", [("+", "all", None, None, None)]),
        (
            "v=spf1 include:spf.protection.outlook.com -all",
            [("+", "include", "spf.protection.outlook.com", None, None), ("-", "all", None, None, None)],
        ),
        # trailing dot and upper case are normalised, extra spaces are fine
        (
            "V=SPF1   INCLUDE:_SPF.Google.COM.   ~ALL  ",
            [("+", "include", "_spf.google.com", None, None), ("~", "all", None, None, None)],
        ),
        (
            "v=spf1 ip4:192.0.2.0/24 ?all",
            [("+", "ip4", "192.0.2.0", 24, None), ("?", "all", None, None, None)],
        ),
        ("v=spf1 -ip4:192.0.2.7", [("-", "ip4", "192.0.2.7", None, None)]),
        ("v=spf1 ip6:2001:DB8::/32", [("+", "ip6", "2001:db8::", None, 32)]),
        ("v=spf1 ip6:::ffff:192.0.2.1", [("+", "ip6", "::ffff:192.0.2.1", None, None)]),
        ("v=spf1 a", [("+", "a", None, None, None)]),
        ("v=spf1 a/24", [("+", "a", None, 24, None)]),
        ("v=spf1 a//64", [("+", "a", None, None, 64)]),
        ("v=spf1 a:mail.example.com/24//64", [("+", "a", "mail.example.com", 24, 64)]),
        ("v=spf1 ~mx", [("~", "mx", None, None, None)]),
        ("v=spf1 mx:example.com", [("+", "mx", "example.com", None, None)]),
        ("v=spf1 mx/30", [("+", "mx", None, 30, None)]),
        ("v=spf1 ptr", [("+", "ptr", None, None, None)]),
        ("v=spf1 ptr:example.com", [("+", "ptr", "example.com", None, None)]),
        ("v=spf1 exists:%{i}._spf.example.com", [("+", "exists", "%{i}._spf.example.com", None, None)]),
        ("v=spf1 ?include:x.example.net", [("?", "include", "x.example.net", None, None)]),
    ],
)
def test_mechanisms(record: str, expected: list[tuple[str, str, str | None, int | None, int | None]]) -> None:
    parsed = parse_spf(record)
    assert parsed.valid, parsed.errors
    assert [(m.qualifier, m.kind, m.value, m.cidr4, m.cidr6) for m in parsed.mechanisms] == expected


def test_mechanism_helpers() -> None:
    parsed = parse_spf("v=spf1 ip4:192.0.2.5/24 ip6:2001:db8::1 ~include:a.example -all")
    ip4, ip6, include, _all = parsed.mechanisms
    assert ip4.network == "192.0.2.5/24"
    assert ip6.network == "2001:db8::1"
    assert include.network is None
    assert [m.result for m in parsed.mechanisms] == ["pass", "pass", "softfail", "fail"]
    assert include.counts_as_dns_lookup
    assert not ip4.counts_as_dns_lookup
    assert ip4.term == "ip4:192.0.2.5/24"


# --- errors (each with its offending term) ---------------------------------------------------


@pytest.mark.parametrize(
    ("record", "code", "term"),
    [
        ("spf1 -all", "not_spf", None),
        ("", "not_spf", None),
        ("v=spf1 foo -all", "unknown_mechanism", "foo"),
        ("v=spf1 include.example.com -all", "unknown_mechanism", "include.example.com"),
        ("v=spf1 1.2.3.4 -all", "bad_term", "1.2.3.4"),
        ("v=spf1 ip4:192.0.2.300 -all", "bad_ip4", "ip4:192.0.2.300"),
        ("v=spf1 ip4:2001:db8::1 -all", "bad_ip4", "ip4:2001:db8::1"),
        ("v=spf1 ip4:010.0.0.1 -all", "bad_ip4", "ip4:010.0.0.1"),
        ("v=spf1 ip4 -all", "missing_value", "ip4"),
        ("v=spf1 ip4: -all", "missing_value", "ip4:"),
        ("v=spf1 ip6:192.0.2.1 -all", "bad_ip6", "ip6:192.0.2.1"),
        ("v=spf1 ip6:2001:db8::zz -all", "bad_ip6", "ip6:2001:db8::zz"),
        ("v=spf1 ip4:192.0.2.0/33 -all", "bad_cidr", "ip4:192.0.2.0/33"),
        ("v=spf1 ip4:192.0.2.0/024 -all", "bad_cidr", "ip4:192.0.2.0/024"),
        ("v=spf1 ip4:192.0.2.0/ -all", "bad_cidr", "ip4:192.0.2.0/"),
        ("v=spf1 ip6:2001:db8::/129 -all", "bad_cidr", "ip6:2001:db8::/129"),
        ("v=spf1 a/33 -all", "bad_cidr", "a/33"),
        ("v=spf1 mx:example.com//200 -all", "bad_cidr", "mx:example.com//200"),
        ("v=spf1 ptr/24 -all", "bad_cidr", "ptr/24"),
        ("v=spf1 include: -all", "empty_include", "include:"),
        ("v=spf1 include -all", "empty_include", "include"),
        ("v=spf1 exists: -all", "missing_value", "exists:"),
        ("v=spf1 a: -all", "missing_value", "a:"),
        ("v=spf1 redirect=a.example redirect=b.example", "duplicate_modifier", "redirect=b.example"),
        ("v=spf1 exp=a.example exp=b.example -all", "duplicate_modifier", "exp=b.example"),
        ("v=spf1 redirect=", "missing_value", "redirect="),
        ("v=spf1 +redirect=a.example", "qualified_modifier", "+redirect=a.example"),
        ("v=spf1 all:example.com", "bad_term", "all:example.com"),
        ("v=spf1 include:%{z}.example.com -all", "bad_macro", "include:%{z}.example.com"),
        ("v=spf1 exists:%{c}.example.com -all", "bad_macro", "exists:%{c}.example.com"),
        ("v=spf1 exists:%{i0}.example.com -all", "bad_macro", "exists:%{i0}.example.com"),
        ("v=spf1 include:100%.example.com -all", "bad_macro", "include:100%.example.com"),
        ("v=spf1 include:örnek.com.tr -all", "bad_macro", "include:örnek.com.tr"),
        # RFC 7208 §4.6: a syntax error anywhere, even after all, is a permerror
        ("v=spf1 -all ip4:999.0.0.1", "bad_ip4", "ip4:999.0.0.1"),
        ("v=spf1 ip4:192.0.2.1~all", "bad_ip4", "ip4:192.0.2.1~all"),
    ],
)
def test_errors(record: str, code: str, term: str | None) -> None:
    parsed = parse_spf(record)
    assert not parsed.valid
    assert (code, term) in [(e.code, e.term) for e in parsed.errors], parsed.errors


def test_too_many_lookups_in_one_record() -> None:
    ten = " ".join(f"include:s{i}.example.com" for i in range(10))
    assert parse_spf(f"v=spf1 {ten} -all").valid
    parsed = parse_spf(f"v=spf1 {ten} a -all")
    assert [e.code for e in parsed.errors] == ["too_many_lookups"]
    assert parsed.dns_mechanism_count == 11


# --- warnings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "code"),
    [
        ("v=spf1 +all", "plus_all"),
        ("v=spf1 all", "plus_all"),
        ("v=spf1 ptr -all", "ptr_deprecated"),
        ("v=spf1 ptr:example.com ~all", "ptr_deprecated"),
        ("v=spf1 ?all", "neutral_all"),
        ("v=spf1 ip4:192.0.2.1", "no_all"),
        ("v=spf1", "no_all"),
        ("v=spf1 redirect=_spf.example.com -all", "redirect_ignored"),
        ("v=spf1 -all ~all", "multiple_all"),
        ("v=spf1 -all include:x.example.com", "terms_after_all"),
        ("v=spf1 foo=bar -all", "unknown_modifier"),
        ("v=spf1 include:localhost -all", "bad_domain"),
        ("v=spf1 include:example.com/24 -all", "bad_domain"),
        ("v=spf1 include:a..example.com -all", "bad_domain"),
        ("v=spf1 include:%{i}._spf.example.com -all", "macro_target"),
        ("v=spf1 redirect=%{d}._spf.example.com", "macro_target"),
        ("v=spf1 include:a.example include:a.example -all", "duplicate_include"),
        ("v=spf1\tip4:192.0.2.1\t-all", "non_space_separator"),
    ],
)
def test_warnings(record: str, code: str) -> None:
    parsed = parse_spf(record)
    assert parsed.valid, parsed.errors
    assert code in [w.code for w in parsed.warnings]


@pytest.mark.parametrize(
    "record",
    [
        "v=spf1 -all",
        "v=spf1 include:spf.protection.outlook.com -all",
        "v=spf1 redirect=_spf.example.com",
        "v=spf1 ip4:192.0.2.0/24 mx ~all",
        "v=spf1 ra=postmaster rp=100 rr=all -all",
        "v=spf1 exp=explain.%{d} -all",
    ],
)
def test_clean_records_have_no_warnings(record: str) -> None:
    parsed = parse_spf(record)
    assert parsed.valid
    assert parsed.warnings == ()


def test_leading_whitespace_is_reported_but_parsed() -> None:
    parsed = parse_spf("  v=spf1 -all")
    assert [e.code for e in parsed.errors] == ["leading_whitespace"]
    assert parsed.all_qualifier == "-"


# --- record level properties -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "all_qualifier"),
    [
        ("v=spf1 -all", "-"),
        ("v=spf1 ~all", "~"),
        ("v=spf1 ?all", "?"),
        ("v=spf1 +all", "+"),
        ("v=spf1 all", "+"),
        ("v=spf1 ip4:192.0.2.1", None),
        ("v=spf1 redirect=x.example.com", None),
        ("v=spf1 ~all -all", "~"),
        ("v=spf1 -ALL", "-"),
    ],
)
def test_all_qualifier(record: str, all_qualifier: str | None) -> None:
    assert parse_spf(record).all_qualifier == all_qualifier


@pytest.mark.parametrize(
    ("record", "includes", "redirect", "count", "targets"),
    [
        ("v=spf1 -all", [], None, 0, []),
        (
            "v=spf1 include:a.example include:b.example. -all",
            ["a.example", "b.example"],
            None,
            2,
            [("include", "a.example"), ("include", "b.example")],
        ),
        ("v=spf1 a mx ptr exists:x.example ip4:192.0.2.1 -all", [], None, 4, []),
        ("v=spf1 redirect=_spf.example.com", [], "_spf.example.com", 1, [("redirect", "_spf.example.com")]),
        (
            "v=spf1 include:a.example redirect=_spf.example.com",
            ["a.example"],
            "_spf.example.com",
            2,
            [("include", "a.example"), ("redirect", "_spf.example.com")],
        ),
        # redirect with all: ignored (RFC 7208 §6.1): not counted, not fetched
        (
            "v=spf1 include:a.example redirect=b.example ~all",
            ["a.example"],
            "b.example",
            1,
            [("include", "a.example")],
        ),
        # after all: never evaluated, so neither counted nor fetched
        (
            "v=spf1 include:a.example -all include:b.example",
            ["a.example"],
            None,
            1,
            [("include", "a.example")],
        ),
        # duplicates count twice but are fetched once
        (
            "v=spf1 include:a.example include:a.example -all",
            ["a.example", "a.example"],
            None,
            2,
            [("include", "a.example")],
        ),
        # macros: counted, not fetchable
        (
            "v=spf1 include:%{i}.x.example include:b.example -all",
            ["%{i}.x.example", "b.example"],
            None,
            2,
            [("include", "b.example")],
        ),
        ("v=spf1 redirect=%{d}.spf.example", [], "%{d}.spf.example", 1, []),
    ],
)
def test_includes_redirect_count_targets(
    record: str, includes: list[str], redirect: str | None, count: int, targets: list[tuple[str, str]]
) -> None:
    parsed = parse_spf(record)
    assert parsed.includes == includes
    assert parsed.redirect == redirect
    assert parsed.dns_mechanism_count == count
    assert lookup_targets(parsed) == targets


def test_modifiers_kept_in_order() -> None:
    parsed = parse_spf("v=spf1 foo=Bar exp=Explain.%{d} redirect=X.Example.")
    assert [(m.name, m.value) for m in parsed.modifiers] == [
        ("foo", "Bar"),
        ("exp", "Explain.%{d}"),
        ("redirect", "x.example"),
    ]
    assert parsed.exp == "Explain.%{d}"


def test_to_dict_is_json() -> None:
    parsed = parse_spf("v=spf1 include:a.example ip4:192.0.2.0/24 foo=bar ~all ptr")
    data = json.loads(json.dumps(parsed.to_dict()))
    assert data["all_qualifier"] == "~"
    assert data["includes"] == ["a.example"]
    assert data["mechanisms"][1] == {
        "qualifier": "+",
        "kind": "ip4",
        "value": "192.0.2.0",
        "cidr4": 24,
        "cidr6": None,
        "term": "ip4:192.0.2.0/24",
        "after_all": False,
    }
    assert data["mechanisms"][-1]["after_all"] is True
    assert {w["code"] for w in data["warnings"]} >= {"terms_after_all", "ptr_deprecated", "unknown_modifier"}


def test_limits_and_tree_check() -> None:
    assert SpfLimits.DNS_MECHANISMS == 10
    assert SpfLimits.VOID_LOOKUPS == 2
    assert check_tree_limits(10, 2) == []
    assert [i.code for i in check_tree_limits(11, 3)] == ["too_many_lookups", "too_many_void_lookups"]


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_never_raises_on_any_text(text: str) -> None:
    parsed = parse_spf(text)
    json.dumps(parsed.to_dict())
    lookup_targets(parsed)


_TERM_ALPHABET = st.sampled_from(list("v=spf1 :/.%{}-+~?!aiedxmlnoptrc0123456789_"))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(_TERM_ALPHABET, min_size=1, max_size=12), max_size=8))
def test_parse_never_raises_on_spf_like_text(terms: list[str]) -> None:
    parsed = parse_spf("v=spf1 " + " ".join(terms))
    json.dumps(parsed.to_dict())
    assert parsed.dns_mechanism_count >= 0


_LABEL = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)
_DOMAIN = st.builds(
    lambda labels, tld: ".".join([*labels, tld]), st.lists(_LABEL, min_size=1, max_size=3), _LABEL
)
_QUALIFIER = st.sampled_from(["", "+", "-", "~", "?"])
_IP4 = st.tuples(st.ip_addresses(v=4).map(str), st.one_of(st.none(), st.integers(0, 32)))
_IP6 = st.tuples(st.ip_addresses(v=6).map(str), st.one_of(st.none(), st.integers(0, 128)))


@st.composite
def _mechanism(draw: st.DrawFn) -> tuple[str, tuple[str, str, str | None, int | None, int | None]]:
    qualifier = draw(_QUALIFIER)
    kind = draw(st.sampled_from(["include", "a", "mx", "ip4", "ip6", "exists"]))
    value: str | None
    if kind in ("include", "exists"):
        domain = draw(_DOMAIN)
        text, value, c4, c6 = f"{kind}:{domain}", domain, None, None
    elif kind in ("a", "mx"):
        maybe_domain = draw(st.one_of(st.none(), _DOMAIN))
        c4 = draw(st.one_of(st.none(), st.integers(0, 32)))
        c6 = draw(st.one_of(st.none(), st.integers(0, 128)))
        text = kind + (f":{maybe_domain}" if maybe_domain else "")
        text += (f"/{c4}" if c4 is not None else "") + (f"//{c6}" if c6 is not None else "")
        value = maybe_domain
    else:
        address, prefix = draw(_IP4 if kind == "ip4" else _IP6)
        text = f"{kind}:{address}" + (f"/{prefix}" if prefix is not None else "")
        value = address
        c4, c6 = (prefix, None) if kind == "ip4" else (None, prefix)
    if draw(st.booleans()):
        text = text.upper() if kind not in ("ip4", "ip6") else text
    return qualifier + text, (qualifier or "+", kind, value, c4, c6)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(_mechanism(), max_size=10),
    st.one_of(st.none(), _QUALIFIER),
    st.integers(1, 3),
)
def test_round_trip_generated_record(
    mechanisms: list[tuple[str, tuple[str, str, str | None, int | None, int | None]]],
    all_qualifier: str | None,
    spaces: int,
) -> None:
    terms = [text for text, _ in mechanisms]
    if all_qualifier is not None:
        terms.append(all_qualifier + "all")
    parsed = parse_spf("v=spf1" + "".join(" " * spaces + t for t in terms))
    assert parsed.valid, parsed.errors
    got = [(m.qualifier, m.kind, m.value, m.cidr4, m.cidr6) for m in parsed.mechanisms if m.kind != "all"]
    assert got == [expected for _, expected in mechanisms]
    assert parsed.all_qualifier == (None if all_qualifier is None else all_qualifier or "+")
    assert parsed.dns_mechanism_count == sum(
        1 for _, e in mechanisms if e[1] in ("include", "a", "mx", "exists")
    )
