"""ZoneStore semantics without the network: names, parsing, negative answers, CNAMEs, faults."""

from __future__ import annotations

import dns.rcode
import dns.rdatatype
import pytest

from hunter.sandbox.zones import Fault, ZoneStore, normalize_name, registrable_guess


def texts(result_rrsets: tuple) -> list[str]:
    return sorted(f"{rr.name} {dns.rdatatype.to_text(rr.rdtype)} {rd}" for rr in result_rrsets for rd in rr)


def test_names_are_case_insensitive_and_idn_becomes_punycode(store: ZoneStore) -> None:
    store.add("ÖRNEK-Tekstil.com.tr.", "A", "192.0.2.1")
    assert normalize_name("Örnek-Tekstil.COM.TR") == "xn--rnek-tekstil-3ib.com.tr"
    for name in ("xn--rnek-tekstil-3ib.com.tr", "XN--RNEK-TEKSTIL-3IB.COM.TR.", "örnek-tekstil.com.tr"):
        result = store.lookup(name, "a")
        assert result.rcode == dns.rcode.NOERROR
        assert texts(result.answer) == ["xn--rnek-tekstil-3ib.com.tr. A 192.0.2.1"]


def test_add_picks_the_registrable_domain_as_zone_apex(store: ZoneStore) -> None:
    store.add("mail.firma.com.tr", "A", "192.0.2.1")
    store.add("selector1._domainkey.firma.com.tr", "TXT", "v=DKIM1; p=")
    store.add("x.y.example.org", "A", "192.0.2.2")
    assert store.zones == ["example.org", "firma.com.tr"]
    # A TLD-ish zone added first still gets a company zone below it (own SOA, like the real DNS).
    store.add_zone("com.tr")
    store.add("diger.com.tr", "A", "192.0.2.3")
    assert "diger.com.tr" in store.zones
    assert registrable_guess("_sipfederationtls._tcp.firma.com.tr") == "firma.com.tr"
    assert registrable_guess("com.tr") is None


def test_add_text_parses_zone_lines(store: ZoneStore) -> None:
    store.add_text(
        """
        ; comment line
        firma.test.  3600 IN MX 10 mx1.firma.test.   ; trailing comment
        firma.test   IN 60 MX 20 mx2.firma.test.
        firma.test   TXT "v=spf1 include:_spf.example -all"
        firma.test   TXT "part one; with semicolon" "part two"
        _dmarc.firma.test TXT "v=DMARC1; p=reject; rua=mailto:d@firma.test"
        $TTL 120
        _sip._tls.firma.test SRV 100 1 443 sipdir.online.lync.com.
        firma.test CAA 0 issue "letsencrypt.org"
        firma.test SOA ( ns1.firma.test. hostmaster.firma.test.
                         2024 3600 600 86400 300 )
        """
    )
    mx = store.lookup("firma.test", "MX").answer[0]
    assert sorted(rd.to_text() for rd in mx) == ["10 mx1.firma.test.", "20 mx2.firma.test."]
    assert mx.ttl == 60  # an RRset has one TTL: the smallest given
    txt = store.lookup("firma.test", "TXT").answer[0]
    assert sorted(rd.strings for rd in txt) == [
        (b"part one; with semicolon", b"part two"),
        (b"v=spf1 include:_spf.example -all",),
    ]
    dmarc = store.lookup("_dmarc.firma.test", "TXT").answer[0]
    assert dmarc[0].strings == (b"v=DMARC1; p=reject; rua=mailto:d@firma.test",)
    srv = store.lookup("_sip._tls.firma.test", "SRV").answer[0]
    assert srv.ttl == 120
    assert store.lookup("firma.test", "CAA").answer[0][0].to_text() == '0 issue "letsencrypt.org"'
    soa = store.lookup("firma.test", "SOA").answer[0][0]
    assert soa.serial == 2024  # an explicit SOA replaces the synthesised one


