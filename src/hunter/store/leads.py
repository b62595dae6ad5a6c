"""The leads query: filters, sort, Turkish-aware search, pages with a total, facet counts.

One query serves the JSON API, the CSV/XLSX exports, the dashboard and the web UI, so a filter
means the same thing everywhere. Everything runs in SQL on indexes (see migration 0003); nothing
sorts or filters all rows in Python.

Entry points:

* :func:`query_leads` — one page, the total, optionally facet counts;
* :func:`iter_leads` — every matching lead in order, streamed in batches (exports);
* :func:`lead_facets` / :func:`dashboard_counts` — GROUP BY counts;
* :func:`lead_detail` — the drawer: evidence, classification, history, alerts, notes, tags;
* user tags, favourites and notes: :func:`add_user_tag`, :func:`remove_user_tag`,
  :func:`set_favourite`, :func:`add_note`, :func:`delete_note`.

The value ``"none"`` in the priority, segment, gateway, referral and CRM filters means "no value"
(no priority yet, no gateway, not in the CRM …). Platform has a real ``none`` (no mail), so
unscanned or incomplete leads are found with ``scanned`` / ``needs_rescan`` instead.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    type_coerce,
    union,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from hunter.core.priority import PRIORITIES, SEGMENTS
from hunter.core.tags import normalise_tags
from hunter.core.text import fold
from hunter.store.models import (
    Alert,
    Assessment,
    Company,
    CompanyTag,
    Evaluation,
    Favorite,
    Note,
    Scan,
    User,
)
from hunter.store.types import utcnow

__all__ = [
    "MAX_PAGE_SIZE",
    "NONE",
    "SORT_KEYS",
    "LeadFilter",
    "LeadItem",
    "LeadNotFound",
    "LeadPage",
    "NoteNotFound",
    "add_note",
    "add_user_tag",
    "dashboard_counts",
    "delete_note",
    "find_company",
    "iter_leads",
    "lead_detail",
    "lead_facets",
    "normalise_user_tag",
    "parse_sort",
    "query_leads",
    "remove_user_tag",
    "set_favourite",
    "user_tags_of",
]

NONE: Final = "none"
MAX_PAGE_SIZE: Final = 500
SORT_KEYS: Final = ("priority", "score", "name", "domain", "scanned", "platform")
FACETS: Final = ("priority", "segment", "platform", "gateway", "status")
STATUSES: Final = ("complete", "needs_rescan", "not_scanned")
TOP_TAGS: Final = 20
HISTORY_LIMIT: Final = 50
_STATUS_VALUE = re.compile(r"[a-z0-9_]{1,24}")
_USER_TAG = re.compile(r"[^\W_][\w.+-]{0,63}")
_PRIORITY_BY_KEY: Final = {p.casefold(): p for p in PRIORITIES}
_SEGMENT_BY_KEY: Final = {s.casefold(): s for s in SEGMENTS}


class LeadNotFound(LookupError):
    pass


class NoteNotFound(LookupError):
    pass


# --------------------------------------------------------------------------------------------
# Filter and sort


def _canonical(values: Sequence[str], known: Mapping[str, str], what: str) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        key = value.strip().casefold()
        if key == NONE:
            out.append(NONE)
        elif key in known:
            out.append(known[key])
        else:
            choices = ", ".join([*known.values(), NONE])
            raise ValueError(f"unknown {what} {value!r}; expected one of {choices}")
    return tuple(dict.fromkeys(out))


def _plain_values(values: Sequence[str], what: str) -> tuple[str, ...]:
    out = []
    for value in values:
        key = value.strip().lower()
        if not _STATUS_VALUE.fullmatch(key):
            raise ValueError(f"invalid {what} {value!r}: 1–24 lower-case letters, digits or _")
        out.append(key)
    return tuple(dict.fromkeys(out))


def normalise_user_tag(text: str) -> str:
    """A user tag in its stored form, or ValueError saying what a tag may look like.

    Lower case (Turkish dotted İ becomes i, not i + combining dot), 1–64 characters: letters of
    any script, digits and ``. _ + -``, starting with a letter or digit, no spaces. Engine tags
    follow the same shape, so one filter matches both kinds.
    """
    tag = text.strip().replace("İ", "i").lower()
    if not _USER_TAG.fullmatch(tag):
        raise ValueError(
            f"invalid tag {text!r}: 1–64 letters, digits or . _ + - (starting with a letter or digit, "
            "no spaces — use a hyphen)"
        )
    return tag


@dataclass(frozen=True)
class LeadFilter:
    """What the leads list shows. Empty sequences and None mean "no restriction".

    Multi-valued fields match any of their values; different fields must all match.
    """

    q: str | None = None
    """Free text, Turkish-aware ("istanbul" finds "İSTANBUL"); every word must occur in the
    company's name, domain or imported attributes."""
    priority: Sequence[str] = ()
    segment: Sequence[str] = ()
    platform: Sequence[str] = ()
    gateway: Sequence[str] = ()
    tags: Sequence[str] = ()
    """Engine and user tags."""
    tags_mode: Literal["any", "all"] = "any"
    score_min: int | None = None
    score_max: int | None = None
    scanned_from: datetime | None = None
    """Inclusive lower bound of the latest scan's time."""
    scanned_to: datetime | None = None
    """Inclusive upper bound (the API turns a date into the end of that day)."""
    complete: bool | None = None
    """True: a complete latest scan. False: incomplete or not scanned yet."""
    needs_rescan: bool | None = None
    """True: the latest scan is incomplete. False: anything else."""
    scanned: bool | None = None
    """True: has been scanned (complete or not). False: imported, never scanned."""
    favourite: bool | None = None
    """Favourites of the ``user_id`` the query functions are given."""
    referral_status: Sequence[str] = ()
    """Reserved: the Partner Center sync fills ``companies.referral_status`` (``none``: no referral)."""
    crm_status: Sequence[str] = ()
    """Reserved: the Dynamics push fills ``companies.crm_status`` (``none``: not in the CRM)."""
    domains: Sequence[str] = ()
    """Only these (ASCII) domains: a selection in the UI, e.g. for an export."""

    def normalised(self) -> LeadFilter:
        """Canonical values; raises ValueError naming the bad value (the API answers 422)."""
        if self.tags_mode not in ("any", "all"):
            raise ValueError("tags_mode must be 'any' or 'all'")
        if self.score_min is not None and self.score_max is not None and self.score_min > self.score_max:
            raise ValueError("score_min is greater than score_max")
        if self.scanned_from and self.scanned_to and self.scanned_from > self.scanned_to:
            raise ValueError("scanned_from is after scanned_to")
        for bound in (self.scanned_from, self.scanned_to):
            if bound is not None and bound.tzinfo is None:
                raise ValueError("scanned_from / scanned_to need a time zone")
        return dataclasses.replace(
            self,
            q=(self.q or "").strip() or None,
            priority=_canonical(self.priority, _PRIORITY_BY_KEY, "priority"),
            segment=_canonical(self.segment, _SEGMENT_BY_KEY, "segment"),
            platform=_plain_values(self.platform, "platform"),
            gateway=_plain_values(self.gateway, "gateway"),
            tags=tuple(dict.fromkeys(normalise_user_tag(t) for t in self.tags)),
            referral_status=_plain_values(self.referral_status, "referral status"),
            crm_status=_plain_values(self.crm_status, "CRM status"),
            domains=tuple(dict.fromkeys(d.strip().lower() for d in self.domains if d.strip())),
        )

    def without(self, facet: str) -> LeadFilter:
        """The same filter minus one facet's own restriction (facet counts show the alternatives)."""
        if facet == "status":
            return dataclasses.replace(self, complete=None, needs_rescan=None, scanned=None)
        return dataclasses.replace(self, **{facet: ()})

    @property
    def assessed_only(self) -> bool:
        """True when every match must have an assessment (lets the query use an inner join)."""
        return bool(
            (self.priority and NONE not in self.priority)
            or (self.segment and NONE not in self.segment)
            or self.platform
            or (self.gateway and NONE not in self.gateway)
            or self.score_min is not None
            or self.score_max is not None
            or self.scanned_from is not None
            or self.scanned_to is not None
            or self.complete is True
            or self.needs_rescan is True
            or self.scanned is True
        )


