"""One path for every source: read a dump as text, check and cast it, stage the good rows,
quarantine the rest with reasons, record the ledger, and replace the dump date's partition
in one transaction.

A file is refused as a whole (ledger status `refused`, nothing staged, the previous version
of the day kept) when it cannot be what its name says: empty, another format or encoding,
truncated, required columns missing, or holding another day's rows (see `_check_dump_date`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa

from orchestration.lib.personal_data import buyer_key
from orchestration.lib.readers import REDELIVER, FileRefused
from orchestration.lib.settings import Settings
from orchestration.lib.source_spec import SourceSpec
from orchestration.lib.warehouse import connect, ensure_audit_tables

# Columns every raw table carries before the spec's own.
RAW_META_COLUMNS = (
    ("dump_date", "DATE"),
    ("source_file", "VARCHAR"),
    ("source_sha256", "VARCHAR"),
    ("source_line", "BIGINT"),
    ("loaded_at", "TIMESTAMPTZ"),
)
# Ends the reason of a row that repeats an earlier row of its file exactly: harmless, so
# the quarantine-share gate does not count it as a defect.
IDENTICAL_COPY = "(identical copy; counted once)"
# Below this many dated rows a file is too small to tell its date by majority.
WRONG_DATE_MIN_ROWS = 10


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
        ensure_audit_tables(connection)
        _create_raw_table(connection, spec)
        if _current_sha256(connection, spec, dump_date) == sha256:
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


def _create_raw_table(connection, spec: SourceSpec) -> None:
    columns = ",\n".join(
        f"{name} {sql_type}" for name, sql_type in (*RAW_META_COLUMNS, *spec.stored_columns)
    )
    connection.execute(f"CREATE TABLE IF NOT EXISTS {spec.table} ({columns})")


def _current_sha256(connection, spec: SourceSpec, dump_date: date) -> str | None:
    row = connection.execute(
        """SELECT sha256 FROM audit.file_ledger
           WHERE source = ? AND dump_date = ? AND status = 'loaded'
           ORDER BY loaded_at DESC LIMIT 1""",
        [spec.name, dump_date],
    ).fetchone()
    return row[0] if row else None


def _read_as_text(
    spec: SourceSpec, path: Path, secret: bytes, other_sources: Sequence[SourceSpec]
) -> tuple[pa.Table, list[str]]:
    """The file's rows as text columns named as stored; personal data gone before return."""
    expected = tuple(c.header for c in spec.columns)
    text_file = spec.reader(path, expected)
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
    return (
        f"required column(s) missing: {', '.join(missing)} (found: {', '.join(header)}), the "
        f"export's layout changed; re-export it with the standard columns, then {REDELIVER}"
    )


def _judge_sql(spec: SourceSpec) -> str:
    """Each row with its typed values, or the column and reason that keep it out."""
    problem = {c.name: c.type.problem_sql(f"incoming.{c.name}") for c in spec.columns}
    first_column = " ".join(
        f"WHEN p_{name} IS NOT NULL THEN '{c.header}'"
        for c, name in ((c, c.name) for c in spec.columns)
    )
    reasons = ", ".join(f"'{c.header}: ' || p_{c.name}" for c in spec.columns)
    typed = ", ".join(f"{c.type.value_sql(f'incoming.{c.name}')} AS {c.name}" for c in spec.columns)
    text_record = ", ".join(f"'{c.header}', incoming.{c.name}" for c in spec.columns)
    if spec.buyer_account_header:
        typed += ", incoming.buyer_key"
        text_record += ", 'buyer_key', incoming.buyer_key"
    unsplit_record = (
        "json_object('raw_text', incoming.raw_text)"
        if not spec.personal_headers
        else "json_object('raw_text', 'withheld: the row could not be split into columns, "
        "so its personal data could not be removed')"
    )
    key = ", ".join(spec.key)
    key_headers = ", ".join(c.header for c in spec.columns if c.name in spec.key)
    return f"""
    WITH checked AS (
        SELECT incoming.source_line, incoming.read_problem,
               {", ".join(f"{sql} AS p_{name}" for name, sql in problem.items())},
               {typed},
               CASE WHEN incoming.read_problem IS NULL THEN json_object({text_record})
                    ELSE {unsplit_record} END AS raw_record
        FROM incoming
    ), judged AS (
        SELECT *,
               CASE WHEN read_problem IS NOT NULL THEN NULL {first_column} END AS bad_column,
               coalesce(read_problem, nullif(concat_ws('; ', {reasons}), '')) AS bad_reason
        FROM checked
    ), keyed AS (
        SELECT *,
               row_number() OVER key_order AS key_rank,
               first_value(source_line) OVER key_order AS first_line,
               first_value(raw_record) OVER key_order AS first_record
        FROM judged
        WHERE bad_reason IS NULL
        WINDOW key_order AS (PARTITION BY {key} ORDER BY source_line)
    )
    SELECT * EXCLUDE (key_rank, first_line, first_record, bad_column, bad_reason),
           NULL AS bad_column, NULL AS bad_reason
    FROM keyed WHERE key_rank = 1
    UNION ALL BY NAME
    SELECT * EXCLUDE (key_rank, first_line, first_record, bad_column, bad_reason),
           '{key_headers}' AS bad_column,
           'repeats the key of line ' || first_line ||
           CASE WHEN raw_record = first_record THEN ' {IDENTICAL_COPY}'
                ELSE ' with different values (conflicting copy)' END AS bad_reason
    FROM keyed WHERE key_rank > 1
    UNION ALL BY NAME
    SELECT * FROM judged WHERE bad_reason IS NOT NULL
    """


