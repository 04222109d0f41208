"""Publish the marts to the analysts' file: build a new file beside it, checkpoint, then
atomically replace the old one. Readers never see a half-built state or take a lock the
pipeline waits on, and a crash at any point leaves the last good snapshot in place.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import duckdb

from orchestration.lib.settings import BUSINESS_TIME_ZONE, Settings

# Analysts' tools may run older DuckDB clients: files in this storage format open in
# DuckDB 1.0 and later (the pipeline itself runs 1.4).
PUBLISHED_STORAGE_VERSION = "v1.0.0"

# Audit tables analysts rely on (contract section 4), copied beside the marts.
PUBLISHED_AUDIT_TABLES = ("file_ledger", "quarantine")

SNAPSHOT_DDL = """
CREATE TABLE IF NOT EXISTS published.audit.published_snapshot (
    snapshot_id VARCHAR NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    code_version VARCHAR NOT NULL,
    dagster_run_id VARCHAR,
    file_count BIGINT NOT NULL,
    files VARCHAR NOT NULL              -- JSON list of {source, dump_date, file_name, sha256}
);
CREATE TABLE IF NOT EXISTS published.audit.published_snapshot_file (
    snapshot_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    dump_date DATE NOT NULL,
    file_name VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL
);
"""

# The files that built the marts: per source and day, the latest loaded delivery.
CURRENT_FILES_SQL = """
SELECT source, dump_date, file_name, sha256
FROM warehouse.audit.file_ledger
WHERE status = 'loaded'
QUALIFY row_number() OVER (PARTITION BY source, dump_date ORDER BY loaded_at DESC) = 1
ORDER BY source, dump_date
"""


@dataclass(frozen=True)
class PublishedSnapshot:
    snapshot_id: str
    path: Path
    tables: list[str]
    file_count: int
    code_version: str


def code_version() -> str:
    """The git commit that built the snapshot, or the package version outside a checkout."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown-commit"
    return f"redcat {version('redcat')} ({commit})"


def publish(settings: Settings, dagster_run_id: str | None = None) -> PublishedSnapshot:
    target = settings.published
    target.parent.mkdir(parents=True, exist_ok=True)
    # A publication killed before its replace leaves its file, and its WAL, behind.
    for leftover in target.parent.glob(f".{target.name}.*.building*"):
        leftover.unlink()
    building = target.with_name(f".{target.name}.{uuid.uuid4().hex}.building")
    snapshot_id = f"{datetime.now().strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    version_text = code_version()

    connection = duckdb.connect()
    try:
        connection.execute(f"SET TimeZone = '{BUSINESS_TIME_ZONE}'")
        connection.execute(f"ATTACH '{settings.warehouse}' AS warehouse (READ_ONLY)")
        connection.execute(
            f"ATTACH '{building}' AS published (STORAGE_VERSION '{PUBLISHED_STORAGE_VERSION}')"
        )
        tables = _copy_marts_and_audit(connection)
        copy_comments(connection, tables)
        files = connection.execute(CURRENT_FILES_SQL).fetchall()
        _record_snapshot(connection, target, snapshot_id, version_text, dagster_run_id, files)
        connection.execute("CHECKPOINT published")
        connection.execute("DETACH published")
        connection.execute("DETACH warehouse")
    finally:
        connection.close()
    os.replace(building, target)
    return PublishedSnapshot(snapshot_id, target, tables, len(files), version_text)


def _copy_marts_and_audit(connection: duckdb.DuckDBPyConnection) -> list[str]:
    marts = [
        name
        for (name,) in connection.execute(
            """SELECT table_name FROM information_schema.tables
               WHERE table_catalog = 'warehouse' AND table_schema = 'marts' ORDER BY 1"""
        ).fetchall()
    ]
    if not marts:
        raise RuntimeError("the working warehouse has no marts to publish; run dbt first")
    connection.execute("CREATE SCHEMA published.marts; CREATE SCHEMA published.audit;")
    copied = [f"marts.{name}" for name in marts] + [
        f"audit.{name}" for name in PUBLISHED_AUDIT_TABLES
    ]
    for table in copied:
        connection.execute(f"CREATE TABLE published.{table} AS SELECT * FROM warehouse.{table}")
    return copied


def _record_snapshot(
    connection: duckdb.DuckDBPyConnection,
    target: Path,
    snapshot_id: str,
    version_text: str,
    dagster_run_id: str | None,
    files: list[tuple],
) -> None:
    """Append this publication to the history carried by the previous published file."""
    connection.execute(SNAPSHOT_DDL)
    if target.exists():
        connection.execute(f"ATTACH '{target}' AS previous (READ_ONLY)")
        has_history = connection.execute(
            """SELECT count(*) FROM information_schema.tables WHERE table_catalog = 'previous'
               AND table_schema = 'audit' AND table_name = 'published_snapshot'"""
        ).fetchone()[0]
        if has_history:
            for table in ("published_snapshot", "published_snapshot_file"):
                connection.execute(
                    f"INSERT INTO published.audit.{table} SELECT * FROM previous.audit.{table}"
                )
        connection.execute("DETACH previous")
    file_list = [
        {"source": s, "dump_date": d.isoformat(), "file_name": f, "sha256": h}
        for s, d, f, h in files
    ]
    connection.execute(
        "INSERT INTO published.audit.published_snapshot VALUES (?, now(), ?, ?, ?, ?)",
        [snapshot_id, version_text, dagster_run_id, len(files), json.dumps(file_list)],
    )
    connection.executemany(
        "INSERT INTO published.audit.published_snapshot_file VALUES (?, ?, ?, ?, ?)",
        [[snapshot_id, *row] for row in files],
    )


def copy_comments(connection: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
    """Give the published copies of `tables` ("schema.table") the warehouse's table and column
    comments (dbt's descriptions, persisted by persist_docs): CREATE TABLE AS copies rows only.

    COMMENT ON takes no bound parameters, so names and texts are quoted here.
    """
    table_comments = connection.execute(
        """SELECT schema_name, table_name, comment FROM duckdb_tables()
           WHERE database_name = 'warehouse' AND comment IS NOT NULL
             AND list_contains(?, schema_name || '.' || table_name)""",
        [tables],
    ).fetchall()
    for schema, table, comment in table_comments:
        connection.execute(
            f"COMMENT ON TABLE published.{_identifier(schema)}.{_identifier(table)} "
            f"IS {_literal(comment)}"
        )
    column_comments = connection.execute(
        """SELECT schema_name, table_name, column_name, comment FROM duckdb_columns()
           WHERE database_name = 'warehouse' AND comment IS NOT NULL
             AND list_contains(?, schema_name || '.' || table_name)""",
        [tables],
    ).fetchall()
    for schema, table, column, comment in column_comments:
        connection.execute(
            f"COMMENT ON COLUMN published.{_identifier(schema)}.{_identifier(table)}."
            f"{_identifier(column)} IS {_literal(comment)}"
        )


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