Sort = tuple[str, bool]
"""(key, descending)."""


def parse_sort(text: str | None) -> Sort:
    """``"priority"`` (default), ``"-score"`` … → (key, descending); ValueError for unknown keys."""
    value = (text or "priority").strip()
    descending = value.startswith("-")
    key = value.lstrip("-+")
    if key not in SORT_KEYS:
        keys = ", ".join(SORT_KEYS)
        raise ValueError(f"unknown sort {text!r}; expected one of {keys} (prefix - to reverse)")
    return key, descending


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _has_tag(dialect: str, tag: str) -> ColumnElement[bool]:
    """Engine tags live in assessments.tags (which also carries the user tags of the last
    evaluation); company_tags covers user tags of leads without an assessment yet."""
    if dialect == "postgresql":
        engine_tag: ColumnElement[bool] = type_coerce(Assessment.tags, JSONB).contains([tag])
    else:
        each = func.json_each(Assessment.tags).table_valued("value")
        engine_tag = exists(select(literal(1)).select_from(each).where(each.c.value == tag))
    user_tag = exists(select(literal(1)).where(CompanyTag.company_id == Company.id, CompanyTag.tag == tag))
    return or_(engine_tag, user_tag)


def _search(dialect: str, q: str) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for term in dict.fromkeys(fold(q).split()):
        if dialect == "postgresql":
            # A literal pattern (not '%' || :p || '%') so the trigram index is usable in every plan.
            escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(Company.search_text.like(f"%{escaped}%", escape="\\"))
        else:
            # instr() beats LIKE on SQLite and needs no escaping; search_text is folded already.
            conditions.append(func.instr(Company.search_text, term) > 0)
    return conditions


