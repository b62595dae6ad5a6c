"""Which DNS client library? Raw query throughput of the candidates (docs/decisions/0002).

    .venv/bin/python bench/dns_libraries.py [--domains 2000] [--inflight 256] [--runs 3]
                                            [--server knot|sandbox|both]

The same question list (the first-phase lookups of Hunter's plan for N synthetic domains:
MX, TXT, A, NS, _dmarc, DKIM, M365 traces... 17 per domain, most of them NXDOMAIN as in real
scans) is asked by each client with the same number of queries in flight, against

* Knot DNS on loopback (the fast C server from bench/scan_throughput.py), and
* the sandbox DNS server (``hunter.sandbox.dns_server``, Python) in its own process.

Candidates, each in a fresh subprocess:

* ``hunter``              Hunter's DnsClient.query (hand-rolled asyncio UDP, own wire codec)
* ``hunter+dnspython``    the same transport with dnspython encoding and decoding the messages
* ``aiodns``              aiodns 4 / pycares 5 ``query_dns``
* ``dnspython-resolver``  dns.asyncresolver.Resolver (cache off)
* ``dnspython-asyncquery`` dns.asyncquery.udp, one socket per query, dnspython codec

Reported: queries per second, and how many questions ended without an answer (timeouts).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

CLIENTS = ("hunter", "hunter+dnspython", "aiodns", "dnspython-resolver", "dnspython-asyncquery")


def questions(domains: int) -> list[tuple[str, str]]:
    from hunter.core.lookup_plan import phase1_lookups
    from hunter.sandbox.world import synthetic_domains

    return [(p.name, p.rdtype) for d in synthetic_domains(domains) for p in phase1_lookups(d)]


async def _pool(
    items: list[tuple[str, str]], inflight: int, ask: Callable[[str, str], Awaitable[bool]]
) -> int:
    """Ask every question with ``inflight`` workers; returns how many got no answer."""
    iterator = iter(items)
    failed = 0

    async def worker() -> None:
        nonlocal failed
        for name, rdtype in iterator:
            if not await ask(name, rdtype):
                failed += 1

    await asyncio.gather(*(worker() for _ in range(inflight)))
    return failed


def _patch_dnspython_codec() -> None:
    """Swap Hunter's encoder/decoder for dnspython's (same transport, library codec)."""
    import dns.message
    import dns.rdatatype

    import hunter.collect.dns as hd

    def encode(qid: int, name: str, rdtype: int, *, edns: bool = True) -> tuple[bytes, bytes]:
        message = dns.message.make_query(name, rdtype, use_edns=0 if edns else False, payload=1232)
        message.id = qid
        wire = message.to_wire()
        end = 12
        while wire[end]:
            end += wire[end] + 1
        return wire, wire[12 : end + 5]

    def parse(data: bytes, qtype: int) -> hd.Reply:
        try:
            message = dns.message.from_wire(data, ignore_trailing=True, raise_on_truncation=False)
        except Exception as exc:
            raise hd.DnsResponseError(str(exc)) from None
        reply = hd.Reply(qid=message.id, rcode=message.rcode(), truncated=bool(message.flags & 0x0200))
        for rrset in message.answer:
            if rrset.rdtype in (qtype, dns.rdatatype.CNAME):
                owner = rrset.name.to_text(omit_final_dot=True).lower()
                for rdata in rrset:
                    if rrset.rdtype == dns.rdatatype.TXT:
                        text = b"".join(rdata.strings).decode("utf-8", "replace")
                    else:
                        text = rdata.to_text().lower()
                    reply.records.append((owner, int(rrset.rdtype), text))
        reply.soa_owners = [
            r.name.to_text(omit_final_dot=True).lower()
            for r in message.authority
            if r.rdtype == dns.rdatatype.SOA
        ]
        return reply

    hd.encode_query = encode
    hd.parse_reply = parse


async def run_client(
    client: str, host: str, port: int, items: list[tuple[str, str]], inflight: int
) -> dict[str, Any]:
    started = 0.0
    if client in ("hunter", "hunter+dnspython"):
        if client == "hunter+dnspython":
            _patch_dnspython_codec()
        from hunter.collect.dns import DnsClient, DnsConfig
        from hunter.core.evidence import LookupPurpose

        async with DnsClient(DnsConfig(nameservers=[(host, port)], concurrency=inflight)) as dns_client:

            async def ask(name: str, rdtype: str) -> bool:
                lookup = await dns_client.query(name, rdtype, LookupPurpose.APEX_TXT)
                return lookup.status.is_answer

            started = time.perf_counter()
            failed = await _pool(items, inflight, ask)
    elif client == "aiodns":
        import aiodns

        resolver = aiodns.DNSResolver(nameservers=[f"{host}:{port}"], timeout=2.0, tries=3)

        async def ask(name: str, rdtype: str) -> bool:
            try:
                await resolver.query_dns(name, rdtype)
            except aiodns.error.DNSError as exc:
                # ARES_ENODATA (1) and ARES_ENOTFOUND (4) are answers; the rest are failures.
                return exc.args[0] in (1, 4)
            return True

        started = time.perf_counter()
        failed = await _pool(items, inflight, ask)
        await resolver.close()
    elif client == "dnspython-resolver":
        import dns.asyncresolver
        import dns.exception
        import dns.resolver

        dp_resolver = dns.asyncresolver.Resolver(configure=False)
        dp_resolver.nameservers = [host]
        dp_resolver.port = port
        dp_resolver.cache = None
        dp_resolver.lifetime = 6.0

        async def ask(name: str, rdtype: str) -> bool:
            try:
                await dp_resolver.resolve(name, rdtype)
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                return True
            except dns.exception.DNSException:
                return False
            return True

        started = time.perf_counter()
        failed = await _pool(items, inflight, ask)
    elif client == "dnspython-asyncquery":
        import dns.asyncquery
        import dns.exception
        import dns.message

        async def ask(name: str, rdtype: str) -> bool:
            query = dns.message.make_query(name, rdtype, use_edns=0, payload=1232)
            try:
                await dns.asyncquery.udp(query, host, port=port, timeout=2.0)
            except dns.exception.DNSException:
                return False
            return True

        started = time.perf_counter()
        failed = await _pool(items, inflight, ask)
    else:
        raise SystemExit(f"unknown client {client}")
    seconds = time.perf_counter() - started
    return {"client": client, "queries": len(items), "seconds": seconds, "failed": failed}


_SANDBOX = textwrap.dedent(
    """
    import asyncio, sys
    sys.path.insert(0, {src!r})
    from hunter.sandbox.world import build_world, synthetic_domains
    from hunter.sandbox.zones import ZoneStore
    from hunter.sandbox.dns_server import serve_forever
    store = ZoneStore()
    build_world(synthetic_domains({domains})).populate(store)
    asyncio.run(serve_forever(store, ready=lambda server: print(server.port, flush=True)))
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--domains", type=int, default=2000)
    parser.add_argument("--inflight", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--server", choices=("knot", "sandbox", "both"), default="both")
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--address", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        host, port = args.address.rsplit(":", 1)
        items = questions(args.domains)
        print(json.dumps(asyncio.run(run_client(args.worker, host, int(port), items, args.inflight))))
        return

    from scan_throughput import KnotServer, world_zone_texts

    from hunter.sandbox.world import synthetic_domains

    clients = [c for c in args.clients.split(",") if c]
    servers = ["knot", "sandbox"] if args.server == "both" else [args.server]
    table: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for server in servers:
        if server == "knot":
            context: Any = KnotServer(world_zone_texts(synthetic_domains(args.domains)))
            knot = context.__enter__()
            address = knot.address
            proc = None
        else:
            script = _SANDBOX.format(src=str(ROOT / "src"), domains=args.domains)
            proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
            assert proc.stdout is not None
            address = f"127.0.0.1:{int(proc.stdout.readline())}"
            context = None
        try:
            # One untimed pass first: the sandbox server caches rendered answers, and every
            # client must see the same (warm) server.
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    "hunter",
                    "--address",
                    address,
                    "--domains",
                    str(args.domains),
                ],
                check=True,
                capture_output=True,
            )
            # Interleave the clients run by run so background load hits them alike.
            for run in range(args.runs):
                for client in clients:
                    output = subprocess.run(
                        [
                            sys.executable,
                            __file__,
                            "--worker",
                            client,
                            "--address",
                            address,
                            "--domains",
                            str(args.domains),
                            "--inflight",
                            str(args.inflight),
                        ],
                        check=True,
                        capture_output=True,
                        text=True,
                    ).stdout
                    result = json.loads(output.strip().splitlines()[-1])
                    table.setdefault((server, client), []).append(result)
                    rate = result["queries"] / result["seconds"]
                    unanswered = result["failed"]
                    print(
                        f"{server:8} run {run + 1} {client:22} {rate:>9,.0f} q/s  unanswered {unanswered}",
                        flush=True,
                    )
        finally:
            if context is not None:
                context.__exit__(None, None, None)
            if proc is not None:
                proc.terminate()
                proc.wait()

    print()
    print(
        f"{args.domains} domains × 17 questions, {args.inflight} in flight, median (best) of {args.runs} runs"
    )
    header = f"{'server':8} {'client':22} {'queries/s':>10} {'best':>9} {'vs hunter':>9} {'unanswered':>10}"
    print(header)
    print("-" * len(header))
    for server in servers:
        base = statistics.median(r["queries"] / r["seconds"] for r in table[(server, clients[0])])
        for client in clients:
            rates = [r["queries"] / r["seconds"] for r in table[(server, client)]]
            median = statistics.median(rates)
            failed = max(r["failed"] for r in table[(server, client)])
            ratio = base / median
            print(f"{server:8} {client:22} {median:>10,.0f} {max(rates):>9,.0f} {ratio:>8.1f}× {failed:>10}")


if __name__ == "__main__":
    main()
