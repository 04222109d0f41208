"""Every rule one row can break, in one place: a row that breaks one is quarantined with its
file, line, column, reason and kind; the quality gates then judge the quarantined share.

In the order they are judged (the first that fails names the column; reasons add up):
1. the row can be split into the header's cells (`unreadable_row`);
2. each cell is what its column holds: present if required, its pattern, enumeration and
   bounds (`bad_value`; orchestration/lib/columns.py);
3. ordered cells agree: created ≤ paid, refund ≤ paid, start ≤ end (`inconsistent_row`);
4. its dated column is not after its dump date (nor on another day, for a day's note
   metrics), its other times at most EXPORT_DELAY_DAYS after it (`outside_dump_date`);
   rows of earlier days are late data and load, however late;
5. its key appears once in its file: a repeat counts once (`identical_copy`, no defect) or
   conflicts (`conflicting_copy`);
6. for clicks, a key delivered in an earlier file with other values (note, campaign, time)
   conflicts: the later delivery is quarantined (`conflicting_copy`), whichever file is
   loaded first (`settle_conflicts_across_files`).

A file as a whole is for another date when most of its dated rows break rule 4: it is refused.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from orchestration.lib import audit, lake
from orchestration.lib.settings import BUSINESS_TIME_ZONE
from orchestration.lib.source_spec import RAW_META_COLUMNS, SourceSpec
from orchestration.lib.warehouse import sql_literal

# What the quarantine keeps of a row that could not be split into cells: not its text, in which
# no cell can be told personal or not (a misaligned, cut or foreign row; a phone in an extra
# field). Its file and line say where to look.
UNSPLIT_ROW_TEXT = (
    "withheld: the row could not be split into columns, so its cells cannot be told personal or not"
)

# An order dump exported after midnight may hold payments made since: its other times may run
# into the next day.
EXPORT_DELAY_DAYS = 1
# Below this many dated rows a file is too small to tell its date by majority.
WRONG_DATE_MIN_ROWS = 10


def local_day(spec: SourceSpec, name: str) -> str:
    """The Asia/Shanghai calendar day of a typed column."""
    column = next(c for c in spec.columns if c.name == name)
    if column.type.sql_type == "TIMESTAMPTZ":
        return f"CAST(timezone({sql_literal(BUSINESS_TIME_ZONE)}, {name}) AS DATE)"
    return f"CAST({name} AS DATE)"


def _row_checks(spec: SourceSpec) -> list[tuple[str, str, str, str]]:
    """(column header, condition that breaks the rule, reason, kind) of rules 3 and 4, over the
    typed values of rows whose cells passed; `$dump_date` is the file's dump date."""
    checks = []
    for lesser, greater in spec.ordered:
        sql_type = next(c.type.sql_type for c in spec.columns if c.name == lesser)
        comparison = "later than" if sql_type in ("DATE", "TIMESTAMPTZ") else "greater than"
        checks.append(
            (
                spec.header(lesser),
                f"{lesser} > {greater}",
                sql_literal(f"{spec.header(lesser)}: {comparison} {spec.header(greater)}"),
                audit.INCONSISTENT_ROW,
            )
        )
    rule = spec.dated_by
    if rule:
        day = local_day(spec, rule.column)
        header = spec.header(rule.column)
        broken, relation = (
            (f"{day} > $dump_date", "after")
            if rule.late_rows_allowed
            else (f"{day} <> $dump_date", "not")
        )
        checks.append(
            (
                header,
                broken,
                f"{sql_literal(header + ': on ')} || {day} || "
                f"{sql_literal(f', {relation} its dump date ')} || CAST($dump_date AS VARCHAR)",
                audit.OUTSIDE_DUMP_DATE,
            )
        )
    for column in spec.columns:
        if column.type.sql_type != "TIMESTAMPTZ" or (rule and column.name == rule.column):
            continue
        day = local_day(spec, column.name)
        checks.append(
            (
                column.header,
                f"{day} > $dump_date + {EXPORT_DELAY_DAYS}",
                f"{sql_literal(column.header + ': on ')} || {day} || "
                f"{sql_literal(f', more than {EXPORT_DELAY_DAYS} day after its dump date ')} "
                "|| CAST($dump_date AS VARCHAR)",
                audit.OUTSIDE_DUMP_DATE,
            )
        )
    return checks