def _in_or_none(column: Any, values: Sequence[str]) -> ColumnElement[bool]:
    real = [v for v in values if v != NONE]
    parts: list[ColumnElement[bool]] = []
    if real:
        parts.append(column.in_(real))
    if NONE in values:
        parts.append(column.is_(None))
    return or_(*parts) if len(parts) > 1 else parts[0]


def _conditions(flt: LeadFilter, dialect: str, user_id: int | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if flt.q:
        where.extend(_search(dialect, flt.q))
    if flt.priority:
        where.append(_in_or_none(Assessment.priority, flt.priority))
    if flt.segment:
        where.append(_in_or_none(Assessment.segment, flt.segment))
    if flt.platform:
        where.append(Assessment.platform.in_(list(flt.platform)))
    if flt.gateway:
        where.append(_in_or_none(Assessment.gateway, flt.gateway))
    if flt.tags:
        tag_conditions = [_has_tag(dialect, t) for t in flt.tags]
        where.append(or_(*tag_conditions) if flt.tags_mode == "any" else and_(*tag_conditions))
    if flt.score_min is not None:
        where.append(Assessment.score >= flt.score_min)
    if flt.score_max is not None:
        where.append(Assessment.score <= flt.score_max)
    if flt.scanned_from is not None:
        where.append(Assessment.scanned_at >= flt.scanned_from)
    if flt.scanned_to is not None:
        where.append(Assessment.scanned_at <= flt.scanned_to)
    if flt.complete is True:
        where.append(Assessment.complete.is_(True))
    elif flt.complete is False:
        where.append(or_(Assessment.id.is_(None), Assessment.complete.is_(False)))
    if flt.needs_rescan is True:
        where.append(Assessment.complete.is_(False))
    elif flt.needs_rescan is False:
        where.append(or_(Assessment.id.is_(None), Assessment.complete.is_(True)))
    if flt.scanned is True:
        where.append(Assessment.id.is_not(None))
    elif flt.scanned is False:
        where.append(Assessment.id.is_(None))
    if flt.favourite is not None:
        if user_id is None:
            raise ValueError("the favourite filter needs a user")
        mine = exists(
            select(literal(1)).where(Favorite.user_id == user_id, Favorite.company_id == Company.id)
        )
        where.append(mine if flt.favourite else ~mine)
    if flt.referral_status:
        where.append(_in_or_none(Company.referral_status, flt.referral_status))
    if flt.crm_status:
        where.append(_in_or_none(Company.crm_status, flt.crm_status))
    if flt.domains:
        where.append(Company.domain.in_(list(flt.domains)))
    return where


def _from(select_: Select[Any], flt: LeadFilter, *, inner: bool | None = None) -> Select[Any]:
    """FROM companies joined to assessments: an inner join when only assessed leads can match."""
    on = Assessment.company_id == Company.id
    if flt.assessed_only if inner is None else inner:
        return select_.select_from(Company).join(Assessment, on)
    return select_.select_from(Company).outerjoin(Assessment, on)


def _order_by(sort: Sort, dialect: str, *, inner: bool) -> list[Any]:
    """ORDER BY for a sort; unscanned leads (no assessment: every column NULL) go last.

    ``inner``: the query joins assessments with an inner join, so no row has a NULL rank.
    """
    key, descending = sort
    rank = Assessment.priority_rank.desc() if descending else Assessment.priority_rank.asc()
    if descending or not (inner or dialect == "postgresql"):
        # On PostgreSQL ASC puts NULLs last already; with an inner join there are none. Either
        # way the plain form keeps the (priority_rank, score DESC) index usable for the order.
        rank = rank.nulls_last()
    # Within one rank the scores are all set (ranks 1–6) or all null (99, unscanned).
    score = Assessment.score.asc() if descending else Assessment.score.desc()
    tail = Company.domain.asc()
    if key == "priority":
        return [rank, score, tail]
    if key == "domain":
        return [Company.domain.desc() if descending else Company.domain.asc()]
    column = {
        "score": Assessment.score,
        "name": Company.name,
        "scanned": Assessment.scanned_at,
        "platform": Assessment.platform,
    }[key]
    primary = (column.desc() if descending else column.asc()).nulls_last()
    if key == "score":
        return [primary, tail]
    default_rank = Assessment.priority_rank.asc()
    if not (inner or dialect == "postgresql"):
        default_rank = default_rank.nulls_last()
    return [primary, default_rank, Assessment.score.desc(), tail]


def _split_unscanned(flt: LeadFilter, sort: Sort) -> bool:
    """True when the default order can be served in two index-friendly parts: assessed leads by
    the (priority_rank, score) index, then the never-scanned ones (which sort last) by domain.

    One outer-joined query would make the database sort every lead for the first page.
    """
    return sort == ("priority", False) and not flt.assessed_only


def _rows_query(flt: LeadFilter, where: list[ColumnElement[bool]], sort: Sort, dialect: str) -> Select[Any]:
    inner = flt.assessed_only
    return _from(select(*_ROW_COLUMNS), flt).where(*where).order_by(*_order_by(sort, dialect, inner=inner))


def _assessed_rows(where: list[ColumnElement[bool]], sort: Sort, dialect: str) -> Select[Any]:
    query = _from(select(*_ROW_COLUMNS), LeadFilter(), inner=True).where(*where)
    return query.order_by(*_order_by(sort, dialect, inner=True))


def _unscanned_rows(where: list[ColumnElement[bool]]) -> Select[Any]:
    query = _from(select(*_ROW_COLUMNS), LeadFilter(), inner=False)
    return query.where(*where, Assessment.id.is_(None)).order_by(Company.domain.asc())


# --------------------------------------------------------------------------------------------
# Rows


_CONFIDENCE = Assessment.details["classification"]["confidence"].as_float()
_HALF_MIGRATED = Assessment.details["classification"]["half_migrated"].as_boolean()

_ROW_COLUMNS: Final = (
    Company.id,
    Company.domain,
    Company.display_domain,
    Company.name,
    Company.attributes,
    Company.emails,
    Company.referral_status,
    Company.crm_status,
    Assessment.id.label("assessment_id"),
    Assessment.complete,
    Assessment.priority,
    Assessment.score,
    Assessment.segment,
    Assessment.platform,
    Assessment.gateway,
    Assessment.tags,
    Assessment.scanned_at,
    Assessment.breakdown,
    _CONFIDENCE.label("confidence"),
    _HALF_MIGRATED.label("half_migrated"),
)


def top_factor_text(breakdown: Sequence[Mapping[str, Any]] | None, lang: str) -> str | None:
    """The sentence of the factor that weighs most: the short "why" of a list row."""
    if not breakdown:
        return None
    best = max(breakdown, key=lambda f: int(f.get("points") or 0))
    text = best.get("text") or {}
    return str(text.get(lang) or text.get("en") or "") or None


@dataclass
class LeadItem:
    """One row of the leads list (and of the exports)."""

    company_id: int
    domain: str
    display_domain: str
    name: str | None
    priority: str | None
    score: int | None
    segment: str | None
    platform: str | None
    gateway: str | None
    tags: list[str]
    user_tags: list[str]
    complete: bool | None
    """None: never scanned."""
    scanned_at: datetime | None
    favourite: bool
    half_migrated: bool | None
    confidence: float | None
    city: str | None
    district: str | None
    activity: str | None
    why: str | None
    referral_status: str | None
    crm_status: str | None
    attributes: dict[str, Any] = field(default_factory=dict)
    emails: list[str] = field(default_factory=list)

    @property
    def needs_rescan(self) -> bool:
        return self.complete is False

    def to_json(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "display_domain": self.display_domain,
            "name": self.name,
            "priority": self.priority,
            "score": self.score,
            "segment": self.segment,
            "platform": self.platform,
            "gateway": self.gateway,
            "tags": self.tags,
            "user_tags": self.user_tags,
            "complete": self.complete,
            "needs_rescan": self.needs_rescan,
            "scanned_at": self.scanned_at.isoformat() if self.scanned_at else None,
            "favourite": self.favourite,
            "half_migrated": self.half_migrated,
            "confidence": self.confidence,
            "city": self.city,
            "district": self.district,
            "activity": self.activity,
            "why": self.why,
            "referral_status": self.referral_status,
            "crm_status": self.crm_status,
        }


def _attribute(attributes: Mapping[str, Any], key: str) -> str | None:
    value = attributes.get(key)
    return str(value) if value not in (None, "") else None


def _items(
    session: Session, rows: Sequence[Any], user_id: int | None, lang: str, *, favourites: bool = True
) -> list[LeadItem]:
    ids = [row.id for row in rows]
    user_tags: dict[int, list[str]] = {}
    fav: set[int] = set()
    if ids:
        for company_id, tag in session.execute(
            select(CompanyTag.company_id, CompanyTag.tag)
            .where(CompanyTag.company_id.in_(ids))
            .order_by(CompanyTag.company_id, CompanyTag.created_at, CompanyTag.id)
        ):
            user_tags.setdefault(company_id, []).append(tag)
        if favourites and user_id is not None:
            mine = Favorite.user_id == user_id
            fav = set(session.scalars(select(Favorite.company_id).where(mine, Favorite.company_id.in_(ids))))
    items = []
    for row in rows:
        attributes = row.attributes or {}
        mine = user_tags.get(row.id, [])
        items.append(
            LeadItem(
                company_id=row.id,
                domain=row.domain,
                display_domain=row.display_domain,
                name=row.name,
                priority=row.priority,
                score=row.score,
                segment=row.segment,
                platform=row.platform,
                gateway=row.gateway,
                tags=list(normalise_tags([*(row.tags or []), *mine])),
                user_tags=mine,
                complete=row.complete if row.assessment_id is not None else None,
                scanned_at=row.scanned_at,
                favourite=row.id in fav,
                half_migrated=row.half_migrated,
                confidence=row.confidence,
                city=_attribute(attributes, "city"),
                district=_attribute(attributes, "district"),
                activity=_attribute(attributes, "activity"),
                why=top_factor_text(row.breakdown, lang),
                referral_status=row.referral_status,
                crm_status=row.crm_status,
                attributes=dict(attributes),
                emails=list(row.emails or []),
            )
        )
    return items


# --------------------------------------------------------------------------------------------
# Queries


@dataclass
class LeadPage:
    total: int
    page: int
    page_size: int
    items: list[LeadItem]
    facets: dict[str, dict[str, int]] | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "page": self.page,
            "page_size": self.page_size,
            "pages": self.pages,
            "items": [item.to_json() for item in self.items],
            "facets": self.facets,
        }


