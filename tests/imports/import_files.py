"""Builders for import test files: CSV in any encoding, XLSX (openpyxl or hand-made XML), XLS.

A plain module (not conftest) so that test modules can import the type for annotations.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

Rows = Sequence[Sequence[object]]


class Files:
    """Writes test files into a temporary directory (the ``files`` fixture)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def inline(ref: str, text: str) -> str:
        return inline(ref, text)

    @staticmethod
    def xlsx_parts(sheet_rows_xml: str, merges_xml: str = "") -> dict[str, str]:
        return minimal_xlsx_parts(sheet_rows_xml, merges_xml)

    def path(self, name: str) -> Path:
        return self.root / name

    def bytes(self, name: str, data: bytes) -> Path:
        path = self.root / name
        path.write_bytes(data)
        return path

    def csv(
        self,
        rows: Rows,
        *,
        name: str = "liste.csv",
        encoding: str = "utf-8",
        delimiter: str = ";",
        bom: bool = False,
    ) -> Path:
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
        data = buffer.getvalue().encode(encoding)
        if bom:
            data = b"\xef\xbb\xbf" + data
        return self.bytes(name, data)

    def xlsx(
        self,
        rows: Rows,
        *,
        name: str = "liste.xlsx",
        sheet: str = "Sayfa1",
        merges: Sequence[str] = (),
        more_sheets: dict[str, Rows] | None = None,
        hidden: Sequence[str] = (),
        first_row: int = 1,
        first_col: int = 1,
    ) -> Path:
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = sheet
        sheets = {sheet: rows, **(more_sheets or {})}
        for index, (title, data) in enumerate(sheets.items()):
            target = ws if index == 0 else wb.create_sheet(title)
            for r, row in enumerate(data, start=first_row):
                for c, value in enumerate(row, start=first_col):
                    if value not in ("", None):
                        target.cell(row=r, column=c, value=value)
            if title in hidden:
                target.sheet_state = "hidden"
        for cells in merges:
            ws.merge_cells(cells)
        path = self.root / name
        wb.save(path)
        return path

    def xls(
        self, rows: Rows, *, name: str = "liste.xls", merges: Sequence[tuple[int, int, int, int]] = ()
    ) -> Path:
        """Rows written from A1; merges as (first_row, last_row, first_col, last_col), 0-based."""
        import xlwt

        book = xlwt.Workbook(encoding="utf-8")
        sheet = book.add_sheet("Sayfa1")
        merged_starts = {(r1, c1): (r2, c2) for r1, r2, c1, c2 in merges}
        covered = {
            (r, c)
            for r1, r2, c1, c2 in merges
            for r in range(r1, r2 + 1)
            for c in range(c1, c2 + 1)
            if (r, c) != (r1, c1)
        }
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if (r, c) in covered:
                    continue
                if (r, c) in merged_starts:
                    r2, c2 = merged_starts[(r, c)]
                    sheet.write_merge(r, r2, c, c2, value)
                elif value not in ("", None):
                    sheet.write(r, c, value)
        path = self.root / name
        book.save(str(path))
        return path

    def raw_xlsx(self, sheet_rows_xml: str, *, name: str = "raw.xlsx", merges_xml: str = "") -> Path:
        """A minimal XLSX written by hand, so cells can carry formulas with cached values."""
        path = self.root / name
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for part, content in minimal_xlsx_parts(sheet_rows_xml, merges_xml).items():
                archive.writestr(part, content)
        return path


def minimal_xlsx_parts(sheet_rows_xml: str, merges_xml: str = "") -> dict[str, str]:
    ns = "http://schemas.openxmlformats.org"
    return {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<Types xmlns="{ns}/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<Relationships xmlns="{ns}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<workbook xmlns="{ns}/spreadsheetml/2006/main" '
            f'xmlns:r="{ns}/officeDocument/2006/relationships">'
            '<sheets><sheet name="Sayfa1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<Relationships xmlns="{ns}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<worksheet xmlns="{ns}/spreadsheetml/2006/main"><sheetData>{sheet_rows_xml}</sheetData>'
            f"{merges_xml}</worksheet>"
        ),
    }


def inline(ref: str, text: str) -> str:
    """An inline-string cell."""
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'