def judge_sql(spec: SourceSpec) -> str:
    """Each row of the registered text table `incoming` with its typed values, or the column,
    reason and kind that keep it out. Parameter: `$dump_date`."""
    cells = [(c, c.type.problem_sql(f"incoming.{c.name}")) for c in spec.columns]
    typed = ", ".join(f"{c.type.value_sql(f'incoming.{c.name}')} AS {c.name}" for c in spec.columns)
    text_record = ", ".join(f"'{c.header}', incoming.{c.name}" for c in spec.columns)
    if spec.buyer_account_header:
        typed += ", incoming.buyer_key"
        text_record += ", 'buyer_key', incoming.buyer_key"
    # (header, broken, reason, kind) for every rule after the row could be split.
    checks = [
        (
            sql_literal(c.header),
            f"p_{c.name} IS NOT NULL",
            f"'{c.header}: ' || p_{c.name}",
            audit.BAD_VALUE,
        )
        for c, _ in cells
    ]
    cells_ok = " AND ".join(f"p_{c.name} IS NULL" for c, _ in cells)
    checks += [
        (sql_literal(header), f"({cells_ok}) AND ({broken})", reason, kind)
        for header, broken, reason, kind in _row_checks(spec)
    ]
    first_column = " ".join(f"WHEN {broken} THEN {header}" for header, broken, _, _ in checks)
    reasons = ", ".join(f"CASE WHEN {broken} THEN {reason} END" for _, broken, reason, _ in checks)
    kinds = " ".join(f"WHEN {broken} THEN '{kind}'" for _, broken, _, kind in checks)
    key = ", ".join(spec.key)
    key_headers = ", ".join(spec.header(name) for name in spec.key)
    return f"""
    WITH checked AS (
        SELECT CAST($dump_date AS DATE) AS dump_date, incoming.source_line,
               incoming.read_problem,
               {", ".join(f"{sql} AS p_{c.name}" for c, sql in cells)},
               {typed},
               CASE WHEN incoming.read_problem IS NULL THEN json_object({text_record})
                    ELSE json_object('raw_text', {sql_literal(UNSPLIT_ROW_TEXT)}) END AS raw_record
        FROM incoming
    ), judged AS (
        SELECT *,
               CASE WHEN read_problem IS NOT NULL THEN NULL {first_column} END AS bad_column,
               coalesce(read_problem, nullif(concat_ws('; ', {reasons}), '')) AS bad_reason,
               CASE WHEN read_problem IS NOT NULL THEN '{audit.UNREADABLE_ROW}' {kinds}
               END AS bad_kind
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
    SELECT * EXCLUDE (key_rank, first_line, first_record)
    FROM keyed WHERE key_rank = 1
    UNION ALL BY NAME
    SELECT * EXCLUDE (key_rank, first_line, first_record, bad_column, bad_reason, bad_kind),
           '{key_headers}' AS bad_column,
           'repeats the key of line ' || first_line ||
           CASE WHEN raw_record = first_record THEN ' (identical copy; counted once)'
                ELSE ' with different values (conflicting copy)' END AS bad_reason,
           CASE WHEN raw_record = first_record THEN '{audit.IDENTICAL_COPY}'
                ELSE '{audit.CONFLICTING_COPY}' END AS bad_kind
    FROM keyed WHERE key_rank > 1
    UNION ALL BY NAME
    SELECT * FROM judged WHERE bad_reason IS NOT NULL
    """


def wrong_date_reason(
    connection: duckdb.DuckDBPyConnection, spec: SourceSpec, dump_date: date
) -> str | None:
    """Why the judged file (temp table `judged_rows`) is for another date, if it is: of its
    rows whose cells passed (at least WRONG_DATE_MIN_ROWS), most are dated outside what its
    dump date may hold."""
    rule = spec.dated_by
    if rule is None:
        return None
    day = local_day(spec, rule.column)
    own = f"{day} <= $dump_date" if rule.late_rows_allowed else f"{day} = $dump_date"
    dated, own_rows, usual_day = connection.execute(
        f"""SELECT count({day}), count(*) FILTER (WHERE {own}), mode({day})
            FROM judged_rows
            WHERE bad_kind IS NULL OR bad_kind = '{audit.OUTSIDE_DUMP_DATE}'""",
        {"dump_date": dump_date},
    ).fetchone()
    if dated < WRONG_DATE_MIN_ROWS or 2 * own_rows >= dated:
        return None
    days = f"on or before {dump_date}" if rule.late_rows_allowed else f"on {dump_date}"
    return (
        f"the file is for another date: only {own_rows} of {dated} rows have a "
        f"{spec.header(rule.column)} {days} (the most common is {usual_day}); deliver each "
        "day's export under its own date's name, then re-run the day"
    )