def count_leads(session: Session, flt: LeadFilter, *, user_id: int | None = None) -> int:
    flt = flt.normalised()
    query = _from(select(func.count()), flt).where(*_conditions(flt, _dialect(session), user_id))
    return int(session.scalar(query) or 0)


def query_leads(
    session: Session,
    flt: LeadFilter,
    *,
    sort: str | Sort = "priority",
    page: int = 1,
    page_size: int = 50,
    user_id: int | None = None,
    lang: str = "en",
    facets: bool = False,
) -> LeadPage:
    """One page of leads in a stable order, the number of matches, and (if asked) facet counts.

    ``sort``: ``priority`` (default: priority, then score descending, then domain), ``score``,
    ``name``, ``domain``, ``scanned``, ``platform``; ``-`` in front reverses. Ties always end on
    the domain, which is unique, so pages never overlap or skip. ``user_id`` decides
    ``favourite`` (flag and filter); ``lang`` the language of ``why``. Raises ValueError for an
    invalid filter or sort.
    """
    flt = flt.normalised()
    order = parse_sort(sort) if isinstance(sort, str) else sort
    page = max(1, int(page))
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    dialect = _dialect(session)
    where = _conditions(flt, dialect, user_id)
    total = int(session.scalar(_from(select(func.count()), flt).where(*where)) or 0)
    offset = (page - 1) * page_size
    rows: list[Any] = []
    if total > offset and _split_unscanned(flt, order):
        rows = list(session.execute(_assessed_rows(where, order, dialect).limit(page_size).offset(offset)))
        if len(rows) < page_size and offset + len(rows) < total:
            if rows:
                assessed = offset + len(rows)
            else:
                inner = _from(select(func.count()), flt, inner=True).where(*where)
                assessed = int(session.scalar(inner) or 0)
            rest = _unscanned_rows(where).limit(page_size - len(rows)).offset(max(0, offset - assessed))
            rows += session.execute(rest)
    elif total > offset:
        rows = list(session.execute(_rows_query(flt, where, order, dialect).limit(page_size).offset(offset)))
    return LeadPage(
        total=total,
        page=page,
        page_size=page_size,
        items=_items(session, rows, user_id, lang),
        facets=lead_facets(session, flt, user_id=user_id) if facets else None,
    )