def test_add_text_reports_the_bad_line(store: ZoneStore) -> None:
    with pytest.raises(ValueError, match="line 3"):
        store.add_text("a.test A 192.0.2.1\n\nb.test A not-an-address\n")
    assert store.lookup("a.test", "A").rcode == dns.rcode.REFUSED  # nothing half-loaded


def test_bare_and_long_txt_values_become_one_record(store: ZoneStore) -> None:
    store.add("firma.test", "TXT", "v=spf1 include:a.test -all")
    long_value = "v=spf1 " + " ".join(f"ip4:198.51.100.{i}" for i in range(120)) + " -all"
    store.add("long.firma.test", "TXT", long_value)
    assert store.lookup("firma.test", "TXT").answer[0][0].strings == (b"v=spf1 include:a.test -all",)
    strings = store.lookup("long.firma.test", "TXT").answer[0][0].strings
    assert len(strings) > 1
    assert all(len(s) <= 255 for s in strings)
    assert b"".join(strings).decode() == long_value


def test_negative_answers(store: ZoneStore) -> None:
    store.add("firma.test", "A", "192.0.2.1")
    store.add("deep.below.firma.test", "A", "192.0.2.2")
    nodata = store.lookup("firma.test", "MX")
    assert (nodata.rcode, nodata.answer) == (dns.rcode.NOERROR, ())
    assert nodata.authority[0].rdtype == dns.rdatatype.SOA
    empty_non_terminal = store.lookup("below.firma.test", "A")
    assert (empty_non_terminal.rcode, empty_non_terminal.answer) == (dns.rcode.NOERROR, ())
    nx = store.lookup("missing.firma.test", "A")
    assert nx.rcode == dns.rcode.NXDOMAIN
    assert nx.authoritative
    assert str(nx.authority[0].name) == "firma.test."
    outside = store.lookup("example.org", "A")
    assert outside.rcode == dns.rcode.REFUSED
    assert not outside.authoritative
    soa = store.lookup("firma.test", "SOA")
    assert soa.answer[0][0].minimum == 300


def test_cname_chains_within_our_zones(store: ZoneStore) -> None:
    store.add("www.firma.test", "CNAME", "web.firma.test.")
    store.add("web.firma.test", "CNAME", "host.hosting.test.")
    store.add("host.hosting.test", "A", "192.0.2.9")
    store.add("dangling.firma.test", "CNAME", "nothing.hosting.test.")
    store.add("away.firma.test", "CNAME", "elsewhere.example.org.")
    chain = store.lookup("www.firma.test", "A")
    assert texts(chain.answer) == [
        "host.hosting.test. A 192.0.2.9",
        "web.firma.test. CNAME host.hosting.test.",
        "www.firma.test. CNAME web.firma.test.",
    ]
    # Asking for the CNAME itself does not chase.
    assert texts(store.lookup("www.firma.test", "CNAME").answer) == ["www.firma.test. CNAME web.firma.test."]
    # The rcode belongs to the last name in the chain (RFC 6604).
    dangling = store.lookup("dangling.firma.test", "TXT")
    assert dangling.rcode == dns.rcode.NXDOMAIN
    assert len(dangling.answer) == 1
    assert str(dangling.authority[0].name) == "hosting.test."
    away = store.lookup("away.firma.test", "A")
    assert away.rcode == dns.rcode.NOERROR
    assert len(away.answer) == 1


def test_cname_loops_and_long_chains_stop(store: ZoneStore) -> None:
    store.add("a.loop.test", "CNAME", "b.loop.test.")
    store.add("b.loop.test", "CNAME", "a.loop.test.")
    loop = store.lookup("a.loop.test", "A")
    assert loop.rcode == dns.rcode.NOERROR
    assert len(loop.answer) == 2
    for i in range(20):
        store.add(f"c{i}.chain.test", "CNAME", f"c{i + 1}.chain.test.")
    long_chain = store.lookup("c0.chain.test", "A")
    assert len(long_chain.answer) == 9  # the first link plus at most 8 chased


