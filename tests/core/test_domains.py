from __future__ import annotations

import pickle

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hunter.core import domains
from hunter.core.domains import (
    REASONS,
    Domain,
    DomainError,
    host_matches_suffix,
    looks_like_domain,
    normalise_domain,
    normalise_hostname,
    registrable_domain,
    try_normalise_domain,
)

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------------------------
# Table of hard cases: input → expected ascii registrable domain, or the rejection reason.

ACCEPTED: list[tuple[str, str, str]] = [
    # (input, ascii, unicode)
    ("WWW.Firma.COM.TR.", "firma.com.tr", "firma.com.tr"),
    ("https://www.x.com.tr/iletisim", "x.com.tr", "x.com.tr"),
    ("ali@Firma.com.tr", "firma.com.tr", "firma.com.tr"),
    ("örnek.com.tr", "xn--rnek-4qa.com.tr", "örnek.com.tr"),
    ("xn--rnek-4qa.com.tr", "xn--rnek-4qa.com.tr", "örnek.com.tr"),
    ("XN--RNEK-4QA.COM.TR", "xn--rnek-4qa.com.tr", "örnek.com.tr"),
    ("https://www.ÖRNEK.com.tr/hakkımızda", "xn--rnek-4qa.com.tr", "örnek.com.tr"),
    # 5qa is a different, valid name ("rönek"), not örnek: it must not be "corrected".
    ("xn--rnek-5qa.com.tr", "xn--rnek-5qa.com.tr", "rönek.com.tr"),
    ("mail.firma.com.tr", "firma.com.tr", "firma.com.tr"),
    ("x.co.uk", "x.co.uk", "x.co.uk"),
    ("a.b.x.co.uk", "x.co.uk", "x.co.uk"),
    ("www.x.com.tr", "x.com.tr", "x.com.tr"),
    ("www2.firma.com", "firma.com", "firma.com"),
    ("HTTP://FİRMA.COM.TR", "firma.com.tr", "firma.com.tr"),
    ("İSTANBUL.COM.TR", "istanbul.com.tr", "istanbul.com.tr"),
    ("ıstanbul.com.tr", "xn--stanbul-qfb.com.tr", "ıstanbul.com.tr"),  # dotless ı is a real IDN
    ("http://www.firma.com.tr:8080/path?q=1#x", "firma.com.tr", "firma.com.tr"),
    ("mailto:info@firma.com.tr", "firma.com.tr", "firma.com.tr"),
    ("mailto:info@firma.com.tr?subject=Merhaba", "firma.com.tr", "firma.com.tr"),
    ("Ali Veli <ali@Firma.com.tr>", "firma.com.tr", "firma.com.tr"),
    ("  \u00a0www.firma.com.tr\u200b\t", "firma.com.tr", "firma.com.tr"),
    ("firma.com.tr\n", "firma.com.tr", "firma.com.tr"),
    ("'www.firma.com.tr'", "firma.com.tr", "firma.com.tr"),
    ("ｗｗｗ．ｆｉｒｍａ．ｃｏｍ", "firma.com", "firma.com"),  # full-width, UTS46 maps it
    ("firma。com", "firma.com", "firma.com"),
    ("http//www.firma.com", "firma.com", "firma.com"),
    ("//firma.com/x", "firma.com", "firma.com"),
    ("ftp://firma.com", "firma.com", "firma.com"),
    ("https://user:pass@firma.com:443/", "firma.com", "firma.com"),
    ("https://firma.com/iletisim?mail=ali@baska.com", "firma.com", "firma.com"),
    ("https://firma.com\\index.html", "firma.com", "firma.com"),
    ("x_y.firma.com", "firma.com", "firma.com"),  # underscore in a dropped sub-label is harmless
    ("x.wixsite.com/shop", "x.wixsite.com", "x.wixsite.com"),  # PSL private section
    ("straße.de", "xn--strae-oqa.de", "straße.de"),  # IDNA 2008: ß is kept
    ("ΑΣ.gr", "xn--mxa0b.gr", "ασ.gr"),  # UTS46 case folding, not Python's final sigma
    ("kırmızı.istanbul", "xn--krmz-lzacb.istanbul", "kırmızı.istanbul"),
]

