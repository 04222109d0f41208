"""Connections to the working warehouse: opened late, always closed, even on failure.

DuckDB allows one writing process per file and dbt runs as a subprocess, so the pipeline
never keeps a connection open across steps.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.lib.settings import BUSINESS_TIME_ZONE, DuckDBLimits

# A writer waits this long for a lock another process holds: a reader's look (`redcat run`'s
# check before Dagster loads, `redcat status`) takes milliseconds, and would otherwise fail
# the step that opens the file at that moment.
WRITER_WAITS_FOR_LOCK_SECONDS = 30.0


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    if read_only:
        opened = duckdb.connect(str(path), read_only=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        opened = _open_for_writing(path)
    with _configured(opened, DuckDBLimits.from_env()) as connection:
        yield connection


def _open_for_writing(path: Path) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + WRITER_WAITS_FOR_LOCK_SECONDS
    pause = 0.02
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as error:
            if "lock" not in str(error) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


@contextmanager
def scratch(limits: DuckDBLimits) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB for work that touches no warehouse (an ingestion worker's)."""
    with _configured(duckdb.connect(), limits) as connection:
        yield connection


def configure(
    connection: duckdb.DuckDBPyConnection, limits: DuckDBLimits
) -> duckdb.DuckDBPyConnection:
    # Set after opening: as a connect option, DuckDB would need to autoload ICU first.
    connection.execute(f"SET TimeZone = {sql_literal(BUSINESS_TIME_ZONE)}")
    connection.execute(f"SET memory_limit = {sql_literal(limits.memory_limit)}")
    connection.execute("SET threads = ?", [limits.threads])
    return connection


@contextmanager
def _configured(
    connection: duckdb.DuckDBPyConnection, limits: DuckDBLimits
) -> Iterator[duckdb.DuckDBPyConnection]:
    try:
        yield configure(connection, limits)
    finally:
        connection.close()


def sql_literal(text: str) -> str:
    """`text` as a SQL string literal, for the statements that take no bound parameters
    (ATTACH, SET): paths may hold spaces, apostrophes and Chinese characters."""
    return "'" + text.replace("'", "''") + "'"


def warehouse_identity(connection: duckdb.DuckDBPyConnection) -> str:
    """The id this warehouse got when it was first asked for one: publications record it, so
    a snapshot built by another warehouse (a mistyped REDCAT_WAREHOUSE) is told apart."""
    connection.execute(
        """CREATE SCHEMA IF NOT EXISTS audit;
           CREATE TABLE IF NOT EXISTS audit.warehouse_identity (
               warehouse_id VARCHAR NOT NULL, created_at TIMESTAMPTZ NOT NULL);
           INSERT INTO audit.warehouse_identity SELECT uuid()::VARCHAR, now()
           WHERE NOT EXISTS (SELECT * FROM audit.warehouse_identity);"""
    )
    return connection.execute("SELECT warehouse_id FROM audit.warehouse_identity").fetchone()[0]
