"""One path for every source: read a dump as text, check and cast it, stage the good rows,
quarantine the rest with reasons, record the ledger, and replace the dump date's partition
in one transaction.

A file is refused as a whole (ledger status `refused`, nothing staged, the previous version
of the day kept) when it cannot be what its name says: empty, another format or encoding,
truncated, required columns missing, or holding another day's rows. Rules one row can break
are in orchestration/lib/row_rules.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow as pa

from orchestration.lib import audit, row_rules
from orchestration.lib.personal_data import buyer_key
from orchestration.lib.readers import REDELIVER, FileRefused
from orchestration.lib.settings import Settings
from orchestration.lib.source_spec import RAW_META_COLUMNS, SourceSpec
from orchestration.lib.warehouse import connect


class MissingDump(Exception):
    """The delivery for a source and day has not arrived."""

    def __init__(self, spec: SourceSpec, dump_date: date, path: Path):
        super().__init__(
            f"no {spec.name} dump for {dump_date:%Y-%m-%d}: expected {path}. The delivery has "
            "not arrived; put the file there and re-run this day (a day with no data still "
            "has a file with only its header)."
        )


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
    """Stage one dump. `other_sources` let a refusal say which source a misfiled file is."""
    path = _dump_path(spec, dump_date, settings.inbox)
    sha256 = file_sha256(path)
    with connect(settings.warehouse) as connection:
        audit.ensure_audit_tables(connection)
        _create_raw_tables(connection, spec)
        # The latest delivery decides: the same bytes again are a no-op only if they loaded.
        if audit.current_delivery(connection, spec.name, dump_date) == (sha256, audit.LOADED):
            return LoadResult(spec.name, dump_date, path.name, sha256, "unchanged")
    try:
        if path.name != spec.file_name(dump_date):
            raise FileRefused(
                path,
                f"{spec.name} dumps are .{spec.extension} files; deliver the day's export as "
                f"{spec.file_name(dump_date)}, remove {path.name} and re-run the day",
            )
        if path.stat().st_size == 0:
            raise FileRefused(
                path,
                "empty file (0 bytes), probably a cut transfer (a day with no data still has "
                f"its header, or an empty gzip for clicks); {REDELIVER}",
            )
        incoming, dropped = _read_as_text(spec, path, settings.buyer_key_secret, other_sources)
        with connect(settings.warehouse) as connection:
            return _replace_partition(connection, spec, dump_date, path, sha256, incoming, dropped)
    except FileRefused as refusal:
        _record_refusal(settings, spec, dump_date, path, sha256, refusal.reason)
        raise


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


def _create_raw_tables(connection, spec: SourceSpec) -> None:
    columns = ",\n".join(
        f"{name} {sql_type}" for name, sql_type in (*RAW_META_COLUMNS, *spec.stored_columns)
    )
    tables = [spec.table, spec.held_table] if spec.agreeing_across_files else [spec.table]
    for table in tables:
        connection.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")


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
    # A row that could not be split may hold personal data in any cell: keep its text only
    # where the source has none.
    keep_raw_text = not spec.personal_headers

    lines: list[int] = []
    problems: list[str | None] = []
    raw_texts: list[str | None] = []
    cells: dict[str, list[str | None]] = {c.name: [] for c in spec.columns}
    buyer_keys: list[str | None] = []
    for row in text_file.rows:
        lines.append(row.line_number)
        problems.append(row.problem)
        raw_texts.append(row.raw_text if keep_raw_text else None)
        for column in spec.columns:
            cells[column.name].append(row.cells.get(column.header))
        if spec.buyer_account_header:
            buyer_keys.append(buyer_key(row.cells.get(spec.buyer_account_header), secret))
    arrays = {
        "source_line": pa.array(lines, pa.int64()),
        "read_problem": pa.array(problems, pa.string()),
        "raw_text": pa.array(raw_texts, pa.string()),
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
) -> LoadResult:
    stored = [name for name, _ in spec.stored_columns]
    key = ", ".join(spec.key)
    day = {"dump_date": dump_date}
    connection.register("incoming", incoming)
    connection.execute("BEGIN TRANSACTION")
    try:
        connection.execute(f"CREATE TEMP TABLE judged_rows AS {row_rules.judge_sql(spec)}", day)
        wrong_date = row_rules.wrong_date_reason(connection, spec, dump_date)
        if wrong_date:
            raise FileRefused(path, wrong_date)
        if spec.agreeing_across_files:
            # Keys the day held before: their later copies elsewhere may no longer conflict.
            connection.execute(
                f"""CREATE TEMP TABLE touched_keys AS
                    SELECT {key} FROM {spec.table} WHERE dump_date = $dump_date
                    UNION SELECT {key} FROM {spec.held_table} WHERE dump_date = $dump_date""",
                day,
            )
            connection.execute(f"DELETE FROM {spec.held_table} WHERE dump_date = ?", [dump_date])
        connection.execute(f"DELETE FROM {spec.table} WHERE dump_date = ?", [dump_date])
        connection.execute(
            f"""INSERT INTO {spec.table}
                (dump_date, source_file, source_sha256, source_line, loaded_at, {", ".join(stored)})
                SELECT ?, ?, ?, source_line, current_timestamp, {", ".join(stored)}
                FROM judged_rows WHERE bad_reason IS NULL""",
            [dump_date, path.name, sha256],
        )
        connection.execute(
            "DELETE FROM audit.quarantine WHERE source = ? AND dump_date = ?",
            [spec.name, dump_date],
        )
        audit.quarantine_rows(
            connection,
            spec.name,
            """SELECT ? AS dump_date, ? AS file_name, ? AS sha256, source_line AS line_number,
                      bad_column AS column_name, bad_reason AS reason, raw_record,
                      bad_kind AS kind
               FROM judged_rows WHERE bad_reason IS NOT NULL""",
            [dump_date, path.name, sha256],
        )
        reasons = connection.execute(
            """SELECT coalesce(bad_column, 'row') || ': ' ||
                      regexp_replace(bad_reason, '^.*?: ', ''), count(*)
               FROM judged_rows WHERE bad_reason IS NOT NULL GROUP BY ALL ORDER BY 2 DESC"""
        ).fetchall()
        rows_read, rows_staged = connection.execute(
            "SELECT count(*), count(*) FILTER (WHERE bad_reason IS NULL) FROM judged_rows"
        ).fetchone()
        audit.record_delivery(
            connection,
            source=spec.name,
            dump_date=dump_date,
            file_name=path.name,
            sha256=sha256,
            status=audit.LOADED,
            rows_read=rows_read,
            rows_staged=rows_staged,
            rows_quarantined=rows_read - rows_staged,
            dropped_columns=dropped,
        )
        if spec.agreeing_across_files:
            connection.execute(
                f"""INSERT INTO touched_keys
                    SELECT {key} FROM judged_rows WHERE bad_reason IS NULL"""
            )
            row_rules.settle_conflicts_across_files(
                connection, spec, "SELECT DISTINCT * FROM touched_keys"
            )
            connection.execute("DROP TABLE touched_keys")
            (rows_staged,) = connection.execute(
                """SELECT rows_staged FROM audit.current_delivery
                   WHERE source = ? AND dump_date = ?""",
                [spec.name, dump_date],
            ).fetchone()
        connection.execute("DROP TABLE judged_rows")
        connection.execute("COMMIT")
    except Exception:
        connection.execute("ROLLBACK")
        raise
    finally:
        connection.unregister("incoming")
    return LoadResult(
        spec.name,
        dump_date,
        path.name,
        sha256,
        "loaded",
        rows_read,
        rows_staged,
        rows_read - rows_staged,
        dropped,
        dict(reasons),
    )


def _record_refusal(
    settings: Settings, spec: SourceSpec, dump_date: date, path: Path, sha256: str, reason: str
) -> None:
    with connect(settings.warehouse) as connection:
        audit.record_delivery(
            connection,
            source=spec.name,
            dump_date=dump_date,
            file_name=path.name,
            sha256=sha256,
            status=audit.REFUSED,
            refusal_reason=reason,
        )