def _check_dump_date(connection, spec: SourceSpec, dump_date: date, path: Path) -> None:
    """Refuse a file for another date: of its staged rows (at least WRONG_DATE_MIN_ROWS of
    them dated), fewer than half fall on its own days (the dump date itself for events and
    metrics, the plausible window for orders; see `DumpDateRule`). A minority of rows outside
    the window is no refusal: the blocking quality gate stops those."""
    rule = spec.dated_by
    if rule is None:
        return
    own_from = dump_date - timedelta(days=0 if rule.own_day_only else rule.days_before)
    dated, own, usual_day = connection.execute(
        f"""SELECT count(day), count(*) FILTER (WHERE day BETWEEN ? AND ?), mode(day)
            FROM (SELECT CAST({rule.column} AS DATE) AS day
                  FROM judged_rows WHERE bad_reason IS NULL)""",
        [own_from, dump_date],
    ).fetchone()
    if dated < WRONG_DATE_MIN_ROWS or 2 * own >= dated:
        return
    header = next(c.header for c in spec.columns if c.name == rule.column)
    days = f"on {dump_date}" if rule.own_day_only else f"from {own_from} to {dump_date}"
    raise FileRefused(
        path,
        f"the file is for another date: only {own} of {dated} rows have a {header} {days} "
        f"(the most common is {usual_day}); deliver each day's export under its own date's "
        "name, then re-run the day",
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
    connection.register("incoming", incoming)
    connection.execute("BEGIN TRANSACTION")
    try:
        connection.execute(f"CREATE TEMP TABLE judged_rows AS {_judge_sql(spec)}")
        _check_dump_date(connection, spec, dump_date, path)
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
        connection.execute(
            """INSERT INTO audit.quarantine
               SELECT ?, ?, ?, ?, source_line, bad_column, bad_reason, raw_record, current_timestamp
               FROM judged_rows WHERE bad_reason IS NOT NULL""",
            [spec.name, dump_date, path.name, sha256],
        )
        reasons = connection.execute(
            """SELECT coalesce(bad_column, 'row') || ': ' ||
                      regexp_replace(bad_reason, '^.*?: ', ''), count(*)
               FROM judged_rows WHERE bad_reason IS NOT NULL GROUP BY ALL ORDER BY 2 DESC"""
        ).fetchall()
        rows_read, rows_staged = connection.execute(
            "SELECT count(*), count(*) FILTER (WHERE bad_reason IS NULL) FROM judged_rows"
        ).fetchone()
        rows_quarantined = rows_read - rows_staged
        connection.execute(
            """INSERT INTO audit.file_ledger VALUES
               (?, ?, ?, ?, 'loaded', ?, ?, ?, ?, NULL, current_timestamp)""",
            [
                spec.name,
                dump_date,
                path.name,
                sha256,
                rows_read,
                rows_staged,
                rows_quarantined,
                ", ".join(dropped) or None,
            ],
        )
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
        rows_quarantined,
        dropped,
        dict(reasons),
    )


def _record_refusal(
    settings: Settings, spec: SourceSpec, dump_date: date, path: Path, sha256: str, reason: str
) -> None:
    with connect(settings.warehouse) as connection:
        connection.execute(
            """INSERT INTO audit.file_ledger VALUES
               (?, ?, ?, ?, 'refused', NULL, 0, NULL, NULL, ?, current_timestamp)""",
            [spec.name, dump_date, path.name, sha256, reason],
        )
