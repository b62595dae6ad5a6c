"""DnsClient against the sandbox DNS server on loopback: statuses, retries, TCP, CNAMEs."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import time
from collections.abc import Callable
from pathlib import Path

import dns.message
import dns.rcode
import dns.rrset
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hunter.collect.dns import (
    DnsClient,
    DnsConfig,
    DnsResponseError,
    encode_query,
    parse_nameservers,
    parse_reply,
    system_nameservers,
)
from hunter.core.evidence import Lookup, LookupPurpose, LookupStatus
from hunter.sandbox.dns_server import DnsServer, running_dns_server
from hunter.sandbox.zones import Fault, ZoneStore

P = LookupPurpose.APEX_TXT


# --------------------------------------------------------------------------- answers


async def test_presentation_forms(store: ZoneStore, client: DnsClient) -> None:
    store.add_text(
        """
        firma.com.tr. MX 10 Mail.Firma.com.tr.
        firma.com.tr. MX 20 mx2.firma.com.tr.
        firma.com.tr. A 192.0.2.10
        firma.com.tr. AAAA 2001:db8::0:1
        firma.com.tr. NS ns1.natrohost.com.
        _sipfederationtls._tcp.firma.com.tr. SRV 100 1 5061 sipfed.online.lync.com.
        firma.com.tr. TXT "v=spf1 " "include:spf.protection.outlook.com -all"
        """
    )
    mx = await client.query("firma.com.tr", "MX", LookupPurpose.MX)
    assert mx.status is LookupStatus.OK
    assert sorted(mx.answers) == ["10 mail.firma.com.tr.", "20 mx2.firma.com.tr."]
    assert (await client.query("firma.com.tr.", "a", LookupPurpose.APEX_ADDRESS)).answers == ["192.0.2.10"]
    assert (await client.query("Firma.COM.tr", "AAAA", LookupPurpose.APEX_ADDRESS)).answers == ["2001:db8::1"]
    assert (await client.query("firma.com.tr", "NS", LookupPurpose.NS)).answers == ["ns1.natrohost.com."]
    srv = await client.query("_sipfederationtls._tcp.firma.com.tr", "SRV", LookupPurpose.M365_TRACE, "sip")
    assert srv.answers == ["100 1 5061 sipfed.online.lync.com."]
    assert srv.selector == "sip"
    txt = await client.query("firma.com.tr", "TXT", P)
    assert txt.answers == ["v=spf1 include:spf.protection.outlook.com -all"]
    assert txt.name == "firma.com.tr"
    assert txt.rdtype == "TXT"
    assert txt.purpose is P
    assert txt.attempts == 1
    assert txt.elapsed_ms > 0


async def test_binary_txt_is_decoded_with_replacement(store: ZoneStore, client: DnsClient) -> None:
    store.add("bin.test", "TXT", '"\\255\\254 key=" "değer"')
    lookup = await client.query("bin.test", "TXT", P)
    assert lookup.status is LookupStatus.OK
    assert lookup.answers == ["\ufffd\ufffd key=değer"]


async def test_nxdomain_and_nodata(store: ZoneStore, client: DnsClient) -> None:
    store.add("firma.test", "A", "192.0.2.1")
    nx = await client.query("missing.firma.test", "A", P)
    assert nx.status is LookupStatus.NXDOMAIN
    assert nx.answers == []
    assert nx.error is None
    nodata = await client.query("firma.test", "MX", P)
    assert nodata.status is LookupStatus.NODATA
    assert nodata.attempts == 1  # answers are not retried


# ------------------------------------------------------------------------- failures


async def test_servfail_is_retried_then_reported(
    store: ZoneStore, dns_server: DnsServer, make_config: Callable[..., DnsConfig]
) -> None:
    store.add("broken.test", "MX", "10 mx.broken.test.")
    store.set_fault("broken.test", Fault.SERVFAIL, rdtype="MX")
    async with DnsClient(make_config(dns_server, attempts=3)) as client:
        lookup = await client.query("broken.test", "MX", LookupPurpose.MX)
    assert lookup.status is LookupStatus.SERVFAIL
    assert lookup.attempts == 3
    assert lookup.answers == []
    # Only the MX is broken: the fault is per type.
    async with DnsClient(make_config(dns_server)) as client:
        assert (await client.query("broken.test", "TXT", P)).status is LookupStatus.NODATA


async def test_servfail_then_recovery_succeeds_on_retry(
    store: ZoneStore, dns_server: DnsServer, make_config: Callable[..., DnsConfig]
) -> None:
    store.add("flaky.test", "TXT", "v=spf1 -all")
    store.set_fault("flaky.test", Fault.SERVFAIL)

    async def heal_after_first_failure() -> None:
        # The server counts what it answered: heal as soon as one SERVFAIL went out.
        for _ in range(1000):
            if dns_server.stats.by_rcode.get(dns.rcode.SERVFAIL, 0) >= 1:
                break
            await asyncio.sleep(0.002)
        store.set_fault("flaky.test", None)

    async with DnsClient(make_config(dns_server, attempts=3, backoff=0.2)) as client:
        healer = asyncio.create_task(heal_after_first_failure())
        lookup = await client.query("flaky.test", "TXT", P)
        await healer
    assert lookup.status is LookupStatus.OK
    assert lookup.answers == ["v=spf1 -all"]
    assert lookup.attempts == 2


async def test_dropped_queries_time_out(
    store: ZoneStore, dns_server: DnsServer, make_config: Callable[..., DnsConfig]
) -> None:
    store.add("slow.test", "MX", "10 mx.slow.test.")
    store.set_fault("slow.test", Fault.DROP)
    async with DnsClient(make_config(dns_server, timeout=0.15, attempts=2, backoff=0.01)) as client:
        started = time.perf_counter()
        lookup = await client.query("slow.test", "MX", LookupPurpose.MX)
        elapsed = time.perf_counter() - started
    assert lookup.status is LookupStatus.TIMEOUT
    assert lookup.attempts == 2
    assert lookup.error
    assert "no answer" in lookup.error
    assert elapsed >= 0.3
    assert lookup.status.is_failure


async def test_refused_fault_and_outside_zone(store: ZoneStore, client: DnsClient) -> None:
    store.add("acl.test", "A", "192.0.2.1")
    store.set_fault("acl.test", Fault.REFUSED)
    refused = await client.query("acl.test", "A", P)
    assert refused.status is LookupStatus.REFUSED
    assert refused.attempts == 1  # one nameserver: asking it again cannot help
    outside = await client.query("not-served.example", "A", P)
    assert outside.status is LookupStatus.REFUSED


async def test_refused_moves_to_the_next_nameserver(
    store: ZoneStore, dns_server: DnsServer, make_config: Callable[..., DnsConfig]
) -> None:
    store.add("served.test", "A", "192.0.2.7")
    with running_dns_server(ZoneStore()) as empty:
        # The first server serves no zone at all and refuses; the second one answers.
        async with DnsClient(make_config(empty, dns_server)) as client:
            lookup = await client.query("served.test", "A", P)
    assert lookup.status is LookupStatus.OK
    assert lookup.answers == ["192.0.2.7"]
    assert lookup.attempts == 2


async def test_concurrency_cap_bounds_queries_in_flight(
    store: ZoneStore, dns_server: DnsServer, make_config: Callable[..., DnsConfig]
) -> None:
    store.add("hole.test", "A", "192.0.2.1")
    store.set_fault("hole.test", Fault.DROP)
    config = make_config(dns_server, timeout=0.1, attempts=1, concurrency=4)
    async with DnsClient(config) as client:
        started = time.perf_counter()
        lookups = await asyncio.gather(*(client.query("hole.test", "A", P) for _ in range(16)))
        elapsed = time.perf_counter() - started
    assert {lk.status for lk in lookups} == {LookupStatus.TIMEOUT}
    # 16 queries, 4 at a time, 0.1 s each: at least four rounds.
    assert elapsed >= 0.38


async def test_invalid_name_is_an_error_status(client: DnsClient) -> None:
    lookup = await client.query("a" * 64 + ".test", "A", P)
    assert lookup.status is LookupStatus.ERROR
    assert lookup.error
    assert "63" in lookup.error
    bad_type = await client.query("firma.test", "NOSUCHTYPE", P)
    assert bad_type.status is LookupStatus.ERROR


async def test_server_down_times_out() -> None:
    # A port with nothing listening: ICMP errors are ignored, the lookup times out cleanly.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = DnsConfig(nameservers=[("127.0.0.1", port)], timeout=0.1, attempts=2, backoff=0.01)
    async with DnsClient(config) as client:
        lookup = await client.query("firma.test", "A", P)
    assert lookup.status is LookupStatus.TIMEOUT


# ------------------------------------------------------------------------------ TCP


async def test_truncated_answer_is_retried_over_tcp(
    store: ZoneStore, dns_server: DnsServer, make_config: Callable[..., DnsConfig]
) -> None:
    store.add("big.test", "TXT", "v=spf1 include:_spf.google.com ~all")
    store.set_fault("big.test", Fault.TRUNCATE)
    async with DnsClient(make_config(dns_server)) as client:
        lookup = await client.query("big.test", "TXT", P)
    assert lookup.status is LookupStatus.OK
    assert lookup.answers == ["v=spf1 include:_spf.google.com ~all"]
    assert lookup.attempts == 2
    assert dns_server.stats.tcp == 1


async def test_two_kilobyte_txt_comes_over_tcp(
    store: ZoneStore, dns_server: DnsServer, make_config: Callable[..., DnsConfig]
) -> None:
    strings = [f"{i:02d}" + "x" * 248 for i in range(8)]  # 8 strings of 250 bytes
    store.add("long.test", "TXT", " ".join(f'"{s}"' for s in strings))
    async with DnsClient(make_config(dns_server)) as client:
        lookup = await client.query("long.test", "TXT", P)
    assert lookup.status is LookupStatus.OK
    assert lookup.answers == ["".join(strings)]
    assert len(lookup.answers[0]) == 2000
    assert dns_server.stats.truncated == 1
    assert dns_server.stats.tcp == 1


# ---------------------------------------------------------------------------- CNAMEs


async def test_cname_chain_inside_one_answer(store: ZoneStore, client: DnsClient) -> None:
    store.add_text(
        """
        autodiscover.firma.test. CNAME autodiscover.outlook.test.
        autodiscover.outlook.test. CNAME autod.ms-acdc.office.test.
        autod.ms-acdc.office.test. A 52.97.1.1
        """
    )
    lookup = await client.query("autodiscover.firma.test", "A", LookupPurpose.M365_TRACE, "autodiscover")
    assert lookup.status is LookupStatus.OK
    assert lookup.cnames == ["autodiscover.outlook.test", "autod.ms-acdc.office.test"]
    assert lookup.answers == ["52.97.1.1"]
    assert lookup.attempts == 1


async def test_cname_only_answer_is_followed_on_another_server(
    store: ZoneStore, make_config: Callable[..., DnsConfig]
) -> None:
    # Server A serves firma.test only, so it answers the CNAME alone; the target lives on
    # server B. The client must ask for the target itself: A refuses it, B answers.
    store.add(
        "selector1._domainkey.firma.test", "CNAME", "selector1-firma-test._domainkey.firma.onmicrosoft.test."
    )
    tenant = ZoneStore()
    tenant.add("selector1-firma-test._domainkey.firma.onmicrosoft.test", "TXT", "v=DKIM1; k=rsa; p=MIIB")
    with running_dns_server(store) as first, running_dns_server(tenant) as second:
        async with DnsClient(make_config(first, second)) as client:
            lookup = await client.query(
                "selector1._domainkey.firma.test", "TXT", LookupPurpose.DKIM, "selector1"
            )
    assert lookup.status is LookupStatus.OK
    assert lookup.answers == ["v=DKIM1; k=rsa; p=MIIB"]
    assert lookup.cnames == ["selector1-firma-test._domainkey.firma.onmicrosoft.test"]
    # CNAME from A, REFUSED from A for the target, answer from B.
    assert lookup.attempts == 3


async def test_cname_to_unserved_target_keeps_chain(store: ZoneStore, client: DnsClient) -> None:
    store.add("autodiscover.firma.test", "CNAME", "autodiscover.outlook.com.")
    lookup = await client.query("autodiscover.firma.test", "A", LookupPurpose.M365_TRACE, "autodiscover")
    # The sandbox does not serve outlook.com: the target is refused, but the chain is evidence.
    assert lookup.status is LookupStatus.REFUSED
    assert lookup.cnames == ["autodiscover.outlook.com"]


async def test_chain_longer_than_the_server_chases(
    store: ZoneStore, dns_server: DnsServer, make_config: Callable[..., DnsConfig]
) -> None:
    # The sandbox server chases at most 8 links per answer; the client picks up from there.
    names = [f"c{i}.chain.test" for i in range(12)]
    for here, there in itertools.pairwise(names):
        store.add(here, "CNAME", there + ".")
    store.add(names[-1], "A", "192.0.2.99")
    async with DnsClient(make_config(dns_server, max_cname_depth=16)) as client:
        lookup = await client.query(names[0], "A", P)
    assert lookup.status is LookupStatus.OK
    assert lookup.answers == ["192.0.2.99"]
    assert lookup.cnames == names[1:]
    assert lookup.attempts == 2


async def test_cname_depth_limit(
    store: ZoneStore, dns_server: DnsServer, make_config: Callable[..., DnsConfig]
) -> None:
    names = [f"d{i}.chain.test" for i in range(6)]
    for here, there in itertools.pairwise(names):
        store.add(here, "CNAME", there + ".")
    store.add(names[-1], "A", "192.0.2.98")
    async with DnsClient(make_config(dns_server, max_cname_depth=3)) as client:
        lookup = await client.query(names[0], "A", P)
    assert lookup.status is LookupStatus.ERROR
    assert lookup.error == f"CNAME chain from {names[0]} longer than 3 links"


async def test_cname_loop_is_an_error(store: ZoneStore, client: DnsClient) -> None:
    store.add("a.loop.test", "CNAME", "b.loop.test.")
    store.add("b.loop.test", "CNAME", "c.loop.test.")
    store.add("c.loop.test", "CNAME", "a.loop.test.")
    lookup = await client.query("a.loop.test", "TXT", P)
    assert lookup.status is LookupStatus.ERROR
    assert lookup.error == "CNAME loop: a.loop.test -> b.loop.test -> c.loop.test -> a.loop.test"
    assert lookup.cnames == ["b.loop.test", "c.loop.test"]


async def test_cname_to_missing_and_to_empty_target(store: ZoneStore, client: DnsClient) -> None:
    store.add("gone.firma.test", "CNAME", "nothing.firma.test.")
    store.add("empty.firma.test", "CNAME", "host.firma.test.")
    store.add("host.firma.test", "A", "192.0.2.5")
    gone = await client.query("gone.firma.test", "A", P)
    assert gone.status is LookupStatus.NXDOMAIN
    assert gone.cnames == ["nothing.firma.test"]
    empty = await client.query("empty.firma.test", "TXT", P)
    assert empty.status is LookupStatus.NODATA
    assert empty.cnames == ["host.firma.test"]
    assert empty.attempts == 1  # the SOA in the answer says the target has no TXT: no re-query


# ------------------------------------------------------------------------ nameservers


def test_parse_nameservers() -> None:
    assert parse_nameservers("1.1.1.1") == [("1.1.1.1", 53)]
    assert parse_nameservers("1.1.1.1, 127.0.0.1:5353, [::1]:53") == [
        ("1.1.1.1", 53),
        ("127.0.0.1", 5353),
        ("::1", 53),
    ]
    assert parse_nameservers("2001:db8::1 [2001:DB8:0::2]  8.8.8.8:53,8.8.8.8") == [
        ("2001:db8::1", 53),
        ("2001:db8::2", 53),
        ("8.8.8.8", 53),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no nameserver"),
        ("  , ", "no nameserver"),
        ("dns.google", "not an IP address"),
        ("1.1.1.1:http", "not a number"),
        ("1.1.1.1:0", "outside 1-65535"),
        ("1.1.1.1:70000", "outside 1-65535"),
        ("[::1", "missing ']'"),
        ("[::1]5353", "expected ':port'"),
        ("256.1.1.1", "not an IP address"),
        ("1.1.1.1:", "not a number"),
    ],
)
def test_parse_nameservers_rejects_junk(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_nameservers(text)


def test_system_nameservers(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text("# comment\nsearch example\nnameserver 10.0.0.1\nnameserver ::1\nnameserver junk\n")
    assert system_nameservers(conf) == [("10.0.0.1", 53), ("::1", 53)]
    assert system_nameservers(tmp_path / "missing") == [("127.0.0.1", 53)]


async def test_ipv6_nameserver(store: ZoneStore) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    store.add("v6.test", "A", "192.0.2.6")
    try:
        cm = running_dns_server(store, host="::1")
        server = cm.__enter__()
    except OSError as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"cannot bind ::1: {exc}")
    try:
        async with DnsClient(DnsConfig(nameservers=parse_nameservers(server.address), timeout=0.5)) as client:
            lookup = await client.query("v6.test", "A", P)
    finally:
        cm.__exit__(None, None, None)
    assert lookup.status is LookupStatus.OK
    assert lookup.answers == ["192.0.2.6"]


def _rmem_max() -> int:
    return int(Path("/proc/sys/net/core/rmem_max").read_text())


async def test_receive_buffer_is_raised(store: ZoneStore, client: DnsClient) -> None:
    store.add("x.test", "A", "192.0.2.1")
    await client.query("x.test", "A", P)
    rmem_max = _rmem_max()
    assert client.udp_rcvbuf is not None
    # The kernel reports double the request; without privileges it caps at rmem_max.
    assert client.udp_rcvbuf >= min(4 << 20, rmem_max)


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="timeout"):
        DnsConfig(timeout=0)
    with pytest.raises(ValueError, match="attempts"):
        DnsConfig(attempts=0)
    with pytest.raises(ValueError, match="empty"):
        DnsConfig(nameservers=[])


# ------------------------------------------------------------------------- wire codec


def _response(name: str, rdtype: str, *records: tuple[str, str, str], rcode: int = 0) -> bytes:
    query = dns.message.make_query(name, rdtype)
    response = dns.message.make_response(query)
    response.set_rcode(rcode)
    for owner, rtype, text in records:
        response.answer.append(dns.rrset.from_text(owner, 300, "IN", rtype, text))
    return response.to_wire()


@pytest.mark.parametrize(
    ("rdtype", "text"),
    [
        ("MX", "10 mx1.example.net."),
        ("NS", "ns1.example.net."),
        ("SRV", "100 1 5061 sipfed.online.lync.com."),
        ("A", "203.0.113.9"),
        ("AAAA", "2001:db8:0:0:1::1"),
        ("CAA", '0 issue "letsencrypt.org"'),
    ],
)
def test_codec_matches_dnspython(rdtype: str, text: str) -> None:
    wire = _response("example.com.", rdtype, ("example.com.", rdtype, text))
    reply = parse_reply(wire, dns.rdatatype.from_text(rdtype))
    expected = dns.message.from_wire(wire).answer[0][0].to_text()
    assert [r[2] for r in reply.records] == [expected]


def test_encoded_query_is_valid() -> None:
    wire, question = encode_query(0x1234, "Selector1._domainkey.firma.com.tr", 16)
    message = dns.message.from_wire(wire)
    assert message.id == 0x1234
    assert str(message.question[0].name) == "Selector1._domainkey.firma.com.tr."
    assert message.edns == 0
    assert message.payload == 1232
    assert wire[12 : 12 + len(question)] == question
    idn, _ = encode_query(1, "örnek.com.tr", 1, edns=False)
    assert str(dns.message.from_wire(idn).question[0].name) == "xn--rnek-4qa.com.tr."


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=300), st.sampled_from([1, 5, 15, 16, 28, 33, 257]))
def test_parser_never_crashes_on_garbage(data: bytes, qtype: int) -> None:
    with contextlib.suppress(DnsResponseError):
        parse_reply(data, qtype)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 300), st.integers(0, 300))
def test_parser_rejects_truncated_real_answers(cut: int, extra: int) -> None:
    wire = _response("example.com.", "MX", ("example.com.", "MX", "10 mx.example.com."))
    for data in (wire[:cut], wire + bytes(extra % 7)):
        with contextlib.suppress(DnsResponseError):
            parse_reply(data, 15)


# ------------------------------------------------------------------------ query_many


async def test_query_many_matches_query(
    store: ZoneStore, dns_server: DnsServer, make_config: Callable[..., DnsConfig]
) -> None:
    """The batch fast path and the per-question path give the same Lookups, failures included."""
    store.add_text(
        """
        firma.test. MX 10 mx.firma.test.
        firma.test. TXT "v=spf1 -all"
        www.firma.test. CNAME firma.test.
        firma.test. A 192.0.2.1
        dis.firma.test. CNAME host.outside.example.
        a.loop.test. CNAME b.loop.test.
        b.loop.test. CNAME a.loop.test.
        big.firma.test. TXT "v=spf1 include:_spf.google.com ~all"
        sf.firma.test. A 192.0.2.2
        rf.firma.test. A 192.0.2.3
        slow.firma.test. A 192.0.2.4
        """
    )
    store.set_fault("big.firma.test", Fault.TRUNCATE)
    store.set_fault("sf.firma.test", Fault.SERVFAIL)
    store.set_fault("rf.firma.test", Fault.REFUSED)
    store.set_fault("slow.firma.test", Fault.DROP)
    questions: list[tuple[str, str, LookupPurpose, str | None]] = [
        ("firma.test", "MX", LookupPurpose.MX, None),
        ("firma.test", "TXT", LookupPurpose.APEX_TXT, None),
        ("www.firma.test", "A", LookupPurpose.M365_TRACE, "www"),
        ("nothing.firma.test", "A", LookupPurpose.APEX_ADDRESS, None),
        ("firma.test", "AAAA", LookupPurpose.APEX_ADDRESS, None),
        ("dis.firma.test", "A", LookupPurpose.M365_TRACE, "dis"),
        ("a.loop.test", "TXT", LookupPurpose.DKIM, "a"),
        ("big.firma.test", "TXT", LookupPurpose.SPF_INCLUDE, None),
        ("sf.firma.test", "A", LookupPurpose.APEX_ADDRESS, None),
        ("rf.firma.test", "A", LookupPurpose.APEX_ADDRESS, None),
        ("slow.firma.test", "A", LookupPurpose.APEX_ADDRESS, None),
        ("x" * 70 + ".firma.test", "A", LookupPurpose.APEX_ADDRESS, None),
    ]
    async with DnsClient(make_config(dns_server, timeout=0.15, concurrency=3)) as client:
        batch = await client.query_many(questions)
        single = [await client.query(*q) for q in questions]

    def strip(lookups: list[Lookup]) -> list[dict[str, object]]:
        return [lk.model_dump(exclude={"elapsed_ms"}) for lk in lookups]

    # The truncated answer costs the batch one more UDP query (its first attempt).
    assert batch[7].attempts == single[7].attempts + 1
    assert strip(batch[:7] + batch[8:]) == strip(single[:7] + single[8:])
    statuses = [lk.status for lk in batch]
    assert statuses == [
        LookupStatus.OK,
        LookupStatus.OK,
        LookupStatus.OK,
        LookupStatus.NXDOMAIN,
        LookupStatus.NODATA,
        LookupStatus.REFUSED,
        LookupStatus.ERROR,
        LookupStatus.OK,
        LookupStatus.SERVFAIL,
        LookupStatus.REFUSED,
        LookupStatus.TIMEOUT,
        LookupStatus.ERROR,
    ]
    # The truncated answer: UDP (TC), then the slow path's UDP (TC) and TCP.
    assert batch[7].attempts == 3
