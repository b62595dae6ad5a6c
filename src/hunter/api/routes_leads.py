"""Leads API: the filtered list, one lead's detail, notes, user tags, favourites, the dashboard.

Every query goes through :mod:`hunter.store.leads`, which the exports and the web UI use too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from hunter.auth.dependencies import PrincipalDep
from hunter.auth.roles import Scope
from hunter.auth.users import audit
from hunter.config import Settings
from hunter.logs import get_logger
from hunter.store.db import Database
from hunter.store.leads import (
    MAX_PAGE_SIZE,
    LeadFilter,
    LeadNotFound,
    NoteNotFound,
    add_note,
    add_user_tag,
    dashboard_counts,
    delete_note,
    find_company,
    lead_detail,
    note_json,
    parse_sort,
    query_leads,
    remove_user_tag,
    set_favourite,
    user_tags_of,
)

log = get_logger(__name__)

LANGS = ("tr", "en")
DEFAULT_LANG = "en"

leads_router = APIRouter(prefix="/api/v1", tags=["leads"])


def get_db(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def get_settings_of(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


DbDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings_of)]
LangParam = Annotated[
    Literal["tr", "en"] | None,
    Query(description="Language of the sentences; default: Accept-Language, then English."),
]


# --- shared parameters ---------------------------------------------------------------------------


def preferred_lang(request: Request, lang: str | None) -> str:
    """``lang`` if given, else the best of tr/en in Accept-Language, else English."""
    if lang in LANGS:
        return lang
    best, best_q = DEFAULT_LANG, 0.0
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if primary in LANGS and q > best_q:
            best, best_q = primary, q
    return best


def _split(values: list[str] | None) -> tuple[str, ...]:
    """Repeated parameters, each possibly comma-separated: ``priority=P1,P2&priority=P3``."""
    out: list[str] = []
    for value in values or ():
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return tuple(out)


def _bound(value: str | None, name: str, *, end: bool) -> datetime | None:
    """A date (the whole day counts) or an ISO date-time; naive times are UTC."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime.combine(day, time.min, tzinfo=UTC)
            return start + timedelta(days=1) - timedelta(microseconds=1) if end else start
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPException(422, f"{name}: expected a date (2026-11-30) or an ISO date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def lead_filter(
    q: Annotated[
        str | None,
        Query(max_length=200, description="Turkish-aware search in name, domain and imported columns."),
    ] = None,
    priority: Annotated[list[str] | None, Query(description="P1–P6, or none (no priority yet).")] = None,
    segment: Annotated[
        list[str] | None, Query(description="Migration, Existing, Cold, Skip, or none.")
    ] = None,
    platform: Annotated[list[str] | None, Query(description="m365, google, hosting, … (any of).")] = None,
    gateway: Annotated[list[str] | None, Query(description="proofpoint, mimecast, …, or none.")] = None,
    tags: Annotated[list[str] | None, Query(description="Engine or user tags.")] = None,
    tags_mode: Annotated[Literal["any", "all"], Query(description="Match any or all of the tags.")] = "any",
    score_min: Annotated[int | None, Query(ge=0, le=100)] = None,
    score_max: Annotated[int | None, Query(ge=0, le=100)] = None,
    scanned_from: Annotated[str | None, Query(description="Date or date-time (inclusive).")] = None,
    scanned_to: Annotated[str | None, Query(description="Date (whole day) or date-time (inclusive).")] = None,
    complete: Annotated[bool | None, Query(description="true: complete scan; false: anything else.")] = None,
    needs_rescan: Annotated[bool | None, Query(description="true: the latest scan is incomplete.")] = None,
    scanned: Annotated[bool | None, Query(description="false: imported but never scanned.")] = None,
    favourite: Annotated[bool | None, Query(description="Your favourites (true) or the rest.")] = None,
    referral_status: Annotated[
        list[str] | None,
        Query(description="Reserved for the Partner Center sync (none: no referral). Filters already."),
    ] = None,
    crm_status: Annotated[
        list[str] | None,
        Query(description="Reserved for the Dynamics 365 push (none: not in the CRM). Filters already."),
    ] = None,
    domain: Annotated[list[str] | None, Query(description="Only these domains (a selection).")] = None,
) -> LeadFilter:
    flt = LeadFilter(
        q=q,
        priority=_split(priority),
        segment=_split(segment),
        platform=_split(platform),
        gateway=_split(gateway),
        tags=_split(tags),
        tags_mode=tags_mode,
        score_min=score_min,
        score_max=score_max,
        scanned_from=_bound(scanned_from, "scanned_from", end=False),
        scanned_to=_bound(scanned_to, "scanned_to", end=True),
        complete=complete,
        needs_rescan=needs_rescan,
        scanned=scanned,
        favourite=favourite,
        referral_status=_split(referral_status),
        crm_status=_split(crm_status),
        domains=_split(domain),
    )
    try:
        return flt.normalised()
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