REJECTED: list[tuple[str, str]] = [
    ("", "empty"),
    ("   ", "empty"),
    ("\u00a0\u200b\t\n", "empty"),
    ("nan", "placeholder"),
    ("NaN", "placeholder"),
    ("None", "placeholder"),
    ("null", "placeholder"),
    ("-", "placeholder"),
    ("--", "placeholder"),
    ("n/a", "placeholder"),
    ("N/A", "placeholder"),
    ("yok", "placeholder"),
    ("YOK", "placeholder"),
    ("web sitesi", "placeholder"),
    ("WEB SİTESİ", "placeholder"),
    ("Website", "placeholder"),
    ("www", "placeholder"),
    ("www.", "placeholder"),
    ("http://", "placeholder"),
    ("https://www.", "placeholder"),
    ("E-POSTA", "placeholder"),
    ("0", "placeholder"),
    ("?", "placeholder"),
    (".", "placeholder"),
    ("…", "placeholder"),
    ("ali@", "placeholder"),
    ("192.168.1.1", "ip_literal"),
    ("192.168.1.1:8080", "ip_literal"),
    ("http://10.0.0.1/admin", "ip_literal"),
    ("[::1]", "ip_literal"),
    ("::1", "ip_literal"),
    ("http://[2001:db8::1]:8080/", "ip_literal"),
    ("firma", "invalid_tld"),
    ("firma.local", "invalid_tld"),
    ("firma.invalid", "invalid_tld"),
    ("localhost", "invalid_tld"),
    ("1.2.3.4.5", "invalid_tld"),
    ("12345", "invalid_tld"),
    ("com.tr", "public_suffix"),
    ("COM.TR.", "public_suffix"),
    ("co.uk", "public_suffix"),
    ("blogspot.com", "public_suffix"),
    ("www.com.tr", "public_suffix"),
    ("a.www.com.tr", "public_suffix"),
    ("a" * 64 + ".com", "label_too_long"),
    ("ö" * 60 + ".com.tr", "label_too_long"),
    (".".join(["a" * 60] * 5) + ".com", "too_long"),
    ("x" * 5000, "too_long"),
    ("firma .com", "invalid_characters"),
    ("firma.com.tr (eski)", "invalid_characters"),
    ("www.a.com / www.b.com", "invalid_characters"),
    ("a.com,b.com", "invalid_characters"),
    ("ali@a.com; veli@b.com", "invalid_characters"),
    ("a.com\nb.com", "invalid_characters"),
    ("my_firm.com", "invalid_characters"),
    ("firma!.com", "invalid_characters"),
    ("-firma.com", "invalid_characters"),
    ("firma-.com", "invalid_characters"),
    ("a..com", "invalid_characters"),
    ("firma.com:abc", "invalid_characters"),
    ("[firma.com]", "invalid_characters"),
    ("😀.com", "invalid_idna"),
    ("xn--zz.com", "invalid_idna"),
]


@pytest.mark.parametrize(("value", "ascii", "unicode"), ACCEPTED)
def test_accepted(value: str, ascii: str, unicode: str) -> None:
    assert normalise_domain(value) == Domain(ascii=ascii, unicode=unicode)
    assert try_normalise_domain(value) == Domain(ascii=ascii, unicode=unicode)
    assert looks_like_domain(value)


@pytest.mark.parametrize(("value", "reason"), REJECTED)
def test_rejected(value: str, reason: str) -> None:
    with pytest.raises(DomainError) as info:
        normalise_domain(value)
    exc = info.value
    assert exc.reason == reason
    assert exc.value == value
    assert str(exc)  # a readable message
    assert isinstance(exc, ValueError)
    result = try_normalise_domain(value)
    assert isinstance(result, DomainError)
    assert result.reason == reason
    assert not looks_like_domain(value)


@pytest.mark.parametrize("value", ["www.a.com / www.b.com", "a.com,b.com", "a.com\nb.com"])
def test_several_values_named_in_message(value: str) -> None:
    result = try_normalise_domain(value)
    assert isinstance(result, DomainError)
    assert "several values" in str(result)


def test_space_inside_is_not_called_several_values() -> None:
    result = try_normalise_domain("firma .com")
    assert isinstance(result, DomainError)
    assert "several values" not in str(result)


def test_reason_codes_are_the_documented_set() -> None:
    assert (
        frozenset(
            {
                "empty",
                "placeholder",
                "ip_literal",
                "invalid_tld",
                "public_suffix",
                "label_too_long",
                "too_long",
                "invalid_characters",
                "invalid_idna",
            }
        )
        == REASONS
    )
    assert {reason for _, reason in REJECTED} == REASONS


def test_non_string_cells_from_spreadsheets() -> None:
    assert isinstance(try_normalise_domain(None), DomainError)  # type: ignore[arg-type]
    nan = try_normalise_domain(float("nan"))  # type: ignore[arg-type]
    assert isinstance(nan, DomainError)
    assert nan.reason == "placeholder"


