"""The lake: what ingestion writes, in a Hive-style layout both DuckDB and Spark read.

    <lake>/raw/<source>/dump_date=YYYY-MM-DD/data.parquet          the staged rows of a day
    <lake>/raw/rednote_clicks__conflicting_copies/dump_date=…/     clicks held as conflicts
    <lake>/audit/quarantine/source=<source>/dump_date=…/data.parquet
    <lake>/audit/file_ledger/source=<source>/dump_date=…/<loaded_at>-<sha256>.parquet
    <lake>/.ledger_index/source=<source>/data.parquet               the ledger's rows, indexed
    <lake>/lake_id                                                  the lake's own id

One file per partition, replaced whole by a rename, so a reader sees the old day or the new
one; one ledger file per delivery, written last: a delivery is loaded once its ledger file is
there. Ingestion workers write here and never open the warehouse; the warehouse reads the
lake through views of the same names as before (`raw.<source>`, `audit.file_ledger`,
`audit.quarantine`, `audit.current_delivery`), which `register_views` (re)creates; the
ledger's view reads an index of its files, a file per source, that the same call keeps in
step with them (read by every gate and build).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import Iterable
from datetime import UTC, date
from pathlib import Path

import duckdb

from orchestration.lib.settings import ConfigurationError, Settings
from orchestration.lib.source_spec import RAW_META_COLUMNS, SourceSpec
from orchestration.lib.warehouse import connect, sql_literal

DATA_FILE = "data.parquet"
LEDGER_COLUMNS = (
    ("source", "VARCHAR"),
    ("dump_date", "DATE"),
    ("file_name", "VARCHAR"),
    ("sha256", "VARCHAR"),
    ("status", "VARCHAR"),  # loaded | refused
    ("rows_read", "BIGINT"),
    ("rows_staged", "BIGINT"),
    ("rows_quarantined", "BIGINT"),
    ("dropped_columns", "VARCHAR"),  # extra export columns not kept, comma separated
    ("refusal_reason", "VARCHAR"),
    ("loaded_at", "TIMESTAMPTZ"),
)
QUARANTINE_COLUMNS = (
    ("source", "VARCHAR"),
    ("dump_date", "DATE"),
    ("file_name", "VARCHAR"),
    ("sha256", "VARCHAR"),
    ("line_number", "BIGINT"),
    ("column_name", "VARCHAR"),
    ("reason", "VARCHAR"),
    ("raw_record", "VARCHAR"),
    ("quarantined_at", "TIMESTAMPTZ"),
    ("kind", "VARCHAR"),
)
# Partitioned by source and day: those two columns are the folders, not in the files.
PARTITION_KEYS = ("source", "dump_date")
# The ledger's rows, a file per source (_index_ledger): derived from the ledger's files, which
# stay the record, so a hidden folder, and left out of the lake's fingerprint.
LEDGER_INDEX = ".ledger_index"
LEDGER_TABLE_BEFORE_THE_INDEX = "audit.file_ledger_files"
# An index row: the ledger's columns but its partition folder's, and the file it came from.
LEDGER_INDEX_COLUMNS = {name for name, _ in LEDGER_COLUMNS[1:]} | {
    "ledger_file",
    "ledger_file_version",
}


def partition(lake: Path, table: str, dump_date: date) -> Path:
    """The folder of a raw table's day; `table` as `raw.<name>`."""
    return lake / "raw" / table.removeprefix("raw.") / f"dump_date={dump_date:%Y-%m-%d}"


def touched_keys_partition(lake: Path, source: str, dump_date: date) -> Path:
    """Where a loaded day leaves the keys its conflicts across files must be settled for, until
    the run settles them (a hidden folder: no table reads it)."""
    return lake / ".touched" / source / f"dump_date={dump_date:%Y-%m-%d}"


def touched_keys_files(lake: Path, source: str) -> list[Path]:
    """Every day's keys left to settle, this run's and those a crashed run left."""
    return sorted((lake / ".touched" / source).glob("*/*.parquet"))


def staging_marker(lake: Path, source: str, dump_date: date) -> Path:
    """There while a delivery replaces the day's rows in the lake, until its ledger row is
    written: a run killed in between leaves it, and the next run stages the day again rather
    than take the inbox file for the delivery the ledger names (a hidden folder)."""
    return lake / ".staging" / source / f"dump_date={dump_date:%Y-%m-%d}"