def iter_leads(
    session: Session,
    flt: LeadFilter,
    *,
    sort: str | Sort = "priority",
    user_id: int | None = None,
    lang: str = "en",
    batch_size: int = 1000,
) -> Iterator[LeadItem]:
    """Every matching lead in list order, read in batches (a server-side cursor on PostgreSQL).

    Memory stays at one batch whatever the number of rows; keep the session open while iterating.
    """
    flt = flt.normalised()
    order = parse_sort(sort) if isinstance(sort, str) else sort
    dialect = _dialect(session)
    where = _conditions(flt, dialect, user_id)
    if _split_unscanned(flt, order):
        parts = [_assessed_rows(where, order, dialect), _unscanned_rows(where)]
    else:
        parts = [_rows_query(flt, where, order, dialect)]
    for query in parts:
        result = session.execute(query.execution_options(yield_per=batch_size))
        try:
            for rows in result.partitions():
                yield from _items(session, rows, user_id, lang, favourites=False)
        finally:
            result.close()


def _status_column() -> Any:
    return case(
        (Assessment.id.is_(None), "not_scanned"),
        (Assessment.complete.is_(True), "complete"),
        else_="needs_rescan",
    )


_FACET_COLUMNS: Final = {
    "priority": lambda: Assessment.priority,
    "segment": lambda: Assessment.segment,
    "platform": lambda: Assessment.platform,
    "gateway": lambda: Assessment.gateway,
    "status": _status_column,
}


