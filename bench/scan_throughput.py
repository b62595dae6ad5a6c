"""DNS scan throughput: Hunter's scanner against a C authoritative server, checkdmarc beside it.

    .venv/bin/python bench/scan_throughput.py [--domains 10000] [--big] [--latency MS]
                                              [--pipeline collect|full] [--runs 3]

What it does:

1. Builds the synthetic world (``hunter.sandbox.world``) for N domains plus the provider zones,
   writes it as one zone file per top-level label (``tr``, ``com``, ``net``, ...) and serves
   it with Knot DNS on a free loopback port. Knot is installed from Debian when missing
   (``apt-get install -y knot``; this machine runs as root). Knot has no socket-buffer
   setting, so ``net.core.rmem_default`` is raised to 4 MiB while it starts (and put back):
   with its default 208 KiB buffer it drops answers under a few hundred queries in flight.
   The sandbox's scripted faults (SERVFAIL / timeout profiles) cannot be expressed in Knot;
   those domains are served like any other here.
2. ``--latency MS`` puts dnsdist (Debian package) in front of Knot with
   ``addAction(AllRule(), DelayAction(MS))``: every UDP answer leaves MS milliseconds late.
3. Runs Hunter's ``scan_many`` over the N domains in a subprocess (so peak RSS is the scan's
   alone), ``--runs`` times, and reports the best and median domains/s, queries per domain
   and peak RSS. ``--big`` also runs 100,000 domains (a second world and Knot instance).
4. Runs checkdmarc (``check_domains`` with a dnspython Resolver pointed at the same server and
   port) over a sample, sequentially and with a 32-thread pool, and prints the ratios.

``--pipeline full`` streams the evidence through :func:`run_full_pipeline` (classify + store,
wired later); ``collect`` only consumes it.

Nothing here is asserted; the figures go to the report / bench/RESULTS.md by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from hunter.collect.dns import DnsClient, DnsConfig, parse_nameservers  # noqa: E402
from hunter.collect.scanner import scan_many  # noqa: E402
from hunter.core.evidence import Evidence  # noqa: E402

_APT_UPDATED = False


# --------------------------------------------------------------------------------------------
# Debian packages


def ensure_package(package: str, binary: str) -> str:
    """Path of ``binary``, installing ``package`` from Debian when it is missing."""
    global _APT_UPDATED
    found = shutil.which(binary) or (
        Path("/usr/sbin") / binary if (Path("/usr/sbin") / binary).exists() else None
    )
    if found:
        return str(found)
    if os.geteuid() != 0:
        raise SystemExit(
            f"{binary} is missing and installing {package} needs root: apt-get install -y {package}"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for attempt in range(2):
        if attempt or not _APT_UPDATED:
            subprocess.run(["apt-get", "update"], check=False, env=env, stdout=subprocess.DEVNULL)
            _APT_UPDATED = True
        result = subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", package],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if result.returncode == 0:
            break
    else:
        raise SystemExit(f"apt-get install {package} failed: {result.stderr[-500:]}")
    found = shutil.which(binary) or str(Path("/usr/sbin") / binary)
    if not Path(found).exists():
        raise SystemExit(f"{package} installed but {binary} not found")
    # Debian starts installed daemons when it can; we run our own instance.
    subprocess.run(["service", package, "stop"], check=False, capture_output=True)
    return found


def free_port(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP (DNS servers need both)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((host, port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port")


def wait_for_dns(host: str, port: int, name: str, timeout: float = 120.0) -> None:
    """Poll until the server answers NOERROR for ``name`` SOA (zone loaded)."""
    import dns.message
    import dns.query
    import dns.rcode

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            reply = dns.query.udp(dns.message.make_query(name, "SOA"), host, port=port, timeout=0.5)
            if reply.rcode() == dns.rcode.NOERROR and reply.answer:
                return
        time.sleep(0.2)
    raise RuntimeError(f"DNS server on {host}:{port} did not serve {name} within {timeout:.0f} s")


@contextlib.contextmanager
def raised_rmem_default(size: int = 4 << 20) -> Iterator[None]:
    """Temporarily raise the default socket receive buffer (for daemons without a setting)."""
    path = Path("/proc/sys/net/core/rmem_default")
    try:
        old = path.read_text().strip()
        path.write_text(str(size))
    except OSError:
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            path.write_text(old)


# --------------------------------------------------------------------------------------------
# Zones and servers


def world_zone_texts(domains: list[str]) -> dict[str, str]:
    """World + provider records as zone-file text: one zone per company, per provider and per
    public suffix, as the sandbox serves them (an NS record at a company apex inside a bigger
    zone would be a delegation, so the zones cannot be merged)."""
    from hunter.sandbox import provider_zones as pz
    from hunter.sandbox.world import build_world

    world = build_world(domains)
    apexes = set(world.suffix_zones)
    apexes.update(c.domain for c in world.companies if c.profile != "nxdomain")
    for apex in pz.PROVIDER_ZONES:
        labels = apex.split(".")
        apexes.update(".".join(labels[i:]) for i in range(len(labels)))
    zones: dict[str, list[str]] = {apex: [] for apex in apexes}
    for line in world.zone_text().splitlines() + pz.provider_zone_text().splitlines():
        owner = line.split(None, 1)[0].rstrip(".").lower()
        labels = owner.split(".")
        for i in range(len(labels)):
            bucket = zones.get(".".join(labels[i:]))
            if bucket is not None:
                bucket.append(line)
                break
    texts = {}
    for apex, records in zones.items():
        head = [f"{apex}. 3600 IN SOA ns1.{apex}. hostmaster.{apex}. 1 3600 600 1209600 300"]
        if not any(
            r.split(None, 4)[3:4] == ["NS"] and r.split(None, 1)[0].rstrip(".") == apex for r in records
        ):
            head.append(f"{apex}. 3600 IN NS ns1.{apex}.")
        texts[apex] = "\n".join(head + records) + "\n"
    return texts


class KnotServer:
    """knotd serving the given zones on 127.0.0.1:port, in a temporary directory."""

    def __init__(self, zones: dict[str, str], *, host: str = "127.0.0.1", workers: int = 1) -> None:
        self.zones = zones
        self.host = host
        self.port = free_port(host)
        self.workers = workers
        self._dir = tempfile.TemporaryDirectory(prefix="hunter-knot-")
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> KnotServer:
        knotd = ensure_package("knot", "knotd")
        base = Path(self._dir.name)
        (base / "zones").mkdir()
        (base / "db").mkdir()
        (base / "run").mkdir()
        zone_conf = []
        for apex, text in self.zones.items():
            (base / "zones" / f"{apex}.zone").write_text(text)
            zone_conf.append(f"  - domain: {apex}")
        (base / "knot.conf").write_text(
            f"""server:
    rundir: "{base}/run"
    listen: {self.host}@{self.port}
    udp-workers: {self.workers}
    tcp-workers: 1
    background-workers: 1
