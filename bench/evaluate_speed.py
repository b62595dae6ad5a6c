"""Re-evaluation speed: stored Evidence JSON → classify, posture, evaluate, on one and two cores.

    .venv/bin/python bench/evaluate_speed.py [--evidence /tmp/hunter-evidence.jsonl]
                                             [--build 4000] [--repeat 5] [--processes 2]

Re-evaluating every company after a rules change reads stored evidence and runs
``evaluate_evidence`` on it, so this measures that path on realistic evidence:

1. The evidence set is one ``Evidence.model_dump_json()`` per line. When the file is missing
   (or ``--build N`` is given) it is made once by scanning a synthetic world of N domains
   (``hunter.sandbox.world``) with the real scanner against the sandbox DNS server on
   loopback, which takes about a minute for 4,000 domains; later runs reuse the file.
2. Single core: ``Evidence.model_validate_json`` per line, then ``classify``,
   ``assess_posture``, ``evaluate`` (on inputs computed beforehand) and ``evaluate_evidence``
   over the whole set, ``--repeat`` times each. The best pass counts, timed in process CPU
   time so that other work on a shared machine inflates the figures as little as possible.
   Each pass starts with the text-keyed caches emptied (see :func:`forget_caches`) and drops
   its results as it goes (thousands kept alive would have the passes time the garbage
   collector instead).
3. ``--processes`` workers (a ``multiprocessing`` pool fed in chunks of lines): wall-clock
   evidences/s for ``evaluate_evidence`` on evidence each worker parsed beforehand, and for
   the whole JSON line → evaluation path; beside it the workers' CPU time per evidence
   (divided by the number of workers), which is what the pool would reach with its cores to
   itself.

Nothing here is asserted; the figures go to the report by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from hunter.core.evaluation import evaluate, evaluate_evidence, inputs_from_evidence  # noqa: E402
from hunter.core.evidence import Evidence  # noqa: E402
from hunter.core.posture import assess_posture  # noqa: E402
from hunter.core.providers import classify  # noqa: E402

DEFAULT_EVIDENCE = Path("/tmp/hunter-evidence.jsonl")
SCAN_TIME = datetime(2025, 6, 1, tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# Evidence set


def build_evidence(path: Path, count: int, seed: int) -> None:
    """Scan a synthetic world against the sandbox DNS server and store one JSON line each."""
    from hunter.collect.dns import DnsConfig
    from hunter.collect.scanner import scan_many
    from hunter.sandbox.dns_server import running_dns_server
    from hunter.sandbox.world import build_world, synthetic_domains
    from hunter.sandbox.zones import ZoneStore

    started = time.perf_counter()
    world = build_world(synthetic_domains(count, seed=seed), seed=seed)
    store = ZoneStore()
    world.populate(store)
    domains = [c.domain for c in world.companies]

    async def scan(host: str, port: int) -> list[Evidence]:
        config = DnsConfig(nameservers=[(host, port)], timeout=0.5, attempts=2)
        found = []
        async for evidence in scan_many(domains, config, domain_concurrency=128, clock=lambda: SCAN_TIME):
            found.append(evidence)
        return found

    with running_dns_server(store) as server:
        evidences = asyncio.run(scan(server.host, server.port))
    evidences.sort(key=lambda e: e.domain)  # completion order varies; a sorted file is stable
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for evidence in evidences:
            fh.write(evidence.model_dump_json() + "\n")
    tmp.replace(path)
    elapsed = time.perf_counter() - started
    print(f"scanned {len(evidences):,} domains into {path} in {elapsed:.1f} s")


def read_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# --------------------------------------------------------------------------------------------
# Single core


def forget_caches() -> None:
    """Empty the caches keyed by record or host text.

    A pass over the same evidence again would otherwise find every company's own SPF record
    already parsed, which a re-evaluation of more companies than the caches hold never does.
    Provider records are re-learnt within the first few evidences of a pass. Looked up by
    name, so the script also measures a tree without these caches.
    """
    for module_name, name in (
        ("hunter.core.spf", "parse_spf"),
        ("hunter.core.spf_tree", "spf_children"),
        ("hunter.core.providers", "_is_ip"),
        ("hunter.core.posture", "_parse_dmarc"),
    ):
        module = sys.modules.get(module_name)
        clear = getattr(getattr(module, name, None), "cache_clear", None)
        if clear is not None:
            clear()
    from hunter.core import providers

    rules = providers.default_rules()
    indexes = [rules.mx_index, rules.spf_index, rules.autodiscover_index, rules.dkim_index, rules.ns_index]
    for index in [*indexes, *rules.trace_indexes.values()]:
        cache = getattr(index, "_cache", None)
        if cache is not None:
            cache.clear()


def best_pass(run: Callable[[], None], repeat: int) -> float:
    """Fastest of ``repeat`` passes in process CPU seconds (one warm-up pass first).

    Results are dropped as they come: keeping thousands of them alive would make the passes
    measure the garbage collector walking them.
    """
    run()
    best = float("inf")
    for _ in range(repeat):
        forget_caches()
        started = time.process_time()
        run()
        best = min(best, time.process_time() - started)
    return best


def report(label: str, seconds: float, count: int) -> None:
    per_call = seconds / count * 1e6
    print(f"  {label:<44} {per_call:9.1f} µs/call {count / seconds:11,.0f} /s")


def single_core(lines: Sequence[str], repeat: int) -> None:
    evidences = [Evidence.model_validate_json(line) for line in lines]
    inputs = [inputs_from_evidence(e) for e in evidences]
    gc.freeze()  # the stored set is long-lived; collections need not walk it
    count = len(evidences)
    print(f"single core, {count:,} evidences, best of {repeat} passes (CPU time):")

    def each(func: Callable[[Any], object], items: Sequence[Any]) -> Callable[[], None]:
        def run() -> None:
            for item in items:
                func(item)

        return run

    passes = [
        ("Evidence.model_validate_json", each(Evidence.model_validate_json, lines)),
        ("classify", each(classify, evidences)),
        ("assess_posture", each(assess_posture, evidences)),
        ("evaluate (inputs given)", each(evaluate, inputs)),
        ("evaluate_evidence", each(evaluate_evidence, evidences)),
        (
            "JSON line → evaluate_evidence",
            each(lambda x: evaluate_evidence(Evidence.model_validate_json(x)), lines),
        ),
    ]
    for label, run in passes:
        report(label, best_pass(run, repeat), count)
    gc.unfreeze()


# --------------------------------------------------------------------------------------------
# Several processes

_LINES: list[str] = []
_EVIDENCES: list[Evidence] = []
_PASS = -1


def _init_worker(path: str) -> None:
    # Each worker reads and parses the set itself: only index ranges cross the process boundary.
    global _LINES, _EVIDENCES
    _LINES = read_lines(Path(path))
    _EVIDENCES = [Evidence.model_validate_json(line) for line in _LINES]
    gc.freeze()


def _new_pass(number: int) -> None:
    global _PASS
    if number != _PASS:  # every worker starts each pass cold (see forget_caches)
        _PASS = number
        forget_caches()


def _evaluate_parsed(task: tuple[int, int, int]) -> tuple[int, float]:
    number, start, end = task
    _new_pass(number)
    started = time.process_time()
    for evidence in _EVIDENCES[start:end]:
        evaluate_evidence(evidence)
    return end - start, time.process_time() - started


def _evaluate_json(task: tuple[int, int, int]) -> tuple[int, float]:
    number, start, end = task
    _new_pass(number)
    started = time.process_time()
    for line in _LINES[start:end]:
        evaluate_evidence(Evidence.model_validate_json(line))
    return end - start, time.process_time() - started


def multi_core(path: Path, count: int, processes: int, chunk: int, repeat: int) -> None:
    """Wall-clock evidences/s of the pool, and the workers' CPU time per evidence: on a shared
    machine the wall clock also counts time the workers waited for a core."""
    bounds = [(start, min(start + chunk, count)) for start in range(0, count, chunk)]
    print(f"{processes} processes, chunks of {chunk}, best of {repeat} passes:")
    context = multiprocessing.get_context("fork")
    with context.Pool(processes, initializer=_init_worker, initargs=(str(path),)) as pool:
        pool.map(_evaluate_parsed, [(0, *b) for b in bounds])  # every worker initialised
        work: list[tuple[str, Callable[[tuple[int, int, int]], tuple[int, float]]]] = [
            ("evaluate_evidence", _evaluate_parsed),
            ("JSON line → evaluate_evidence", _evaluate_json),
        ]
        number = 0
        for label, func in work:
            best_wall = best_cpu = float("inf")
            for _ in range(repeat):
                number += 1
                started = time.perf_counter()
                results = pool.map(func, [(number, *b) for b in bounds])
                best_wall = min(best_wall, time.perf_counter() - started)
                best_cpu = min(best_cpu, sum(cpu for _, cpu in results))
                assert sum(done for done, _ in results) == count
            report(f"{label} (wall clock)", best_wall, count)
            report(f"{label} (worker CPU)", best_cpu / processes, count)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--evidence", type=Path, default=DEFAULT_EVIDENCE, help="JSON lines file")
    parser.add_argument("--build", type=int, default=0, metavar="N", help="(re)scan N synthetic domains")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=250)
    args: Any = parser.parse_args(argv)
    if args.build or not args.evidence.exists():
        build_evidence(args.evidence, args.build or 4000, args.seed)
    lines = read_lines(args.evidence)
    single_core(lines, args.repeat)
    if args.processes > 1:
        multi_core(args.evidence, len(lines), args.processes, args.chunk, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
