"""The Leads screen's state (filters, sort, page, open lead) as it lives in the URL, and its data.

``ListState.from_query`` reads a query string, ``ListState.url`` writes one: the page renders
every link (sort headers, pages, chips) from it, so back/forward and reload see the same state
the server rendered. ``fetch_page`` is the one place the screen asks the store for rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Final
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from hunter.core.providers import PLATFORMS
from hunter.core.scoring import PRIORITIES, SEGMENTS

NO_PRIORITY: Final = "none"
SORTS: Final = ("priority", "score", "name", "domain", "platform", "scanned")
# Whether a column sorts descending when first clicked: what a rep wants to see first.
DEFAULT_DESC: Final = {
    "priority": False,
    "score": True,
    "name": False,
    "domain": False,
    "platform": False,
    "scanned": True,
}
PAGE_SIZES: Final = (25, 50, 100)
DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE: Final = 100_000


def _ints(value: str | None, low: int, high: int) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return min(max(number, low), high)


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _choices(values: Sequence[str], allowed: Sequence[str]) -> tuple[str, ...]:
    return tuple(v for v in dict.fromkeys(values) if v in allowed)


@dataclass(frozen=True)
class ListState:
    q: str = ""
    priority: tuple[str, ...] = ()
    segment: tuple[str, ...] = ()
    platform: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    score_min: int | None = None
    score_max: int | None = None
    scanned_from: date | None = None
    scanned_to: date | None = None
    sort: str = "priority"
    desc: bool = False
    page: int = 1
    size: int = DEFAULT_PAGE_SIZE
    lead: str | None = None

    @classmethod
    def from_query(cls, params: QueryParams | Mapping[str, Any]) -> ListState:
        def many(name: str) -> list[str]:
            if isinstance(params, QueryParams):
                values = params.getlist(name)
            else:
                raw = params.get(name)
                values = raw if isinstance(raw, list) else ([raw] if raw else [])
            # "a,b" and repeated parameters both work (hand-written URLs use either).
            return [part.strip() for v in values for part in str(v).split(",") if part.strip()]

        def one(name: str) -> str | None:
            value = params.get(name)
            return str(value).strip() if value not in (None, "") else None

        # The API's form: "score" ascending, "-score" descending.
        sort_text = one("sort") or "priority"
        desc = sort_text.startswith("-")
        sort = sort_text.lstrip("-+")
        if sort not in SORTS:
            sort, desc = "priority", False
        size = _ints(one("page_size"), 1, max(PAGE_SIZES)) or DEFAULT_PAGE_SIZE
        return cls(
            q=(one("q") or "")[:200],
            priority=_choices(many("priority"), (*PRIORITIES, NO_PRIORITY)),
            segment=_choices(many("segment"), SEGMENTS),
            platform=_choices(many("platform"), PLATFORMS),
            tags=tuple(dict.fromkeys(t[:64] for t in many("tags")))[:20],
            score_min=_ints(one("score_min"), 0, 100),
            score_max=_ints(one("score_max"), 0, 100),
            scanned_from=_date(one("scanned_from")),
            scanned_to=_date(one("scanned_to")),
            sort=sort,
            desc=desc,
            page=_ints(one("page"), 1, MAX_PAGE) or 1,
            size=size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE,
            lead=(one("lead") or None),
        )

    # --- writing URLs ----------------------------------------------------------------------

    def pairs(self) -> list[tuple[str, str]]:
        """Query parameters that differ from the defaults, in a stable order."""
        out: list[tuple[str, str]] = []
        if self.q:
            out.append(("q", self.q))
        out += [("priority", v) for v in self.priority]
        out += [("segment", v) for v in self.segment]
        out += [("platform", v) for v in self.platform]
        out += [("tags", v) for v in self.tags]
        if self.score_min is not None:
            out.append(("score_min", str(self.score_min)))
        if self.score_max is not None:
            out.append(("score_max", str(self.score_max)))
        if self.scanned_from:
            out.append(("scanned_from", self.scanned_from.isoformat()))
        if self.scanned_to:
            out.append(("scanned_to", self.scanned_to.isoformat()))
        if self.sort_param != "priority":
            out.append(("sort", self.sort_param))
        if self.page != 1:
            out.append(("page", str(self.page)))
        if self.size != DEFAULT_PAGE_SIZE:
            out.append(("page_size", str(self.size)))
        if self.lead:
            out.append(("lead", self.lead))
        return out

    def url(self, **changes: Any) -> str:
        """``?…`` for this state with ``changes``; filter changes go back to page 1."""
        state = replace(self, **changes) if changes else self
        if changes and "page" not in changes and set(changes) - {"lead", "size"}:
            state = replace(state, page=1)
        query = urlencode(state.pairs())
        return f"?{query}" if query else "?"

    def filter_query(self) -> str:
        """Filters, search and sort only: what the export and bulk endpoints take."""
        state = replace(self, page=1, size=DEFAULT_PAGE_SIZE, lead=None)
        return urlencode(state.pairs())

    @property
    def sort_param(self) -> str:
        return f"-{self.sort}" if self.desc else self.sort

    def sort_url(self, column: str) -> str:
        if self.sort == column:
            return self.url(sort=column, desc=not self.desc)
        return self.url(sort=column, desc=DEFAULT_DESC[column])

    def aria_sort(self, column: str) -> str:
        if self.sort != column:
            return "none"
        return "descending" if self.desc else "ascending"

    def without(self, name: str, value: Any = None) -> str:
        """The URL with one filter (or one value of a multi-value filter) removed."""
        current = getattr(self, name)
        if isinstance(current, tuple) and value is not None:
            return self.url(**{name: tuple(v for v in current if v != value)})
        default = "" if name == "q" else () if isinstance(current, tuple) else None
        return self.url(**{name: default})

    @property
    def filtered(self) -> bool:
        return bool(
            self.q
            or self.priority
            or self.segment
            or self.platform
            or self.tags
            or self.score_min is not None
            or self.score_max is not None
            or self.scanned_from
            or self.scanned_to
        )

    def cleared(self) -> str:
        return ListState(sort=self.sort, desc=self.desc, size=self.size).url()


# --- rows -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadPage:
    total: int
    rows: list[Any]
    """``hunter.store.leads.LeadItem`` rows."""
    all_total: int | None = None
    """Leads in the database without any filter; tells "no data yet" from "no matches"."""

    def pages(self, size: int) -> int:
        return max(1, -(-self.total // size))


def fetch_page(db: Any, state: ListState, *, user_id: int | None, lang: str) -> LeadPage:
    from hunter.web import leads_source

    return leads_source.fetch(db, state, user_id=user_id, lang=lang)
