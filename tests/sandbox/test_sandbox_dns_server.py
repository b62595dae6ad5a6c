"""The sandbox DNS server over real UDP/TCP sockets, asked the way dig (dnspython) asks."""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from collections.abc import Callable

import dns.asyncquery
import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hunter.sandbox.dns_server import DnsServer, serve_forever
from hunter.sandbox.zones import Fault, ZoneStore

Dig = Callable[..., dns.message.Message]  # the conftest ``dig`` fixture
Texts = Callable[[dns.message.Message], list[str]]

# A 2,000-byte SPF-like TXT split into character-strings, like big real-world records.
BIG_SPF = "v=spf1 " + " ".join(f"ip4:198.51.{i // 250}.{i % 250}" for i in range(130)) + " -all"
assert len(BIG_SPF) > 2000


@pytest.fixture(autouse=True)
def _zone(store: ZoneStore) -> None:
    store.add_text(
        """
        firma.test.          MX    10 mx1.firma.test.
        firma.test.          MX    20 mx2.firma.test.
        firma.test.          A     192.0.2.10
        firma.test.          AAAA  2001:db8::10
        firma.test.          NS    ns1.hosting.test.
        firma.test.          TXT   "v=spf1 include:spf.hosting.test -all"
        firma.test.          TXT   "MS=ms12345678"
        firma.test.          CAA   0 issue "letsencrypt.org"
        mx1.firma.test.      A     192.0.2.11
        mx2.firma.test.      A     192.0.2.12
        _dmarc.firma.test.   TXT   "v=DMARC1; p=quarantine; rua=mailto:dmarc@firma.test"
        _sipfederationtls._tcp.firma.test. SRV 100 1 5061 sipfed.online.lync.com.
        autodiscover.firma.test. CNAME autodiscover.hosting.test.
        autodiscover.hosting.test. CNAME mail.hosting.test.
        mail.hosting.test.   A     192.0.2.20
        ext.firma.test.      CNAME autodiscover.outlook.com.
        a.loop.test.         CNAME b.loop.test.
        b.loop.test.         CNAME a.loop.test.
        deep.ent.firma.test. A     192.0.2.30
        """
    )
    store.add("big.firma.test", "TXT", BIG_SPF)


def test_every_record_type_comes_back(dig: Dig, rrset_texts: Texts) -> None:
    cases = {
        ("firma.test", "MX"): ["firma.test. MX 10 mx1.firma.test.", "firma.test. MX 20 mx2.firma.test."],
        ("firma.test", "A"): ["firma.test. A 192.0.2.10"],
        ("firma.test", "AAAA"): ["firma.test. AAAA 2001:db8::10"],
        ("firma.test", "NS"): ["firma.test. NS ns1.hosting.test."],
        ("firma.test", "CAA"): ['firma.test. CAA 0 issue "letsencrypt.org"'],
        ("firma.test", "TXT"): [
            'firma.test. TXT "MS=ms12345678"',
            'firma.test. TXT "v=spf1 include:spf.hosting.test -all"',
        ],
        ("_dmarc.firma.test", "TXT"): [
            '_dmarc.firma.test. TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@firma.test"'
        ],
        ("_sipfederationtls._tcp.firma.test", "SRV"): [
            "_sipfederationtls._tcp.firma.test. SRV 100 1 5061 sipfed.online.lync.com."
        ],
    }
    for (name, rdtype), expected in cases.items():
        for tcp in (False, True):
            response = dig(name, rdtype, tcp=tcp)
            assert response.rcode() == dns.rcode.NOERROR
            assert response.flags & dns.flags.AA
            assert rrset_texts(response) == expected, (name, rdtype, tcp)
    soa = dig("firma.test", "SOA")
    assert soa.answer[0][0].mname.to_text() == "ns1.firma.test."


