"""Hostile and huge files: zip bombs, size and row limits, 200k rows and 50 MB in bounded memory."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from import_files import Files

from hunter.imports import ImportFileError, ImportLimits, preview_file, read_file
from hunter.imports.formats import MiB
from hunter.imports.zipguard import check_xlsx_container

SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_TAIL = "</sheetData></worksheet>"


def _workbook_with_sheet(files: Files, name: str, write_sheet) -> Path:  # type: ignore[no-untyped-def]
    """A valid minimal XLSX whose sheet XML is produced by ``write_sheet(handle)``, streamed."""
    path = files.path(name)
    parts = files.xlsx_parts("")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, content in parts.items():
            if part != "xl/worksheets/sheet1.xml":
                archive.writestr(part, content)
        with archive.open("xl/worksheets/sheet1.xml", "w") as handle:
            write_sheet(handle)
    return path


def _patch_declared_size(path: Path, entry: str, size: int) -> None:
    """Rewrite an entry's uncompressed size in both its local and central headers."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(entry)
    data[info.header_offset + 22 : info.header_offset + 26] = size.to_bytes(4, "little")
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_len = int.from_bytes(data[central + 28 : central + 30], "little")
        if data[central + 46 : central + 46 + name_len] == entry.encode():
            data[central + 24 : central + 28] = size.to_bytes(4, "little")
            break
        central = data.find(b"PK\x01\x02", central + 4)
    else:
        raise AssertionError(f"{entry} not in the central directory")
    path.write_bytes(bytes(data))


def _spaces(total: int):  # type: ignore[no-untyped-def]
    def write(handle) -> None:  # type: ignore[no-untyped-def]
        handle.write(SHEET_HEAD.encode())
        chunk = b" " * MiB
        for _ in range(total // MiB):
            handle.write(chunk)
        handle.write(SHEET_TAIL.encode())

    return write


def test_bomb_declaring_gigabytes_in_a_few_kilobytes(files: Files) -> None:
    c = files.inline
    path = _workbook_with_sheet(
        files,
        "bomba.xlsx",
        lambda h: h.write((SHEET_HEAD + f'<row r="1">{c("A1", "Web")}</row>' + SHEET_TAIL).encode()),
    )
    _patch_declared_size(path, "xl/worksheets/sheet1.xml", 0xFFFF_0000)  # ~4 GB declared
    assert path.stat().st_size < 5_000
    started = time.perf_counter()
    for call in (read_file, preview_file):
        with pytest.raises(ImportFileError) as info:
            call(path)
        assert info.value.code == "zip_bomb"
    assert time.perf_counter() - started < 2


def test_bomb_with_an_absurd_compression_ratio(files: Files) -> None:
    path = _workbook_with_sheet(files, "oran.xlsx", _spaces(200 * MiB))  # ~1000:1, under the size cap
    assert path.stat().st_size < 1 * MiB
    with pytest.raises(ImportFileError) as info:
        read_file(path)
    assert info.value.code == "zip_bomb"
    assert "compressed" in info.value.message


def test_bomb_that_understates_its_size(files: Files) -> None:
    # Declares 1 000 bytes (so neither the size nor the ratio check fires) but inflates to 20 MB.
    path = _workbook_with_sheet(files, "yalan.xlsx", _spaces(20 * MiB))
    _patch_declared_size(path, "xl/worksheets/sheet1.xml", 1_000)
    with pytest.raises(ImportFileError) as info:
        read_file(path)
    assert info.value.code == "zip_bomb"
    assert "declares" in info.value.message


@pytest.mark.slow
def test_real_gigabyte_bomb(files: Files) -> None:
    path = _workbook_with_sheet(files, "gb.xlsx", _spaces(1100 * MiB))
    assert path.stat().st_size < 2 * MiB
    with pytest.raises(ImportFileError) as info:
        read_file(path)
    assert info.value.code == "zip_bomb"


def test_zip_entry_count_and_total_limits(files: Files) -> None:
    path = files.xlsx([["Firma", "Web"], ["A", "a-firma.com.tr"]])
    check_xlsx_container(path, ImportLimits())  # a normal workbook passes
    with pytest.raises(ImportFileError) as info:
        check_xlsx_container(path, ImportLimits(max_zip_entries=3))
    assert info.value.code == "zip_bomb"
    with pytest.raises(ImportFileError) as info:
        check_xlsx_container(path, ImportLimits(max_uncompressed_bytes=1_000))
    assert info.value.code == "zip_bomb"


def test_damaged_entry_is_corrupt_not_a_crash(files: Files) -> None:
    path = files.xlsx([["Firma", "Web"], ["A", "a-firma.com.tr"]])
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + 10
    data[start : start + 20] = b"\xff" * 20  # scribble over the deflate stream
    path.write_bytes(bytes(data))
    with pytest.raises(ImportFileError) as info_:
        read_file(path)
    assert info_.value.code == "corrupt_file"


def test_file_over_max_bytes(files: Files) -> None:
    path = files.path("dev.csv")
    with path.open("wb") as handle:
        handle.truncate(65 * MiB)  # sparse: costs no disk, and must not be read
    with pytest.raises(ImportFileError) as info:
        read_file(path)
    assert info.value.code == "too_large"
    assert info.value.details["limit"] == 64 * MiB
    small = files.csv([["Firma", "Web"], ["A", "a-firma.com.tr"]])
    with pytest.raises(ImportFileError) as info:
        read_file(small, max_bytes=10)
    assert info.value.code == "too_large"


def test_too_many_rows(files: Files) -> None:
    rows = [["Firma", "Web"]] + [[f"F{i}", f"firma{i}.com.tr"] for i in range(1_001)]
    with pytest.raises(ImportFileError) as info:
        read_file(files.csv(rows), max_rows=1_000)
    assert info.value.code == "too_many_rows"
    assert read_file(files.csv(rows, name="b.csv"), max_rows=1_001).total_rows == 1_001
    with pytest.raises(ImportFileError) as info:
        read_file(files.xlsx(rows), max_rows=1_000)
    assert info.value.code == "too_many_rows"
    with pytest.raises(ImportFileError) as info:  # refused from the sheet's size, before reading it
        read_file(files.xlsx(rows, name="c.xlsx"), max_rows=1)
    assert info.value.code == "too_many_rows"


# --------------------------------------------------------------------------------------------
# Big files, measured in a fresh interpreter so that peak RSS belongs to the import alone.

_MEASURE = """
import json, re, sys, time
from pathlib import Path
from hunter.imports import read_file, stream_import
path, mode = Path(sys.argv[1]), sys.argv[2]
started = time.perf_counter()
if mode == "stream":
    accepted = rejected = 0
    with stream_import(path) as rows:
        for outcome in rows:
            if hasattr(outcome, "domain"):
                accepted += 1
            else:
                rejected += 1
    total = rows.total_rows
else:
    result = read_file(path)
    accepted, rejected, total = len(result.companies), len(result.rejected), result.total_rows
print(json.dumps({
    "seconds": time.perf_counter() - started,
    # VmHWM is this process's own peak; ru_maxrss would carry the parent's over exec.
    "peak_mib": int(re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text())[1]) / 1024,
    "accepted": accepted, "rejected": rejected, "total": total,
}))
"""


def _measure(path: Path, mode: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), mode],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout)


