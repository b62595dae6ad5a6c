"""Webhook target vetting: internal addresses refused in every spelling, unless an admin allows them."""

from __future__ import annotations

import pytest
from alerting_world import MapResolver

from hunter.alerts.ssrf import TargetRefused, TargetUnresolved, address_problem, validate_webhook_target

PUBLIC = MapResolver({"hooks.example.test": ["93.184.216.34", "2606:4700::1111"]})


@pytest.mark.parametrize(
    ("url", "category"),
    [
        ("http://127.0.0.1/hook", "loopback"),
        ("http://127.9.9.9:8080/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://10.1.2.3/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://192.168.1.10/", "private"),
        ("http://100.64.0.1/", "carrier-grade NAT"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[fc00::1]/", "unique-local"),
        ("http://[fd12:3456::1]/", "unique-local"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://[::ffff:7f00:1]/", "loopback"),
        ("http://[::ffff:169.254.169.254]/", "link-local"),
        ("http://[::ffff:10.0.0.1]/", "private"),
        ("http://[2002:7f00:1::]/", "loopback"),  # 6to4 around 127.0.0.1
        ("http://[64:ff9b::a00:1]/", "private"),  # NAT64 around 10.0.0.1
        ("http://192.0.2.5/", "private"),  # documentation range
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://[::ffff:0.0.0.0]/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://[ff02::1]/", "multicast"),
        ("http://255.255.255.255/", "reserved"),
        ("http://240.0.0.1/", "reserved"),
    ],
)
def test_internal_addresses_are_refused(url: str, category: str) -> None:
    with pytest.raises(TargetRefused, match="not a public address") as refused:
        validate_webhook_target(url, allow_private=False, resolver=PUBLIC)
    assert category in refused.value.reason


@pytest.mark.parametrize(
    ("url", "connect_ip"),
    [
        ("http://127.0.0.1:9000/x", "127.0.0.1"),
        ("http://[::1]:9000/x", "::1"),
        ("http://10.0.0.7/x", "10.0.0.7"),
        ("http://169.254.10.1/x", "169.254.10.1"),
        ("http://[fd00::5]/x", "fd00::5"),
        ("http://[::ffff:127.0.0.1]/x", "127.0.0.1"),
    ],
)
def test_allow_private_lets_an_admin_target_internal_hosts(url: str, connect_ip: str) -> None:
    target = validate_webhook_target(url, allow_private=True, resolver=PUBLIC)
    assert target.ip == connect_ip


@pytest.mark.parametrize(
    "url",
    ["http://0.0.0.0/", "http://[::]/", "http://224.0.0.1/", "http://[ff02::1]/", "http://255.255.255.255/"],
)
def test_never_a_target_even_with_allow_private(url: str) -> None:
    with pytest.raises(TargetRefused, match="never a webhook target"):
        validate_webhook_target(url, allow_private=True, resolver=PUBLIC)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://017700000001/",
        "http://0x7f.0.0.1/",
    ],
)
def test_numeric_host_spellings_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused, match="ambiguous numeric host"):
        validate_webhook_target(url, allow_private=True, resolver=PUBLIC)


def test_host_name_resolving_to_loopback_is_refused() -> None:
    resolver = MapResolver({"hooks.example.test": ["127.0.0.1"]})
    with pytest.raises(TargetRefused, match=r"host hooks\.example\.test: 127\.0\.0\.1 .*loopback"):
        validate_webhook_target("http://hooks.example.test/h", allow_private=False, resolver=resolver)

    url = "http://hooks.example.test:8443/h?x=1"
    target = validate_webhook_target(url, allow_private=True, resolver=resolver)
    assert (target.host, target.ip, target.port) == ("hooks.example.test", "127.0.0.1", 8443)
    assert target.path == "/h?x=1"
    assert target.host_header == "hooks.example.test:8443"
    assert target.connect_url == "http://127.0.0.1:8443/h?x=1"


def test_one_internal_answer_among_public_ones_refuses_the_host() -> None:
    resolver = MapResolver({"hooks.example.test": ["93.184.216.34", "::ffff:192.168.0.1"]})
    with pytest.raises(TargetRefused, match="private"):
        validate_webhook_target("https://hooks.example.test/", allow_private=False, resolver=resolver)


def test_the_system_resolver_is_used_by_default() -> None:
    with pytest.raises(TargetRefused, match="loopback"):
        validate_webhook_target("http://localhost:8080/", allow_private=False)


def test_public_host_is_accepted_and_pinned() -> None:
    target = validate_webhook_target("https://Hooks.Example.Test./in", allow_private=False, resolver=PUBLIC)
    assert target.host == "hooks.example.test"
    assert target.addresses == ("93.184.216.34", "2606:4700::1111")
    assert target.ip == "93.184.216.34"
    assert target.host_header == "hooks.example.test"
    assert target.connect_url == "https://93.184.216.34:443/in"
    ipv6 = validate_webhook_target("https://[2606:4700::1111]/", allow_private=False)
    assert (ipv6.connect_url, ipv6.host_header) == ("https://[2606:4700::1111]:443/", "[2606:4700::1111]")


def test_international_names_are_resolved_in_punycode() -> None:
    resolver = MapResolver({"xn--bcher-kva.example": ["93.184.216.34"]})
    target = validate_webhook_target("https://bücher.example/", allow_private=False, resolver=resolver)
    assert target.host == "xn--bcher-kva.example"
    assert resolver.calls == ["xn--bcher-kva.example"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://hooks.example.test/", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://127.0.0.1:70/", "scheme"),
        ("https://user:pw@hooks.example.test/", "credentials"),
        ("https://hooks.example.test@127.0.0.1/", "credentials"),
        ("http:///nohost", "no host"),
        ("http://hooks.example.test:99999/", "(?i)port"),
        ("http://hooks.example.test/ a", "whitespace"),
        ("http://hooks.example.test/\r\nX: y", "whitespace"),
        ("http://bad_host!.test/", "invalid host"),
        ("", "empty"),
    ],
)
def test_malformed_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(TargetRefused, match=reason):
        validate_webhook_target(url, allow_private=True, resolver=PUBLIC)


def test_unresolvable_host_is_a_transient_failure() -> None:
    with pytest.raises(TargetUnresolved, match="did not resolve"):
        validate_webhook_target("https://nowhere.example.test/", allow_private=False, resolver=PUBLIC)


def test_address_problem_reports_none_for_public_addresses() -> None:
    assert address_problem("8.8.8.8", allow_private=False) is None
    assert address_problem("2001:4860:4860::8888", allow_private=False) is None
    assert address_problem("64:ff9b::808:808", allow_private=False) is None  # NAT64 of 8.8.8.8
    assert "not an IP address" in (address_problem("example.com", allow_private=True) or "")
