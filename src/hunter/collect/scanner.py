"""Scan domains: run the lookup plan of ``hunter.core.lookup_plan`` and return Evidence.

The scanner gathers, it does not judge: every planned lookup ends up in the Evidence with its
status, failures included, so the core can tell "no MX" from "MX unknown".
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hunter.collect.dns import DnsClient, DnsConfig
from hunter.core.dmarc import is_dmarc_record
from hunter.core.domains import DomainError, normalise_hostname, registrable_domain
from hunter.core.evidence import Evidence, Lookup, LookupPurpose, LookupStatus
from hunter.core.lookup_plan import (
    PlannedLookup,
    dkim_name,
    dkim_round2_selectors,
    dmarc_name,
    mx_host_lookups,
    phase1_lookups,
    platform_hints,
    primary_mx_hosts,
)
from hunter.core.spf import SpfLimits, lookup_targets, parse_spf, select_spf

__all__ = ["scan_domain", "scan_many"]

_VOID = (LookupStatus.NXDOMAIN, LookupStatus.NODATA)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _ascii_domain(domain: str) -> str:
    try:
        return normalise_hostname(domain)
    except (DomainError, ValueError):
        # Keep the raw text: each lookup then ends with status "error" and says why.
        return domain.strip().lower().rstrip(".")


async def _run(client: DnsClient, plan: list[PlannedLookup]) -> list[Lookup]:
    return await client.query_many([(p.name, p.rdtype, p.purpose, p.selector) for p in plan])


@dataclass
class _SpfTree:
    lookups: list[Lookup] = field(default_factory=list)
    count: int = 0
    void: int = 0
    errors: list[str] = field(default_factory=list)


async def _walk_spf(client: DnsClient, domain: str, record: str) -> _SpfTree:
    """Follow include/redirect level by level (each level's lookups run concurrently).

    Counts RFC 7208 §4.6.4 DNS-mechanism terms over the whole tree (a target included twice
    counts twice, as an evaluator would evaluate it twice, but is fetched once) and void
    lookups among the include/redirect targets. Stops descending once the count passes 10
    or when a target includes one of its own ancestors.
    """
    tree = _SpfTree()
    top = parse_spf(record)
    tree.count = top.dns_mechanism_count
    fetched: dict[str, Lookup] = {}
    level: list[tuple[str, tuple[str, ...]]] = [(target, (domain,)) for _kind, target in lookup_targets(top)]
    while level:
        if tree.count > SpfLimits.DNS_MECHANISMS:
            tree.errors.append(
                f"more than {SpfLimits.DNS_MECHANISMS} DNS lookups ({tree.count} counted); "
                f"stopped following {len(level)} further include/redirect target(s)"
            )
            break
        live = []
        for target, path in level:
            if target in path:
                tree.errors.append("include loop: " + " -> ".join((*path, target)))
            else:
                live.append((target, path))
        new = list(dict.fromkeys(t for t, _ in live if t not in fetched))
        for lookup in await client.query_many([(t, "TXT", LookupPurpose.SPF_INCLUDE) for t in new]):
            fetched[lookup.name] = lookup
            tree.lookups.append(lookup)
        next_level: list[tuple[str, tuple[str, ...]]] = []
        for target, path in live:
            found = fetched.get(target)
            if found is None:  # the name did not normalise to itself; count it as unknown
                continue
            lookup = found
            if lookup.status in _VOID:
                tree.void += 1
                continue
            if lookup.status != LookupStatus.OK:
                continue  # unknown: the lookup's status says so
            selection = select_spf(lookup.answers)
            if selection.record is None:
                what = "several SPF records" if selection.count > 1 else "no SPF record"
                tree.errors.append(f"{target} (from {path[-1]}) has {what}")
                continue
            child = parse_spf(selection.record)
            tree.count += child.dns_mechanism_count
            next_level += [(t, (*path, target)) for _kind, t in lookup_targets(child)]
        level = next_level
    return tree


async def _dmarc_fallback(client: DnsClient, domain: str, first: Lookup) -> tuple[list[Lookup], str | None]:
    """RFC 7489 §6.6.3: no record at the domain → ask the organisational domain."""
    if first.status == LookupStatus.OK and any(is_dmarc_record(a) for a in first.answers):
        return [], domain
    if not first.status.is_answer:
        return [], None  # unknown, not absent: no fallback on a failed lookup
    org = registrable_domain(domain)
    if not org or org == domain:
        return [], None
    lookup = await client.query(dmarc_name(org), "TXT", LookupPurpose.DMARC_ORG)
    found = lookup.status == LookupStatus.OK and any(is_dmarc_record(a) for a in lookup.answers)
    return [lookup], org if found else None


async def _nothing() -> list[Lookup]:
    return []


async def scan_domain(client: DnsClient, domain: str, now: datetime) -> Evidence:
    """Collect every lookup of DOMAIN.md §2 for one domain (RDAP and IP facts are elsewhere)."""
    started = time.perf_counter()
    name = _ascii_domain(domain)
    plan = phase1_lookups(name)
    phase1 = await _run(client, plan)
    by_purpose: dict[LookupPurpose, Lookup] = {}
    for lookup in phase1:
        by_purpose.setdefault(lookup.purpose, lookup)
    mx = by_purpose[LookupPurpose.MX]
    apex_txt = by_purpose[LookupPurpose.APEX_TXT]
    selector1 = next(lk for lk in phase1 if lk.purpose == LookupPurpose.DKIM and lk.selector == "selector1")

    mx_hosts = primary_mx_hosts(mx.answers) if mx.status == LookupStatus.OK else []
    has_mx: bool | None = bool(mx_hosts) if mx.status.is_answer else None

    spf_record: str | None = None
    spf_targets: list[str] = []
    if apex_txt.status == LookupStatus.OK:
        spf_record = select_spf(apex_txt.answers).record
        if spf_record is not None:
            spf_targets = [t for _kind, t in lookup_targets(parse_spf(spf_record))]
    hints = platform_hints(mx_hosts, apex_txt.answers, spf_targets)
    round2 = dkim_round2_selectors(
        has_mx=has_mx,
        hints=hints,
        mx_hints=platform_hints(mx_hosts, (), ()),
        selector1_found=selector1.status == LookupStatus.OK or bool(selector1.cnames),
    )
    dependent = mx_host_lookups(mx_hosts) + [
        PlannedLookup(dkim_name(s, name), "TXT", LookupPurpose.DKIM, s) for s in round2
    ]

    phase2, spf_tree, (dmarc_lookups, dmarc_domain) = await asyncio.gather(
        _run(client, dependent) if dependent else _nothing(),
        _walk_spf(client, name, spf_record) if spf_record is not None else _no_spf(),
        _dmarc_fallback(client, name, by_purpose[LookupPurpose.DMARC]),
    )
    return Evidence(
        domain=name,
        collected_at=now,
        lookups=[*phase1, *phase2, *spf_tree.lookups, *dmarc_lookups],
        spf_lookup_count=spf_tree.count,
        spf_void_lookups=spf_tree.void,
        spf_errors=spf_tree.errors,
        dmarc_domain=dmarc_domain,
        duration_ms=round((time.perf_counter() - started) * 1000.0, 3),
    )


async def _no_spf() -> _SpfTree:
    return _SpfTree()


async def _aiter_domains(domains: Iterable[str] | AsyncIterable[str]) -> AsyncGenerator[str, None]:
    if isinstance(domains, AsyncIterable):
        async for domain in domains:
            yield domain
    else:
        iterator: Iterator[str] = iter(domains)
        for domain in iterator:
            yield domain


async def scan_many(
    domains: Iterable[str] | AsyncIterable[str],
    config: DnsConfig | None = None,
    *,
    domain_concurrency: int = 64,
    clock: Callable[[], datetime] = _utcnow,
    client: DnsClient | None = None,
) -> AsyncIterator[Evidence]:
    """Scan domains, yielding Evidence in completion order.

    The input is pulled lazily and at most ``domain_concurrency`` domains are in flight, so
    memory stays flat for any number of domains; a slow consumer slows the scan down rather
    than piling up results. Pass ``client`` to share one DnsClient (its config then wins).
    """
    if domain_concurrency < 1:
        raise ValueError("domain_concurrency must be at least 1")
    # aclosing: when the consumer stops early, the inner stream must cancel its tasks now,
    # not whenever the garbage collector finalises it.
    async with contextlib.AsyncExitStack() as stack:
        if client is None:
            client = await stack.enter_async_context(DnsClient(config))
        stream = await stack.enter_async_context(
            contextlib.aclosing(_scan_stream(client, domains, domain_concurrency, clock))
        )
        async for evidence in stream:
            yield evidence


async def _scan_stream(
    client: DnsClient,
    domains: Iterable[str] | AsyncIterable[str],
    limit: int,
    clock: Callable[[], datetime],
) -> AsyncGenerator[Evidence, None]:
    finished: asyncio.Queue[asyncio.Task[Evidence]] = asyncio.Queue()
    running: set[asyncio.Task[Evidence]] = set()
    source = _aiter_domains(domains)
    exhausted = False
    try:
        while True:
            while not exhausted and len(running) < limit:
                try:
                    domain = await anext(source)
                except StopAsyncIteration:
                    exhausted = True
                    break
                task = asyncio.create_task(scan_domain(client, domain, clock()))
                running.add(task)
                # A completion callback feeds a queue: O(1) per domain, unlike asyncio.wait.
                task.add_done_callback(finished.put_nowait)
            if not running:
                return
            task = await finished.get()
            running.discard(task)
            yield task.result()
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        await source.aclose()
