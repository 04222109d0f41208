"""The audit tables of contract section 4, in one place: ledger and quarantine writes by
column name into the lake (orchestration/lib/lake.py), and which delivery decides a day.

The ledger has a file per delivery (loaded or refused); the latest delivery of a source and
day decides that day, whatever its bytes (the warehouse's view `audit.current_delivery`).
The quarantine has a row per input row that is not staged, with its `kind`, so that no
reader matches reason texts.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from orchestration.lib import lake

# Quarantine kinds. Every kind but IDENTICAL_COPY is a defect the quarantine-share gate counts.
UNREADABLE_ROW = "unreadable_row"  # could not be split into cells
BAD_VALUE = "bad_value"  # a cell that is not what its column holds
INCONSISTENT_ROW = "inconsistent_row"  # cells that contradict each other (refund above paid)
OUTSIDE_DUMP_DATE = "outside_dump_date"  # dated after its dump date (or not on it)
CONFLICTING_COPY = "conflicting_copy"  # the key of an earlier row or file, other values
IDENTICAL_COPY = "identical_copy"  # an exact repeat within its file: counted once

LOADED, REFUSED = "loaded", "refused"


def _ledger_files(lake_path: Path, source: str, dump_date: date) -> list[Path]:
    return lake.files(lake.audit_partition(lake_path, "file_ledger", source, dump_date))


def current_delivery(
    connection: duckdb.DuckDBPyConnection, lake_path: Path, source: str, dump_date: date
) -> dict | None:
    """The ledger row of the delivery that decides the source's day, if any."""
    files = _ledger_files(lake_path, source, dump_date)
    if not files:
        return None
    cursor = connection.execute(
        f"SELECT * FROM {lake.read_sql(files, ())} ORDER BY loaded_at DESC LIMIT 1"
    )
    names = [column[0] for column in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def record_delivery(
    connection: duckdb.DuckDBPyConnection,
    lake_path: Path,
    *,
    source: str,
    dump_date: date,
    file_name: str,
    sha256: str,
    status: str,
    rows_read: int | None = None,
    rows_staged: int = 0,
    rows_quarantined: int | None = None,
    dropped_columns: list[str] | None = None,
    refusal_reason: str | None = None,
) -> None:
    """Write the delivery's ledger file: the last write of a load, which makes it current."""
    values = {
        "file_name": file_name,
        "sha256": sha256,
        "status": status,
        "rows_read": rows_read,
        "rows_staged": rows_staged,
        "rows_quarantined": rows_quarantined,
        "dropped_columns": ", ".join(dropped_columns or []) or None,
        "refusal_reason": refusal_reason,
    }
    columns = [(n, t) for n, t in lake.LEDGER_COLUMNS if n not in lake.PARTITION_KEYS]
    select = ", ".join(
        "current_timestamp AS loaded_at" if name == "loaded_at" else f"CAST(? AS {t}) AS {name}"
        for name, t in columns
    )
    connection.execute(
        f"CREATE OR REPLACE TEMP TABLE delivery AS SELECT {select}",
        [values[name] for name, _ in columns if name != "loaded_at"],
    )
    (loaded_at,) = connection.execute("SELECT loaded_at FROM delivery").fetchone()
    lake.write_file(
        connection, "delivery", lake.ledger_file(lake_path, source, dump_date, loaded_at, sha256)
    )
    connection.execute("DROP TABLE delivery")


def recount_delivery(
    connection: duckdb.DuckDBPyConnection,
    lake_path: Path,
    source: str,
    dump_date: date,
    rows_staged: int,
    rows_quarantined: int,
) -> None:
    """Rewrite the current delivery's counts after rows moved between staged and quarantined
    (a conflict with another file settled)."""
    files = _ledger_files(lake_path, source, dump_date)
    latest = max(files, key=lambda path: path.name)
    connection.execute(
        f"""CREATE OR REPLACE TEMP TABLE delivery AS
            SELECT * REPLACE (CAST(? AS BIGINT) AS rows_staged,
                              CAST(? AS BIGINT) AS rows_quarantined)
            FROM {lake.read_sql([latest], ())}""",
        [rows_staged, rows_quarantined],
    )
    lake.write_file(connection, "delivery", latest)
    connection.execute("DROP TABLE delivery")


def quarantine_sql_columns() -> str:
    """The quarantine file's columns, for a SELECT that yields them by name."""
    return ", ".join(name for name, _ in lake.QUARANTINE_COLUMNS if name not in lake.PARTITION_KEYS)
