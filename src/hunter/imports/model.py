"""Result types of an import: the column mapping, accepted companies, rejected rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ColumnRole(StrEnum):
    NAME = "name"
    WEBSITE = "website"
    EMAIL = "email"
    PHONE = "phone"
    ADDRESS = "address"
    ACTIVITY = "activity"
    STATUS = "status"
    CITY = "city"
    DISTRICT = "district"
    EMPLOYEES = "employees"
    ROW_NUMBER = "row_number"
    ATTRIBUTE = "attribute"  # kept under a snake-case key made from the header
    IGNORE = "ignore"  # not stored at all


DOMAIN_ROLES = frozenset({ColumnRole.WEBSITE, ColumnRole.EMAIL})


@dataclass
class ColumnMapping:
    columns: list[str]  # header texts, made unique ("Telefon", "Telefon (2)"), in sheet order
    roles: dict[str, ColumnRole]
    header_row: int  # 1-based as the sheet shows it; 0 = the file has no header row
    domain_sources: list[str]  # columns tried for the domain, in preference order
    # Columns whose role came from their content because the header said nothing useful.
    detected_by_content: list[str] = field(default_factory=list)

    def role_of(self, column: str) -> ColumnRole:
        return self.roles.get(column, ColumnRole.IGNORE)

    def to_json(self) -> dict[str, str]:
        return {column: self.roles[column].value for column in self.columns}


@dataclass(slots=True)
class ImportedCompany:
    domain: str  # registrable domain, punycode (the natural key)
    display_domain: str  # Unicode form for people
    names: list[str]
    rows: list[int]  # every source row that named this domain, 1-based
    attributes: dict[str, str]
    source: str  # file name the company came from
    emails: list[str] = field(default_factory=list)

    @property
    def name(self) -> str | None:
        return self.names[0] if self.names else None


@dataclass(slots=True)
class AcceptedRow:
    """One data row that gave a domain (streaming form; :class:`ImportedCompany` merges them)."""

    row: int
    domain: str
    display_domain: str
    names: list[str]
    attributes: dict[str, str]
    emails: list[str]
    duplicate_of: int | None = None  # first row that had this domain, when this row repeats it
    # True for a row under a vertically merged cell that carries extra values (a second phone)
    # for the company of the row above; it is not a company row of its own.
    continues: bool = False


@dataclass(slots=True)
class RejectedRow:
    row: int
    value: str  # the cell that failed, or the row's name when it had no domain cell at all
    reason: str  # DomainError reason, "no_domain", "free_mail" or "shared_host"
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "value": self.value, "reason": self.reason, "message": self.message}


@dataclass(slots=True)
class DuplicateDomain:
    domain: str
    rows: list[int]

    def to_json(self) -> dict[str, Any]:
        return {"domain": self.domain, "rows": list(self.rows)}


@dataclass
class ImportResult:
    mapping: ColumnMapping
    companies: list[ImportedCompany]
    rejected: list[RejectedRow]
    duplicates: list[DuplicateDomain]
    total_rows: int  # company rows seen below the header: accepted (incl. duplicates) + rejected
    format: str
    encoding: str | None
    sheet: str | None
    # Rows dropped silently because they were not company rows (repeated header, "TOPLAM ...").
    skipped_rows: list[int] = field(default_factory=list)

    @property
    def domains(self) -> list[str]:
        return [company.domain for company in self.companies]

    def to_dry_run_json(self) -> dict[str, Any]:
        return {
            "mapping": self.mapping.to_json(),
            "domains": self.domains,
            "rejected": [rejected.to_json() for rejected in self.rejected],
            "duplicates": [duplicate.to_json() for duplicate in self.duplicates],
            "total_rows": self.total_rows,
            "header_row": self.mapping.header_row,
            "format": self.format,
            "encoding": self.encoding,
        }


RowOutcome = AcceptedRow | RejectedRow


@dataclass
class Preview:
    mapping: ColumnMapping
    header: list[str]
    rows: list[list[str]]  # first data rows, padded to the header's width
    total_rows_estimate: int
    format: str
    encoding: str | None
    sheet: str | None
    sheets: list[str]
    row_numbers: list[int] = field(default_factory=list)  # the sheet row of each entry in ``rows``

    def to_json(self) -> dict[str, Any]:
        return {
            "mapping": self.mapping.to_json(),
            "header": list(self.header),
            "header_row": self.mapping.header_row,
            "domain_sources": list(self.mapping.domain_sources),
            "rows": [list(row) for row in self.rows],
            "row_numbers": list(self.row_numbers),
            "total_rows_estimate": self.total_rows_estimate,
            "format": self.format,
            "encoding": self.encoding,
            "sheet": self.sheet,
            "sheets": list(self.sheets),
        }
