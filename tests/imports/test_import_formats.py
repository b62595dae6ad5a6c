"""Format detection by content, and files that are not company lists at all."""

from __future__ import annotations

import random
import zipfile

import pytest
from import_files import Files

from hunter.imports import ImportFileError, detect_format, preview_file, read_file


@pytest.mark.parametrize(
    ("head", "name", "expected"),
    [
        (b"PK\x03\x04rest", "liste.xlsx", "xlsx"),
        (b"PK\x03\x04rest", "liste.csv", "xlsx"),  # content wins over the extension
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "liste.xls", "xls"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "liste.xlsx", "xls"),
        (b"Firma;Web\r\nA;a.com.tr\r\n", "liste.csv", "csv"),
        (b"Firma;Web\r\nA;a.com.tr\r\n", "liste.txt", "csv"),
        (b"Firma\tWeb\r\nA\ta.com.tr\r\n", "eski.xls", "csv"),  # old web exports: text named .xls
        (b"\xef\xbb\xbfFirma;Web\r\n", "liste", "csv"),
        (b"\xff\xfeF\x00i\x00", "liste.txt", "csv"),  # Excel "Unicode Text"
        ("FİRMA;WEB\r\n".encode("cp1254"), "liste.csv", "csv"),
    ],
)
def test_detect_format(head: bytes, name: str, expected: str) -> None:
    assert detect_format(head, name) == expected


@pytest.mark.parametrize(
    ("head", "name", "code"),
    [
        (b"", "liste.csv", "empty_file"),
        (b"%PDF-1.7\n", "liste.csv", "unsupported_format"),
        (b"\x89PNG\r\n\x1a\n", "liste.xlsx", "unsupported_format"),
        (b"<html><body><table>", "liste.xls", "unsupported_format"),
        (b"<?xml version='1.0'?><Workbook>", "liste.xls", "unsupported_format"),
        (b"Firma;Web\r\nA;a.com.tr\r\n", "liste.xlsx", "corrupt_file"),  # .xlsx must be a zip
        (bytes(range(256)) * 4, "liste.csv", "unsupported_format"),
        (bytes(range(256)) * 4, "liste.xlsx", "corrupt_file"),
    ],
)
def test_detect_format_refuses(head: bytes, name: str, code: str) -> None:
    with pytest.raises(ImportFileError) as info:
        detect_format(head, name)
    assert info.value.code == code
    assert info.value.message


@pytest.mark.parametrize("name", ["junk.csv", "junk.xlsx", "junk.xls", "junk"])
def test_random_bytes_give_a_clear_error(files: Files, name: str) -> None:
    data = random.Random(7).randbytes(50_000)
    path = files.bytes(name, data)
    for call in (read_file, preview_file):
        with pytest.raises(ImportFileError) as info:
            call(path)
        assert info.value.code in ("unsupported_format", "corrupt_file")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"\xef\xbb\xbf", "empty_file"),  # only a BOM
        (b"\r\n\r\n\n\n", "empty_file"),
        (b";;;;\r\n;;;;\r\n", "empty_file"),  # Excel's blank rows
        (b"\xff\xfe", "empty_file"),  # only a UTF-16 BOM
    ],
)
def test_empty_files(files: Files, data: bytes, code: str) -> None:
    path = files.bytes("bos.csv", data)
    with pytest.raises(ImportFileError) as info:
        read_file(path)
    assert info.value.code == code


def test_missing_file(files: Files) -> None:
    with pytest.raises(ImportFileError) as info:
        read_file(files.path("yok.csv"))
    assert info.value.code == "file_not_found"


def test_zip_that_is_not_a_workbook(files: Files) -> None:
    path = files.path("belge.xlsx")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(ImportFileError) as info:
        read_file(path)
    assert info.value.code == "unsupported_format"
    assert "word" in info.value.message


def test_ods_is_refused_with_a_hint(files: Files) -> None:
    path = files.path("liste.ods")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    with pytest.raises(ImportFileError) as info:
        read_file(path)
    assert info.value.code == "unsupported_format"
    assert ".xlsx" in info.value.message


def test_truncated_xlsx_is_corrupt(files: Files) -> None:
    good = files.xlsx([["Firma", "Web"], ["A", "a.com.tr"]])
    data = good.read_bytes()
    path = files.bytes("yarim.xlsx", data[: len(data) // 2])
    with pytest.raises(ImportFileError) as info:
        read_file(path)
    assert info.value.code == "corrupt_file"


def test_corrupt_xls(files: Files) -> None:
    path = files.bytes("bozuk.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + random.Random(1).randbytes(4000))
    with pytest.raises(ImportFileError) as info:
        read_file(path)
    assert info.value.code in ("corrupt_file", "password_protected")


def test_error_round_trips_through_pickle() -> None:
    import pickle

    error = ImportFileError("too_large", "Büyük dosya.", size=10, limit=5)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.message, copy.details) == ("too_large", "Büyük dosya.", {"size": 10, "limit": 5})
    assert copy.to_json()["code"] == "too_large"


def test_every_raised_code_is_a_documented_code() -> None:
    import re
    from pathlib import Path

    import hunter.imports
    from hunter.imports import IMPORT_ERROR_CODES

    package = Path(hunter.imports.__file__).parent
    raised = set()
    for source in package.glob("*.py"):
        raised |= set(re.findall(r'ImportFileError\(\s*"([a-z_]+)"', source.read_text(encoding="utf-8")))
    assert raised
    assert raised <= IMPORT_ERROR_CODES
