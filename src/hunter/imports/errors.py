"""The one exception an import raises for a file it cannot read as a company list."""

from __future__ import annotations

from typing import Final, Literal

ImportErrorCode = Literal[
    "file_not_found",
    "empty_file",
    "unsupported_format",
    "corrupt_file",
    "password_protected",
    "too_large",
    "zip_bomb",
    "too_many_rows",
    "no_header",
    "no_domain_column",
    "sheet_not_found",
    "bad_mapping",
    "unknown_encoding",
]

IMPORT_ERROR_CODES: Final[frozenset[str]] = frozenset(ImportErrorCode.__args__)  # type: ignore[attr-defined]


class ImportFileError(Exception):
    """A whole file was refused. ``code`` is stable (UI translations key on it), ``message``
    is a sentence a sales rep can act on, ``details`` carries the numbers behind it."""

    code: str
    message: str
    details: dict[str, object]

    def __init__(self, code: ImportErrorCode, message: str, **details: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"ImportFileError(code={self.code!r}, message={self.message!r})"

    def __reduce__(self) -> tuple[object, ...]:
        # Jobs may carry the error across processes (Celery); keep code and details.
        return (_rebuild, (self.code, self.message, self.details))

    def to_json(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "details": dict(self.details)}


def _rebuild(code: ImportErrorCode, message: str, details: dict[str, object]) -> ImportFileError:
    return ImportFileError(code, message, **details)
