"""The SPF include/redirect tree as far as the collector fetched it (pure).

Classification (which providers may send for the domain) and posture (loops, void targets,
completeness) read the same tree, so the walk lives here once. Re-evaluating every stored lead
walks a tree per lead, and SPF records repeat a lot across domains (every Microsoft 365
customer includes the same Microsoft record), so what depends only on a record's text is
computed once per distinct text (:func:`spf_children`, and ``parse_spf`` under it).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from hunter.core.domains import DomainError, normalise_hostname
from hunter.core.evidence import Lookup, LookupStatus
from hunter.core.spf import is_spf_record, parse_spf

if TYPE_CHECKING:
    from hunter.core.providers import Provider, ProviderRules

__all__ = ["MAX_SPF_NODES", "SpfTree", "host_key", "single_spf_record", "spf_children", "walk_spf_tree"]

MAX_SPF_NODES: Final = 200
_OK: Final = LookupStatus.OK
_FAILED: Final = frozenset(s for s in LookupStatus if s.is_failure)


def host_key(name: str) -> str:
    """Lower-case ASCII host name without the trailing dot (tolerates Unicode input)."""
    text = name.strip().rstrip(".")
    if text.isascii():
        return text.lower()
    try:
        return normalise_hostname(text)
    except DomainError:
        return text.lower()


@dataclass(frozen=True, slots=True)
class SpfTree:
    """The SPF include/redirect tree as far as the collector fetched it."""

    record: str | None
    """The apex SPF record (None when there is none, or several)."""
    targets: tuple[str, ...]
    """Every include/redirect target reached from the apex, in discovery order, deduplicated."""
    edges: tuple[tuple[str, str, str], ...]
    """``(parent, "include" | "redirect", target)``; the apex parent is the domain."""
    unresolved: tuple[str, ...]
    """Targets whose lookup failed or was never made: the tree below them is unknown."""
    void: tuple[str, ...]
    """Targets that answered NXDOMAIN / NODATA or hold no SPF record."""
    macro_targets: tuple[str, ...]
    """Targets with SPF macros; they need a sender and cannot be followed."""
    loops: tuple[str, ...]
    """Targets that include one of their own ancestors."""

    @property
    def complete(self) -> bool:
        return not self.unresolved

    def providers(self, rules: ProviderRules) -> list[tuple[str, Provider]]:
        """``(target, provider)`` for every target matching a provider's SPF patterns."""
        found = []
        match = rules.spf_index.match
        for target in self.targets:
            hit = match(target)
            if hit is not None:
                found.append((target, hit[1]))
        return found


def single_spf_record(answers: Sequence[str]) -> str | None:
    """``select_spf(answers).record`` without building the selection's warnings."""
    found: str | None = None
    for answer in answers:
        if is_spf_record(answer):
            if found is not None:
                return None  # several records: a permerror, none applies
            found = answer
    return found


@functools.lru_cache(maxsize=4096)
def spf_children(record: str) -> tuple[tuple[str, str], ...]:
    """``(kind, target)`` an evaluator follows from ``record``: the reachable includes in
    order, then an effective redirect. Targets are host keys unless they hold macros."""
    parsed = parse_spf(record)
    kids = [("include", target) for target in parsed.includes]
    if parsed.redirect and not parsed.redirect_ignored:
        kids.append(("redirect", parsed.redirect))
    return tuple((kind, target if "%" in target else host_key(target)) for kind, target in kids)


def walk_spf_tree(domain: str, record: str | None, include_lookups: Iterable[Lookup]) -> SpfTree:
    """Walk ``record`` (the apex SPF record of ``domain``, a host key) through the collector's
    SPF_INCLUDE lookups; the first lookup made for a name is the one that counts."""
    targets: dict[str, None] = {}
    edges: list[tuple[str, str, str]] = []
    unresolved: dict[str, None] = {}
    void: dict[str, None] = {}
    macros: dict[str, None] = {}
    loops: dict[str, None] = {}
    if record is None:
        return SpfTree(None, (), (), (), (), (), ())
    by_name: dict[str, Lookup] = {}
    for lk in include_lookups:
        by_name.setdefault(host_key(lk.name), lk)
    expanded: set[str] = set()

    def walk(name: str, spf: str, path: tuple[str, ...]) -> None:
        for kind, target in spf_children(spf):
            if len(targets) >= MAX_SPF_NODES:
                return
            targets.setdefault(target, None)
            edges.append((name, kind, target))
            if "%" in target:
                macros.setdefault(target, None)
                continue
            if target in path:
                loops.setdefault(target, None)
                continue
            if target in expanded:
                continue
            expanded.add(target)
            lk = by_name.get(target)
            if lk is None or lk.status in _FAILED:
                unresolved.setdefault(target, None)
                continue
            child = single_spf_record(lk.answers) if lk.status == _OK else None
            if child is None:
                void.setdefault(target, None)
                continue
            walk(target, child, (*path, target))

    walk(domain, record, (domain,))
    return SpfTree(
        record=record,
        targets=tuple(targets),
        edges=tuple(edges),
        unresolved=tuple(unresolved),
        void=tuple(void),
        macro_targets=tuple(macros),
        loops=tuple(loops),
    )