LeadFilterDep = Annotated[LeadFilter, Depends(lead_filter)]


def sort_param(
    sort: Annotated[
        str,
        Query(
            max_length=20,
            description="priority (default), score, name, domain, scanned, platform; prefix - to reverse.",
        ),
    ] = "priority",
) -> str:
    try:
        parse_sort(sort)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return sort


SortDep = Annotated[str, Depends(sort_param)]


# --- list ----------------------------------------------------------------------------------------


class LeadOut(BaseModel):
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
    complete: bool | None = Field(description="null: never scanned.")
    needs_rescan: bool
    scanned_at: datetime | None
    favourite: bool
    half_migrated: bool | None
    confidence: float | None
    city: str | None
    district: str | None
    activity: str | None
    why: str | None = Field(description="The top factor of the score, in the requested language.")
    referral_status: str | None = Field(description="Reserved for the Partner Center sync.")
    crm_status: str | None = Field(description="Reserved for the Dynamics 365 push.")


class LeadPageOut(BaseModel):
    total: int
    page: int
    page_size: int
    pages: int
    items: list[LeadOut]
    facets: dict[str, dict[str, int]] | None = Field(
        default=None, description="With facets=true: counts per value, ignoring that facet's own filter."
    )


@leads_router.get("/leads", response_model=LeadPageOut)
def list_leads(
    request: Request,
    db: DbDep,
    principal: PrincipalDep,
    flt: LeadFilterDep,
    sort: SortDep,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    facets: Annotated[bool, Query(description="Also count priority, segment, platform, …")] = False,
    lang: LangParam = None,
) -> Any:
    """The leads list: filters, sort, pages with the total. Default order: priority, score, domain."""
    with db.session() as session:
        result = query_leads(
            session,
            flt,
            sort=sort,
            page=page,
            page_size=page_size,
            user_id=principal.user_id,
            lang=preferred_lang(request, lang),
            facets=facets,
        )
        return result.to_json()


@leads_router.get("/dashboard")
def dashboard(db: DbDep, principal: PrincipalDep, flt: LeadFilterDep) -> dict[str, Any]:
    """Counts by priority, segment, platform, gateway and scan status, and the top tags (all in SQL).

    Takes the leads filters, so a tile can show the numbers of a filtered view.
    """
    with db.session() as session:
        return dashboard_counts(session, flt, user_id=principal.user_id)


# --- one lead ------------------------------------------------------------------------------------


def _briefs(db: Database, settings: Settings, domain: str, lang: str | None) -> Any:
    from hunter.services.briefs import LeadNotScanned, brief_for

    try:
        if lang:
            return brief_for(db, settings, domain, lang).to_dict()
        return {code: brief_for(db, settings, domain, code).to_dict() for code in LANGS}
    except LeadNotScanned:
        return None
    except ValueError as exc:  # stored evidence this version cannot read: show the rest of the lead
        log.warning("brief unavailable", domain=domain, error=str(exc))
        return None


