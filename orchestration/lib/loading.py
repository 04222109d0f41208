"""One path for every source: read a dump as text, check and cast it, stage the good rows,
quarantine the rest with reasons and record the ledger, as Parquet in the lake
(orchestration/lib/lake.py). Files are independent: `stage_dumps` parses a range of days in
worker processes, which never open the warehouse; the one process that runs the asset then
settles conflicts across files and shows the lake in the warehouse (`finish_loading`).

A file is refused as a whole (ledger status `refused`, nothing staged, the previous version
of the day kept) when it cannot be what its name says: empty, another format or encoding,
truncated, required columns missing, or holding another day's rows. Rules one row can break
are in orchestration/lib/row_rules.py.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.lib import audit, lake, row_rules
from orchestration.lib.personal_data import buyer_key
from orchestration.lib.readers import REDELIVER, FileRefused
from orchestration.lib.settings import DuckDBLimits, Settings
from orchestration.lib.source_spec import SourceSpec
from orchestration.lib.warehouse import configure, connect, scratch

# Starting a worker process costs about a second: below this much to parse, one process wins.
PARALLEL_FROM_BYTES = 16 << 20


class MissingDump(Exception):
    """The delivery for a source and day has not arrived."""

    def __init__(self, spec: SourceSpec, dump_date: date, path: Path):
        super().__init__(
            f"no {spec.name} dump for {dump_date:%Y-%m-%d}: expected {path}. The delivery has "
            "not arrived; put the file there and re-run this day (a day with no data still "
            "has a file with only its header)."
        )
        self.arguments = (spec, dump_date, path)

    def __reduce__(self):  # back from a worker process
        return MissingDump, self.arguments


@dataclass
class LoadResult:
    source: str
    dump_date: date
    file_name: str
    sha256: str
    status: str  # loaded | unchanged
    rows_read: int = 0
    rows_staged: int = 0
    rows_quarantined: int = 0
    dropped_columns: list[str] = field(default_factory=list)
    quarantine_reasons: dict[str, int] = field(default_factory=dict)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def load_dump(
    spec: SourceSpec,
    dump_date: date,
    settings: Settings,
    other_sources: Sequence[SourceSpec] = (),
) -> LoadResult:
    """Stage one dump and show it in the warehouse: `stage_dumps` and `finish_loading` for
    one day."""
    move_warehouse_tables_into_lake(settings, other_sources or [spec])
    results, failures = stage_dumps(spec, [dump_date], settings, other_sources)
    finish_loading(spec, results, settings, other_sources)
    if failures:
        raise failures[0]
    return results[0]


def stage_dumps(
    spec: SourceSpec,
    dump_dates: Sequence[date],
    settings: Settings,
    other_sources: Sequence[SourceSpec] = (),
    progress=lambda result: None,
    parallel_from_bytes: int = PARALLEL_FROM_BYTES,
) -> tuple[list[LoadResult], list[MissingDump | FileRefused]]:
    """Stage the dumps of these days into the lake, side by side in up to
    `settings.ingest_workers` processes; each result as it comes to `progress`."""
    results, failures = [], []
    workers = min(settings.ingest_workers, len(dump_dates))
    arguments = [(spec, day, settings, other_sources) for day in dump_dates]
    files = (spec.path(settings.inbox, day) for day in dump_dates)
    if workers <= 1 or sum(p.stat().st_size for p in files if p.is_file()) < parallel_from_bytes:
        outcomes = (_staged_or_failed(*a) for a in arguments)
        return _collect(outcomes, results, failures, progress)
    # Spawned, not forked: the parent runs Dagster's threads.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        outcomes = pool.map(_staged_or_failed, *zip(*arguments, strict=True))
        return _collect(outcomes, results, failures, progress)


def _collect(outcomes, results, failures, progress):
    for outcome in outcomes:
        if isinstance(outcome, LoadResult):
            results.append(outcome)
            progress(outcome)
        else:
            failures.append(outcome)
    return results, failures


def _staged_or_failed(spec, dump_date, settings, other_sources) -> LoadResult | Exception:
    try:
        return stage_dump(spec, dump_date, settings, other_sources)
    except (MissingDump, FileRefused) as problem:
        return problem


def stage_dump(
    spec: SourceSpec,
    dump_date: date,
    settings: Settings,
    other_sources: Sequence[SourceSpec] = (),
) -> LoadResult:
    """Stage one dump into the lake. `other_sources` let a refusal say which source a
    misfiled file is. Never opens the warehouse."""
    path = _dump_path(spec, dump_date, settings.inbox)
    sha256 = file_sha256(path)
    connection = _scratch_of_this_process(settings.duckdb_limits)
    # The latest delivery decides: the same bytes again are a no-op only if they loaded, and
    # no delivery since was killed while it replaced the day's rows.
    current = audit.current_delivery(connection, settings.lake, spec.name, dump_date)
    if (
        current
        and (current["sha256"], current["status"]) == (sha256, audit.LOADED)
        and not lake.staging_marker(settings.lake, spec.name, dump_date).exists()
    ):
        return LoadResult(spec.name, dump_date, path.name, sha256, "unchanged")
    try:
        if path.name != spec.file_name(dump_date):
            raise FileRefused(
                path,
                f"{spec.name} dumps are .{spec.extension} files; deliver the day's export "
                f"as {spec.file_name(dump_date)}, remove {path.name} and re-run the day",
            )
        if path.stat().st_size == 0:
            raise FileRefused(
                path,
                "empty file (0 bytes), probably a cut transfer (a day with no data still "
                f"has its header, or an empty gzip for clicks); {REDELIVER}",
            )
        _refuse_a_neighbouring_days_copy(connection, spec, dump_date, path, sha256, settings.lake)
        incoming, dropped = _read_as_text(spec, path, settings.buyer_key_secret, other_sources)
        return _replace_partition(
            connection, spec, dump_date, path, sha256, incoming, dropped, settings.lake
        )
    except FileRefused as refusal:
        audit.record_delivery(
            connection,
            settings.lake,
            source=spec.name,
            dump_date=dump_date,
            file_name=path.name,
            sha256=sha256,
            status=audit.REFUSED,
            refusal_reason=refusal.reason,
        )
        raise


def _refuse_a_neighbouring_days_copy(
    connection: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    dump_date: date,
    path: Path,
    sha256: str,
    lake_path: Path,
) -> None:
    """A day's export of dated rows (orders, clicks, events, metrics) never has the same bytes
    as the day before's or after's: such a file is that day's, delivered under a wrong date,
    and would pass for a day whose rows never came. A campaign snapshot may repeat, and so may
    a file of a few rows (a day's one late click, say), as row_rules judges dates."""
    if spec.dated_by is None:
        return
    for other_day in (dump_date - timedelta(days=1), dump_date + timedelta(days=1)):
        other = audit.current_delivery(connection, lake_path, spec.name, other_day)
        same_rows = other and (other["sha256"], other["status"]) == (sha256, audit.LOADED)
        if same_rows and other["rows_read"] >= row_rules.WRONG_DATE_MIN_ROWS:
            raise FileRefused(
                path,
                f"has the same content as the {other_day} delivery ({other['file_name']}): "
                f"that day's export under a wrong date? Deliver {dump_date}'s export as "
                f"{spec.file_name(dump_date)} and re-run the day",
            )


@functools.cache
def _scratch_of_this_process(limits: DuckDBLimits) -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB per process, kept open across its files: opening one costs more
    than staging a small dump."""
    return configure(duckdb.connect(), limits)


def finish_loading(
    spec: SourceSpec,
    results: list[LoadResult],
    settings: Settings,
    all_sources: Sequence[SourceSpec] = (),
) -> None:
    """After staging: settle the source's conflicts across files for the keys deliveries left
    to settle, this run's or a killed run's (the results' counts follow), then show the lake
    in the warehouse."""
    touched = lake.touched_keys_files(settings.lake, spec.name)
    if spec.agreeing_across_files and touched:
        with scratch(settings.duckdb_limits) as connection:
            counts = row_rules.settle_conflicts_across_files(
                connection, spec, settings.lake, touched
            )
        for result in results:
            if result.dump_date in counts:
                result.rows_staged, result.rows_quarantined = counts[result.dump_date]
        for settled in touched:
            settled.unlink()
            # Its day's folder goes too, unless a write that crashed left a file there.
            with contextlib.suppress(OSError):
                settled.parent.rmdir()
    show_lake_in_warehouse(settings, all_sources or [spec])


def show_lake_in_warehouse(settings: Settings, sources: Sequence[SourceSpec]) -> None:
    """(Re)create the warehouse's views of this lake, whether or not it changed: a copied or
    moved warehouse reads its own. Once a step, after staging (or after a staging that
    failed). With no warehouse and nothing in the lake yet, none is made."""
    if not settings.warehouse.exists() and not lake.has_deliveries(settings.lake):
        return
    with connect(settings.warehouse) as connection:
        lake.register_views(connection, settings.lake, sources)


def move_warehouse_tables_into_lake(settings: Settings, sources: Sequence[SourceSpec]) -> None:
    """Before staging into the lake: a warehouse made before it keeps its raw and audit rows
    in tables; move them into the lake first, so that nothing loaded is lost or overwritten,
    and show them at once from there. Refused, before anything is staged, for another lake
    than the one the warehouse shows; else the warehouse shows this lake from now on."""
    if not settings.warehouse.exists():
        return
    with connect(settings.warehouse) as connection:
        lake.refuse_another_lake(connection, settings, record=True)
        if lake.migrate_to_lake(connection, settings.lake, sources):
            lake.register_views(connection, settings.lake, sources)


def _dump_path(spec: SourceSpec, dump_date: date, inbox: Path) -> Path:
    """The dump's file; failing that, a file of that source and day in another format."""
    path = spec.path(inbox, dump_date)
    if path.is_file():
        return path
    stem = spec.file_name(dump_date).removesuffix(f".{spec.extension}")
    look_alikes = sorted(
        p
        for p in path.parent.glob(f"{stem}.*")
        # `<name>.part` and the like are a transfer under way, not another format.
        if p.is_file() and not p.name.startswith(path.name)
    )
    if look_alikes:
        return look_alikes[0]
    raise MissingDump(spec, dump_date, path)


def _read_as_text(
    spec: SourceSpec, path: Path, secret: bytes, other_sources: Sequence[SourceSpec]
) -> tuple[pa.Table, list[str]]:
    """The file's rows as text columns named as stored; personal data gone before return."""
    expected = tuple(c.header for c in spec.columns)
    text_file = spec.reader(path, expected + spec.personal_headers)
    needed = [c.header for c in spec.columns if c.type.required or not text_file.keys_may_be_absent]
    missing = [
        h
        for h in (*needed, *filter(None, [spec.buyer_account_header]))
        if h not in text_file.header
    ]
    if missing:
        text_file.close()
        raise FileRefused(
            path, _missing_columns_reason(spec, text_file.header, missing, other_sources)
        )
    known = set(expected) | set(spec.personal_headers)
    dropped = [h for h in text_file.header if h not in known]
    lines: list[int] = []
    problems: list[str | None] = []
    cells: dict[str, list[str | None]] = {c.name: [] for c in spec.columns}
    buyer_keys: list[str | None] = []
    for row in text_file.rows:
        lines.append(row.line_number)
        problems.append(row.problem)
        for column in spec.columns:
            cells[column.name].append(row.cells.get(column.header))
        if spec.buyer_account_header:
            buyer_keys.append(buyer_key(row.cells.get(spec.buyer_account_header), secret))
    arrays = {
        "source_line": pa.array(lines, pa.int64()),
        "read_problem": pa.array(problems, pa.string()),
    }
    arrays |= {name: pa.array(values, pa.string()) for name, values in cells.items()}
    if spec.buyer_account_header:
        arrays["buyer_key"] = pa.array(buyer_keys, pa.string())
    return pa.table(arrays), dropped


def _missing_columns_reason(
    spec: SourceSpec, header: list[str], missing: list[str], other_sources: Sequence[SourceSpec]
) -> str:
    look_alike = next(
        (
            other.name
            for other in other_sources
            if other.name != spec.name
            and all(c.header in header for c in other.columns if c.type.required)
        ),
        None,
    )
    if look_alike:
        return (
            f"it is a {look_alike} dump (its columns are {look_alike}'s), not {spec.name}; "
            f"put the {spec.name} dump here, then {REDELIVER}"
        )
    if not set(header) & {c.header for c in spec.columns}:
        # The first row is not this export's header, maybe a data row: never quote it.
        return (
            f"its first row names none of the {spec.name} columns (is the header row "
            f"missing, or is it another export?); re-export it with its header, then {REDELIVER}"
        )
    return (
        f"required column(s) missing: {', '.join(missing)} (found: {', '.join(header)}), the "
        f"export's layout changed; re-export it with the standard columns, then {REDELIVER}"
    )


def _replace_partition(
    connection,
    spec: SourceSpec,
    dump_date: date,
    path: Path,
    sha256: str,
    incoming: pa.Table,
    dropped: list[str],
    lake_path: Path,
) -> LoadResult:
    """Judge the rows, then replace the day's staged rows and quarantine in the lake and
    record the ledger last (what makes the delivery current)."""
    stored = ", ".join(name for name, _ in spec.stored_columns)
    connection.register("incoming", incoming)
    connection.execute(
        f"CREATE OR REPLACE TEMP TABLE judged_rows AS {row_rules.judge_sql(spec)}",
        {"dump_date": dump_date},
    )
    connection.unregister("incoming")
    wrong_date = row_rules.wrong_date_reason(connection, spec, dump_date)
    if wrong_date:
        raise FileRefused(path, wrong_date)
    marker = lake.staging_marker(lake_path, spec.name, dump_date)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    staged_folder = lake.partition(lake_path, spec.table, dump_date)
    if spec.agreeing_across_files:
        held_folder = lake.partition(lake_path, spec.held_table, dump_date)
        # The keys whose deliveries must agree across files, the day's now and before (their
        # copies in other files may no longer conflict), for finish_loading to settle. Left as
        # Parquet in the lake: a year of keys would not fit the run's memory as Python tuples.
        key = ", ".join(spec.key)
        before = lake.files(staged_folder) + lake.files(held_folder)
        lake.write_partition(
            connection,
            f"""SELECT DISTINCT {key} FROM judged_rows WHERE bad_reason IS NULL
                {f"UNION SELECT {key} FROM {lake.read_sql(before, ())}" if before else ""}""",
            lake.touched_keys_partition(lake_path, spec.name, dump_date),
        )
        lake.remove_partition(held_folder)
    rows_staged = lake.write_partition(
        connection,
        f"""SELECT ? AS source_file, ? AS source_sha256, source_line,
                   current_timestamp AS loaded_at, {stored}
            FROM judged_rows WHERE bad_reason IS NULL ORDER BY source_line""",
        staged_folder,
        [path.name, sha256],
    )
    rows_quarantined = lake.write_partition(
        connection,
        f"""SELECT {audit.quarantine_sql_columns()} FROM (
                SELECT ? AS file_name, ? AS sha256, source_line AS line_number,
                       bad_column AS column_name, bad_reason AS reason, raw_record,
                       current_timestamp AS quarantined_at, bad_kind AS kind
                FROM judged_rows WHERE bad_reason IS NOT NULL ORDER BY source_line)""",
        lake.audit_partition(lake_path, "quarantine", spec.name, dump_date),
        [path.name, sha256],
    )
    reasons = connection.execute(
        """SELECT coalesce(bad_column, 'row') || ': ' ||
                  regexp_replace(bad_reason, '^.*?: ', ''), count(*)
           FROM judged_rows WHERE bad_reason IS NOT NULL GROUP BY ALL ORDER BY 2 DESC"""
    ).fetchall()
    audit.record_delivery(
        connection,
        lake_path,
        source=spec.name,
        dump_date=dump_date,
        file_name=path.name,
        sha256=sha256,
        status=audit.LOADED,
        rows_read=rows_staged + rows_quarantined,
        rows_staged=rows_staged,
        rows_quarantined=rows_quarantined,
        dropped_columns=dropped,
    )
    marker.unlink()
    connection.execute("DROP TABLE judged_rows")
    return LoadResult(
        spec.name,
        dump_date,
        path.name,
        sha256,
        "loaded",
        rows_staged + rows_quarantined,
        rows_staged,
        rows_quarantined,
        dropped,
        dict(reasons),
    )
