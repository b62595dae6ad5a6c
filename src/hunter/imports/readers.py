"""File I/O: open a CSV / XLSX / XLS file and stream its rows as cleaned strings.

Every row carries its number as the spreadsheet program shows it (1-based; a quoted CSV field
with line breaks is one row, as in Excel). Completely blank rows are skipped, numbers still count
them. Nothing here knows about headers or domains.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import os
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from hunter.imports.errors import ImportFileError
from hunter.imports.formats import (
    HEAD_BYTES,
    UTF16_BOMS,
    ImportLimits,
    MiB,
    detect_format,
)
from hunter.imports.text import cell_text, clean_text
from hunter.imports.zipguard import check_xlsx_container

_CHUNK: Final = 1 * MiB
_SNIFF_CHARS: Final = 64 * 1024
_SNIFF_ROWS: Final = 200
# Turkish Excel writes ";" (the list separator of the tr-TR locale); "Unicode Text" writes tabs.
_DELIMITERS: Final = (";", "\t", ",", "|")
_SEP_LINE: Final = re.compile(r"\Asep=([;,\t|])\r?\n", re.IGNORECASE)


@dataclass(slots=True)
class RawRow:
    number: int  # 1-based row as the sheet shows it
    cells: list[str]
    # Cells copied down from a vertically merged cell above (their own cell was empty).
    filled: frozenset[int] = frozenset()
    # A single value spanning several columns through a merge: a section heading, not a company.
    heading: bool = False


@dataclass
class RowStream:
    rows: Iterator[RawRow]
    sheet: str | None
    col_offset: int = 0  # sheet column of cells[0] (0 = column A)
    last_row_estimate: int = 0  # number of the last row, exact for workbooks, projected for CSV


@dataclass
class OpenedFile:
    """An open company list. Call :meth:`stream` for rows; :meth:`close` (or ``with``) when done."""

    path: Path
    format: str
    encoding: str | None
    limits: ImportLimits
    sheets: list[str] = field(default_factory=list)
    _workbook: object | None = None
    _delimiter: str | None = None

    def stream(self, sheet: str | None = None) -> RowStream:
        if self.format == "csv":
            return _csv_stream(self)
        return _sheet_stream(self, sheet)

    def close(self) -> None:
        workbook, self._workbook = self._workbook, None
        if workbook is not None:
            with contextlib.suppress(Exception):  # already closed: nothing left to release
                workbook.close()  # type: ignore[attr-defined]

    def __enter__(self) -> OpenedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_file(path: Path, *, filename: str | None = None, limits: ImportLimits) -> OpenedFile:
    """Check size and format and open the file; raises :class:`ImportFileError`."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except FileNotFoundError:
        raise ImportFileError("file_not_found", f"The file {path.name!r} does not exist.") from None
    except IsADirectoryError:
        raise ImportFileError("unsupported_format", f"{path.name!r} is a folder, not a file.") from None
    if size > limits.max_bytes:
        raise ImportFileError(
            "too_large",
            f"The file is {size / MiB:.1f} MiB; at most {limits.max_bytes / MiB:.0f} MiB can be imported. "
            "Split the list or remove columns that are not needed.",
            size=size,
            limit=limits.max_bytes,
        )
    fmt = detect_format(head, filename or path.name)
    if fmt == "csv":
        encoding = detect_encoding(path, head)
        return OpenedFile(path=path, format="csv", encoding=encoding, limits=limits)
    if fmt == "xlsx":
        check_xlsx_container(path, limits)
    workbook = _open_workbook(path, fmt)
    sheets = _visible_sheets(workbook)
    return OpenedFile(path=path, format=fmt, encoding=None, limits=limits, sheets=sheets, _workbook=workbook)


# --------------------------------------------------------------------------------------------
# CSV


def _decodes(path: Path, encoding: str, *, skip: int = 0) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        with path.open("rb") as handle:
            handle.seek(skip)
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path, head: bytes) -> str:
    """UTF-16 by BOM; else strict UTF-8 over the whole file; else Windows-1254; else a guess.

    The strict passes read the whole file (fast, in C) because a single "ş" in row 150 000 decides
    between UTF-8 and cp1254. ISO-8859-9 differs from cp1254 only in the C1 control range, which
    real text does not use, so cp1254 reads it correctly.
    """
    if head.startswith(codecs.BOM_UTF8):
        if _decodes(path, "utf-8", skip=len(codecs.BOM_UTF8)):
            return "utf-8-sig"
    elif any(head.startswith(bom) for bom in UTF16_BOMS):
        if _decodes(path, "utf-16"):
            return "utf-16"
        return _guess_encoding(path, head)
    elif _decodes(path, "utf-8"):
        return "utf-8"
    if _decodes(path, "cp1254"):
        return "cp1254"
    return _guess_encoding(path, head)


