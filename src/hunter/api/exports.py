"""Exports: the leads list as CSV or XLSX (same filters and order as /leads), a brief as PDF.

CSV streams row by row from a batched query. XLSX is written with openpyxl's write-only mode (rows
go to a temporary file, never all in memory) into a spooled file that is then streamed: a zip's
directory comes last, so no byte can be sent before the last row is read.

Spreadsheet programs run text that starts with ``=``, ``+``, ``-``, ``@`` (and tab / CR, which
some strip first) as a formula, so such cells get a leading ``'`` in both formats: company names
and imported columns are data from outside.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import StreamingResponse
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from hunter.api.routes_leads import DbDep, LeadFilterDep, SettingsDep, SortDep, preferred_lang
from hunter.auth.dependencies import PrincipalDep
from hunter.store.db import Database
from hunter.store.leads import LeadFilter, LeadItem, iter_leads

exports_router = APIRouter(prefix="/api/v1", tags=["exports"])

FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")
BATCH: Final = 1000
CHUNK: Final = 64 * 1024
SPOOL_BYTES: Final = 8 * 1024 * 1024

# (key, English header, Turkish header)
COLUMNS: Final = (
    ("domain", "Domain", "Alan adı"),
    ("name", "Company", "Firma"),
    ("priority", "Priority", "Öncelik"),
    ("score", "Score", "Puan"),
    ("segment", "Segment", "Segment"),
    ("platform", "Platform", "Platform"),
    ("gateway", "Gateway", "Ağ geçidi"),
    ("tags", "Tags", "Etiketler"),
    ("status", "Scan status", "Tarama durumu"),
    ("scanned_at", "Scanned (UTC)", "Taranma (UTC)"),
    ("city", "City", "İl"),
    ("district", "District", "İlçe"),
    ("activity", "Activity", "Faaliyet"),
    ("phone", "Phone", "Telefon"),
    ("email", "E-mail", "E-posta"),
    ("employees", "Employees", "Çalışan sayısı"),
    ("why", "Why", "Neden"),
    ("display_domain", "Domain (Unicode)", "Alan adı (Unicode)"),
)


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would evaluate gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _status(item: LeadItem) -> str:
    if item.complete is None:
        return "not_scanned"
    return "complete" if item.complete else "needs_rescan"


def _row(item: LeadItem) -> list[Any]:
    """One export row in COLUMNS order (raw values: numbers stay numbers, times stay times)."""
    attributes = item.attributes
    values: dict[str, Any] = {
        "domain": item.domain,
        "name": item.name,
        "priority": item.priority,
        "score": item.score,
        "segment": item.segment,
        "platform": item.platform,
        "gateway": item.gateway,
        "tags": ", ".join(item.tags),
        "status": _status(item),
        "scanned_at": item.scanned_at,
        "city": item.city,
        "district": item.district,
        "activity": item.activity,
        "phone": attributes.get("phone"),
        "email": ", ".join(str(e) for e in item.emails) or None,
        "employees": attributes.get("employees"),
        "why": item.why,
        "display_domain": item.display_domain,
    }
    return [values[key] for key, _en, _tr in COLUMNS]


def _header(lang: str) -> list[str]:
    return [tr if lang == "tr" else en for _key, en, tr in COLUMNS]


def _filename(ext: str) -> str:
    return f"hunter-leads-{datetime.now(UTC):%Y%m%d-%H%M}.{ext}"


def _rows(db: Database, flt: LeadFilter, sort: str, user_id: int, lang: str) -> Iterator[list[Any]]:
    """Export rows, read in batches inside one session that lives as long as the iteration."""
    with db.session() as session:
        for item in iter_leads(session, flt, sort=sort, user_id=user_id, lang=lang, batch_size=BATCH):
            yield _row(item)


def csv_chunks(rows: Iterator[list[Any]], header: Sequence[str], delimiter: str) -> Iterator[bytes]:
    """UTF-8 with a BOM (Excel otherwise reads it as the ANSI code page and garbles ş, ğ, İ)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    yield "\ufeff".encode() + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    for row in rows:
        writer.writerow(
            [neutralise(v.isoformat() if isinstance(v, datetime) else "" if v is None else v) for v in row]
        )
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)  # Excel has no time zones; the header says UTC
    if isinstance(value, str):
        return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def write_xlsx(rows: Iterator[list[Any]], header: Sequence[str], target: Any) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Leads")
    sheet.freeze_panes = "B2"
    sheet.append(list(header))
    for row in rows:
        sheet.append([_xlsx_cell(v) for v in row])
    workbook.save(target)


def _file_chunks(spooled: Any) -> Iterator[bytes]:
    try:
        spooled.seek(0)
        while chunk := spooled.read(CHUNK):
            yield chunk
    finally:
        spooled.close()


@exports_router.get("/exports/leads.csv", response_class=StreamingResponse)
def export_csv(
    request: Request,
    db: DbDep,
    principal: PrincipalDep,
    flt: LeadFilterDep,
    sort: SortDep,
    delimiter: Annotated[
        Literal["comma", "semicolon"],
        Query(description="semicolon suits Excel with Turkish regional settings (decimal comma)."),
    ] = "comma",
    lang: Annotated[Literal["tr", "en"] | None, Query(description="Headers and the why column.")] = None,
) -> StreamingResponse:
    """Every lead the filters match, in list order, as CSV (UTF-8 with BOM)."""
    language = preferred_lang(request, lang)
    rows = _rows(db, flt, sort, principal.user_id, language)
    return StreamingResponse(
        csv_chunks(rows, _header(language), ";" if delimiter == "semicolon" else ","),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_filename("csv")}"'},
    )