def audit_folder(lake: Path, table: str, source: str) -> Path:
    return lake / "audit" / table / f"source={source}"


def audit_partition(lake: Path, table: str, source: str, dump_date: date) -> Path:
    return audit_folder(lake, table, source) / f"dump_date={dump_date:%Y-%m-%d}"


def write_partition(
    connection: duckdb.DuckDBPyConnection, select_sql: str, folder: Path, parameters=None
) -> int:
    """Replace the folder's data with the rows of `select_sql` (none: the folder goes):
    written beside, then renamed over, so a reader sees the old rows or the new."""
    connection.execute(
        f"CREATE OR REPLACE TEMP TABLE partition_rows AS {select_sql}", parameters or []
    )
    (rows,) = connection.execute("SELECT count(*) FROM partition_rows").fetchone()
    if rows == 0:
        remove_partition(folder)
    else:
        write_file(connection, "partition_rows", folder / DATA_FILE)
    connection.execute("DROP TABLE partition_rows")
    return rows


def write_file(connection: duckdb.DuckDBPyConnection, table: str, path: Path) -> None:
    """Write a table as one Parquet file, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    building = path.with_name(f".{path.name}.{uuid.uuid4().hex}.building")
    connection.execute(
        f"COPY {table} TO {sql_literal(str(building))} (FORMAT parquet, COMPRESSION zstd)"
    )
    os.replace(building, path)


def remove_partition(folder: Path) -> None:
    for leftover in folder.glob("*.parquet"):
        leftover.unlink()


def files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.parquet")) if folder.is_dir() else []


def _hive_types(partitioned_by: tuple[str, ...]) -> str:
    return ", ".join(
        f"{sql_literal(key)}: {'DATE' if key == 'dump_date' else 'VARCHAR'}"
        for key in partitioned_by
    )


def read_sql(
    paths: Iterable[Path] | Path, partitioned_by: tuple[str, ...], with_file_name: bool = False
) -> str:
    """A table function over Parquet files (a list, or a glob) with their Hive partition
    columns typed, and each row's file as `filename` if asked."""
    listed = (
        sql_literal(str(paths))
        if isinstance(paths, Path)
        else "[" + ", ".join(sql_literal(str(p)) for p in paths) + "]"
    )
    options = f"union_by_name = true, filename = {str(with_file_name).lower()}"
    if not partitioned_by:
        return f"read_parquet({listed}, hive_partitioning = false, {options})"
    return (
        f"read_parquet({listed}, hive_partitioning = true, "
        f"hive_types = {{{_hive_types(partitioned_by)}}}, {options})"
    )


def _view_sql(lake: Path, folder: str, columns, partitioned_by: tuple[str, ...]) -> str:
    """The table's rows, columns in the order given; an empty typed table before any file."""
    levels = "/".join("*" for _ in partitioned_by)
    if not next((lake / folder).glob(f"{levels}/*.parquet"), None):
        empty = ", ".join(f"CAST(NULL AS {sql_type}) AS {name}" for name, sql_type in columns)
        return f"SELECT {empty} WHERE false"
    select = ", ".join(f"CAST({name} AS {sql_type}) AS {name}" for name, sql_type in columns)
    return f"SELECT {select} FROM {read_sql(lake / folder / levels / '*.parquet', partitioned_by)}"


# The lake's id travels with its folder (a copy or a move keeps it); the warehouse records the
# id of the lake it shows, so a REDCAT_LAKE pointed at another lake is refused before a run
# stages into it or builds from it.
LAKE_ID_FILE = "lake_id"
LAKE_OF_WAREHOUSE = "audit.lake_identity"


def lake_id(lake: Path) -> str | None:
    """The id in `<lake>/lake_id`, or None when the lake has none yet. A file that holds no id
    (emptied by hand or by a crash) is an error: which lake it is cannot be told."""
    path = lake / LAKE_ID_FILE
    try:
        text = path.read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not text:
        raise ConfigurationError(
            f"{str(path)!r} holds no lake id: write back the id its warehouse recorded "
            f"(SELECT lake_id FROM {LAKE_OF_WAREHOUSE})"
        )
    return text


