"""Publish the marts to the analysts' file: build a new file beside it, checkpoint, then
atomically replace the old one. Readers never see a half-built state or take a lock the
pipeline waits on, and a crash at any point leaves the last good snapshot in place.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import duckdb

from orchestration.lib import lake
from orchestration.lib.settings import (
    ALLOW_SMALLER_PUBLICATION,
    ConfigurationError,
    Settings,
)
from orchestration.lib.warehouse import connect, scratch, sql_literal, warehouse_identity

# Analysts' tools may run older DuckDB clients: files in this storage format open in
# DuckDB 1.0 and later (the pipeline itself runs 1.4).
PUBLISHED_STORAGE_VERSION = "v1.0.0"

# Audit tables analysts rely on (contract section 4), copied beside the marts.
PUBLISHED_AUDIT_TABLES = ("file_ledger", "quarantine")
# The publications' own history, which each published file carries on.
PUBLICATION_HISTORY_TABLES = ("audit.published_snapshot", "audit.published_snapshot_file")
# What an incremental model stamps on the rows a build derives (dbt_project/macros).
STAMP_COLUMN = "derived_at"

# A published file is built anew at least this often, whatever changed: bringing a copy up to
# date deletes rows, and DuckDB does not give all their room back.
PUBLICATIONS_PER_NEW_FILE = 7
# A copy takes the rows derived since it only while they are at most this share of a table.
MOST_DERIVED_SHARE_FOR_A_COPY = 0.25

SNAPSHOT_DDL = """
CREATE TABLE IF NOT EXISTS {catalog}.audit.published_snapshot (
    snapshot_id VARCHAR NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    code_version VARCHAR NOT NULL,
    dagster_run_id VARCHAR,
    file_count BIGINT NOT NULL,
    files VARCHAR NOT NULL,             -- JSON list of {{source, dump_date, file_name, sha256}}
    warehouse_id VARCHAR,               -- audit.warehouse_identity of the warehouse that built it
    warehouse_path VARCHAR,
    lake_fingerprint VARCHAR,           -- the lake and models the marts were built from
    built_anew BOOLEAN                  -- a new file, not a copy of the last one brought up to date
);
CREATE TABLE IF NOT EXISTS {catalog}.audit.published_snapshot_file (
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


# The campaign report every publication writes beside the published file (lib/report.py).
REPORT_FILE_NAME = "campaign_report.html"

# How the guard names what a refused publication would lose: at most this many day ranges.
LOST_RANGES_SHOWN = 8


class PublicationRefused(RuntimeError):
    """The new snapshot would lose deliveries the published file holds, or comes from another
    warehouse; the message says what would be lost and how to publish anyway."""


@dataclass(frozen=True)
class PublishedSnapshot:
    snapshot_id: str
    path: Path
    tables: list[str]
    file_count: int
    code_version: str
    built_anew: bool  # a new file, not the last one's copy brought up to date
    read_beside: object = None  # what `read_beside_the_copy` returned


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


def publish(
    settings: Settings,
    dagster_run_id: str | None = None,
    stamped_keys: Mapping[str, Sequence[str]] | None = None,
    read_beside_the_copy: Callable[[duckdb.DuckDBPyConnection], object] | None = None,
) -> PublishedSnapshot:
    """Replace the published file with the working warehouse's marts, unless the new snapshot
    would lose deliveries or not descend from the published one (README: When a run fails).

    `stamped_keys` ("schema.table" → key columns) names the tables the warehouse keeps
    incrementally, stamping what each build derives (derived_at): when the published file came
    from the same warehouse, the new one starts as its copy and takes only their rows derived
    since, and the other tables whole (README: Performance).

    `read_beside_the_copy` reads the warehouse (the report's charts, from its marts) on a
    thread of its own while the marts are copied, DuckDB's work without Python's lock: given a
    cursor of the publication's own read-only attachment, so that one instance holds the file
    and one memory limit holds both. Its result, or None if it failed (the caller does without:
    a failure to read is not the publication's), is the snapshot's `read_beside`."""
    target = settings.published
    stamped_keys = stamped_keys or {}
    if not settings.warehouse.is_file():
        raise RuntimeError(f"no working warehouse at {settings.warehouse}: nothing to publish")
    target.parent.mkdir(parents=True, exist_ok=True)
    # A publication killed before its replace leaves its file, and its WAL, behind.
    for leftover in target.parent.glob(f".{target.name}.*.building*"):
        leftover.unlink()
    building = target.with_name(f".{target.name}.{uuid.uuid4().hex}.building")
    snapshot_id = f"{datetime.now().strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    version_text = code_version()

    with connect(settings.warehouse) as warehouse:
        identity = warehouse_identity(warehouse)

    # The reader's thread ends before the connection closes, whatever happens meanwhile.
    with scratch(settings.duckdb_limits) as connection, ThreadPoolExecutor(1) as beside:
        # The copies need not keep the marts' row order: then DuckDB writes them in parallel.
        connection.execute("SET preserve_insertion_order = false")
        connection.execute(
            f"ATTACH {sql_literal(str(settings.warehouse))} AS warehouse (READ_ONLY)"
        )
        reader = connection.cursor()
        reader.execute("USE warehouse")
        read = beside.submit(read_beside_the_copy or (lambda _: None), reader)
        files = connection.execute(CURRENT_FILES_SQL).fetchall()
        warehouse_columns = _columns(connection, "warehouse")
        last = _attach_previous(connection, target)
        if last and not settings.allow_smaller_publication:
            _refuse_unless_it_descends(connection, last, identity, settings.warehouse, files)
        # A copy of a published file this warehouse built holds all but what changed since; a
        # publication the operator forces starts anew.
        from_previous = (
            last is not None
            and last[1] == identity
            and not settings.allow_smaller_publication
            and _copy_is_worth_bringing_up_to_date(connection, stamped_keys, warehouse_columns)
        )
        copied_checksums = {}
        if from_previous:
            copying = file_identity(target)
            copied_checksums = _checksums_recorded_for(target, copying)
            shutil.copyfile(target, building)
            if file_identity(target) != copying:  # written while copied: what did we copy?
                copied_checksums = {}
            connection.execute(f"ATTACH {sql_literal(str(building))} AS published")
        else:
            connection.execute(
                f"ATTACH {sql_literal(str(building))} AS published "
                f"(STORAGE_VERSION {sql_literal(PUBLISHED_STORAGE_VERSION)})"
            )
        tables, checksums = _copy_marts_and_audit(
            connection, stamped_keys, warehouse_columns, copied_checksums
        )
        copy_comments(connection, tables)
        _record_snapshot(
            connection,
            copy_history=last is not None and not from_previous,
            snapshot_id=snapshot_id,
            version_text=version_text,
            dagster_run_id=dagster_run_id,
            files=files,
            warehouse_id=identity,
            warehouse_path=settings.warehouse,
            lake_fingerprint=_built_from(connection),
            built_anew=not from_previous,
        )
        read_beside = None if read.exception() else read.result()
        reader.close()
        connection.execute("CHECKPOINT published")
        connection.execute("DETACH published")
        connection.execute("DETACH warehouse")
    # For the file as written: a rename keeps its inode, size and time, and a file written or
    # replaced since, or this one left unrenamed by a crash, is not the file they describe.
    _record_checksums(building, target, checksums)
    os.replace(building, target)
    return PublishedSnapshot(
        snapshot_id, target, tables, len(files), version_text, not from_previous, read_beside
    )


def stamped_keys_of(manifest: Path) -> dict[str, list[str]]:
    """ "schema.table" → unique key of each incremental model in a dbt manifest: the tables
    whose rows carry the build stamp (STAMP_COLUMN) of when they were derived."""
    nodes = json.loads(manifest.read_bytes())["nodes"].values()
    return {
        f"{node['schema']}.{node['alias']}": (
            [key] if isinstance(key := node["config"]["unique_key"], str) else list(key)
        )
        for node in nodes
        if node["resource_type"] == "model"
        and node["config"]["materialized"] == "incremental"
        and node["config"].get("unique_key")
    }


def _copy_is_worth_bringing_up_to_date(
    connection: duckdb.DuckDBPyConnection,
    stamped_keys: Mapping[str, Sequence[str]],
    warehouse_columns: dict[str, list[tuple]],
) -> bool:
    """Whether the attached `previous` file is a copy to bring up to date rather than build
    anew: it holds only what publications write (no analyst's table or view), its history has
    this code's columns, it is one of the last few copies since a new file, and no stamped
    table's rows were mostly derived since (a full rebuild)."""
    if not stamped_keys:
        return False
    (foreign,) = connection.execute(
        """SELECT (SELECT count(*) FROM duckdb_tables() WHERE database_name = 'previous'
                     AND schema_name NOT IN ('marts', 'reference', 'audit'))
                + (SELECT count(*) FROM duckdb_views() WHERE database_name = 'previous'
                     AND NOT internal)"""
    ).fetchone()
    connection.execute("ATTACH ':memory:' AS expected; CREATE SCHEMA expected.audit")
    connection.execute(SNAPSHOT_DDL.format(catalog="expected"))
    expected, previous = _columns(connection, "expected"), _columns(connection, "previous")
    connection.execute("DETACH expected")
    if foreign or any(
        previous.get(table) != expected[table] for table in PUBLICATION_HISTORY_TABLES
    ):
        return False
    (copies,) = connection.execute(
        """SELECT count(*) FROM previous.audit.published_snapshot WHERE published_at >=
               (SELECT max(published_at) FROM previous.audit.published_snapshot WHERE built_anew)"""
    ).fetchone()
    if not 0 < copies < PUBLICATIONS_PER_NEW_FILE:
        return False
    for table in set(stamped_keys) & set(previous) & set(warehouse_columns):
        if not any(name == STAMP_COLUMN for name, _ in previous[table]):
            continue
        derived, rows = connection.execute(
            f"""SELECT count(*) FILTER (WHERE {STAMP_COLUMN} >
                    (SELECT max({STAMP_COLUMN}) FROM previous.{_name(table)})), count(*)
                FROM warehouse.{_name(table)}"""
        ).fetchone()
        if derived > MOST_DERIVED_SHARE_FOR_A_COPY * rows:
            return False
    return True


def _copy_marts_and_audit(
    connection: duckdb.DuckDBPyConnection,
    stamped_keys: Mapping[str, Sequence[str]],
    warehouse_columns: dict[str, list[tuple]],
    copied_checksums: Mapping[str, Checksum],
) -> tuple[list[str], dict[str, Checksum]]:
    """Make `published` hold the warehouse's marts, the benchmark seeds they are read against
    (contract: reference data) and the audit tables; drop what the warehouse no longer has.
    The tables copied, and the checksums of the stamped tables brought up to date."""
    built = sorted(t for t in warehouse_columns if t.split(".")[0] in ("marts", "reference"))
    if not any(table.startswith("marts.") for table in built):
        raise RuntimeError("the working warehouse has no marts to publish; run dbt first")
    for schema in ("marts", "reference", "audit"):
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS published.{schema}")
    copied = built + [f"audit.{name}" for name in PUBLISHED_AUDIT_TABLES]
    present = _columns(connection, "published")
    for table in set(present) - set(copied) - set(PUBLICATION_HISTORY_TABLES):
        connection.execute(f"DROP TABLE published.{_name(table)}")
    checksums = {}
    for table in copied:
        key = stamped_keys.get(table)
        stamped = any(name == STAMP_COLUMN for name, _ in warehouse_columns[table])
        if key and stamped and present.get(table) == warehouse_columns[table]:
            checksum = _take_rows_derived_since(connection, table, key, copied_checksums.get(table))
            if checksum is not None:
                checksums[table] = checksum
                continue
        connection.execute(
            f"CREATE OR REPLACE TABLE published.{_name(table)} AS "
            f"SELECT * FROM warehouse.{_name(table)}"
        )
        if key and stamped:  # for the next publication to carry on
            checksums[table] = _checksum(connection, f"FROM published.{_name(table)}")
    return copied, checksums


def _name(table: str) -> str:
    """ "schema.table" as quoted identifiers."""
    return ".".join(_identifier(part) for part in table.split("."))


def _columns(connection: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, list[tuple]]:
    """ "schema.table" → its (column, type)s in order, for the tables of an attached file."""
    return {
        table: [tuple(column) for column in columns]
        for table, columns in connection.execute(
            """SELECT table_schema || '.' || table_name,
                      list([column_name, data_type] ORDER BY ordinal_position)
               FROM information_schema.columns WHERE table_catalog = ?
                 AND table_schema IN ('marts', 'reference', 'audit')
               GROUP BY ALL""",
            [catalog],
        ).fetchall()
    }


def _take_rows_derived_since(
    connection: duckdb.DuckDBPyConnection,
    table: str,
    key: Sequence[str],
    copied_checksum: Checksum | None,
) -> Checksum | None:
    """Bring a published copy of a stamped table up to the warehouse's: the keys the warehouse
    derived since the copy's latest stamp lose their rows, which come anew (the rows of a key
    are derived together, under one stamp), and the keys it deleted lose theirs. The copy's
    checksum if it then holds the warehouse's rows (their count and checksum), else None: a
    copy changed by hand, or stamps from a clock set back, do not, and the table is copied
    whole instead.

    `copied_checksum`, the copy's as its publication recorded it, spares hashing every row of
    the copy again: its checksum is then that one, less the rows deleted, plus those added."""
    name = _name(table)
    (copied_through,) = connection.execute(
        f"SELECT max({STAMP_COLUMN}) FROM published.{name}"
    ).fetchone()
    # An empty copy takes every row.
    derived_since = f"{STAMP_COLUMN} > CAST($copied_through AS TIMESTAMPTZ)"
    if copied_through is None:
        derived_since = "true"
    parameters = {"copied_through": copied_through} if copied_through is not None else {}
    columns = ", ".join(_identifier(column) for column in key)
    same_key = " AND ".join(f"current_rows.{_identifier(c)} = kept.{_identifier(c)}" for c in key)
    # A table of their own, so DuckDB knows how few they are and hashes them, not the copy.
    connection.execute(
        f"""CREATE OR REPLACE TEMP TABLE derived_keys AS
            SELECT DISTINCT {columns} FROM warehouse.{name} WHERE {derived_since}""",
        parameters,
    )
    derived_again = f"""FROM published.{name} AS kept WHERE EXISTS (
        SELECT 1 FROM derived_keys AS current_rows WHERE {same_key})"""
    copy = copied_checksum
    if copy is not None:
        copy -= _checksum(connection, derived_again)
    connection.execute(f"DELETE {derived_again}")
    connection.execute(
        f"INSERT INTO published.{name} SELECT * FROM warehouse.{name} WHERE {derived_since}",
        parameters,
    )
    if copy is not None:
        copy += _checksum(connection, f"FROM warehouse.{name} WHERE {derived_since}", parameters)
    # What is left of the copy holds every key the warehouse kept: equal counts mean no key
    # was deleted, which spares comparing all keys on most nights.
    (deleted_keys,) = connection.execute(
        f"SELECT (SELECT count(*) FROM published.{name}) <> (SELECT count(*) FROM warehouse.{name})"
    ).fetchone()
    if deleted_keys:
        gone = f"""FROM published.{name} AS kept WHERE NOT EXISTS (
            SELECT 1 FROM warehouse.{name} AS current_rows WHERE {same_key})"""
        if copy is not None:
            copy -= _checksum(connection, gone)
        connection.execute(f"DELETE {gone}")
    if copy is None:
        copy = _checksum(connection, f"FROM published.{name}")
    return copy if copy == _checksum(connection, f"FROM warehouse.{name}") else None


@dataclass(frozen=True)
class Checksum:
    """A table's rows as a count and a sum of their hashes: of two sets of rows, the sum's
    checksum is the sum of theirs, so a copy's follows the rows it loses and gains."""

    rows: int
    hashes: int

    def __add__(self, other: Checksum) -> Checksum:
        return Checksum(self.rows + other.rows, self.hashes + other.hashes)

    def __sub__(self, other: Checksum) -> Checksum:
        return Checksum(self.rows - other.rows, self.hashes - other.hashes)


def _checksum(
    connection: duckdb.DuckDBPyConnection, rows: str, parameters: Mapping | None = None
) -> Checksum:
    """The checksum of the rows `FROM … [WHERE …]` selects."""
    # The row's columns as hash arguments: a fifth faster than hashing the row as one struct.
    count, hashes = connection.execute(
        f"SELECT count(*), coalesce(sum(hash(*COLUMNS(*))), 0) {rows}", parameters or {}
    ).fetchone()
    return Checksum(count, int(hashes))


def _checksums_file(target: Path) -> Path:
    return target.with_name(f".{target.name}.checksums.json")


def file_identity(path: Path) -> tuple[int, int, int] | None:
    """Which file is at `path`, and as written: its inode, size and modification time (a
    write or a replacement changes them), or None if there is none."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_ino, status.st_size, status.st_mtime_ns


def _record_checksums(file: Path, target: Path, checksums: Mapping[str, Checksum]) -> None:
    """Beside the published file, the checksums of the stamped tables of `file`, about to
    become it, for the next publication that starts from its copy: valid while the published
    file is that one. Without them (none could be written), that publication hashes its copy's
    rows."""
    record = {
        "file": file_identity(file),
        "duckdb": duckdb.__version__,  # the hash function's
        "tables": {table: [c.rows, str(c.hashes)] for table, c in checksums.items()},
    }
    written = target.with_name(f".{target.name}.checksums.{uuid.uuid4().hex}")
    try:
        written.write_text(json.dumps(record))
        written.replace(_checksums_file(target))
    except OSError:
        written.unlink(missing_ok=True)
        _checksums_file(target).unlink(missing_ok=True)


def _checksums_recorded_for(target: Path, identity: tuple | None) -> dict[str, Checksum]:
    """The checksums recorded beside the published file, if they were recorded for the file
    of this `identity`: written since (by an analyst's read-write session), or replaced, it is
    not."""
    try:
        record = json.loads(_checksums_file(target).read_text())
        if tuple(record["file"]) != identity or record["duckdb"] != duckdb.__version__:
            return {}
        return {
            table: Checksum(rows, int(hashes)) for table, (rows, hashes) in record["tables"].items()
        }
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _record_snapshot(
    connection: duckdb.DuckDBPyConnection,
    *,
    copy_history: bool,
    snapshot_id: str,
    version_text: str,
    dagster_run_id: str | None,
    files: list[tuple],
    warehouse_id: str,
    warehouse_path: Path,
    lake_fingerprint: str | None,
    built_anew: bool,
) -> None:
    """Append this publication to the history carried by the previous published file."""
    connection.execute(SNAPSHOT_DDL.format(catalog="published"))
    if copy_history:
        for table in PUBLICATION_HISTORY_TABLES:
            # By name: files published before the warehouse columns existed lack them.
            connection.execute(
                f"INSERT INTO published.{table} BY NAME SELECT * FROM previous.{table}"
            )
    file_list = [
        {"source": s, "dump_date": d.isoformat(), "file_name": f, "sha256": h}
        for s, d, f, h in files
    ]
    connection.execute(
        "INSERT INTO published.audit.published_snapshot VALUES (?, now(), ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            snapshot_id,
            version_text,
            dagster_run_id,
            len(files),
            json.dumps(file_list),
            warehouse_id,
            str(warehouse_path),
            lake_fingerprint,
            built_anew,
        ],
    )
    # One statement, not a row at a time: a year has two thousand files.
    connection.execute(
        """INSERT INTO published.audit.published_snapshot_file
           SELECT $snapshot_id, unnest($sources), unnest($dump_dates), unnest($names),
                  unnest($hashes)""",
        {
            "snapshot_id": snapshot_id,
            "sources": [source for source, *_ in files],
            "dump_dates": [dump_date for _, dump_date, *_ in files],
            "names": [name for _, _, name, _ in files],
            "hashes": [sha256 for *_, sha256 in files],
        },
    )


BUILD_STATE_TABLE = "audit.build_state"


def record_build(warehouse: Path, lake_fingerprint: str, models_fingerprint: str) -> None:
    """After a successful dbt build: what the warehouse's marts were built from, and when
    (`built_at`): the next incremental build's data tests check what changed since
    (dbt_project/macros/tests_in_scope.sql)."""
    with connect(warehouse) as connection:
        connection.execute(
            f"CREATE OR REPLACE TABLE {BUILD_STATE_TABLE} AS SELECT "
            "CAST(? AS VARCHAR) AS lake_fingerprint, CAST(? AS VARCHAR) AS models_fingerprint, "
            "now() AS built_at",
            [lake_fingerprint, models_fingerprint],
        )


def models_last_built(warehouse: Path) -> str | None:
    """The models' fingerprint of the warehouse's last whole build, if it recorded one."""
    if not warehouse.is_file():
        return None
    schema, table = BUILD_STATE_TABLE.split(".")
    with connect(warehouse, read_only=True) as connection:
        recorded = connection.execute(
            """SELECT count(*) FROM information_schema.columns WHERE table_schema = ?
               AND table_name = ? AND column_name = 'models_fingerprint'""",
            [schema, table],
        ).fetchone()[0]
        if not recorded:
            return None
        (fingerprint,) = connection.execute(
            f"SELECT models_fingerprint FROM {BUILD_STATE_TABLE}"
        ).fetchone()
    return fingerprint


def _built_from(connection: duckdb.DuckDBPyConnection) -> str | None:
    schema, table = BUILD_STATE_TABLE.split(".")
    exists = connection.execute(
        """SELECT count(*) FROM information_schema.tables
           WHERE table_catalog = 'warehouse' AND table_schema = ? AND table_name = ?""",
        [schema, table],
    ).fetchone()[0]
    if not exists:
        return None
    return connection.execute(
        f"SELECT lake_fingerprint FROM warehouse.{BUILD_STATE_TABLE}"
    ).fetchone()[0]


def default_report_path(published: Path) -> Path:
    return published.parent / REPORT_FILE_NAME


def report_is_behind(published: Path) -> bool:
    """Whether the report beside the published file is missing or older than it: a run killed
    between replacing the file and drawing the report leaves it so."""
    if not published.is_file():
        return False
    report = default_report_path(published)
    return not report.is_file() or report.stat().st_mtime_ns < published.stat().st_mtime_ns


def last_published_fingerprint(published: Path) -> str | None:
    """The lake fingerprint the published marts were built from, if it recorded one."""
    if not published.is_file():
        return None
    with duckdb.connect(str(published), read_only=True) as connection:
        recorded = connection.execute(
            """SELECT count(*) FROM information_schema.columns WHERE table_schema = 'audit'
               AND table_name = 'published_snapshot' AND column_name = 'lake_fingerprint'"""
        ).fetchone()[0]
        if not recorded:
            return None
        row = connection.execute(
            """SELECT lake_fingerprint FROM audit.published_snapshot
               ORDER BY published_at DESC LIMIT 1"""
        ).fetchone()
    return row[0] if row else None


def _attach_previous(connection: duckdb.DuckDBPyConnection, target: Path) -> tuple | None:
    """Attach the published file, if any, as `previous`; its last publication, if it has one."""
    if not target.exists():
        return None
    connection.execute(f"ATTACH {sql_literal(str(target))} AS previous (READ_ONLY)")
    return _last_publication(connection)


def _last_publication(connection: duckdb.DuckDBPyConnection) -> tuple | None:
    """(snapshot_id, warehouse_id, warehouse_path) of the attached `previous` file's latest
    publication, or None when it has no snapshot history."""
    columns = {
        name
        for (name,) in connection.execute(
            """SELECT column_name FROM information_schema.columns WHERE table_catalog = 'previous'
               AND table_schema = 'audit' AND table_name = 'published_snapshot'"""
        ).fetchall()
    }
    if not columns:
        return None
    # Files published before warehouse identities were recorded: their origin is unknown.
    origin = "warehouse_id, warehouse_path" if "warehouse_id" in columns else "NULL, NULL"
    return connection.execute(
        f"SELECT snapshot_id, {origin} FROM previous.audit.published_snapshot "
        "ORDER BY published_at DESC LIMIT 1"
    ).fetchone()


def _refuse_unless_it_descends(
    connection: duckdb.DuckDBPyConnection,
    last: tuple,
    warehouse_id: str,
    warehouse_path: Path,
    files: list[tuple],
) -> None:
    """A snapshot replaces the published one only when it comes from the same warehouse and
    holds every (source, dump date) delivery the published one holds."""
    last_snapshot_id, last_warehouse_id, last_warehouse_path = last
    published = connection.execute(
        """SELECT source, dump_date FROM previous.audit.published_snapshot_file
           WHERE snapshot_id = ?""",
        [last_snapshot_id],
    ).fetchall()
    lost = set(published) - {(source, dump_date) for source, dump_date, *_ in files}
    problems = []
    if last_warehouse_id is not None and last_warehouse_id != warehouse_id:
        problems.append(
            f"comes from another warehouse ({warehouse_path}) than the published file's "
            f"({last_warehouse_path})"
        )
    if lost:
        problems.append(
            f"would drop {len(lost)} of {len(published)} deliveries the published file holds "
            f"({describe_deliveries(lost)})"
        )
    if problems:
        raise PublicationRefused(
            f"publication refused: the new snapshot {' and '.join(problems)}; set "
            f"{ALLOW_SMALLER_PUBLICATION}=1 (or redcat run --allow-smaller-publication) to "
            "publish it anyway"
        )


def describe_deliveries(deliveries: set[tuple[str, date]]) -> str:
    """ "jd_orders 2026-05-01..2026-05-30, tmall_orders 2026-05-03": consecutive days as one."""
    spans: list[list] = []
    for source, day in sorted(deliveries):
        if spans and spans[-1][0] == source and spans[-1][2] + timedelta(days=1) == day:
            spans[-1][2] = day
        else:
            spans.append([source, day, day])
    texts = [
        f"{s} {first}" if first == last else f"{s} {first}..{last}" for s, first, last in spans
    ]
    shown = texts[:LOST_RANGES_SHOWN]
    return ", ".join(shown + ["..."] * (len(texts) > len(shown)))


def refuse_new_warehouse_over_published(settings: Settings) -> None:
    """Before any work: a REDCAT_WAREHOUSE that does not exist, or a REDCAT_LAKE without a
    delivery, beside a published file with a history is most likely a typo: a run would start
    empty and publish only the days it loads. Fails with one line unless the operator allows
    a smaller publication."""
    if settings.allow_smaller_publication or not settings.published.is_file():
        return
    connection = duckdb.connect()
    try:
        connection.execute(f"ATTACH {sql_literal(str(settings.published))} AS previous (READ_ONLY)")
        last = _last_publication(connection)
        # Published from a lake (not from a warehouse that kept its tables before the lake).
        from_a_lake = (
            last is not None
            and connection.execute(
                """SELECT count(*) FROM information_schema.columns WHERE table_catalog = 'previous'
               AND table_name = 'published_snapshot' AND column_name = 'lake_fingerprint'"""
            ).fetchone()[0]
            and connection.execute(
                """SELECT lake_fingerprint IS NOT NULL FROM previous.audit.published_snapshot
               ORDER BY published_at DESC LIMIT 1"""
            ).fetchone()[0]
        )
    finally:
        connection.close()
    if last is None:
        return
    if not settings.warehouse.exists():
        variable, path, would = "REDCAT_WAREHOUSE", settings.warehouse, "does not exist"
    elif from_a_lake and not lake.has_deliveries(settings.lake):
        variable, path, would = "REDCAT_LAKE", settings.lake, "holds no delivery"
    else:
        return
    built_from = f" built from {last[2]}" if last[2] else ""
    raise ConfigurationError(
        f"{variable}={str(path)!r} {would}, but REDCAT_PUBLISHED={str(settings.published)!r} "
        f"holds published snapshots{built_from}: a run would start empty and publish less. "
        f"Check {variable}, or set {ALLOW_SMALLER_PUBLICATION}=1 (redcat run "
        "--allow-smaller-publication) to start anew anyway"
    )


def copy_comments(connection: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
    """Give the published copies of `tables` ("schema.table") the warehouse's table and column
    comments (dbt's descriptions, persisted by persist_docs): CREATE TABLE AS copies rows only.

    COMMENT ON takes no bound parameters, so names and texts are quoted.
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
            f"IS {sql_literal(comment)}"
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
            f"{_identifier(column)} IS {sql_literal(comment)}"
        )


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