def _crosstab(
    session: Session, flt: LeadFilter, facets: Sequence[str], user_id: int | None
) -> dict[str, dict[str, int]]:
    """Counts per value of each facet under one filter, from a single GROUP BY over all of them
    (a few hundred groups at most), instead of one scan of the matches per facet."""
    columns = [_FACET_COLUMNS[facet]().label(facet) for facet in facets]
    query = (
        _from(select(*columns, func.count().label("n")), flt)
        .where(*_conditions(flt, _dialect(session), user_id))
        .group_by(*columns)
    )
    counts: dict[str, dict[str, int]] = {facet: {} for facet in facets}
    for row in session.execute(query):
        n = int(row.n)
        for facet in facets:
            value = getattr(row, facet)
            if value is None and facet == "platform":
                continue  # "none" is a real platform (no mail); unscanned leads count under status
            key = NONE if value is None else str(value)
            counts[facet][key] = counts[facet].get(key, 0) + n
    return {facet: _ordered(facet, values) for facet, values in counts.items()}


def _ordered(facet: str, counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: _facet_order(facet, item)))


def _facet_order(facet: str, item: tuple[str, int]) -> tuple[int, Any]:
    key, n = item
    if facet == "priority":
        return (PRIORITIES.index(key) if key in PRIORITIES else len(PRIORITIES), key)
    if facet == "segment":
        return (SEGMENTS.index(key) if key in SEGMENTS else len(SEGMENTS), key)
    if facet == "status":
        return (STATUSES.index(key) if key in STATUSES else len(STATUSES), key)
    return (-n, key)


def lead_facets(
    session: Session,
    flt: LeadFilter,
    *,
    user_id: int | None = None,
    facets: Sequence[str] = FACETS,
) -> dict[str, dict[str, int]]:
    """Counts per value of each facet under the filter, ignoring that facet's own restriction
    (so a multi-select shows what ticking another value would add). ``none`` = no value, except
    for platform, where it is the real "no mail" platform and unscanned leads are left out."""
    flt = flt.normalised()
    # Facets whose own value is not filtered share the filter: one GROUP BY serves them all.
    shared = [facet for facet in facets if flt.without(facet) == flt]
    result = _crosstab(session, flt, shared, user_id) if shared else {}
    for facet in facets:
        if facet not in result:
            result.update(_crosstab(session, flt.without(facet), [facet], user_id))
    return {facet: result[facet] for facet in facets}


def _top_tags(session: Session, flt: LeadFilter, user_id: int | None, limit: int) -> dict[str, int]:
    dialect = _dialect(session)
    matching = (
        _from(select(Company.id.label("cid"), Assessment.tags.label("tags")), flt)
        .where(*_conditions(flt, dialect, user_id))
        .subquery("matching")
    )
    expand = func.jsonb_array_elements_text if dialect == "postgresql" else func.json_each
    each = expand(matching.c.tags).table_valued("value").alias("each")
    engine_tags = select(matching.c.cid.label("cid"), each.c.value.label("tag")).select_from(
        matching.join(each, true())
    )
    user_tags = select(CompanyTag.company_id.label("cid"), CompanyTag.tag.label("tag")).where(
        CompanyTag.company_id.in_(select(matching.c.cid))
    )
    pairs = union(engine_tags, user_tags).subquery("pairs")
    query = (
        select(pairs.c.tag, func.count().label("n"))
        .group_by(pairs.c.tag)
        .order_by(func.count().desc(), pairs.c.tag)
        .limit(limit)
    )
    return {str(tag): int(n) for tag, n in session.execute(query)}


def dashboard_counts(
    session: Session, flt: LeadFilter | None = None, *, user_id: int | None = None, top_tags: int = TOP_TAGS
) -> dict[str, Any]:
    """Totals for the Insights tiles, all GROUP BY in SQL: by priority, segment, platform,
    gateway, scan status, and the most frequent tags."""
    flt = (flt or LeadFilter()).normalised()
    counts = _crosstab(session, flt, FACETS, user_id)
    total = sum(counts["status"].values())
    return {
        "total": total,
        "by_priority": counts["priority"],
        "by_segment": counts["segment"],
        "by_platform": counts["platform"],
        "by_gateway": counts["gateway"],
        "by_status": {status: counts["status"].get(status, 0) for status in STATUSES},
        "top_tags": _top_tags(session, flt, user_id, top_tags),
    }