def test_nxdomain_nodata_and_refused(dig: Dig) -> None:
    nodata = dig("firma.test", "SRV")
    assert nodata.rcode() == dns.rcode.NOERROR
    assert not nodata.answer
    assert nodata.authority[0].rdtype == dns.rdatatype.SOA
    ent = dig("ent.firma.test", "A")  # has a name below it: empty non-terminal
    assert ent.rcode() == dns.rcode.NOERROR
    assert not ent.answer
    nx = dig("nope.firma.test", "A")
    assert nx.rcode() == dns.rcode.NXDOMAIN
    assert nx.flags & dns.flags.AA
    assert nx.authority[0].name.to_text() == "firma.test."
    refused = dig("www.example.org", "A")
    assert refused.rcode() == dns.rcode.REFUSED
    assert not refused.flags & dns.flags.AA


def test_cname_chain_is_chased_inside_our_zones(dig: Dig, rrset_texts: Texts) -> None:
    chain = dig("autodiscover.firma.test", "A")
    assert rrset_texts(chain) == [
        "autodiscover.firma.test. CNAME autodiscover.hosting.test.",
        "autodiscover.hosting.test. CNAME mail.hosting.test.",
        "mail.hosting.test. A 192.0.2.20",
    ]
    assert rrset_texts(dig("autodiscover.firma.test", "CNAME")) == [
        "autodiscover.firma.test. CNAME autodiscover.hosting.test."
    ]
    # Target outside our zones: the CNAME alone, and the client follows it itself.
    outside = dig("ext.firma.test", "A")
    assert outside.rcode() == dns.rcode.NOERROR
    assert rrset_texts(outside) == ["ext.firma.test. CNAME autodiscover.outlook.com."]


def test_cname_loop_is_answered_quickly(dig: Dig) -> None:
    started = time.monotonic()
    response = dig("a.loop.test", "A", timeout=1.0)
    assert time.monotonic() - started < 0.5
    assert response.rcode() == dns.rcode.NOERROR
    assert [rr.rdtype for rr in response.answer] == [dns.rdatatype.CNAME, dns.rdatatype.CNAME]


def test_big_txt_truncates_over_udp_and_comes_whole_over_tcp(dig: Dig, server: DnsServer) -> None:
    plain = dig("big.firma.test", "TXT")
    assert plain.flags & dns.flags.TC
    assert not plain.answer
    small_edns = dig("big.firma.test", "TXT", payload=1232)
    assert small_edns.flags & dns.flags.TC
    assert small_edns.edns == 0
    large_edns = dig("big.firma.test", "TXT", payload=4096)
    assert not large_edns.flags & dns.flags.TC
    full = dig("big.firma.test", "TXT", tcp=True)
    assert not full.flags & dns.flags.TC
    strings = full.answer[0][0].strings
    assert len(strings) > 1
    assert b"".join(strings).decode() == BIG_SPF
    # What a stub resolver does: UDP first, TCP after TC.
    query = dns.message.make_query("big.firma.test", "TXT")
    response, used_tcp = dns.query.udp_with_fallback(query, server.host, timeout=2, port=server.port)
    assert used_tcp
    assert b"".join(response.answer[0][0].strings).decode() == BIG_SPF
    assert server.stats.truncated >= 3


@pytest.mark.parametrize(
    ("fault", "rcode"), [(Fault.SERVFAIL, dns.rcode.SERVFAIL), (Fault.REFUSED, dns.rcode.REFUSED)]
)
def test_rcode_faults_and_clearing(store: ZoneStore, dig: Dig, fault: Fault, rcode: int) -> None:
    store.set_fault("firma.test", fault, rdtype="MX")
    assert dig("firma.test", "MX").rcode() == rcode
    assert dig("firma.test", "MX", tcp=True).rcode() == rcode
    assert dig("firma.test", "A").rcode() == dns.rcode.NOERROR  # other types unaffected
    store.set_fault("firma.test", None, rdtype="MX")
    assert dig("firma.test", "MX").rcode() == dns.rcode.NOERROR


