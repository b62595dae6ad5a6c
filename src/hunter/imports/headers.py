"""Header-row detection and column roles (pure: plain lists of strings in, a mapping out).

Real member lists open with a title, notes and blank rows, and their headers are written every
way a Turkish office writes them ("FİRMA ÜNVANI", "Firma Adı", "WEB SİTESİ", "İnternet Adresi",
"E-POSTA"). Headers are compared in folded form (see :func:`header_key`) against phrase lists;
when a header says nothing useful, the column's content decides whether it holds domains.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from hunter.imports.errors import ImportFileError
from hunter.imports.model import DOMAIN_ROLES, ColumnMapping, ColumnRole
from hunter.imports.text import column_letter, header_key

Row = tuple[int, list[str]]  # (1-based sheet row, cells)
DomainPredicate = Callable[[str], bool]

HEADER_SCAN_ROWS: Final = 50  # a header further down than this is not a header any more
CONTENT_SAMPLE_ROWS: Final = 200
CONTENT_SHARE: Final = 0.5  # share of non-empty cells that must look like domains / e-mails
_MAX_HEADER_TOKENS: Final = 8
_MAX_HEADER_CHARS: Final = 60
# A phrase must cover at least this share of a header's words: "firma" in the title
# "ORGANİZE SANAYİ BÖLGESİ ÜYE FİRMA LİSTESİ" is no name header.
_MIN_COVERAGE: Final = 0.34

_R = ColumnRole
# Folded phrases per role. Explicit ATTRIBUTE phrases exist to stop a wrong guess: "KEP Adresi"
# holds e-mail addresses at the KEP provider, "Posta Kodu" is a postal code, "Ad Soyad" a person.
# fmt: off
_PHRASES: Final[dict[ColumnRole, tuple[str, ...]]] = {
    _R.WEBSITE: (
        "web", "web sitesi", "websitesi", "web site", "website", "web sayfasi", "web adresi",
        "webadresi", "internet", "internet adresi", "internet sitesi", "internet sayfasi", "site",
        "site adresi", "url", "www", "homepage", "home page", "domain", "domain name", "alan adi",
        "web url", "firma web", "web address",
    ),
    _R.EMAIL: (
        "e posta", "eposta", "e posta adresi", "eposta adresi", "e mail", "email", "mail",
        "e mail adresi", "email adresi", "mail adresi", "elektronik posta", "email address",
        "e mail address", "mail address", "mailto",
    ),
    _R.PHONE: (
        "telefon", "telefonu", "tel", "tel no", "telefon no", "telefon numarasi", "phone",
        "phone number", "telephone", "gsm", "cep", "cep telefonu", "cep tel", "irtibat telefonu",
        "is telefonu", "mobile", "tel 1", "telefon 1",
    ),
    _R.ADDRESS: (
        "adres", "adresi", "address", "acik adres", "adres bilgisi", "is adresi", "fabrika adresi",
        "merkez adresi", "yazisma adresi", "fatura adresi", "street", "street address",
    ),
    _R.ACTIVITY: (
        "faaliyet", "faaliyet konusu", "faaliyet alani", "faaliyet konulari", "sektor", "sektoru",
        "sektorler", "is kolu", "urunler", "urun", "urun grubu", "uretim konusu", "uretim alani",
        "nace", "nace kodu", "meslek grubu", "activity", "industry", "sector", "business",
        "line of business", "faaliyet kodu",
    ),
    _R.STATUS: ("durum", "durumu", "status", "uyelik durumu", "firma durumu", "state of company"),
    _R.CITY: ("il", "ili", "sehir", "city", "province", "il adi", "town"),
    _R.DISTRICT: ("ilce", "ilcesi", "district", "semt", "ilce adi", "county"),
    _R.EMPLOYEES: (
        "calisan sayisi", "calisan", "calisanlar", "personel", "personel sayisi", "isci sayisi",
        "istihdam", "employees", "employee count", "number of employees", "staff", "headcount",
        "company size", "kisi sayisi", "calisan adedi",
    ),
    _R.ROW_NUMBER: (
        "s no", "sno", "sira no", "sira", "sira numarasi", "no", "nr", "sayi", "row", "row number",
        "seq", "index",
    ),
    _R.NAME: (
        "firma", "firma adi", "firma unvani", "firma unvan", "firma ismi", "firmaadi", "firma adi unvani",
        "unvan", "unvani", "ticari unvan", "ticaret unvani", "sirket", "sirket adi", "sirket unvani",
        "sirketadi", "kurum", "kurum adi", "kurulus", "kurulus adi", "isletme", "isletme adi",
        "uye", "uye adi", "uye firma", "musteri", "musteri adi", "company", "company name", "firm",
        "firm name", "name", "organisation", "organization", "account", "account name", "adi", "isim",
        "business name",
    ),
    _R.ATTRIBUTE: (
        "kep", "kep adresi", "posta kodu", "postal code", "zip", "zip code", "ad soyad", "adi soyadi",
        "yetkili", "yetkili kisi", "yetkili adi", "ilgili kisi", "irtibat kisisi", "contact",
        "contact person", "contact name", "faks", "fax", "faks no", "fax no", "vergi no", "vergi numarasi",
        "vergi dairesi", "vkn", "tckn", "sicil no", "sicil", "oda sicil no", "ticaret sicil no",
        "mersis", "mersis no", "kayit tarihi", "uyelik tarihi", "tarih", "tarihi", "date",
        "kurulus tarihi", "kurulus yili", "founded", "aciklama", "not",
        "notlar", "note", "notes", "parsel", "ada", "ada parsel",
    ),
}
# fmt: on
# Ties between phrases of equal length: the more specific role wins ("Firma Adresi" is an
# address, "Firma Web Adresi" a website); explicit attributes beat everything.
# fmt: off
_PRIORITY: Final[dict[ColumnRole, int]] = {
    _R.ATTRIBUTE: 0, _R.WEBSITE: 1, _R.EMAIL: 2, _R.PHONE: 3, _R.ADDRESS: 4, _R.EMPLOYEES: 5,
    _R.ACTIVITY: 6, _R.STATUS: 7, _R.DISTRICT: 8, _R.CITY: 9, _R.ROW_NUMBER: 10, _R.NAME: 11,
}
# fmt: on


def _phrase_index() -> tuple[dict[str, ColumnRole], list[tuple[tuple[str, ...], ColumnRole]]]:
    exact: dict[str, ColumnRole] = {}
    for role, phrases in _PHRASES.items():
        for phrase in phrases:
            if exact.setdefault(phrase, role) is not role:
                raise ValueError(f"header phrase {phrase!r} is listed for two roles")
    by_length = sorted(
        ((tuple(phrase.split()), role) for phrase, role in exact.items()),
        key=lambda item: (-len(item[0]), _PRIORITY[item[1]]),
    )
    return exact, by_length


_EXACT, _BY_LENGTH = _phrase_index()
_SYMBOL_HEADERS: Final[dict[str, ColumnRole]] = {"#": _R.ROW_NUMBER, "№": _R.ROW_NUMBER, "@": _R.EMAIL}


def match_header(text: str) -> ColumnRole | None:
    """The role a header names, or None when it names none we know.

    Explicit "just an attribute" headers (KEP, Posta Kodu, Vergi No ...) return ATTRIBUTE, so
    that content detection leaves them alone.
    """
    stripped = text.strip()
    if stripped in _SYMBOL_HEADERS:
        return _SYMBOL_HEADERS[stripped]
    key = header_key(stripped)
    if not key:
        return None
    exact = _EXACT.get(key)
    if exact is not None:
        return exact
    tokens = key.split()
    if len(tokens) > _MAX_HEADER_TOKENS or len(key) > _MAX_HEADER_CHARS:
        return None
    for phrase, role in _BY_LENGTH:  # longest phrase first, then role priority
        if len(phrase) / len(tokens) < _MIN_COVERAGE:
            continue
        if _contains(tokens, phrase):
            return role
    return None


def _contains(tokens: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    return any(tuple(tokens[i : i + n]) == tuple(phrase) for i in range(len(tokens) - n + 1))


# --------------------------------------------------------------------------------------------
# Header row


@dataclass(frozen=True, slots=True)
class HeaderGuess:
    index: int | None  # position of the header row in the scanned rows; None = no header row
    data_start: int  # position of the first data row in the scanned rows


def _header_score(cells: Sequence[str], looks_like_domain: DomainPredicate | None) -> int:
    seen: set[str] = set()
    recognised = 0
    domain = False
    for cell in cells:
        if not cell or cell in seen:
            continue
        seen.add(cell)
        role = match_header(cell)
        if role is not None:  # before the domain test: "S.NO" is also a valid .no domain
            recognised += 1
            domain = domain or role in DOMAIN_ROLES
        elif looks_like_domain is not None and "." in cell and looks_like_domain(cell):
            return 0  # a row holding a domain is data, whatever else it holds
    return recognised + (1 if domain else 0)


def find_header_row(
    rows: Sequence[Row], looks_like_domain: DomainPredicate | None = None
) -> HeaderGuess | None:
    """Find the header among the first rows; fall back to a header-less list of domains.

    A header needs two recognised column names, or one that names a website / e-mail column.
    The earliest row with the best score wins (a group header above the real one scores less).
    """
    best_index, best_score = None, 0
    for index, (_, cells) in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = _header_score(cells, looks_like_domain)
        if score > best_score:
            best_index, best_score = index, score
    if best_index is not None and best_score >= 2:
        return HeaderGuess(index=best_index, data_start=best_index + 1)
    if looks_like_domain is None:
        return None
    # No header: a bare list of domains (or e-mails) still imports. Data starts at the first row
    # with a domain in the detected column; the title and notes above it are not companies.
    sample = [cells for _, cells in rows]
    width = max((len(cells) for cells in sample), default=0)
    for column in range(width):
        if _content_role(sample, column, looks_like_domain) is None:
            continue
        for index, cells in enumerate(sample):
            if column < len(cells) and looks_like_domain(cells[column]):
                return HeaderGuess(index=None, data_start=index)
    return None


# --------------------------------------------------------------------------------------------
# Mapping


def _content_role(
    sample: Sequence[Sequence[str]], column: int, looks_like_domain: DomainPredicate
) -> ColumnRole | None:
    values = [
        cells[column] for cells in sample[:CONTENT_SAMPLE_ROWS] if column < len(cells) and cells[column]
    ]
    if not values:
        return None
    emails = sites = 0
    for value in values:
        if " " in value.strip() or len(value) > 255:
            continue
        if "@" in value:
            emails += looks_like_domain(value)
        elif "." in value:
            sites += looks_like_domain(value)
    if emails >= sites and emails / len(values) >= CONTENT_SHARE:
        return ColumnRole.EMAIL
    if sites / len(values) >= CONTENT_SHARE:
        return ColumnRole.WEBSITE
    return None


def _unique_names(header: Sequence[str], width: int, col_offset: int) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for index in range(width):
        text = header[index].strip() if index < len(header) else ""
        base = " ".join(text.split()) or f"[{column_letter(col_offset + index)}]"
        name, n = base, 2
        while name in seen:  # two "Telefon" columns stay apart: "Telefon", "Telefon (2)"
            name = f"{base} ({n})"
            n += 1
        seen.add(name)
        names.append(name)
    return names


def build_mapping(
    header: Sequence[str] | None,
    sample: Sequence[Sequence[str]],
    *,
    header_row: int,
    looks_like_domain: DomainPredicate,
    col_offset: int = 0,
) -> ColumnMapping:
    """Roles for every column from its header, and from its content where the header is silent.

    ``header`` None means a header-less file: columns are named by letter ("[A]").
    """
    header = list(header or [])
    width = len(header)
    for cells in sample[:CONTENT_SAMPLE_ROWS]:
        # Data further right than the header (ragged rows) still gets a column.
        last = max((i for i, cell in enumerate(cells) if cell), default=-1)
        width = max(width, last + 1)
    columns = _unique_names(header, width, col_offset)
    matched: list[ColumnRole | None] = [
        match_header(header[i]) if i < len(header) and header[i] else None for i in range(width)
    ]
    has_values = [any(i < len(cells) and cells[i] for cells in sample) for i in range(width)]

    header_domain_columns = [i for i, role in enumerate(matched) if role in DOMAIN_ROLES]
    need_content = not any(has_values[i] for i in header_domain_columns)
    by_content: list[str] = []
    roles: dict[str, ColumnRole] = {}
    for i, name in enumerate(columns):
        role = matched[i]
        if role is None and need_content:
            role = _content_role(sample, i, looks_like_domain)
            if role is not None:
                by_content.append(name)
        if role is None:
            blank_header = i >= len(header) or not header[i].strip()
            role = ColumnRole.IGNORE if blank_header and not has_values[i] else ColumnRole.ATTRIBUTE
        roles[name] = role
    return ColumnMapping(
        columns=columns,
        roles=roles,
        header_row=header_row,
        domain_sources=_domain_sources(columns, roles),
        detected_by_content=by_content,
    )


def _domain_sources(columns: Sequence[str], roles: Mapping[str, ColumnRole]) -> list[str]:
    # Website first, e-mail as fallback: the website names the company, an e-mail may be a
    # personal or group address. Address columns never give domains.
    websites = [c for c in columns if roles[c] is ColumnRole.WEBSITE]
    emails = [c for c in columns if roles[c] is ColumnRole.EMAIL]
    return websites + emails


def apply_user_mapping(detected: ColumnMapping, user: Mapping[str, ColumnRole | str]) -> ColumnMapping:
    """The detected mapping with the user's choices laid over it.

    Each listed column takes the user's role. When the user names any website / e-mail column,
    those are the domain sources and nothing else is: a detected domain column the user left
    out becomes a plain attribute ("use only the e-mail column" must mean only that).
    """
    roles = dict(detected.roles)
    chosen: dict[str, ColumnRole] = {}
    for column, role in user.items():
        if column not in roles:
            raise ImportFileError(
                "bad_mapping",
                f"The mapping names a column the file does not have: {column!r}. "
                f"Columns: {', '.join(detected.columns)}.",
                column=column,
            )
        try:
            chosen[column] = ColumnRole(role)
        except ValueError:
            raise ImportFileError(
                "bad_mapping",
                f"{role!r} is not a column role. Roles: {', '.join(r.value for r in ColumnRole)}.",
                column=column,
            ) from None
    if any(role in DOMAIN_ROLES for role in chosen.values()):
        for column, role in roles.items():
            if role in DOMAIN_ROLES and column not in chosen:
                roles[column] = ColumnRole.ATTRIBUTE
    roles.update(chosen)
    return ColumnMapping(
        columns=list(detected.columns),
        roles=roles,
        header_row=detected.header_row,
        domain_sources=_domain_sources(detected.columns, roles),
        detected_by_content=[c for c in detected.detected_by_content if c not in chosen],
    )
