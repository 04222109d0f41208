"""What a source is, described once: its file, reader, columns, personal data and key."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from orchestration.lib.columns import BUYER_KEY, ColumnType
from orchestration.lib.readers import Reader

# Columns every raw table carries before the spec's own.
RAW_META_COLUMNS = (
    ("dump_date", "DATE"),
    ("source_file", "VARCHAR"),
    ("source_sha256", "VARCHAR"),
    ("source_line", "BIGINT"),
    ("loaded_at", "TIMESTAMPTZ"),
)


@dataclass(frozen=True)
class Column:
    header: str  # as it stands in the export
    name: str  # as it is stored
    type: ColumnType


@dataclass(frozen=True)
class DumpDateRule:
    """Which column dates a row, and which days a dump of day D may hold (orchestration/lib/
    row_rules.py applies it).

    No row is dated after D. Rows of earlier days are late data: the contract allows them
    without limit where `late_rows_allowed` (late clicks, events, old orders changed today);
    otherwise (a day's note metrics) every row is of D itself.
    """

    column: str  # stored name
    late_rows_allowed: bool


@dataclass(frozen=True)
class SourceSpec:
    name: str
    extension: str
    reader: Reader
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    description: str
    # Personal headers: the one that becomes buyer_key, and those dropped unread.
    buyer_account_header: str | None = None
    dropped_personal_headers: tuple[str, ...] = field(default_factory=tuple)
    dated_by: DumpDateRule | None = None
    # (lesser, greater) stored columns: where both are present, lesser <= greater on every row.
    ordered: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    # Columns that must agree between deliveries of one key in different files: a later copy
    # that differs conflicts with the first delivery and is quarantined.
    agreeing_across_files: tuple[str, ...] = field(default_factory=tuple)

    @property
    def file_name_pattern(self) -> str:
        return f"{self.name}_YYYYMMDD.{self.extension}"

    def file_name(self, dump_date: date) -> str:
        return f"{self.name}_{dump_date:%Y%m%d}.{self.extension}"

    def path(self, inbox: Path, dump_date: date) -> Path:
        return inbox / self.name / self.file_name(dump_date)

    @property
    def table(self) -> str:
        return f"raw.{self.name}"

    @property
    def held_table(self) -> str:
        """Where rows that conflict with an earlier file wait, typed, in case that file changes."""
        return f"raw.{self.name}__conflicting_copies"

    @property
    def staged_tables(self) -> list[str]:
        """The raw tables its rows are staged in: its own, and where copies must agree across
        files, the held conflicts'."""
        return [self.table, self.held_table] if self.agreeing_across_files else [self.table]

    @property
    def personal_headers(self) -> tuple[str, ...]:
        own = (self.buyer_account_header,) if self.buyer_account_header else ()
        return own + self.dropped_personal_headers

    @property
    def stored_columns(self) -> list[tuple[str, str]]:
        """(name, SQL type) of the raw table's data columns, buyer_key included."""
        stored = [(c.name, c.type.sql_type) for c in self.columns]
        if self.buyer_account_header:
            stored.insert(1, ("buyer_key", BUYER_KEY.sql_type))
        return stored

    def header(self, name: str) -> str:
        """The export's header of a stored column (buyer_key is not read from a header)."""
        return next((c.header for c in self.columns if c.name == name), name)