def test_drop_fault_times_out(store: ZoneStore, dig: Dig, server: DnsServer) -> None:
    store.set_fault("firma.test", Fault.DROP)
    with pytest.raises(dns.exception.Timeout):
        dig("firma.test", "MX", timeout=0.3)
    with pytest.raises(dns.exception.Timeout):
        dig("firma.test", "A", timeout=0.3, tcp=True)
    assert server.stats.dropped == 2
    store.clear_faults()
    assert dig("firma.test", "MX", timeout=1).rcode() == dns.rcode.NOERROR


def test_truncate_fault_forces_tcp(store: ZoneStore, dig: Dig, rrset_texts: Texts) -> None:
    store.set_fault("mx1.firma.test", Fault.TRUNCATE)
    udp = dig("mx1.firma.test", "A", payload=4096)
    assert udp.flags & dns.flags.TC
    assert not udp.answer
    tcp = dig("mx1.firma.test", "A", tcp=True)
    assert rrset_texts(tcp) == ["mx1.firma.test. A 192.0.2.11"]
    store.set_fault("mx1.firma.test", None)
    assert not dig("mx1.firma.test", "A").flags & dns.flags.TC


def test_garbage_does_not_kill_the_server(server: DnsServer, dig: Dig) -> None:
    packets = [
        b"",
        b"\x00",
        b"\xff" * 11,
        b"\x12\x34" + b"\x00" * 10,  # header only, no question
        b"\x12\x34\x81\x80" + b"\x00\x01" + b"\x00" * 6 + b"\x03abc\x00\x00\x01\x00\x01",  # a response
        b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x40" + b"a" * 70,  # label too long
        b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01",  # pointer loop
        bytes(range(256)) * 3,
    ]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for packet in packets:
            sock.sendto(packet, (server.host, server.port))
    with socket.create_connection((server.host, server.port), timeout=2) as conn:
        conn.sendall(b"\x00\x05hello")
        good = dns.message.make_query("firma.test", "A")
        wire = good.to_wire()
        conn.sendall(struct.pack("!H", len(wire)) + wire)
        length = struct.unpack("!H", _recv_exact(conn, 2))[0]
        reply = dns.message.from_wire(_recv_exact(conn, length))
        assert reply.id == good.id
        assert reply.answer
    assert dig("firma.test", "A").rcode() == dns.rcode.NOERROR
    assert server.stats.garbage >= len(packets) - 1


def test_other_opcodes_get_notimp(dig: Dig, server: DnsServer) -> None:
    query = dns.message.make_query("firma.test", "SOA")
    query.set_opcode(dns.opcode.NOTIFY)
    response = dns.query.udp(query, server.host, timeout=2, port=server.port)
    assert response.rcode() == dns.rcode.NOTIMP