def _write_member_csv(path: Path, rows: int, filler: int = 0) -> None:
    with path.open("w", encoding="cp1254", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["ÜYE FİRMA LİSTESİ"])
        writer.writerow([])
        writer.writerow(
            ["S.NO", "FİRMA ÜNVANI", "FAALİYET KONUSU", "TELEFON", "ADRES", "WEB SİTESİ", "E-POSTA"]
        )
        note = " (Ek bilgi: üretim, ihracat, kalite belgeleri)" * filler
        for i in range(1, rows + 1):
            website = "" if i % 50 == 0 else f"www.firma{i}-tekstil.com.tr"
            writer.writerow([
                i,
                f"FİRMA {i} TEKSTİL SAN. VE TİC. A.Ş.",
                "Tekstil" + note,
                f"0 (224) {i % 1000:03d} 12 34",
                f"Yeşilova OSB {i % 12}. Cad. No: {i % 80} Nilüfer/BURSA",
                website,
                f"info@firma{i}-tekstil.com.tr" if i % 100 else "",
            ])  # fmt: skip


@pytest.fixture(scope="module")
def rows_200k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "uyeler-200k.csv"
    _write_member_csv(path, 200_000)
    return path


@pytest.mark.slow
def test_200k_rows_stream_in_bounded_memory(rows_200k: Path) -> None:
    stats = _measure(rows_200k, "stream")
    assert stats["total"] == 200_000
    assert stats["rejected"] == 200_000 // 100  # rows with neither website nor e-mail
    assert stats["accepted"] == 200_000 - stats["rejected"]
    assert stats["seconds"] < 120  # a hang guard, not a speed test (see bench/)
    assert stats["peak_mib"] < 200, stats


@pytest.mark.slow
def test_200k_rows_read_file(rows_200k: Path) -> None:
    stats = _measure(rows_200k, "read")
    assert stats["accepted"] == 198_000
    assert stats["seconds"] < 120  # a hang guard, not a speed test (see bench/)
    # read_file keeps every company (about 1 KB each with its attributes); nothing grows with the
    # file itself, so 200k companies stay well below half a gigabyte.
    assert stats["peak_mib"] < 450, stats


@pytest.mark.slow
def test_50_mb_file_streams_within_the_default_limit(tmp_path: Path) -> None:
    path = tmp_path / "uyeler-50mb.csv"
    _write_member_csv(path, 110_000, filler=8)
    assert 45 * MiB < os.path.getsize(path) < 64 * MiB
    stats = _measure(path, "stream")
    assert stats["total"] == 110_000
    assert stats["seconds"] < 120  # a hang guard, not a speed test (see bench/)
    assert stats["peak_mib"] < 200, stats
