"""Connections to the working warehouse: opened late, always closed, even on failure.

DuckDB allows one writing process per file and dbt runs as a subprocess, so the pipeline
never keeps a connection open across steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from orchestration.lib.settings import BUSINESS_TIME_ZONE, DuckDBLimits


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    opened = duckdb.connect(str(path), read_only=read_only)
    with _configured(opened, DuckDBLimits.from_env()) as connection:
        yield connection


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