@exports_router.get("/exports/leads.xlsx", response_class=StreamingResponse)
def export_xlsx(
    request: Request,
    db: DbDep,
    principal: PrincipalDep,
    flt: LeadFilterDep,
    sort: SortDep,
    lang: Annotated[Literal["tr", "en"] | None, Query(description="Headers and the why column.")] = None,
) -> StreamingResponse:
    """Every lead the filters match, in list order, as an Excel workbook."""
    language = preferred_lang(request, lang)
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed by _file_chunks
    try:
        write_xlsx(_rows(db, flt, sort, principal.user_id, language), _header(language), spooled)
    except BaseException:
        spooled.close()
        raise
    return StreamingResponse(
        _file_chunks(spooled),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{_filename("xlsx")}"'},
    )


# --- PDF brief -----------------------------------------------------------------------------------

# fonts-dejavu-core (Debian) first; Liberation (fonts-liberation) covers Turkish too.
FONT_CANDIDATES: Final = (
    (
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ),
    (
        Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
        Path("/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
    ),
)


class FontMissing(RuntimeError):
    pass


def brief_font() -> tuple[Path, Path]:
    """A TrueType font with the Turkish letters (ğ ş ı İ), regular and bold."""
    for regular, bold in FONT_CANDIDATES:
        if regular.is_file():
            return regular, bold if bold.is_file() else regular
    raise FontMissing("no PDF font installed: apt-get install fonts-dejavu-core")


def render_brief_pdf(brief: Any, *, title: str) -> bytes:
    """The sales brief as an A4 PDF with the font embedded (subset), so Turkish text survives."""
    from fpdf import FPDF

    from hunter.core.brief import texts

    regular, bold = brief_font()
    titles = texts()["titles"]
    lang = brief.lang

    pdf = FPDF(format="A4")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font("Brief", "", str(regular))
    pdf.add_font("Brief", "B", str(bold))
    pdf.set_title(title)
    pdf.set_creator("Hunter")
    pdf.set_lang(lang)
    pdf.add_page()

    def text(value: str, size: float = 10, style: str = "", gap: float = 1.5) -> None:
        pdf.set_font("Brief", style, size)
        pdf.multi_cell(0, size * 0.5, value, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    def section(key: str, lines: Sequence[str], size: float = 10) -> None:
        if not lines:
            return
        pdf.ln(2)
        text(str(titles[key][lang]), 12, "B", 1)
        for line in lines:
            text(line, size)

    text(brief.display_domain, 18, "B", 1)
    facts = [p for p in (brief.priority, brief.segment) if p]
    if brief.score is not None:
        facts.append(f"{texts()['words']['score'][lang]} {brief.score}")
    if facts:
        text(" · ".join(facts), 11, "B")
    text(brief.one_liner.text, 11)
    section("why", [f"• {s.text}" for s in brief.why])
    section("platform", [f"• {s.text}" for s in brief.platform])
    section("evidence", list(brief.evidence), 8.5)
    section("security", [f"• {s.text}" for s in brief.security])
    section("call_script", [f"{i}. {s.text}" for i, s in enumerate(brief.call_script, 1)])
    section("questions", [f"• {s.text}" for s in brief.discovery_questions])
    section(
        "objections",
        [
            f"{titles['objection'][lang]}: {o.objection.text}\n{titles['answer'][lang]}: {o.answer.text}"
            for o in brief.objections
        ],
    )
    offer = [brief.offer.summary.text]
    for line in brief.offer.lines:
        offer.append(f"• {line.text.text}" + (f" — {line.detail.text}" if line.detail else ""))
    if brief.offer.note is not None:
        offer.append(brief.offer.note.text)
    section("offer", offer)
    section("next_step", [brief.next_step.text.text])
    section("crm_note", [brief.crm_note])
    return bytes(pdf.output())


@exports_router.get(
    "/leads/{domain}/brief.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The brief as a PDF."}},
)
def brief_pdf(
    domain: str,
    db: DbDep,
    settings: SettingsDep,
    lang: Annotated[Literal["tr", "en"], Query(description="Language of the brief.")] = "tr",
) -> Response:
    """The lead's sales brief as a printable PDF (Turkish letters embedded)."""
    from hunter.services.briefs import LeadNotScanned, brief_for
    from hunter.store.leads import LeadNotFound, find_company

    with db.session() as session:
        try:
            ascii_domain = find_company(session, domain).domain
        except LeadNotFound as exc:
            raise HTTPException(404, str(exc)) from None
    try:
        brief = brief_for(db, settings, ascii_domain, lang)
    except LeadNotScanned as exc:
        raise HTTPException(409, str(exc)) from None
    try:
        content = render_brief_pdf(brief, title=f"{brief.display_domain} — {lang}")
    except FontMissing as exc:
        raise HTTPException(503, str(exc)) from None
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="brief-{ascii_domain}-{lang}.pdf"'},
    )
