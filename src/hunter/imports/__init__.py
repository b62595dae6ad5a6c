"""Import company lists (CSV, XLSX, XLS): header and column detection, domains, row errors.

Typical use::

    preview = preview_file(path)                 # detected mapping + first rows, for the user
    result = read_file(path, mapping=confirmed)  # companies deduped by domain + rejected rows

    with stream_import(path) as rows:            # the same, row by row, in flat memory
        for outcome in rows: ...
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from hunter.imports.errors import IMPORT_ERROR_CODES, ImportFileError
from hunter.imports.formats import DEFAULT_LIMITS, ImportLimits, detect_format
from hunter.imports.headers import apply_user_mapping, build_mapping, find_header_row, match_header
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
from hunter.imports.pipeline import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_ROWS,
    ImportStream,
    iter_rows,
    preview_file,
    read_file,
    stream_import,
)
from hunter.imports.text import header_key

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ROWS",
    "IMPORT_ERROR_CODES",
    "SAMPLE_NAME",
    "AcceptedRow",
    "ColumnMapping",
    "ColumnRole",
    "DuplicateDomain",
    "ImportFileError",
    "ImportLimits",
    "ImportResult",
    "ImportStream",
    "ImportedCompany",
    "Preview",
    "RejectedRow",
    "RowOutcome",
    "apply_user_mapping",
    "build_mapping",
    "detect_format",
    "find_header_row",
    "header_key",
    "iter_rows",
    "match_header",
    "preview_file",
    "read_file",
    "sample_path",
    "stream_import",
]

SAMPLE_NAME = "osb-uye-listesi"


def sample_path(kind: str = "xlsx") -> Path:
    """The bundled sample member list (``"xlsx"`` or ``"csv"``) for demos and first-run tours.

    Installed packages carry it under ``hunter/data/samples``; a source checkout also has the
    committed copy in ``samples/`` at the repository root.
    """
    if kind not in ("xlsx", "csv"):
        raise ValueError(f"no sample of kind {kind!r}; use 'xlsx' or 'csv'")
    filename = f"{SAMPLE_NAME}.{kind}"
    packaged = resources.files("hunter") / "data" / "samples" / filename
    if packaged.is_file():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[3] / "samples" / filename
    if checkout.is_file():
        return checkout
    raise FileNotFoundError(f"the sample list {filename} is not installed")