def settle_conflicts_across_files(
    connection: duckdb.DuckDBPyConnection, spec: SourceSpec, lake_path: Path, touched: list[Path]
) -> dict[date, tuple[int, int]]:
    """Rule 6 for the keys of the `touched` Parquet files (those new deliveries hold, or held
    before): of all their deliveries, staged or held, the first (earliest dump date, then line)
    is staged; a later one that differs in `agreeing_across_files` is held (the spec's held
    table) and quarantined, one that agrees stays staged (dbt counts it once). Held rows keep
    their typed values, so a redelivery that removes the first copy restores them. Rewrites
    the days whose rows moved (a row of a key delivered once, and staged, stays as it is);
    returns their (staged, quarantined) counts, as their ledger now says."""
    key = list(spec.key)
    agreeing = spec.agreeing_across_files
    staged_files = sorted((lake_path / "raw" / spec.name).glob("*/*.parquet"))
    held_files = sorted(lake_path.glob(f"raw/{spec.held_table.removeprefix('raw.')}/*/*.parquet"))
    connection.execute(
        f"CREATE OR REPLACE TEMP VIEW touched AS SELECT * FROM {lake.read_sql(touched, ())}"
    )
    same_key = " AND ".join(f"delivery.{k} = touched.{k}" for k in key)
    tables = [(staged_files, "false"), (held_files, "true")]
    both = " UNION ALL BY NAME ".join(
        f"""SELECT *, {was_held} AS was_held FROM {lake.read_sql(files, ("dump_date",))}
            AS delivery WHERE EXISTS (SELECT 1 FROM touched WHERE {same_key})"""
        for files, was_held in tables
        if files
    )
    first_values = ", ".join(f"first_value({c}) OVER first_order AS first_{c}" for c in agreeing)
    differs = {c: f"{c} IS DISTINCT FROM first_{c}" for c in agreeing}
    # Only a key delivered more than once, or held, can move: the window ranks those alone (a
    # first load touches every key, and a window over all of them outgrows DuckDB's memory).
    contested_key = " AND ".join(f"delivery.{k} = contested.{k}" for k in key)
    connection.execute(
        f"""CREATE OR REPLACE TEMP TABLE deliveries AS
            WITH contested AS (
                SELECT {", ".join(key)} FROM ({both}) AS delivery GROUP BY ALL
                HAVING count(*) > 1 OR bool_or(was_held)
            ),
            ordered AS (
                SELECT *, row_number() OVER first_order AS delivery_rank,
                       first_value(source_file) OVER first_order AS first_file,
                       first_value(source_line) OVER first_order AS first_line,
                       {first_values}
                FROM ({both}) AS delivery
                WHERE EXISTS (SELECT 1 FROM contested WHERE {contested_key})
                WINDOW first_order AS (PARTITION BY {", ".join(key)}
                                       ORDER BY dump_date, source_line)
            )
            SELECT *, delivery_rank > 1 AND ({" OR ".join(differs.values())}) AS conflicts
            FROM ordered"""
    )
    connection.execute("DROP VIEW touched")
    changed_days = [
        day
        for (day,) in connection.execute(
            "SELECT DISTINCT dump_date FROM deliveries WHERE conflicts <> was_held ORDER BY 1"
        ).fetchall()
    ]
    record = ", ".join(f"{sql_literal(c.header)}, CAST({c.name} AS VARCHAR)" for c in spec.columns)
    differing = ", ".join(
        f"CASE WHEN {differs[c]} THEN {sql_literal(spec.header(c))} END" for c in agreeing
    )
    columns = ", ".join(name for name, _ in (*RAW_META_COLUMNS, *spec.stored_columns))
    kept = columns.replace("dump_date, ", "")
    counts = {}
    for day in changed_days:
        parts = {}
        for table, held in ((spec.table, False), (spec.held_table, True)):
            folder = lake.partition(lake_path, table, day)
            before = lake.files(folder)
            earlier = (
                f"""SELECT {kept} FROM {lake.read_sql(before, ())} AS kept
                    WHERE NOT EXISTS (SELECT 1 FROM deliveries AS moved
                                      WHERE moved.dump_date = $day
                                        AND moved.source_line = kept.source_line)
                    UNION ALL BY NAME """
                if before
                else ""
            )
            parts[held] = lake.write_partition(
                connection,
                f"""{earlier}SELECT {kept} FROM deliveries
                    WHERE dump_date = $day AND conflicts = {held}
                    ORDER BY source_line""",
                folder,
                {"day": day},
            )
        quarantine_folder = lake.audit_partition(lake_path, "quarantine", spec.name, day)
        before = lake.files(quarantine_folder)
        earlier = (
            f"""SELECT {audit.quarantine_sql_columns()} FROM {lake.read_sql(before, ())} AS held
                WHERE NOT (kind = '{audit.CONFLICTING_COPY}' AND EXISTS (
                    SELECT 1 FROM deliveries AS settled WHERE settled.dump_date = $day
                       AND settled.source_line = held.line_number))
                UNION ALL BY NAME """
            if before
            else ""
        )
        quarantined = lake.write_partition(
            connection,
            f"""{earlier}SELECT source_file AS file_name, source_sha256 AS sha256,
                       source_line AS line_number,
                       {sql_literal(", ".join(spec.header(k) for k in key))} AS column_name,
                       'repeats the key of ' || first_file || ' line ' || first_line ||
                       ' with another ' || concat_ws(', ', {differing}) || ' (conflicting copy)'
                       AS reason,
                       json_object({record}) AS raw_record,
                       current_timestamp AS quarantined_at,
                       '{audit.CONFLICTING_COPY}' AS kind
                FROM deliveries WHERE dump_date = $day AND conflicts
                ORDER BY line_number""",
            quarantine_folder,
            {"day": day},
        )
        audit.recount_delivery(connection, lake_path, spec.name, day, parts[False], quarantined)
        counts[day] = (parts[False], quarantined)
    connection.execute("DROP TABLE deliveries")
    return counts
