"""The audit tables of contract section 4, in one place: their DDL, the writes of ledger and
quarantine rows (by column name), and the one view of each source's current delivery.

`audit.file_ledger` has a row per delivery (loaded or refused); the latest delivery of a
source and day decides that day, whatever its bytes. `audit.quarantine` has a row per input
row that is not staged, with its `kind`, so that no reader matches reason texts.
"""

from __future__ import annotations

from datetime import date

import duckdb

# Quarantine kinds. Every kind but IDENTICAL_COPY is a defect the quarantine-share gate counts.
UNREADABLE_ROW = "unreadable_row"  # could not be split into cells
BAD_VALUE = "bad_value"  # a cell that is not what its column holds
INCONSISTENT_ROW = "inconsistent_row"  # cells that contradict each other (refund above paid)
OUTSIDE_DUMP_DATE = "outside_dump_date"  # dated after its dump date (or not on it)
CONFLICTING_COPY = "conflicting_copy"  # the key of an earlier row or file, other values
IDENTICAL_COPY = "identical_copy"  # an exact repeat within its file: counted once
DEFECT_KINDS = (UNREADABLE_ROW, BAD_VALUE, INCONSISTENT_ROW, OUTSIDE_DUMP_DATE, CONFLICTING_COPY)

LOADED, REFUSED = "loaded", "refused"

AUDIT_DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS audit;
CREATE TABLE IF NOT EXISTS audit.file_ledger (
    source VARCHAR NOT NULL,
    dump_date DATE NOT NULL,
    file_name VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    status VARCHAR NOT NULL,            -- loaded | refused
    rows_read BIGINT,
    rows_staged BIGINT,
    rows_quarantined BIGINT,
    dropped_columns VARCHAR,            -- extra export columns not kept, comma separated
    refusal_reason VARCHAR,
    loaded_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS audit.quarantine (
    source VARCHAR NOT NULL,
    dump_date DATE NOT NULL,
    file_name VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    line_number BIGINT NOT NULL,
    column_name VARCHAR,
    reason VARCHAR NOT NULL,
    raw_record VARCHAR,
    quarantined_at TIMESTAMPTZ NOT NULL
);
-- Warehouses made before quarantine kinds: their rows get one from the reason they carry.
ALTER TABLE audit.quarantine ADD COLUMN IF NOT EXISTS kind VARCHAR;
UPDATE audit.quarantine
SET kind = CASE WHEN ends_with(reason, '(identical copy; counted once)') THEN 'identical_copy'
                ELSE 'bad_value' END
WHERE kind IS NULL;
-- The delivery that decides each source's day: its latest, loaded or refused.
CREATE OR REPLACE VIEW audit.current_delivery AS
SELECT * FROM audit.file_ledger
QUALIFY row_number() OVER (PARTITION BY source, dump_date ORDER BY loaded_at DESC) = 1;
"""


def ensure_audit_tables(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute(AUDIT_DDL)


def current_delivery(
    connection: duckdb.DuckDBPyConnection, source: str, dump_date: date
) -> tuple[str, str] | None:
    """(sha256, status) of the delivery that decides the source's day, if any."""
    return connection.execute(
        "SELECT sha256, status FROM audit.current_delivery WHERE source = ? AND dump_date = ?",
        [source, dump_date],
    ).fetchone()


def record_delivery(
    connection: duckdb.DuckDBPyConnection,
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
    connection.execute(
        """INSERT INTO audit.file_ledger BY NAME
           SELECT ? AS source, ? AS dump_date, ? AS file_name, ? AS sha256, ? AS status,
                  ? AS rows_read, ? AS rows_staged, ? AS rows_quarantined,
                  ? AS dropped_columns, ? AS refusal_reason, current_timestamp AS loaded_at""",
        [
            source,
            dump_date,
            file_name,
            sha256,
            status,
            rows_read,
            rows_staged,
            rows_quarantined,
            ", ".join(dropped_columns or []) or None,
            refusal_reason,
        ],
    )


def quarantine_rows(
    connection: duckdb.DuckDBPyConnection, source: str, rows_sql: str, parameters: list
) -> None:
    """Quarantine the rows of `rows_sql`, which yields dump_date, file_name, sha256,
    line_number, column_name, reason, raw_record and kind."""
    connection.execute(
        f"""INSERT INTO audit.quarantine BY NAME
            SELECT ? AS source, current_timestamp AS quarantined_at, * FROM ({rows_sql})""",
        [source, *parameters],
    )


def recount_deliveries(
    connection: duckdb.DuckDBPyConnection, source: str, table: str, dump_dates_sql: str
) -> None:
    """Set the staged and quarantined counts of the current deliveries of `dump_dates_sql`'s
    days to what the tables hold, after rows moved between them."""
    connection.execute(
        f"""UPDATE audit.file_ledger AS ledger
            SET rows_staged = (SELECT count(*) FROM {table} AS staged
                               WHERE staged.dump_date = ledger.dump_date),
                rows_quarantined = (SELECT count(*) FROM audit.quarantine AS held
                                    WHERE held.source = ledger.source
                                      AND held.dump_date = ledger.dump_date)
            WHERE ledger.source = ? AND ledger.status = 'loaded'
              AND ledger.dump_date IN ({dump_dates_sql})
              AND ledger.loaded_at = (SELECT max(latest.loaded_at) FROM audit.file_ledger AS latest
                                      WHERE latest.source = ledger.source
                                        AND latest.dump_date = ledger.dump_date)""",
        [source],
    )
