"""Import pipeline: file → header and mapping → one domain per row → companies deduped by domain."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from hunter.core.domains import Domain, DomainError, looks_like_domain, try_normalise_domain
from hunter.imports.errors import ImportFileError
from hunter.imports.formats import DEFAULT_LIMITS, ImportLimits
from hunter.imports.headers import (
    CONTENT_SAMPLE_ROWS,
    HEADER_SCAN_ROWS,
    HeaderGuess,
    apply_user_mapping,
    build_mapping,
    find_header_row,
)
from hunter.imports.model import (
    AcceptedRow,
    ColumnMapping,
    ColumnRole,
    DuplicateDomain,
    ImportedCompany,
    ImportResult,
    Preview,
    RejectedRow,
    RowOutcome,
)
from hunter.imports.nondomains import not_company_domain
from hunter.imports.readers import OpenedFile, RawRow, RowStream, open_file
from hunter.imports.text import header_key, snake_key

DEFAULT_MAX_BYTES: Final = DEFAULT_LIMITS.max_bytes
DEFAULT_MAX_ROWS: Final = DEFAULT_LIMITS.max_rows

# "TOPLAM 250 FİRMA", "Genel Toplam:", "Toplam firma sayısı: 250", "Sayfa 3 / 7": a label, then only
# numbers and counting words. "TOTAL ENERJİ A.Ş." is a company and stays a (rejected) row.
_SUMMARY_LABEL: Final = re.compile(r"^(?:(?:genel|ara) )?toplam|^(?:grand |sub ?)?total|^sayfa|^page")
_SUMMARY_WORDS: Final = frozenset(
    {"firma", "firmalar", "uye", "sayisi", "adet", "kayit", "sirket", "companies", "company", "firms", "rows"}
)
_SEPARATORS: Final = str.maketrans({",": " ", ";": " ", "|": " ", "\n": " ", "\t": " "})
_ROLE_KEYS: Final = {role: role.value for role in ColumnRole}
_LETTER_NAME: Final = re.compile(r"^\[[A-Z]+\]$")


# --------------------------------------------------------------------------------------------
# Public API


def iter_rows(
    path: Path,
    *,
    sheet: str | None = None,
    filename: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[tuple[int, list[str]]]:
    """Every non-blank row of the file as (row number as the file shows it, cleaned cells)."""
    with open_file(Path(path), filename=filename, limits=ImportLimits(max_bytes=max_bytes)) as opened:
        stream = opened.stream(sheet)
        for raw in stream.rows:
            yield raw.number, raw.cells


def preview_file(
    path: Path,
    *,
    sheet: str | None = None,
    limit: int = 20,
    header_row: int | None = None,
    filename: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Preview:
    """Detected mapping and the first ``limit`` data rows, for the user to confirm."""
    limits = ImportLimits(max_bytes=max_bytes)
    with open_file(Path(path), filename=filename, limits=limits) as opened:
        stream, head, layout = _open_layout(opened, sheet, header_row)
        width = len(layout.mapping.columns)
        rows: list[list[str]] = []
        numbers: list[int] = []
        for raw in itertools.chain(head[layout.data_start :], stream.rows):
            if len(rows) >= limit:
                break
            rows.append(_fit(raw.cells, width))
            numbers.append(raw.number)
        # Rows below the header (or below the first row of a header-less list).
        above = max(layout.mapping.header_row, _first_row_number(head) - 1)
        estimate = stream.last_row_estimate - above
        return Preview(
            mapping=layout.mapping,
            header=list(layout.mapping.columns),
            rows=rows,
            total_rows_estimate=max(estimate, len(rows)),
            format=opened.format,
            encoding=opened.encoding,
            sheet=stream.sheet,
            sheets=list(opened.sheets),
            row_numbers=numbers,
        )


def read_file(
    path: Path,
    *,
    mapping: Mapping[str, ColumnRole | str] | None = None,
    sheet: str | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    header_row: int | None = None,
    filename: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ImportResult:
    """Import a company list: one company per domain, every other row reported with a reason.

    ``mapping`` is the user's confirmed or changed mapping ({column: role}) laid over the
    detected one (see :func:`apply_user_mapping`); None uses the detected mapping as is.
    ``filename`` is the name the user uploaded (temporary upload paths lose it); it becomes each
    company's ``source``. Memory grows with the companies kept; for very large lists that go
    straight into the database use :func:`stream_import`.
    """
    with stream_import(
        path,
        mapping=mapping,
        sheet=sheet,
        max_rows=max_rows,
        header_row=header_row,
        filename=filename,
        max_bytes=max_bytes,
    ) as stream:
        companies: dict[str, ImportedCompany] = {}
        rejected: list[RejectedRow] = []
        for outcome in stream:
            if isinstance(outcome, RejectedRow):
                rejected.append(outcome)
                continue
            company = companies.get(outcome.domain)
            if company is None:
                companies[outcome.domain] = ImportedCompany(
                    domain=outcome.domain,
                    display_domain=outcome.display_domain,
                    names=outcome.names,
                    rows=[outcome.row],
                    attributes=outcome.attributes,
                    source=stream.source,
                    emails=outcome.emails,
                )
            else:
                _merge(company, outcome)
        result = list(companies.values())
        return ImportResult(
            mapping=stream.mapping,
            companies=result,
            rejected=rejected,
            duplicates=[DuplicateDomain(c.domain, list(c.rows)) for c in result if len(c.rows) > 1],
            total_rows=stream.total_rows,
            format=stream.format,
            encoding=stream.encoding,
            sheet=stream.sheet,
            skipped_rows=stream.skipped_rows,
        )


def _merge(company: ImportedCompany, row: AcceptedRow) -> None:
    if row.continues:
        # Extra lines of the same record (a second phone under a merged name cell).
        for key, value in row.attributes.items():
            current = company.attributes.get(key)
            if current is None:
                company.attributes[key] = value
            elif value not in current.split("\n"):
                company.attributes[key] = f"{current}\n{value}"
    else:
        company.rows.append(row.row)
        for key, value in row.attributes.items():
            company.attributes.setdefault(key, value)  # the first row's values win
        if row.names:
            # "Aydınlar Tekstil A.Ş." and "AYDINLAR TEKSTİL A.Ş." are one name, spelled twice.
            known = {header_key(name) for name in company.names}
            for name in row.names:
                key = header_key(name)
                if key and key not in known:
                    known.add(key)
                    company.names.append(name)
    for email in row.emails:
        if email not in company.emails:
            company.emails.append(email)


class ImportStream:
    """Rows of a company list as they are read: an :class:`AcceptedRow` or :class:`RejectedRow`
    per company row, in file order. Memory stays flat whatever the file's length (only the set of
    domains seen is kept, to mark duplicates), so a job can write companies as they come.

    Opening checks the file, finds the header and the mapping, and raises
    :class:`ImportFileError` for a file that cannot be imported. Close it (or use ``with``).
    """

    def __init__(
        self,
        path: Path,
        *,
        mapping: Mapping[str, ColumnRole | str] | None = None,
        sheet: str | None = None,
        max_rows: int = DEFAULT_MAX_ROWS,
        header_row: int | None = None,
        filename: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        path = Path(path)
        self.source = filename or path.name
        limits = ImportLimits(max_bytes=max_bytes, max_rows=max_rows)
        self._opened = open_file(path, filename=self.source, limits=limits)
        try:
            stream, head, layout = _open_layout(self._opened, sheet, header_row)
            plan = layout.mapping if mapping is None else apply_user_mapping(layout.mapping, mapping)
            if not plan.domain_sources:
                raise _no_domain_column(plan)
        except BaseException:
            self._opened.close()
            raise
        self.mapping: ColumnMapping = plan
        self.format: str = self._opened.format
        self.encoding: str | None = self._opened.encoding
        self.sheet: str | None = stream.sheet
        self.sheets: list[str] = list(self._opened.sheets)
        self._rows = itertools.chain(head[layout.data_start :], stream.rows)
        self._rules = _RowRules(plan, layout.header_cells, max_rows)

    @property
    def total_rows(self) -> int:
        """Company rows so far: accepted (duplicates included) plus rejected."""
        return self._rules.total

    @property
    def skipped_rows(self) -> list[int]:
        """Rows left out as not being company rows: repeated headers, totals, section headings."""
        return self._rules.skipped

    def __iter__(self) -> Iterator[RowOutcome]:
        rules = self._rules
        for raw in self._rows:
            outcome = rules.interpret(raw)
            if outcome is not None:
                yield outcome

    def close(self) -> None:
        self._opened.close()

    def __enter__(self) -> ImportStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def stream_import(
    path: Path,
    *,
    mapping: Mapping[str, ColumnRole | str] | None = None,
    sheet: str | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    header_row: int | None = None,
    filename: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ImportStream:
    """Open a company list for streaming; see :class:`ImportStream`."""
    return ImportStream(
        path,
        mapping=mapping,
        sheet=sheet,
        max_rows=max_rows,
        header_row=header_row,
        filename=filename,
        max_bytes=max_bytes,
    )


def _first_row_number(head: Sequence[RawRow]) -> int:
    return head[0].number if head else 1


# --------------------------------------------------------------------------------------------
# Layout: which sheet, which header row, which columns


@dataclass
class _Layout:
    mapping: ColumnMapping
    data_start: int  # index into the buffered head rows
    header_cells: list[str] | None


def _open_layout(
    opened: OpenedFile, sheet: str | None, header_row: int | None
) -> tuple[RowStream, list[RawRow], _Layout]:
    if sheet is not None or len(opened.sheets) <= 1:
        stream = opened.stream(sheet)
        head = _buffer(stream)
        return stream, head, _layout(head, header_row, stream.col_offset)
    # Several sheets and none chosen: the first one that holds a list with domains.
    first: tuple[RowStream, list[RawRow], _Layout] | None = None
    first_error: ImportFileError | None = None
    for name in opened.sheets:
        stream = opened.stream(name)
        head = _buffer(stream)
        try:
            layout = _layout(head, header_row, stream.col_offset)
        except ImportFileError as exc:
            if first_error is None and exc.code != "empty_file":
                first_error = exc
            continue
        if layout.mapping.domain_sources:
            return stream, head, layout
        if first is None:
            first = (stream, head, layout)
    if first is not None:
        return first
    if first_error is not None:
        raise first_error
    raise ImportFileError("empty_file", "The workbook holds no data on any sheet.")


def _buffer(stream: RowStream) -> list[RawRow]:
    return list(itertools.islice(stream.rows, HEADER_SCAN_ROWS + CONTENT_SAMPLE_ROWS))


def _layout(head: list[RawRow], header_row: int | None, col_offset: int) -> _Layout:
    if not head:
        raise ImportFileError("empty_file", "The file holds no data (only empty rows).")
    rows = [(raw.number, raw.cells) for raw in head]
    if header_row is not None:
        guess = _user_header(head, header_row)
    else:
        found = find_header_row(rows, looks_like_domain)
        if found is None:
            raise ImportFileError(
                "no_header",
                f"No header row was found in the first {HEADER_SCAN_ROWS} rows, and no column holds "
                "websites or e-mail addresses. The list needs a column such as 'Web Sitesi' or 'E-Posta'.",
            )
        guess = found
    header_cells = head[guess.index].cells if guess.index is not None else None
    number = head[guess.index].number if guess.index is not None else 0
    sample = [raw.cells for raw in head[guess.data_start :]]
    mapping = build_mapping(
        header_cells, sample, header_row=number, looks_like_domain=looks_like_domain, col_offset=col_offset
    )
    return _Layout(mapping=mapping, data_start=guess.data_start, header_cells=header_cells)


def _user_header(head: list[RawRow], header_row: int) -> HeaderGuess:
    if header_row == 0:
        return HeaderGuess(index=None, data_start=0)
    for index, raw in enumerate(head):
        if raw.number == header_row:
            return HeaderGuess(index=index, data_start=index + 1)
    raise ImportFileError(
        "no_header",
        f"Row {header_row} is empty or beyond the first {HEADER_SCAN_ROWS} rows; choose another header row.",
        row=header_row,
    )


def _no_domain_column(mapping: ColumnMapping) -> ImportFileError:
    return ImportFileError(
        "no_domain_column",
        "No column with websites or e-mail addresses was found. Columns: "
        f"{', '.join(mapping.columns)}. Mark the website or e-mail column and try again.",
        columns=list(mapping.columns),
    )


def _fit(cells: list[str], width: int) -> list[str]:
    if len(cells) >= width:
        return cells[:width]
    return cells + [""] * (width - len(cells))


# --------------------------------------------------------------------------------------------
# Rows → companies


@dataclass(slots=True)
class _Failure:
    value: str
    reason: str
    message: str


_INTERN_MAX_CHARS: Final = 40
_INTERN_MAX_VALUES: Final = 20_000
# Values of these columns repeat across rows ("Tekstil", "AKTİF", "BURSA"): one string each.
_REPEATING: Final = frozenset(
    {
        ColumnRole.ACTIVITY,
        ColumnRole.STATUS,
        ColumnRole.CITY,
        ColumnRole.DISTRICT,
        ColumnRole.EMPLOYEES,
        ColumnRole.ATTRIBUTE,
    }
)


class _RowRules:
    """Decides what each data row is: a company row with a domain, a rejected company row, or
    not a company row at all (blank, repeated header, totals line, heading, continuation)."""

    def __init__(self, mapping: ColumnMapping, header_cells: list[str] | None, max_rows: int) -> None:
        self.mapping = mapping
        self.max_rows = max_rows
        index = {name: i for i, name in enumerate(mapping.columns)}
        roles = mapping.roles
        self.width = len(mapping.columns)
        self.domain_columns = [(index[c], roles[c]) for c in mapping.domain_sources]
        self.name_columns = [index[c] for c in mapping.columns if roles[c] is ColumnRole.NAME]
        self.email_columns = [index[c] for c in mapping.columns if roles[c] is ColumnRole.EMAIL]
        # Columns whose values alone do not make a company row (a pre-numbered empty line).
        self.trivial_columns = frozenset(
            index[c] for c in mapping.columns if roles[c] in (ColumnRole.ROW_NUMBER, ColumnRole.IGNORE)
        )
        keys = _attribute_keys(mapping, index)
        role_at = {index[c]: roles[c] for c in mapping.columns}
        # (column, key, intern?) for plain attributes; website columns are kept only when another
        # column gave the domain (a Facebook page next to a usable e-mail is worth keeping).
        self.attribute_columns = [
            (i, key, role_at[i] in _REPEATING) for i, key in keys if role_at[i] is not ColumnRole.WEBSITE
        ]
        self.website_columns = [(i, key) for i, key in keys if role_at[i] is ColumnRole.WEBSITE]
        self.header_keys = [header_key(cell) for cell in header_cells[: self.width]] if header_cells else None
        self.seen: dict[str, int] = {}
        self.interned: dict[str, str] = {}
        self.skipped: list[int] = []
        self.total = 0
        self.last_domain: str | None = None  # domain of the previous company row

    def interpret(self, raw: RawRow) -> RowOutcome | None:
        cells = raw.cells
        if self._blank(cells):
            return None
        found, source, failures, own_value = self._domain(raw)
        if raw.filled and (
            (found is None and not own_value) or (found is not None and found.ascii == self.last_domain)
        ):
            # Under a vertically merged cell, with no domain of its own or the same one as the
            # row above: more lines of that record (a second phone), not a company of its own.
            return self._continuation(raw)
        if found is None and (raw.heading or self._is_repeated_header(cells) or self._is_summary(cells)):
            self.skipped.append(raw.number)
            return None
        self.total += 1
        if self.total > self.max_rows:
            raise ImportFileError(
                "too_many_rows",
                f"The list has more than {self.max_rows:,} rows; split it into smaller files.",
                limit=self.max_rows,
            )
        if found is None:
            self.last_domain = None
            return self._reject(raw, failures)
        return self._accept(raw, found, source)

    def _blank(self, cells: list[str]) -> bool:
        trivial = self.trivial_columns
        for i, cell in enumerate(cells):
            if i >= self.width:
                break
            if cell and i not in trivial:
                return False
        return True

    # -- domain of one row

    def _domain(self, raw: RawRow) -> tuple[Domain | None, int, list[_Failure], bool]:
        cells = raw.cells
        failures: list[_Failure] = []
        own_value = False
        for column, role in self.domain_columns:
            value = cells[column] if column < len(cells) else ""
            if not value or column in raw.filled:
                continue
            own_value = True
            result = _normalise_cell(value)
            if isinstance(result, DomainError):
                failures.append(_Failure(value, result.reason, result.message))
                continue
            refusal = not_company_domain(result.ascii, email=role is ColumnRole.EMAIL or "@" in value)
            if refusal is not None:
                failures.append(_Failure(value, refusal[0], refusal[1]))
                continue
            return result, column, failures, True
        return None, -1, failures, own_value

    def _reject(self, raw: RawRow, failures: list[_Failure]) -> RejectedRow:
        if failures:
            # A real error ("www.firma" typo) tells the user more than a "-" placeholder beside it.
            failure = next((f for f in failures if f.reason not in ("placeholder", "empty")), failures[0])
            others = [f.message for f in failures if f is not failure and f.message != failure.message]
            message = failure.message + (f" (also: {'; '.join(others)})" if others else "")
            return RejectedRow(raw.number, failure.value, failure.reason, message)
        sources = ", ".join(self.mapping.domain_sources)
        return RejectedRow(
            raw.number,
            self._row_label(raw.cells),
            "no_domain",
            f"The row has no website or e-mail address ({sources}).",
        )

    def _row_label(self, cells: list[str]) -> str:
        for column in self.name_columns:
            if column < len(cells) and cells[column]:
                return cells[column]
        return next((cell for i, cell in enumerate(cells) if cell and i not in self.trivial_columns), "")

    def _is_repeated_header(self, cells: list[str]) -> bool:
        if not self.header_keys:
            return False
        same = total = 0
        for i, key in enumerate(self.header_keys):
            if not key:
                continue
            total += 1
            if i < len(cells) and cells[i] and header_key(cells[i]) == key:
                same += 1
        return total > 0 and same >= max(1, (total * 3 + 4) // 5)  # 60 % of the header's cells

    def _is_summary(self, cells: list[str]) -> bool:
        values = [cell for cell in cells if cell]
        if len(values) > 3:
            return False
        for value in values:
            key = header_key(value)
            label = _SUMMARY_LABEL.match(key)
            if label is None:
                continue
            rest = key[label.end() :].split()
            if all(token.isdigit() or token in _SUMMARY_WORDS for token in rest):
                return True
        return False

    # -- accepted rows

    def _attributes(self, cells: list[str], skip: frozenset[int]) -> dict[str, str]:
        attributes: dict[str, str] = {}
        interned = self.interned
        n = len(cells)
        for i, key, repeating in self.attribute_columns:
            if i >= n or i in skip:
                continue
            value = cells[i]
            if not value:
                continue
            if repeating and len(value) <= _INTERN_MAX_CHARS:
                shared = interned.get(value)
                if shared is not None:
                    value = shared
                elif len(interned) < _INTERN_MAX_VALUES:
                    interned[value] = value
            attributes[key] = value
        return attributes

    def _accept(self, raw: RawRow, domain: Domain, source: int) -> AcceptedRow:
        cells = raw.cells
        attributes = self._attributes(cells, frozenset())
        for i, key in self.website_columns:
            if i != source and i < len(cells) and cells[i]:
                attributes[key] = cells[i]
        ascii_domain = domain.ascii
        first = self.seen.get(ascii_domain)
        if first is None:
            self.seen[ascii_domain] = raw.number
        self.last_domain = ascii_domain
        return AcceptedRow(
            row=raw.number,
            domain=ascii_domain,
            # The same object when equal: one string less per company in a 200k-row import.
            display_domain=ascii_domain if domain.unicode == ascii_domain else domain.unicode,
            names=[cells[i] for i in self.name_columns if i < len(cells) and cells[i]],
            attributes=attributes,
            emails=self._emails(cells),
            duplicate_of=first,
        )

    def _continuation(self, raw: RawRow) -> AcceptedRow | None:
        if self.last_domain is None:
            self.skipped.append(raw.number)
            return None
        cells = raw.cells
        return AcceptedRow(
            row=raw.number,
            domain=self.last_domain,
            display_domain=self.last_domain,
            names=[],
            attributes=self._attributes(cells, raw.filled),
            emails=self._emails(cells),
            duplicate_of=self.seen.get(self.last_domain),
            continues=True,
        )

    def _emails(self, cells: list[str]) -> list[str]:
        found: list[str] = []
        for column in self.email_columns:
            value = cells[column] if column < len(cells) else ""
            if "@" not in value:
                continue
            for token in value.translate(_SEPARATORS).split():
                token = token.strip("<>()[]\"'.").removeprefix("mailto:").lower()
                if "@" in token and token not in found:
                    found.append(token)
        return found


def _normalise_cell(value: str) -> Domain | DomainError:
    """The cell as one value first; then each of its parts ("a.com.tr / b.com.tr", two e-mails)."""
    result = try_normalise_domain(value)
    if isinstance(result, Domain) or result.reason not in ("invalid_characters", "invalid_tld"):
        return result
    parts = value.translate(_SEPARATORS).split()
    if len(parts) < 2:
        return result
    for part in parts:
        candidate = try_normalise_domain(part)
        if isinstance(candidate, Domain):
            return candidate
    return result


def _attribute_keys(mapping: ColumnMapping, index: Mapping[str, int]) -> list[tuple[int, str]]:
    keys: list[tuple[int, str]] = []
    used: set[str] = set()
    for column in mapping.columns:
        role = mapping.roles[column]
        if role in (ColumnRole.NAME, ColumnRole.EMAIL, ColumnRole.IGNORE):
            continue  # names and e-mails have their own fields
        if role is not ColumnRole.ATTRIBUTE:
            base = _ROLE_KEYS[role]
        elif _LETTER_NAME.match(column):
            base = "column_" + column[1:-1].lower()  # a column without header text: "[F]"
        else:
            base = snake_key(column) or "column"
        key, n = base, 2
        while key in used:
            key = f"{base}_{n}"
            n += 1
        used.add(key)
        keys.append((index[column], key))
    return keys
