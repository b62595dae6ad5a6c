"""Which reader a file needs, decided by its first bytes (the extension only breaks ties)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Final

from hunter.imports.errors import ImportFileError

KiB: Final = 1024
MiB: Final = 1024 * KiB

HEAD_BYTES: Final = 64 * KiB  # how much detect_format wants to see

ZIP_MAGIC: Final = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
OLE2_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File: .xls (and encrypted .xlsx)
UTF16_BOMS: Final = (b"\xff\xfe", b"\xfe\xff")  # Excel "Unicode Text" export
_EXCEL_OPENXML: Final = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm"})

_KNOWN_BINARIES: Final[tuple[tuple[bytes, str], ...]] = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"{\\rtf", "an RTF document"),
)
_MARKUP_STARTS: Final = (b"<!doctype html", b"<html", b"<table", b"<?xml", b"<head", b"<meta", b"<body")
# Control bytes that never occur in a text export (tab, newlines, form feed and DOS EOF are fine).
_CONTROL: Final = frozenset(set(range(0x00, 0x09)) | {0x0B} | set(range(0x0E, 0x1A)) | set(range(0x1B, 0x20)))


@dataclass(frozen=True, slots=True)
class ImportLimits:
    """Size limits for one import. Defaults fit real member lists with a wide margin."""

    max_bytes: int = 64 * MiB  # file on disk
    max_rows: int = 500_000  # data rows below the header
    max_uncompressed_bytes: int = 512 * MiB  # all XLSX zip entries together, once inflated
    max_compression_ratio: int = 500  # per zip entry of 1 MiB or more; deflate on real XML is < 100
    max_zip_entries: int = 10_000


DEFAULT_LIMITS: Final = ImportLimits()


def _looks_like_text(head: bytes) -> bool:
    if any(head.startswith(bom) for bom in UTF16_BOMS):
        return True
    if not head:
        return True
    if b"\x00" in head:
        return False
    controls = sum(1 for byte in head if byte in _CONTROL)
    return controls <= len(head) // 200  # more than 0.5 % control bytes: binary


def detect_format(data_head: bytes, filename: str) -> str:
    """``"csv"``, ``"xlsx"`` or ``"xls"`` from the file's first bytes.

    The extension only decides what a text file named like a workbook means: a ``.xlsx`` must be a
    zip container, while a ``.xls`` that holds text is read as CSV (old web exports do that).
    Raises :class:`ImportFileError` for empty, binary and unsupported content.
    """
    ext = PurePath(filename).suffix.lower()
    if not data_head:
        raise ImportFileError("empty_file", "The file is empty (0 bytes).")
    if data_head.startswith(ZIP_MAGIC):
        return "xlsx"  # the zip's content (xlsx / ods / docx) is checked when it is opened
    if data_head.startswith(OLE2_MAGIC):
        return "xls"
    for magic, what in _KNOWN_BINARIES:
        if data_head.startswith(magic):
            raise ImportFileError(
                "unsupported_format",
                f"This file is {what}, not a company list. Upload an Excel (.xlsx, .xls) or CSV file.",
                detected=what,
            )
    if not _looks_like_text(data_head):
        if ext in _EXCEL_OPENXML or ext == ".xls":
            raise ImportFileError(
                "corrupt_file",
                f"This {ext} file is damaged or not an Excel workbook. Open it in Excel and save it again.",
            )
        raise ImportFileError(
            "unsupported_format",
            "This file is neither an Excel workbook nor a text (CSV) file; it holds binary data.",
        )
    start = data_head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if any(start.startswith(tag) for tag in _MARKUP_STARTS) or any(
        start.startswith(bom) for bom in (b"\xff\xfe<\x00", b"\xfe\xff\x00<")
    ):
        raise ImportFileError(
            "unsupported_format",
            "This file is a web page or XML export, not a real Excel file. "
            "Open it in Excel and save it as .xlsx (Excel Workbook).",
        )
    if ext in _EXCEL_OPENXML:
        raise ImportFileError(
            "corrupt_file",
            f"This file is named {ext} but is not an Excel workbook (it holds plain text). "
            "If it is a CSV export, rename it to .csv.",
        )
    return "csv"