# --------------------------------------------------------------------------------------------
# One lead


def find_company(session: Session, domain: str) -> Company:
    """The company for a domain as a user typed it (Unicode or punycode, any case, a URL…)."""
    from hunter.core.domains import try_normalise_domain

    wanted = [domain.strip().lower().rstrip(".")]
    parsed = try_normalise_domain(domain)
    if not isinstance(parsed, Exception):
        wanted.insert(0, parsed.ascii)
    company = session.scalar(select(Company).where(Company.domain.in_(wanted)).limit(1))
    if company is None:
        raise LeadNotFound(f"{domain} is not in the database; import or scan it first")
    return company


def user_tags_of(session: Session, company_id: int) -> list[str]:
    return list(
        session.scalars(
            select(CompanyTag.tag)
            .where(CompanyTag.company_id == company_id)
            .order_by(CompanyTag.created_at, CompanyTag.id)
        )
    )


def _engine_tags(assessment: Assessment | None) -> list[str]:
    if assessment is None:
        return []
    evaluation = (assessment.details or {}).get("evaluation") or {}
    if "tags" in evaluation:
        return [str(t) for t in evaluation["tags"]]
    return [str(t) for t in assessment.tags or []]


def _refresh_assessment_tags(session: Session, company: Company) -> None:
    """Keep ``assessments.tags`` (what lists and filters read) equal to engine + user tags.

    Re-evaluation computes the same merge from company_tags, so both writers agree.
    """
    assessment = session.scalar(select(Assessment).where(Assessment.company_id == company.id))
    if assessment is None:
        return
    from hunter.core.tags import merge_tags

    merged = merge_tags(None, _engine_tags(assessment), user_tags_of(session, company.id))
    assessment.tags = list(merged.tags)


def add_user_tag(session: Session, company: Company, tag: str, user_id: int | None) -> tuple[str, bool]:
    """Give the company a user tag; returns (stored tag, created?). Idempotent."""
    value = normalise_user_tag(tag)
    existing = session.scalar(
        select(CompanyTag).where(CompanyTag.company_id == company.id, CompanyTag.tag == value)
    )
    if existing is not None:
        return value, False
    session.add(CompanyTag(company_id=company.id, tag=value, created_by=user_id))
    session.flush()
    _refresh_assessment_tags(session, company)
    return value, True


def remove_user_tag(session: Session, company: Company, tag: str) -> bool:
    """Remove a user tag; False when the company has no such user tag (engine tags stay)."""
    value = normalise_user_tag(tag)
    row = session.scalar(
        select(CompanyTag).where(CompanyTag.company_id == company.id, CompanyTag.tag == value)
    )
    if row is None:
        return False
    session.delete(row)
    session.flush()
    _refresh_assessment_tags(session, company)
    return True


def set_favourite(session: Session, company: Company, user_id: int, favourite: bool) -> None:
    row = session.scalar(
        select(Favorite).where(Favorite.user_id == user_id, Favorite.company_id == company.id)
    )
    if favourite and row is None:
        session.add(Favorite(user_id=user_id, company_id=company.id))
    elif not favourite and row is not None:
        session.delete(row)
    session.flush()


def add_note(session: Session, company: Company, user_id: int | None, body: str) -> Note:
    text = body.strip()
    if not text:
        raise ValueError("a note needs some text")
    note = Note(company_id=company.id, user_id=user_id, body=text, created_at=utcnow())
    session.add(note)
    session.flush()
    return note


def delete_note(session: Session, note_id: int, *, user_id: int, is_admin: bool) -> Note:
    """Delete a note; only its author or an admin may. PermissionError otherwise."""
    note = session.get(Note, note_id)
    if note is None:
        raise NoteNotFound(f"note {note_id} does not exist")
    if note.user_id != user_id and not is_admin:
        raise PermissionError("only the note's author or an admin can delete it")
    session.delete(note)
    session.flush()
    return note


def note_json(note: Note, author: str | None) -> dict[str, Any]:
    return {
        "id": note.id,
        "body": note.body,
        "author": author,
        "user_id": note.user_id,
        "created_at": note.created_at.isoformat(),
    }


def _alert_json(alert: Alert, lang: str | None) -> dict[str, Any]:
    text = alert.text or {}
    return {
        "id": alert.id,
        "kind": alert.kind,
        "severity": alert.severity,
        "state": alert.state,
        "detected_at": alert.detected_at.isoformat(),
        "text": text.get(lang) if lang else text,
        "details": alert.details,
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
    }