@leads_router.get("/leads/{domain}")
def get_lead(
    domain: str,
    db: DbDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    lang: Annotated[
        Literal["tr", "en"] | None, Query(description="One language for sentences; omit for both.")
    ] = None,
    brief: Annotated[bool, Query(description="Include the sales brief.")] = True,
) -> dict[str, Any]:
    """Everything about one lead: verdict, evidence, classification, posture, breakdown, brief,
    registration, history, alerts, notes, tags (engine and user) and your favourite flag."""
    with db.session() as session:
        try:
            detail = lead_detail(session, domain, user_id=principal.user_id, lang=lang)
        except LeadNotFound as exc:
            raise HTTPException(404, str(exc)) from None
    detail["brief"] = _briefs(db, settings, detail["domain"], lang) if brief and detail["scanned"] else None
    return detail


class NoteIn(BaseModel):
    body: str = Field(min_length=1, max_length=10_000)


@leads_router.post("/leads/{domain}/notes", status_code=201)
def create_note(domain: str, body: NoteIn, db: DbDep, principal: PrincipalDep) -> dict[str, Any]:
    with db.session() as session:
        try:
            company = find_company(session, domain)
            note = add_note(session, company, principal.user_id, body.body)
        except LeadNotFound as exc:
            raise HTTPException(404, str(exc)) from None
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        return note_json(note, principal.user.username)


@leads_router.delete("/notes/{note_id}", status_code=204)
def remove_note(note_id: int, db: DbDep, principal: PrincipalDep) -> Response:
    """Only the note's author or an admin may delete it."""
    with db.session() as session:
        try:
            note = delete_note(
                session, note_id, user_id=principal.user_id, is_admin=principal.has(Scope.ADMIN)
            )
        except NoteNotFound as exc:
            raise HTTPException(404, str(exc)) from None
        except PermissionError as exc:
            raise HTTPException(403, str(exc)) from None
        if note.user_id != principal.user_id:
            audit(session, "note.delete", actor_id=principal.user_id, target=f"note:{note_id}")
    return Response(status_code=204)


@leads_router.put("/leads/{domain}/tags/{tag}")
def put_tag(domain: str, tag: str, db: DbDep, principal: PrincipalDep, response: Response) -> dict[str, Any]:
    """Add a user tag (idempotent). Tags: 1–64 letters, digits or . _ + -, stored in lower case.

    The engine never adds or removes user tags, and re-evaluation keeps them.
    """
    with db.session() as session:
        try:
            company = find_company(session, domain)
            stored, created = add_user_tag(session, company, tag, principal.user_id)
        except LeadNotFound as exc:
            raise HTTPException(404, str(exc)) from None
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        response.status_code = 201 if created else 200
        return {
            "domain": company.domain,
            "tag": stored,
            "created": created,
            "user_tags": user_tags_of(session, company.id),
        }


@leads_router.delete("/leads/{domain}/tags/{tag}", status_code=204)
def delete_tag(domain: str, tag: str, db: DbDep, principal: PrincipalDep) -> Response:
    """Remove a user tag. Engine tags cannot be removed: they follow the evidence."""
    with db.session() as session:
        try:
            company = find_company(session, domain)
            removed = remove_user_tag(session, company, tag)
        except LeadNotFound as exc:
            raise HTTPException(404, str(exc)) from None
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
    if not removed:
        raise HTTPException(404, f"{domain} has no user tag {tag!r} (engine tags cannot be removed)")
    return Response(status_code=204)


def _favourite(db: Database, domain: str, user_id: int, value: bool) -> dict[str, Any]:
    with db.session() as session:
        try:
            company = find_company(session, domain)
        except LeadNotFound as exc:
            raise HTTPException(404, str(exc)) from None
        set_favourite(session, company, user_id, value)
        return {"domain": company.domain, "favourite": value}


@leads_router.put("/leads/{domain}/favourite")
def put_favourite(domain: str, db: DbDep, principal: PrincipalDep) -> dict[str, Any]:
    """Mark the lead as one of your favourites (idempotent; favourites are per user)."""
    return _favourite(db, domain, principal.user_id, True)


@leads_router.delete("/leads/{domain}/favourite")
def delete_favourite(domain: str, db: DbDep, principal: PrincipalDep) -> dict[str, Any]:
    return _favourite(db, domain, principal.user_id, False)