database:
    storage: "{base}/db"
log:
  - target: stderr
    any: error
template:
  - id: default
    storage: "{base}/zones"
    file: "%s.zone"
    semantic-checks: off
    journal-content: none
    zonefile-sync: -1
zone:
"""
            + "\n".join(zone_conf)
            + "\n"
        )
        with raised_rmem_default():
            self._proc = subprocess.Popen([knotd, "-c", str(base / "knot.conf")], stderr=subprocess.PIPE)
            try:
                # Knot loads zones in the background: wait for a sample of them.
                names = list(self.zones)
                for apex in names[:: max(1, len(names) // 50)] + names[-1:]:
                    wait_for_dns(self.host, self.port, apex + ".")
            except Exception:
                self.__exit__(None, None, None)
                raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        self._dir.cleanup()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class DnsdistDelay:
    """dnsdist in front of a backend, delaying every UDP answer by ``delay_ms``."""

    def __init__(self, backend: str, delay_ms: int, host: str = "127.0.0.1") -> None:
        self.backend = backend
        self.delay_ms = delay_ms
        self.host = host
        self.port = free_port(host)
        self._dir = tempfile.TemporaryDirectory(prefix="hunter-dnsdist-")
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> DnsdistDelay:
        binary = ensure_package("dnsdist", "dnsdist")
        conf = Path(self._dir.name) / "dnsdist.conf"
        conf.write_text(
            f"""setLocal("{self.host}:{self.port}")
newServer({{address="{self.backend}", name="knot", checkInterval=3600}})
setMaxUDPOutstanding(65535)
setUDPSocketBufferSizes(4194304, 4194304)
addAction(AllRule(), DelayAction({self.delay_ms}))
"""
        )
        with raised_rmem_default():
            self._proc = subprocess.Popen(
                [binary, "--supervised", "--disable-syslog", "-C", str(conf)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            # Inside the raised default: the backend sockets are created once it runs.
            wait_for_dns(self.host, self.port, "tr.")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None
        self._dir.cleanup()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


# --------------------------------------------------------------------------------------------
# Hunter worker (runs in a subprocess)


async def run_full_pipeline(args: argparse.Namespace, domains: list[str]) -> dict[str, Any]:
    """The product's one scan path: collect, classify, evaluate and store in SQLite."""
    import tempfile

    from hunter.config import Settings
    from hunter.services.scanning import scan_domains
    from hunter.store.db import Database

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        db.upgrade()
        settings = Settings(
            dns_nameservers=args.nameserver,
            dns_timeout=args.timeout,
            dns_concurrency=args.concurrency,
            scan_concurrency=args.domain_concurrency,
            rdap_enabled=False,
            data_dir=tmp,
        )
        started = time.perf_counter()
        summary = await scan_domains(settings, domains, db=db)
        seconds = time.perf_counter() - started
        db.dispose()
    return {"domains": summary.stored, "seconds": seconds, "complete": summary.complete}