def lead_detail(
    session: Session, domain: str, *, user_id: int | None = None, lang: str | None = None
) -> dict[str, Any]:
    """Everything the lead drawer shows except the brief (see ``services.briefs.brief_for``).

    ``lang`` picks one language for sentences (breakdown, alerts); None keeps both.
    """
    company = find_company(session, domain)
    assessment = session.scalar(select(Assessment).where(Assessment.company_id == company.id))
    details = (assessment.details if assessment else None) or {}
    scan = session.get(Scan, assessment.scan_id) if assessment and assessment.scan_id else None
    evidence = scan.evidence if scan else {}
    user_tags = user_tags_of(session, company.id)
    engine_tags = _engine_tags(assessment)

    def sentence(text: Mapping[str, Any]) -> Any:
        return text.get(lang) if lang else dict(text)

    factors = assessment.breakdown if assessment else []
    breakdown = [{**factor, "text": sentence(factor.get("text") or {})} for factor in factors or []]
    scan_columns = (Scan.id, Scan.started_at, Scan.complete, Scan.platform, Scan.gateway, Scan.duration_ms)
    scans = session.execute(
        select(*scan_columns, Scan.statuses)
        .where(Scan.company_id == company.id)
        .order_by(Scan.started_at.desc(), Scan.id.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    evaluations = session.scalars(
        select(Evaluation)
        .where(Evaluation.company_id == company.id)
        .order_by(Evaluation.evaluated_at.desc(), Evaluation.id.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    alerts = session.scalars(
        select(Alert)
        .where(Alert.company_id == company.id)
        .order_by(Alert.detected_at.desc(), Alert.id.desc())
        .limit(HISTORY_LIMIT)
    ).all()
    notes = session.execute(
        select(Note, User.username)
        .outerjoin(User, User.id == Note.user_id)
        .where(Note.company_id == company.id)
        .order_by(Note.created_at.desc(), Note.id.desc())
    ).all()
    favourite = (
        user_id is not None
        and session.scalar(
            select(func.count())
            .select_from(Favorite)
            .where(Favorite.user_id == user_id, Favorite.company_id == company.id)
        )
        > 0
    )
    classification = details.get("classification")
    return {
        "domain": company.domain,
        "display_domain": company.display_domain,
        "name": company.name,
        "names": list(company.names or []),
        "attributes": dict(company.attributes or {}),
        "emails": list(company.emails or []),
        "sources": list(company.sources or []),
        "referral_status": company.referral_status,
        "crm_status": company.crm_status,
        "scanned": assessment is not None,
        "complete": assessment.complete if assessment else None,
        "needs_rescan": bool(assessment and not assessment.complete),
        "priority": assessment.priority if assessment else None,
        "score": assessment.score if assessment else None,
        "segment": assessment.segment if assessment else None,
        "platform": assessment.platform if assessment else None,
        "gateway": assessment.gateway if assessment else None,
        "scanned_at": assessment.scanned_at.isoformat() if assessment and assessment.scanned_at else None,
        "evaluated_at": assessment.evaluated_at.isoformat() if assessment else None,
        "rules_version": assessment.rules_version if assessment else None,
        "why": top_factor_text(assessment.breakdown, lang or "en") if assessment else None,
        "breakdown": breakdown,
        "classification": classification,
        "posture": details.get("posture"),
        "evidence": {
            "scan_id": scan.id if scan else None,
            "collected_at": evidence.get("collected_at"),
            "duration_ms": scan.duration_ms if scan else None,
            "statuses": scan.statuses if scan else {},
            "lookups": evidence.get("lookups", []),
            "evidence_lines": (classification or {}).get("evidence_lines", []),
        },
        "registration": company.registration,
        "registration_fetched_at": (
            company.registration_fetched_at.isoformat() if company.registration_fetched_at else None
        ),
        "history": {
            "scans": [
                {
                    "id": row.id,
                    "at": row.started_at.isoformat(),
                    "complete": row.complete,
                    "platform": row.platform,
                    "gateway": row.gateway,
                    "duration_ms": row.duration_ms,
                    "statuses": row.statuses,
                }
                for row in scans
            ],
            "evaluations": [
                {
                    "at": e.evaluated_at.isoformat(),
                    "scan_id": e.scan_id,
                    "complete": e.complete,
                    "platform": (e.snapshot or {}).get("platform"),
                    "priority": e.priority,
                    "score": e.score,
                    "segment": e.segment,
                    "rules_version": e.rules_version,
                }
                for e in evaluations
            ],
        },
        "alerts": [_alert_json(a, lang) for a in alerts],
        "notes": [note_json(note, author) for note, author in notes],
        "tags": {
            "all": list(normalise_tags([*(assessment.tags if assessment else []), *user_tags])),
            "engine": engine_tags,
            "user": user_tags,
        },
        "favourite": bool(favourite),
    }