def test_domain_error_pickles() -> None:
    exc = try_normalise_domain("nan")
    assert isinstance(exc, DomainError)
    copy = pickle.loads(pickle.dumps(exc))
    assert (copy.reason, copy.value, str(copy)) == (exc.reason, exc.value, str(exc))


def test_domain_is_frozen_and_str_is_ascii() -> None:
    domain = normalise_domain("örnek.com.tr")
    assert str(domain) == "xn--rnek-4qa.com.tr"
    with pytest.raises(AttributeError):
        domain.ascii = "x.com"  # type: ignore[misc]


def test_psl_is_built_once() -> None:
    assert domains._psl() is domains._psl()


# ---------------------------------------------------------------------------------------------
# normalise_hostname, registrable_domain, host_matches_suffix


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("MX1.Firma.COM.TR.", "mx1.firma.com.tr"),
        ("www.firma.com", "www.firma.com"),  # no www stripping, no reduction
        ("firma-com-tr.mail.protection.outlook.com.", "firma-com-tr.mail.protection.outlook.com"),
        ("_dmarc.Örnek.com.tr", "_dmarc.xn--rnek-4qa.com.tr"),
        ("selector1._domainkey.firma.com", "selector1._domainkey.firma.com"),
        ("localhost", "localhost"),  # syntax only, no PSL check
        (" mx.yandex.net ", "mx.yandex.net"),
    ],
)
def test_normalise_hostname(value: str, expected: str) -> None:
    assert normalise_hostname(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "empty"),
        (".", "placeholder"),
        ("192.0.2.1", "ip_literal"),
        ("[2001:db8::1]", "ip_literal"),
        ("mx .firma.com", "invalid_characters"),
        ("x" * 64 + ".com", "label_too_long"),
        (".".join(["a" * 60] * 5), "too_long"),
        ("xn--zz.com", "invalid_idna"),
    ],
)
def test_normalise_hostname_rejects(value: str, reason: str) -> None:
    with pytest.raises(DomainError) as info:
        normalise_hostname(value)
    assert info.value.reason == reason


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("mail.firma.com.tr", "firma.com.tr"),
        ("firma.com.tr.", "firma.com.tr"),
        ("MAIL.Firma.com.tr", "firma.com.tr"),
        ("a.b.x.co.uk", "x.co.uk"),
        ("x.co.uk", "x.co.uk"),
        ("mail.örnek.com.tr", "xn--rnek-4qa.com.tr"),
        ("com.tr", None),
        ("firma", None),
        ("firma.local", None),
        ("", None),
    ],
)
def test_registrable_domain(host: str, expected: str | None) -> None:
    assert registrable_domain(host) == expected


@pytest.mark.parametrize(
    ("host", "suffix", "expected"),
    [
        ("opendns.com", "dns.com", False),
        ("dns.com", "dns.com", True),
        ("a.dns.com", "dns.com", True),
        ("A.DNS.COM.", "dns.com.", True),
        ("firma-com-tr.mail.protection.outlook.com", "mail.protection.outlook.com", True),
        ("firma-com-tr.mail.protection.outlook.com", "outlook.com", True),
        ("outlook.com.evil.com", "outlook.com", False),
        ("xoutlook.com", "outlook.com", False),
        ("mx.örnek.com.tr", "xn--rnek-4qa.com.tr", True),
        ("mx.xn--rnek-4qa.com.tr", "örnek.com.tr", True),
        ("outlook.com", "mail.protection.outlook.com", False),
        ("outlook.com", "", False),
        ("", "outlook.com", False),
    ],
)
def test_host_matches_suffix(host: str, suffix: str, expected: bool) -> None:
    assert host_matches_suffix(host, suffix) is expected


# ---------------------------------------------------------------------------------------------
# Property tests

SUFFIXES = ["com", "net", "org", "io", "de", "com.tr", "net.tr", "org.tr", "gen.tr", "bel.tr", "co.uk"]
IDN_NAMES = ["örnek", "çiçek", "şeker", "ığdır", "güneş", "kırmızı", "straße", "müşteri-hizmetleri"]

ldh_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True).filter(
    lambda label: label[2:4] != "--"
)
company_label = st.one_of(ldh_label, st.sampled_from(IDN_NAMES))


def _assert_well_formed(domain: Domain) -> None:
    ascii = domain.ascii
    assert ascii.isascii()
    assert ascii == ascii.lower()
    assert not ascii.endswith(".")
    assert len(ascii) <= 253
    assert all(0 < len(label) <= 63 for label in ascii.split("."))
    assert registrable_domain(ascii) == ascii