def _proc_status_kb(field: str) -> int:
    """A /proc/self/status figure in KiB. VmHWM is this process's own peak RSS; getrusage's
    ru_maxrss would include the parent's peak, which Linux carries across fork and exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def _worker(args: argparse.Namespace) -> dict[str, Any]:
    from hunter.sandbox.world import synthetic_domains

    domains = synthetic_domains(args.domains)
    config = DnsConfig(
        nameservers=parse_nameservers(args.nameserver),
        timeout=args.timeout,
        concurrency=args.concurrency,
    )
    statuses: Counter[str] = Counter()
    rss_before = _proc_status_kb("VmRSS")
    if args.pipeline == "full":
        result = await run_full_pipeline(args, domains)
        return {
            **result,
            "queries": 0,
            "lookups": 0,
            "statuses": {},
            "peak_rss_mb": _proc_status_kb("VmHWM") / 1024,
            "rss_before_mb": rss_before / 1024,
        }
    async with DnsClient(config) as client:

        async def stream() -> AsyncIterator[Evidence]:
            async for evidence in scan_many(
                iter(domains), client=client, domain_concurrency=args.domain_concurrency
            ):
                for lookup in evidence.lookups:
                    statuses[lookup.status.value] += 1
                yield evidence

        started = time.perf_counter()
        count = 0
        async for _evidence in stream():
            count += 1
        seconds = time.perf_counter() - started
        queries = client.queries_sent
    return {
        "domains": count,
        "seconds": seconds,
        "queries": queries,
        "lookups": sum(statuses.values()),
        "statuses": dict(statuses),
        "peak_rss_mb": _proc_status_kb("VmHWM") / 1024,
        "rss_before_mb": rss_before / 1024,
    }


def run_hunter(nameserver: str, domains: int, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--worker",
        "--nameserver",
        nameserver,
        "--domains",
        str(domains),
        "--pipeline",
        args.pipeline,
        "--concurrency",
        str(args.concurrency),
        "--domain-concurrency",
        str(args.domain_concurrency),
        "--timeout",
        str(args.timeout),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------
# checkdmarc


def _checkdmarc_one(domain: str, host: str, port: int) -> None:
    import checkdmarc
    import dns.nameserver
    import dns.resolver

    # Both are needed: the DNSSEC checks take ``nameservers`` (a Nameserver object carries
    # the port) and would otherwise ask the system resolver; the rest uses ``resolver``.
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = port
    resolver.cache = None
    nameservers = [dns.nameserver.Do53Nameserver(host, port)]
    checkdmarc.check_domains([domain], resolver=resolver, nameservers=nameservers, timeout=2.0)


def run_checkdmarc(host: str, port: int, domains: list[str], threads: int) -> dict[str, Any]:
    import logging

    logging.getLogger("checkdmarc").setLevel(logging.ERROR)
    started = time.perf_counter()
    if threads <= 1:
        for domain in domains:
            _checkdmarc_one(domain, host, port)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda d: _checkdmarc_one(d, host, port), domains))
    seconds = time.perf_counter() - started
    return {"domains": len(domains), "seconds": seconds}


# --------------------------------------------------------------------------------------------
# Main


@dataclass
class Row:
    label: str
    domains: int
    rate: float
    queries_per_domain: float | None = None
    peak_rss_mb: float | None = None
    note: str = ""


def _hunter_rows(label: str, results: list[dict[str, Any]]) -> Row:
    rates = [r["domains"] / r["seconds"] for r in results]
    best = max(results, key=lambda r: r["domains"] / r["seconds"])
    failures = {k: v for k, v in best["statuses"].items() if k not in ("ok", "nxdomain", "nodata")}
    growth = max(r["peak_rss_mb"] - r["rss_before_mb"] for r in results)
    note = (
        f"median {statistics.median(rates):,.0f}/s over {len(rates)} runs; "
        f"RSS {best['rss_before_mb']:.0f} MB before the scan, +{growth:.1f} MB during it"
    )
    if failures:
        note += f"; failures {failures}"
    return Row(
        label,
        best["domains"],
        max(rates),
        best["queries"] / best["domains"],
        max(r["peak_rss_mb"] for r in results),
        note,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--domains", type=int, default=10_000)
    parser.add_argument("--big", action="store_true", help="also scan 100,000 domains")
    parser.add_argument("--latency", type=int, default=0, metavar="MS", help="delay every answer (dnsdist)")
    parser.add_argument("--pipeline", choices=("collect", "full"), default="collect")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=0, help="queries in flight (default: by latency)")
    parser.add_argument(
        "--domain-concurrency", type=int, default=0, help="domains in flight (default: by latency)"
    )
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--knot-workers", type=int, default=1)
    parser.add_argument(
        "--checkdmarc-sequential", type=int, default=0, help="sample size (default: by latency)"
    )
    parser.add_argument(
        "--checkdmarc-threaded", type=int, default=0, help="sample size (default: by latency)"
    )
    parser.add_argument("--no-checkdmarc", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--nameserver", help=argparse.SUPPRESS)
    args = parser.parse_args()
    # Latency is hidden by concurrency: Little's law, in-flight = rate × round trip.
    if not args.concurrency:
        args.concurrency = 256 if args.latency < 5 else 2048
    if not args.domain_concurrency:
        args.domain_concurrency = 64 if args.latency < 5 else 512

    if args.worker:
        print(json.dumps(asyncio.run(_worker(args))))
        return

    from hunter.sandbox.world import synthetic_domains

    rows: list[Row] = []
    sizes = [args.domains] + ([100_000] if args.big and args.domains != 100_000 else [])
    sequential = args.checkdmarc_sequential or (200 if args.latency < 5 else 30)
    threaded = args.checkdmarc_threaded or (1000 if args.latency < 5 else 300)
    for size in sizes:
        started = time.perf_counter()
        zones = world_zone_texts(synthetic_domains(size))
        print(
            f"[{size:,} domains] zone files: {len(zones)} zones, {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        with KnotServer(zones, workers=args.knot_workers) as knot:
            target = knot.address
            delay: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
            if args.latency:
                delay = DnsdistDelay(knot.address, args.latency)
            with delay as proxy:
                if proxy is not None:
                    target = proxy.address
                print(f"[{size:,} domains] serving on {target} (Knot {knot.address})", flush=True)
                results = []
                for run in range(args.runs if size == args.domains else 1):
                    result = run_hunter(target, size, args)
                    print(
                        f"  hunter run {run + 1}: {result['domains'] / result['seconds']:,.0f} domains/s, "
                        f"{result['queries'] / result['domains']:.1f} queries/domain, "
                        f"peak RSS {result['peak_rss_mb']:.0f} MB",
                        flush=True,
                    )
                    results.append(result)
                rows.append(_hunter_rows(f"hunter scan_many ({args.pipeline})", results))
                if size == args.domains and not args.no_checkdmarc:
                    host, port_text = target.split(":")
                    sample = synthetic_domains(size)
                    for label, count, threads in (
                        ("checkdmarc sequential", sequential, 1),
                        ("checkdmarc 32 threads", threaded, 32),
                    ):
                        result = run_checkdmarc(host, int(port_text), sample[:count], threads)
                        rate = result["domains"] / result["seconds"]
                        print(f"  {label}: {rate:,.1f} domains/s", flush=True)
                        rows.append(Row(label, result["domains"], rate))

    print()
    mode = f"{args.latency} ms per answer (dnsdist)" if args.latency else "loopback, no added latency"
    print(f"Results — Knot DNS on loopback, {mode}, {os.cpu_count()} CPUs, pipeline={args.pipeline}")
    hunter_rate = rows[0].rate
    header = f"{'what':<34} {'domains':>8} {'domains/s':>10} {'q/domain':>9} {'peak RSS':>9} {'hunter ×':>9}"
    print(header)
    print("-" * len(header))
    for row in rows:
        qpd = f"{row.queries_per_domain:.1f}" if row.queries_per_domain else "-"
        rss = f"{row.peak_rss_mb:.0f} MB" if row.peak_rss_mb else "-"
        ratio = f"{hunter_rate / row.rate:.1f}" if row.rate else "-"
        print(f"{row.label:<34} {row.domains:>8,} {row.rate:>10,.1f} {qpd:>9} {rss:>9} {ratio:>9}")
        if row.note:
            print(f"{'':<34} {row.note}")


if __name__ == "__main__":
    main()