def test_cname_cannot_share_a_name_with_other_data(store: ZoneStore) -> None:
    store.add("x.firma.test", "A", "192.0.2.1")
    with pytest.raises(ValueError, match="CNAME"):
        store.add("x.firma.test", "CNAME", "y.firma.test.")
    store.add("y.firma.test", "CNAME", "x.firma.test.")
    with pytest.raises(ValueError, match="CNAME"):
        store.add("y.firma.test", "TXT", "hello")
    with pytest.raises(ValueError, match="one CNAME"):
        store.add("y.firma.test", "CNAME", "z.firma.test.")


def test_wildcards_answer_for_missing_names_only(store: ZoneStore) -> None:
    store.add("*.wild.test", "A", "192.0.2.50")
    store.add("real.wild.test", "TXT", "here")
    synth = store.lookup("anything.wild.test", "A")
    assert texts(synth.answer) == ["anything.wild.test. A 192.0.2.50"]
    assert store.lookup("real.wild.test", "A").answer == ()  # existing name: NODATA, no wildcard
    assert store.lookup("a.b.wild.test", "A").rcode == dns.rcode.NOERROR


def test_replace_remove_and_remove_zone(store: ZoneStore) -> None:
    store.add("firma.test", "MX", "10 old.firma.test.", ttl=900)
    version = store.version
    store.replace("firma.test", "MX", ["10 new1.firma.test.", "20 new2.firma.test."])
    assert store.version > version
    mx = store.lookup("firma.test", "MX").answer[0]
    assert sorted(rd.to_text() for rd in mx) == ["10 new1.firma.test.", "20 new2.firma.test."]
    assert mx.ttl == 900
    store.add("a.b.firma.test", "A", "192.0.2.1")
    store.remove("a.b.firma.test")
    assert store.lookup("b.firma.test", "A").rcode == dns.rcode.NXDOMAIN  # no longer a non-terminal
    store.remove("firma.test", "MX")
    assert store.lookup("firma.test", "MX").answer == ()
    store.remove_zone("firma.test")
    assert store.lookup("firma.test", "A").rcode == dns.rcode.REFUSED


def test_faults_by_name_type_and_subtree(store: ZoneStore) -> None:
    store.add("firma.test", "MX", "10 mx.firma.test.")
    store.add("_dmarc.firma.test", "TXT", "v=DMARC1; p=none")
    store.set_fault("firma.test", Fault.SERVFAIL, rdtype="MX")
    assert store.lookup("firma.test", "MX").rcode == dns.rcode.SERVFAIL
    assert store.lookup("firma.test", "A").rcode == dns.rcode.NOERROR
    store.set_fault("firma.test", Fault.DROP, subtree=True)
    assert store.lookup("_dmarc.firma.test", "TXT").fault is Fault.DROP
    store.set_fault("firma.test", Fault.TRUNCATE)
    # An exact-name fault wins over the subtree one; TRUNCATE keeps the real answer for TCP.
    result = store.lookup("firma.test", "A")
    assert result.fault is Fault.TRUNCATE
    store.set_fault("firma.test", None, rdtype="MX")
    store.set_fault("firma.test", None)
    assert store.lookup("firma.test", "MX").fault is Fault.DROP
    store.clear_faults()
    assert store.lookup("_dmarc.firma.test", "TXT").fault is None
    # Faults apply even to names outside every zone (an unreachable server).
    store.set_fault("example.org", Fault.REFUSED)
    assert store.lookup("example.org", "A").fault is Fault.REFUSED


def test_to_text_round_trips(store: ZoneStore) -> None:
    store.add_text(
        'firma.test MX 10 mx.firma.test.\nfirma.test TXT "a b" "c"\nfirma.test AAAA 2001:db8::1\n'
        "_sip._tls.firma.test SRV 100 1 443 sip.firma.test.\n"
    )
    copy = ZoneStore()
    copy.add_text(store.to_text())
    assert list(copy.records()) == list(store.records())