def _given_an_id(lake: Path) -> str:
    """The lake's id, given one first if it has none: created exclusively (a concurrent claim
    keeps the first) and synced, so that a crash cannot leave the lake a different id."""
    if known := lake_id(lake):
        return known
    lake.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(lake / LAKE_ID_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return lake_id(lake)
    try:
        os.write(descriptor, f"{uuid.uuid4()}\n".encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return lake_id(lake)


def _lake_of_warehouse(connection: duckdb.DuckDBPyConnection) -> tuple[str, str] | None:
    """(lake id, lake path) the warehouse last showed, or None before it showed one."""
    (recorded,) = connection.execute(
        """SELECT count(*) FROM duckdb_tables()
           WHERE database_name = current_database() AND schema_name = ? AND table_name = ?""",
        LAKE_OF_WAREHOUSE.split("."),
    ).fetchone()
    if not recorded:
        return None
    return connection.execute(f"SELECT lake_id, lake_path FROM {LAKE_OF_WAREHOUSE}").fetchone()


def refuse_another_lake(
    connection: duckdb.DuckDBPyConnection, settings: Settings, *, record: bool = False
) -> None:
    """Fail in one line when REDCAT_LAKE is not the lake the warehouse shows: its rows would
    be judged, built and published as this warehouse's (another brand's lake, another
    warehouse's). An empty folder (a mistyped path) is refused too, unless the operator starts
    anew (REDCAT_ALLOW_SMALLER_PUBLICATION): the warehouse then shows that lake. `record`: the
    warehouse shows this lake from now on (before staging, so that a run killed while it
    stages into a new lake is not refused when run again)."""
    lake = settings.lake
    recorded = _lake_of_warehouse(connection)
    current = lake_id(lake)
    if recorded is not None and current != recorded[0]:
        another = current is not None or has_deliveries(lake)
        if another or not settings.allow_smaller_publication:
            if current is not None:
                what = f"is lake {current}"
            elif another:
                what = "is a lake without a lake_id file"
            else:
                what = "holds no lake"
            raise ConfigurationError(
                f"REDCAT_LAKE={str(lake)!r} {what}, but REDCAT_WAREHOUSE="
                f"{str(settings.warehouse)!r} shows lake {recorded[0]}, last at "
                f"{recorded[1]!r}: check both (README: When a run fails)"
            )
    if record:
        _record_lake(connection, lake)


def refuse_another_lake_of_warehouse(settings: Settings) -> None:
    """`refuse_another_lake` on a look at the warehouse, if there is one (read-only)."""
    if settings.warehouse.is_file():
        with connect(settings.warehouse, read_only=True) as connection:
            refuse_another_lake(connection, settings)


def refuse_another_lake_before_the_run(settings: Settings) -> None:
    """`refuse_another_lake_of_warehouse` before Dagster loads, when the warehouse can be
    opened at once: while a run writes it, the steps of this one check when they get it."""
    with contextlib.suppress(duckdb.IOException):
        refuse_another_lake_of_warehouse(settings)


def _record_lake(connection: duckdb.DuckDBPyConnection, lake: Path) -> None:
    shown = (_given_an_id(lake), str(lake))
    if _lake_of_warehouse(connection) == shown:
        return
    connection.execute("CREATE SCHEMA IF NOT EXISTS audit")
    connection.execute(
        f"""CREATE OR REPLACE TABLE {LAKE_OF_WAREHOUSE} AS
            SELECT CAST(? AS VARCHAR) AS lake_id, CAST(? AS VARCHAR) AS lake_path""",
        list(shown),
    )


def register_views(
    connection: duckdb.DuckDBPyConnection, lake: Path, specs: Iterable[SourceSpec]
) -> None:
    """(Re)create the warehouse's views of the lake, raw tables and audit tables, and record
    which lake they show."""
    connection.execute("CREATE SCHEMA IF NOT EXISTS raw; CREATE SCHEMA IF NOT EXISTS audit;")
    _record_lake(connection, lake)
    views = {}
    for spec in specs:
        columns = (*RAW_META_COLUMNS, *spec.stored_columns)
        for table in spec.staged_tables:
            folder = f"raw/{table.removeprefix('raw.')}"
            views[table] = _view_sql(lake, folder, columns, ("dump_date",))
    views["audit.quarantine"] = _view_sql(
        lake, "audit/quarantine", QUARANTINE_COLUMNS, PARTITION_KEYS
    )
    _index_ledger(connection, lake)
    views["audit.file_ledger"] = _view_sql(lake, LEDGER_INDEX, LEDGER_COLUMNS, ("source",))
    views["audit.current_delivery"] = """SELECT * FROM audit.file_ledger
           QUALIFY row_number() OVER (PARTITION BY source, dump_date
                                      ORDER BY loaded_at DESC) = 1"""
    _replace_views(connection, views)
    # Warehouses before the index kept the ledger's rows in this table.
    connection.execute(f"DROP TABLE IF EXISTS {LEDGER_TABLE_BEFORE_THE_INDEX}")


def _index_ledger(connection: duckdb.DuckDBPyConnection, lake: Path) -> None:
    """Keep each source's ledger index in step with its ledger files: every gate, incremental
    build and publication reads the ledger, and a year's 2,000 small files took 0.14 s a read
    (six small files, a few milliseconds). A file added, rewritten (a recount renames a new
    file over it) or gone, which its path, modification time, size and inode tell, is read
    again or dropped, and its source's index written anew; the files stay the record. An index
    in the lake, not a table in the warehouse: a step that only delivered files writes nothing
    to the warehouse, whose every write costs a checkpoint of the whole file when it closes."""
    on_disk = _ledger_files_by_source(lake)
    indexed_sources = {folder.name for folder in (lake / LEDGER_INDEX).glob("source=*")}
    for source_folder in sorted(on_disk.keys() | indexed_sources):
        index = lake / LEDGER_INDEX / source_folder / DATA_FILE
        ledger_files = on_disk.get(source_folder, {})
        indexed = _indexed_files(connection, index)
        if indexed == ledger_files:
            continue
        if not ledger_files:
            remove_partition(index.parent)
            continue
        kept = [path for path, version in indexed.items() if ledger_files.get(path) == version]
        fresh = sorted(
            path for path, version in ledger_files.items() if indexed.get(path) != version
        )
        columns = ", ".join(f"CAST(ledger.{n} AS {t}) AS {n}" for n, t in LEDGER_COLUMNS[1:])
        parts, parameters = [], {}
        if kept:
            parts.append(
                f"SELECT * FROM {read_sql(index, ())} WHERE list_contains($kept, ledger_file)"
            )
            parameters["kept"] = kept
        if fresh:
            parts.append(
                f"""SELECT {columns}, files.ledger_file, files.ledger_file_version
                    FROM {read_sql([lake / path for path in fresh], PARTITION_KEYS, True)} AS ledger
                    JOIN (SELECT unnest($paths) AS path, unnest($fresh) AS ledger_file,
                                 unnest($versions) AS ledger_file_version) AS files
                      ON ledger.filename = files.path"""
            )
            parameters |= {
                "paths": [str(lake / path) for path in fresh],
                "fresh": fresh,
                "versions": [ledger_files[path] for path in fresh],
            }
        connection.execute(
            f"CREATE OR REPLACE TEMP TABLE ledger_index AS {' UNION ALL BY NAME '.join(parts)}",
            parameters,
        )
        indexed_now = {
            path
            for (path,) in connection.execute(
                "SELECT DISTINCT ledger_file FROM ledger_index"
            ).fetchall()
        }
        if missing := sorted(ledger_files.keys() - indexed_now):
            raise RuntimeError(f"ledger file {lake / missing[0]} has no row to index")
        write_file(connection, "ledger_index", index)
        connection.execute("DROP TABLE ledger_index")


def _ledger_files_by_source(lake: Path) -> dict[str, dict[str, str]]:
    """Source folder → each ledger file's path in the lake → its version: os.scandir, since
    pathlib's glob, relative_to and stat took 0.2 s for a year's 2,000 files."""
    found: dict[str, dict[str, str]] = {}
    root = os.path.join(lake, "audit", "file_ledger")
    with contextlib.suppress(FileNotFoundError):
        for source in _folders(root):
            for day in _folders(source.path):
                for file in os.scandir(day.path):
                    if file.is_file() and file.name.endswith(".parquet"):
                        status = file.stat()
                        found.setdefault(source.name, {})[
                            f"audit/file_ledger/{source.name}/{day.name}/{file.name}"
                        ] = f"{status.st_mtime_ns}-{status.st_size}-{status.st_ino}"
    return found


def _folders(path: str) -> list[os.DirEntry]:
    """The folders in `path`, not its files or hidden entries (a stray file left by hand)."""
    return [e for e in os.scandir(path) if e.is_dir() and not e.name.startswith(".")]


def _indexed_files(connection: duckdb.DuckDBPyConnection, index: Path) -> dict[str, str]:
    """Each ledger file an index holds → its version; none for an index of other columns
    (made before the ledger's columns changed), which is then written anew from the files."""
    if not index.is_file():
        return {}
    rows = connection.sql(f"SELECT * FROM {read_sql(index, ())}")
    if set(rows.columns) != LEDGER_INDEX_COLUMNS:
        return {}
    return dict(rows.select("ledger_file, ledger_file_version").fetchall())


def _replace_views(connection: duckdb.DuckDBPyConnection, views: dict[str, str]) -> None:
    """Create each view (name: select SQL), in order, unless it already reads that SQL, which its
    comment fingerprints: the views read the lake's files by pattern, so new files need no new
    view, and creating one reads the footers of every file it matches (a year's: ~20 ms a view).
    One catalog query for all: every ingestion step comes here."""
    existing = {
        f"{schema}.{table}": (table_type, comment)
        for schema, table, table_type, comment in connection.execute(
            """SELECT table_schema, table_name, table_type, TABLE_COMMENT
               FROM information_schema.tables
               WHERE table_catalog = current_database()
                 AND list_contains(?, table_schema || '.' || table_name)""",
            [list(views)],
        ).fetchall()
    }
    for name, select_sql in views.items():
        fingerprint = f"lake view {hashlib.sha256(select_sql.encode()).hexdigest()}"
        if existing.get(name, (None,))[0] == "BASE TABLE":
            raise RuntimeError(
                f"{name} is a table of a warehouse made before the lake: an ingestion step moves "
                "it into the lake first (migrate_to_lake)"
            )
        if existing.get(name) == ("VIEW", fingerprint):
            continue
        connection.execute(f"CREATE OR REPLACE VIEW {name} AS {select_sql}")
        connection.execute(f"COMMENT ON VIEW {name} IS {sql_literal(fingerprint)}")


def migrate_to_lake(
    connection: duckdb.DuckDBPyConnection, lake: Path, specs: Iterable[SourceSpec]
) -> list[str]:
    """Move the raw and audit tables of a warehouse made before the lake into the lake, one
    partition (or delivery) a file, then drop them: nothing staged or recorded is lost."""
    moved = []
    base_tables = {
        f"{schema}.{table}"
        for schema, table in connection.execute(
            """SELECT table_schema, table_name FROM information_schema.tables
               WHERE table_catalog = current_database() AND table_type = 'BASE TABLE'
                 AND table_schema IN ('raw', 'audit')"""
        ).fetchall()
    }
    for spec in specs:
        for table in (spec.table, spec.held_table):
            if table not in base_tables:
                continue
            days = connection.execute(f"SELECT DISTINCT dump_date FROM {table}").fetchall()
            for (day,) in days:
                write_partition(
                    connection,
                    f"SELECT * EXCLUDE (dump_date) FROM {table} WHERE dump_date = ?",
                    partition(lake, table, day),
                    [day],
                )
            moved.append(table)
    if "audit.quarantine" in base_tables:
        # Quarantines made before kinds: a kind from the reason they carry.
        connection.execute(
            """ALTER TABLE audit.quarantine ADD COLUMN IF NOT EXISTS kind VARCHAR;
               UPDATE audit.quarantine SET kind = CASE
                   WHEN ends_with(reason, '(identical copy; counted once)') THEN 'identical_copy'
                   ELSE 'bad_value' END
               WHERE kind IS NULL;"""
        )
        for source, day in connection.execute(
            "SELECT DISTINCT source, dump_date FROM audit.quarantine"
        ).fetchall():
            write_partition(
                connection,
                """SELECT * EXCLUDE (source, dump_date) FROM audit.quarantine
                   WHERE source = ? AND dump_date = ?""",
                audit_partition(lake, "quarantine", source, day),
                [source, day],
            )
        moved.append("audit.quarantine")
    if "audit.file_ledger" in base_tables:
        deliveries = connection.execute(
            "SELECT source, dump_date, loaded_at, sha256 FROM audit.file_ledger"
        ).fetchall()
        for source, day, loaded_at, sha256 in deliveries:
            connection.execute(
                """CREATE OR REPLACE TEMP TABLE delivery AS
                   SELECT * EXCLUDE (source, dump_date) FROM audit.file_ledger
                   WHERE source = ? AND dump_date = ? AND loaded_at = ? AND sha256 = ?""",
                [source, day, loaded_at, sha256],
            )
            write_file(connection, "delivery", ledger_file(lake, source, day, loaded_at, sha256))
        moved.append("audit.file_ledger")
    for table in moved:
        connection.execute(f"DROP TABLE {table}")
    return moved


def ledger_file(lake: Path, source: str, dump_date: date, loaded_at, sha256: str) -> Path:
    stamp = loaded_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f")
    return audit_partition(lake, "file_ledger", source, dump_date) / f"{stamp}-{sha256}.parquet"


def ledger_written(lake: Path, source: str) -> dict[date, float]:
    """Each of the source's dump dates with when its ledger was last written (epoch seconds):
    a delivery loaded, or its counts rewritten when rows moved between it and another file."""
    written: dict[date, float] = {}
    for path in audit_folder(lake, "file_ledger", source).glob("dump_date=*/*.parquet"):
        day = date.fromisoformat(path.parent.name.removeprefix("dump_date="))
        written[day] = max(written.get(day, 0.0), path.stat().st_mtime)
    return written


def files_identity(lake: Path, spec: SourceSpec, dump_dates: Iterable[date]) -> str:
    """What the source's ledger and its rows of these days are on disk: each file by path,
    size, inode and modification and change times. A write, a removal, or a copy put back
    that keeps files' times all change it."""
    folders = [audit_folder(lake, "file_ledger", spec.name)]
    for day in dump_dates:
        folders += [partition(lake, table, day) for table in spec.staged_tables]
        folders.append(audit_partition(lake, "quarantine", spec.name, day))
    digest = hashlib.sha256()
    for folder in folders:
        for relative in _parquet_files_under(folder):
            status = os.stat(folder / relative)
            digest.update(
                f"{(folder / relative).relative_to(lake)}|{status.st_size}|{status.st_ino}|"
                f"{status.st_mtime_ns}|{status.st_ctime_ns}\n".encode()
            )
    return digest.hexdigest()


def has_deliveries(lake: Path) -> bool:
    return next((lake / "audit" / "file_ledger").glob("*/*/*.parquet"), None) is not None


# Manifest keys that say when and where a project was parsed, not what its models are.
PARSE_CIRCUMSTANCES = ("metadata", "created_at", "root_path")


def models_fingerprint(manifest: Path) -> bytes:
    """What the dbt models are, from their manifest, without what changes at every parse
    (its metadata, each node's time of parsing) or with the checkout's folder (root_path): a
    `dbt parse` of the same project matches, wherever it is."""

    def stable(value):
        if isinstance(value, dict):
            return {k: stable(v) for k, v in value.items() if k not in PARSE_CIRCUMSTANCES}
        if isinstance(value, list):
            return [stable(v) for v in value]
        return value

    content = json.dumps(stable(json.loads(manifest.read_bytes())), sort_keys=True)
    return hashlib.sha256(content.encode()).digest()


def fingerprint(lake: Path, *also: bytes) -> str:
    """What the lake holds, as one hash of every file's name, size and time of writing (plus
    `also`, e.g. the models' code): equal fingerprints mean nothing was staged since."""
    digest = hashlib.sha256()
    for relative in _parquet_files_under(lake):
        if relative.startswith(LEDGER_INDEX + os.sep):
            continue  # derived from the ledger's files, which count
        stat = os.stat(lake / relative)
        digest.update(f"{relative}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    for extra in also:
        digest.update(extra)
    return digest.hexdigest()


def _parquet_files_under(folder: Path) -> list[str]:
    """The Parquet files under `folder`, relative, in path order: os.walk, not Path.rglob,
    which took 0.3 s for a year's 4,600 files before each build."""
    found = []
    for parent, _, names in os.walk(folder):
        relative = os.path.relpath(parent, folder)
        found += [
            os.path.normpath(os.path.join(relative, name))
            for name in names
            if name.endswith(".parquet")
        ]
    return sorted(found, key=lambda path: path.split(os.sep))