def _guess_encoding(path: Path, head: bytes) -> str:
    from charset_normalizer import from_bytes  # last resort only: slow and sometimes wrong

    best = from_bytes(head).best()
    if best is not None:
        encoding = codecs.lookup(best.encoding).name
        if _decodes(path, encoding):
            return encoding
    raise ImportFileError(
        "unknown_encoding",
        "The text encoding of this CSV file could not be recognised. "
        "Save it from Excel as 'CSV UTF-8' and upload it again.",
    )


def _sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the most rows into the same number (> 1) of fields."""
    if "\n" in sample[:-1]:
        sample = sample[: sample.rfind("\n")]  # the last line may be cut short
    best, best_score = ",", (0, 0)
    for delimiter in _DELIMITERS:
        if delimiter not in sample:
            continue
        counts: dict[int, int] = defaultdict(int)
        try:
            for n, record in enumerate(csv.reader(io.StringIO(sample), delimiter=delimiter)):
                if n >= _SNIFF_ROWS:
                    break
                if len(record) > 1:  # Excel's blank rows (";;;;") count: they show the separator
                    counts[len(record)] += 1
        except csv.Error:
            continue
        if not counts:
            continue
        width, rows = max(counts.items(), key=lambda item: (item[1], item[0]))
        score = (rows, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_stream(opened: OpenedFile) -> RowStream:
    encoding = opened.encoding or "utf-8"
    with opened.path.open(encoding=encoding, newline="", errors="strict") as handle:
        sample = handle.read(_SNIFF_CHARS)
    _reject_binary_text(sample)
    # Excel honours (and hides) a first line "sep=;" that names the separator.
    declared = _SEP_LINE.match(sample)
    if declared is not None:
        opened._delimiter = declared.group(1)
    elif opened._delimiter is None:
        opened._delimiter = _sniff_delimiter(sample)
    size = opened.path.stat().st_size
    # Rows so far per byte, projected over the file: good enough for a progress bar.
    lines = max(sample.count("\n"), 1)
    sample_bytes = max(len(sample.encode(encoding, errors="replace")), 1)
    estimate = lines if size <= sample_bytes else int(lines * size / sample_bytes)
    rows = _csv_rows(opened.path, encoding, opened._delimiter, skip_sep_line=declared is not None)
    return RowStream(rows=rows, sheet=None, last_row_estimate=estimate)


def _reject_binary_text(sample: str) -> None:
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f\x1a")
    if controls > len(sample) // 200:
        raise ImportFileError(
            "unsupported_format",
            "This file is neither an Excel workbook nor a text (CSV) file; it holds binary data.",
        )


def _csv_rows(path: Path, encoding: str, delimiter: str, *, skip_sep_line: bool) -> Iterator[RawRow]:
    with path.open(encoding=encoding, newline="", errors="strict") as handle:
        if skip_sep_line:
            handle.readline()
        reader = csv.reader(handle, delimiter=delimiter)
        number = 0
        try:
            for record in reader:
                number += 1
                if not record:
                    continue
                cells = [clean_text(cell) for cell in record]
                if any(cells):
                    yield RawRow(number, cells)
        except csv.Error as exc:
            raise ImportFileError(
                "corrupt_file",
                f"The CSV file cannot be read past row {number + 1}: {exc}.",
                row=number + 1,
            ) from None
        except UnicodeDecodeError:  # the encoding was verified on the whole file; belt and braces
            raise ImportFileError(
                "unknown_encoding", "The CSV file changes its text encoding midway."
            ) from None


# --------------------------------------------------------------------------------------------
# XLSX / XLS through calamine


def _open_workbook(path: Path, fmt: str) -> object:
    import python_calamine as calamine

    try:
        return calamine.CalamineWorkbook.from_path(os.fspath(path))
    except calamine.PasswordError:
        raise ImportFileError(
            "password_protected",
            "This Excel file is password-protected. Remove the password in Excel and upload it again.",
        ) from None
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine's error types, and Rust panics (not an Exception)
        if fmt == "xls" and _is_encrypted_ole(path):
            raise ImportFileError(
                "password_protected",
                "This Excel file is password-protected. Remove the password in Excel and upload it again.",
            ) from None
        raise ImportFileError(
            "corrupt_file",
            f"This .{fmt} file is damaged and cannot be read. Open it in Excel and save it again.",
            error=str(exc)[:300],
        ) from None


def _is_encrypted_ole(path: Path) -> bool:
    # A password-protected .xlsx is an OLE2 file holding an "EncryptedPackage" stream.
    marker = "EncryptedPackage".encode("utf-16-le")
    with path.open("rb") as handle:
        return marker in handle.read(_CHUNK)


def _visible_sheets(workbook: object) -> list[str]:
    import python_calamine as calamine

    names = []
    for meta in workbook.sheets_metadata:  # type: ignore[attr-defined]
        if meta.visible == calamine.SheetVisibleEnum.Visible and meta.typ == calamine.SheetTypeEnum.WorkSheet:
            names.append(meta.name)
    return names or list(workbook.sheet_names)  # type: ignore[attr-defined]


def _sheet_stream(opened: OpenedFile, sheet: str | None) -> RowStream:

    workbook = opened._workbook
    if workbook is None:
        raise RuntimeError("the workbook is closed")
    name = sheet if sheet is not None else (opened.sheets[0] if opened.sheets else None)
    if name is None or name not in workbook.sheet_names:  # type: ignore[attr-defined]
        raise ImportFileError(
            "sheet_not_found",
            f"The workbook has no sheet named {name!r}. Sheets: {', '.join(opened.sheets)}.",
            sheet=name,
        )
    try:
        data = workbook.get_sheet_by_name(name)  # type: ignore[attr-defined]
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine errors and Rust panics
        raise _damaged_sheet(name, exc) from None
    start = data.start
    if start is None:  # an empty sheet (iter_rows would fail on it)
        return RowStream(rows=iter(()), sheet=name)
    end = data.end or start
    if end[0] - start[0] + 1 > opened.limits.max_rows + 1000:
        raise ImportFileError(
            "too_many_rows",
            f"The sheet has {end[0] - start[0] + 1:,} rows; "
            f"at most {opened.limits.max_rows:,} can be imported.",
            rows=end[0] - start[0] + 1,
            limit=opened.limits.max_rows,
        )
    merged = data.merged_cell_ranges or []
    return RowStream(
        rows=_guarded(_sheet_rows(data, start, merged), name),
        sheet=name,
        col_offset=start[1],
        last_row_estimate=end[0] + 1,
    )


_Merge = tuple[tuple[int, int], tuple[int, int]]


def _damaged_sheet(name: str, exc: BaseException) -> ImportFileError:
    return ImportFileError(
        "corrupt_file",
        f"The sheet {name!r} is damaged and cannot be read. Open the file in Excel and save it again.",
        error=str(exc)[:300],
    )


def _guarded(rows: Iterator[RawRow], name: str) -> Iterator[RawRow]:
    try:
        yield from rows
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except ImportFileError:
        raise
    except BaseException as exc:  # a cell calamine cannot convert, a panic mid-sheet
        raise _damaged_sheet(name, exc) from None


def _sheet_rows(data: object, start: tuple[int, int], merged: list[_Merge]) -> Iterator[RawRow]:
    # python-calamine's iter_rows yields rows from sheet row 0 (empty ones padded above the data)
    # but cells from the first used column on; merge coordinates are absolute.
    first_col = start[1]
    down: dict[int, list[tuple[int, int]]] = defaultdict(list)  # top row -> [(column, last row)]
    across: dict[int, set[int]] = defaultdict(set)  # row -> columns starting a horizontal merge
    for (r1, c1), (r2, c2) in merged:
        if r2 > r1:
            down[r1].append((c1 - first_col, r2))
        if c2 > c1:
            across[r1].add(c1 - first_col)
    active: list[tuple[int, int, str]] = []  # (column, last row, value) copied downwards
    for index, values in enumerate(data.iter_rows()):  # type: ignore[attr-defined]
        cells = [cell_text(value) for value in values]
        filled: set[int] = set()
        if active:
            for column, _last, value in active:
                if 0 <= column < len(cells) and not cells[column]:
                    cells[column] = value
                    filled.add(column)
            active = [item for item in active if item[1] > index]
        for column, last in down.get(index, ()):
            if 0 <= column < len(cells) and cells[column]:
                active.append((column, last, cells[column]))
        if not any(cells):
            continue
        heading = False
        if index in across:
            non_empty = [i for i, cell in enumerate(cells) if cell]
            heading = len(non_empty) == 1 and non_empty[0] in across[index] and not filled
        yield RawRow(index + 1, cells, frozenset(filled), heading)