@st.composite
def decorated_domains(draw: st.DrawFn) -> tuple[str, str]:
    """A host under a known suffix, dressed up the ways spreadsheet cells do it."""
    base = f"{draw(company_label)}.{draw(st.sampled_from(SUFFIXES))}"
    subs = draw(st.lists(ldh_label, max_size=3))
    host = ".".join([*subs, base])
    if draw(st.booleans()):
        host = "www." + host
    expected = registrable_domain(normalise_hostname(host))
    assume(expected is not None and expected == registrable_domain(normalise_hostname(base)))
    assume(not expected.startswith("www."))
    if draw(st.booleans()):
        host += "."
    # Upper-case ASCII letters only: an upper-case "I" means "i", so it would turn "ı" into "i".
    mask = draw(st.lists(st.booleans(), min_size=len(host), max_size=len(host)))
    host = "".join(ch.upper() if up and ch.isascii() else ch for ch, up in zip(host, mask, strict=True))
    if draw(st.booleans()):
        user = draw(st.from_regex(r"[a-zA-Z0-9._%+-]{1,12}", fullmatch=True))
        prefix = draw(st.sampled_from(["", "mailto:", "MAILTO:"]))
        cell = f"{prefix}{user}@{host}"
    else:
        scheme = draw(st.sampled_from(["", "http://", "https://", "HTTPS://", "ftp://", "//"]))
        port = draw(st.sampled_from(["", ":80", ":8080", ":443"]))
        path = draw(st.sampled_from(["", "/", "/iletisim", "/a/b.html", "/?q=1", "/x?y=z#frag", "#top"]))
        cell = f"{scheme}{host}{port}{path}"
    pad = st.sampled_from(["", " ", "\t", "\u00a0", "\u200b", "\n"])
    cell = draw(pad) + cell + draw(pad)
    return cell, expected


@PROPERTY_SETTINGS
@given(decorated_domains())
def test_decorations_collapse_to_registrable_domain(case: tuple[str, str]) -> None:
    cell, expected = case
    domain = normalise_domain(cell)
    assert domain.ascii == expected
    _assert_well_formed(domain)


@PROPERTY_SETTINGS
@given(decorated_domains())
def test_idempotent_and_unicode_round_trips(case: tuple[str, str]) -> None:
    domain = normalise_domain(case[0])
    assert normalise_domain(domain.ascii) == domain
    assert normalise_domain(domain.unicode) == domain


# Text built from the pieces that reach the interesting branches (IDNA, ports, IPs, e-mail).
domainish_text = st.lists(
    st.sampled_from([*"abcxnİIıöş0129.-_@:/?# \u00a0[]", "xn--", "www.", ".com", ".com.tr"]),
    max_size=20,
).map("".join)


@PROPERTY_SETTINGS
@given(st.one_of(st.text(), domainish_text))
def test_arbitrary_text_never_crashes_and_is_idempotent(value: str) -> None:
    result = try_normalise_domain(value)
    if isinstance(result, Domain):
        _assert_well_formed(result)
        assert normalise_domain(result.ascii) == result
        assert normalise_domain(result.unicode) == result
        assert looks_like_domain(value)
    else:
        assert isinstance(result, DomainError)
        assert result.reason in REASONS
        assert str(result)
        assert "could not be parsed" not in str(result)  # the catch-all must stay unused
        assert not looks_like_domain(value)


@PROPERTY_SETTINGS
@given(st.one_of(st.text(), domainish_text))
def test_normalise_hostname_on_arbitrary_text(value: str) -> None:
    result: str | DomainError
    try:
        result = normalise_hostname(value)
    except DomainError as exc:
        result = exc
    if isinstance(result, DomainError):
        assert result.reason in REASONS
        return
    host = result
    assert host.isascii()
    assert host == host.lower()
    assert not host.endswith(".")
    assert len(host) <= 253
    assert normalise_hostname(host) == host


@PROPERTY_SETTINGS
@given(st.lists(ldh_label, min_size=1, max_size=4), st.lists(ldh_label, min_size=1, max_size=3))
def test_host_matches_suffix_is_label_aligned(prefix: list[str], suffix_labels: list[str]) -> None:
    suffix = ".".join(suffix_labels)
    host = ".".join([*prefix, suffix])
    assert host_matches_suffix(host, suffix)
    assert host_matches_suffix(suffix, suffix)
    # Gluing the last prefix label onto the suffix's first label breaks the boundary.
    glued = ".".join([*prefix[:-1], prefix[-1] + suffix])
    assert host_matches_suffix(glued, suffix) is False
