"""Check an XLSX zip container before any spreadsheet library inflates it.

calamine and openpyxl inflate sheet XML in memory. A few kilobytes of crafted zip can declare or
inflate to gigabytes, so the container is vetted first: entry count, declared sizes, compression
ratio, compression method, encryption; then one streamed pass inflates every entry from its
raw bytes with a hard cap and verifies size and CRC, so a header that under-declares its size
is caught before the library would trust it.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO, Final

from hunter.imports.errors import ImportFileError
from hunter.imports.formats import ImportLimits, MiB

_RATIO_FLOOR: Final = 1 * MiB  # small entries may compress absurdly well (empty styles)
_CHUNK: Final = 1 * MiB
_ALLOWED_METHODS: Final = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
# signature, version, flags, method, time, date, crc, sizes, name length, extra length
_LOCAL_HEADER: Final = struct.Struct("<4sHHHHHIIIHH")


def _bomb(message: str, **details: object) -> ImportFileError:
    return ImportFileError(
        "zip_bomb",
        f"This Excel file was refused because it would inflate to an unsafe size ({message}).",
        **details,
    )


def _kind(names: set[str], mimetype: bytes) -> str:
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "xl/workbook.bin" in names:
        return "an Excel binary workbook (.xlsb)"
    if mimetype.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
        return "an OpenDocument spreadsheet (.ods)"
    if "word/document.xml" in names or mimetype.startswith(b"application/vnd.oasis.opendocument.text"):
        return "a word-processor document"
    if any(name.startswith("ppt/") for name in names):
        return "a PowerPoint presentation"
    return "a zip archive"


def check_xlsx_container(path: Path, limits: ImportLimits) -> None:
    """Raise :class:`ImportFileError` unless ``path`` is an XLSX that is safe to inflate."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ImportFileError(
            "corrupt_file",
            "This Excel file is damaged (its zip container cannot be read). "
            "Open it in Excel and save it again.",
            error=str(exc),
        ) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_zip_entries:
            raise _bomb(f"{len(infos)} parts", entries=len(infos))
        declared = 0
        for info in infos:
            declared += info.file_size
            if declared > limits.max_uncompressed_bytes:
                raise _bomb(
                    f"more than {limits.max_uncompressed_bytes // MiB} MiB once unpacked",
                    declared_bytes=declared,
                )
            if info.file_size >= _RATIO_FLOOR:
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > limits.max_compression_ratio:
                    raise _bomb(
                        f"{info.filename} is compressed {ratio:,.0f} to 1",
                        entry=info.filename,
                        ratio=round(ratio),
                    )
            if info.flag_bits & 0x1:
                raise ImportFileError(
                    "password_protected",
                    "This Excel file is password-protected. "
                    "Remove the password in Excel and upload it again.",
                )
            if info.compress_type not in _ALLOWED_METHODS:
                raise ImportFileError(
                    "corrupt_file",
                    f"This Excel file uses an unusual compression method ({info.compress_type}). "
                    "Open it in Excel and save it again.",
                )
        names = {info.filename for info in infos}
        mimetype = b""
        if "mimetype" in names:
            mimetype = _read_capped(archive, archive.getinfo("mimetype"), 256)
        kind = _kind(names, mimetype)
        if kind != "xlsx":
            raise ImportFileError(
                "unsupported_format",
                f"This file is {kind}, not an Excel workbook. "
                "Save the list as .xlsx or .csv and upload it again.",
                detected=kind,
            )
    _inflate_all(path, infos, limits.max_uncompressed_bytes)


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    try:
        with archive.open(info) as handle:
            return handle.read(cap)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return b""


def _damaged(info: zipfile.ZipInfo, why: str) -> ImportFileError:
    return ImportFileError(
        "corrupt_file",
        f"This Excel file is damaged (part {info.filename!r} {why}). Open it in Excel and save it again.",
        entry=info.filename,
    )


def _inflate_all(path: Path, infos: list[zipfile.ZipInfo], budget: int) -> None:
    """Inflate every entry from its raw bytes with a hard output cap.

    Done by hand rather than through ``ZipFile.open``, which stops at the declared size: an entry
    that declares 1 KB and inflates to gigabytes must be seen doing so.
    """
    total = 0
    with path.open("rb") as handle:
        for info in infos:
            handle.seek(info.header_offset)
            local = handle.read(_LOCAL_HEADER.size)
            if len(local) != _LOCAL_HEADER.size or not local.startswith(b"PK\x03\x04"):
                raise _damaged(info, "has no valid header")
            name_len, extra_len = _LOCAL_HEADER.unpack(local)[-2:]
            handle.seek(info.header_offset + _LOCAL_HEADER.size + name_len + extra_len)
            total += _inflate_entry(handle, info, budget - total)


def _inflate_entry(handle: BinaryIO, info: zipfile.ZipInfo, budget: int) -> int:
    deflated = info.compress_type == zipfile.ZIP_DEFLATED
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    left = info.compress_size
    size = crc = 0

    def take(out: bytes) -> None:
        nonlocal size, crc
        size += len(out)
        if size > info.file_size:
            raise _bomb(
                f"{info.filename} inflates to more than the {info.file_size:,} bytes it declares",
                entry=info.filename,
            )
        if size > budget:
            raise _bomb("its parts inflate past the limit", entry=info.filename)
        crc = zlib.crc32(out, crc)

    while left > 0:
        chunk = handle.read(min(_CHUNK, left))
        if not chunk:
            raise _damaged(info, "is cut short")
        left -= len(chunk)
        if not deflated:
            take(chunk)
            continue
        while True:  # bounded output per call: never more than _CHUNK in memory
            try:
                out = inflater.decompress(chunk, _CHUNK)
            except zlib.error:
                raise _damaged(info, "cannot be unpacked") from None
            take(out)
            chunk = inflater.unconsumed_tail
            if inflater.eof or (not chunk and len(out) < _CHUNK):
                break
        if inflater.eof:
            break
    if deflated and not inflater.eof:
        raise _damaged(info, "is cut short")
    if size != info.file_size or crc != info.CRC:
        raise _damaged(info, "does not match its checksum")
    return size