def _recv_exact(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        assert chunk, "connection closed"
        data += chunk
    return data


def test_tcp_connection_serves_several_queries(server: DnsServer) -> None:
    first = dns.message.make_query("firma.test", "MX")
    second = dns.message.make_query("_dmarc.firma.test", "TXT")
    with socket.create_connection((server.host, server.port), timeout=2) as conn:
        # Both queries in one write (pipelined), then a third after the answers.
        payload = b"".join(struct.pack("!H", len(w)) + w for w in (first.to_wire(), second.to_wire()))
        conn.sendall(payload)
        replies = []
        for _ in range(2):
            length = struct.unpack("!H", _recv_exact(conn, 2))[0]
            replies.append(dns.message.from_wire(_recv_exact(conn, length)))
        third = dns.message.make_query("big.firma.test", "TXT")
        response = dns.query.tcp(third, server.host, timeout=2, sock=conn)
    assert [r.id for r in replies] == [first.id, second.id]
    assert len(replies[0].answer[0]) == 2
    assert replies[1].answer
    assert b"".join(response.answer[0][0].strings).decode() == BIG_SPF
    assert server.stats.tcp_connections == 1


def test_question_case_is_echoed_and_counters_count(server: DnsServer, dig: Dig) -> None:
    server.reset_stats()
    for _ in range(2):
        response = dig("FiRmA.TeSt", "MX")
        assert response.question[0].name.to_text() == "FiRmA.TeSt."
        assert response.answer[0].name.to_text().lower() == "firma.test."
    dig("firma.test", "TXT", tcp=True)
    stats = server.stats
    assert (stats.queries, stats.udp, stats.tcp, stats.cache_hits) == (3, 2, 1, 1)
    assert stats.queries_by_type() == {"MX": 2, "TXT": 1}
    assert stats.as_dict()["by_rcode"] == {"NOERROR": 3}


def test_changes_between_queries_are_seen(store: ZoneStore, dig: Dig, rrset_texts: Texts) -> None:
    assert rrset_texts(dig("mx1.firma.test", "A")) == ["mx1.firma.test. A 192.0.2.11"]
    store.replace("mx1.firma.test", "A", ["192.0.2.99"])
    assert rrset_texts(dig("mx1.firma.test", "A")) == ["mx1.firma.test. A 192.0.2.99"]
    store.remove("mx1.firma.test")
    assert dig("mx1.firma.test", "A").rcode() == dns.rcode.NXDOMAIN


def test_mutating_the_store_while_serving(store: ZoneStore, dig: Dig) -> None:
    stop = threading.Event()
    errors: list[BaseException] = []

    def churn() -> None:
        i = 0
        try:
            while not stop.is_set():
                store.add("churn.firma.test", "A", f"198.51.100.{i % 250}")
                if i % 50 == 49:
                    store.remove("churn.firma.test")
                i += 1
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    thread = threading.Thread(target=churn)
    thread.start()
    try:
        for _ in range(200):
            response = dig("churn.firma.test", "A")
            assert response.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN)
    finally:
        stop.set()
        thread.join()
    assert not errors


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=600))
def test_handler_never_raises(store: ZoneStore, data: bytes) -> None:
    server = DnsServer(store)
    for udp in (True, False):
        response = server.handle(data, udp)
        assert response is None or len(response) >= 12


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.from_regex(r"[a-zA-Z0-9-]{1,20}(\.[a-zA-Z0-9-]{1,20}){0,3}", fullmatch=True),
    flip=st.integers(0, 11),
)
def test_mutated_queries_are_handled(store: ZoneStore, name: str, flip: int) -> None:
    server = DnsServer(store)
    wire = bytearray(dns.message.make_query(f"{name}.firma.test", "A", use_edns=0).to_wire())
    wire[flip] ^= 0xFF  # corrupt one header byte
    server.handle(bytes(wire))  # must not raise, whatever it decides to answer


async def test_async_server_in_the_callers_loop(store: ZoneStore) -> None:
    server = DnsServer(store)
    host, port = await server.start()
    try:
        assert server.address == f"127.0.0.1:{port}"
        query = dns.message.make_query("firma.test", "MX")
        udp = await dns.asyncquery.udp(query, host, timeout=2, port=port)
        tcp = await dns.asyncquery.tcp(query, host, timeout=2, port=port)
        assert udp.answer == tcp.answer
        assert len(udp.answer[0]) == 2
    finally:
        await server.stop()
    # UDP and TCP really shared one port, and both are closed now.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        assert probe.connect_ex((host, port)) != 0


async def test_serve_forever_reports_ready_and_stops_on_cancel(store: ZoneStore) -> None:
    ready: asyncio.Future[DnsServer] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve_forever(store, "127.0.0.1", 0, ready=ready.set_result))
    server = await asyncio.wait_for(ready, 5)
    response = await dns.asyncquery.udp(
        dns.message.make_query("firma.test", "A"), server.host, 2, server.port
    )
    assert response.answer
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
