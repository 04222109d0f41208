"""What the gates check, as SQL that DuckDB evaluates over the staged rows and the ledger of a
run's dump dates; GX then judges the per-day figures (orchestration/lib/quality/validation.py).

The row rules re-check, on what is staged, what the source spec promises: the loader already
quarantines every row that breaks one (orchestration/lib/row_rules.py), so on a healthy lake
they all hold. They are there for what the loader cannot see: a lake edited by hand, a
warehouse moved in from before the lake, a loader bug. The gates' own judgement is in the
ledger and volume rules: rows read = staged + quarantined and as the tables hold them, the
quarantined share of defects, the file's size against the recent median.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestration.lib.columns import BUYER_KEY, ColumnType
from orchestration.lib.row_rules import EXPORT_DELAY_DAYS, local_day
from orchestration.lib.source_spec import RAW_META_COLUMNS, SourceSpec
from orchestration.lib.warehouse import sql_literal


@dataclass(frozen=True)
class RowRule:
    description: str
    column: str  # the stored column(s) it is about
    broken: str  # SQL: true where a staged row breaks it
    shown: str  # SQL: what a finding shows of a row that breaks it


def _text(expression: str) -> str:
    return f"coalesce(CAST({expression} AS VARCHAR), '(empty)')"


def row_rules(spec: SourceSpec) -> list[RowRule]:
    types: dict[str, ColumnType] = {c.name: c.type for c in spec.columns}
    if spec.buyer_account_header:
        types["buyer_key"] = BUYER_KEY
    rules = [
        RowRule(
            f"one row per dump date and {', '.join(spec.key)}",
            ", ".join(spec.key),
            "key_copies > 1",
            "'(' || " + " || ', ' || ".join(_text(k) for k in spec.key) + " || ')'",
        )
    ]
    for name, column_type in types.items():
        header = spec.header(name)
        if column_type.required:
            rules.append(RowRule(f"{header} is present", name, f"{name} IS NULL", "'(empty)'"))
        if column_type.allowed:
            values = ", ".join(sql_literal(v) for v in column_type.allowed)
            broken = f"{name} NOT IN ({values})"
        elif column_type.pattern and column_type.sql_type == "VARCHAR":
            broken = f"NOT regexp_full_match({name}, {sql_literal(column_type.pattern)})"
        else:
            broken = None
        if broken:
            rules.append(RowRule(f"{header} is {column_type.description}", name, broken, name))
        bounds = []
        if column_type.min_value is not None:
            bounds.append(f"{name} < {column_type.min_value}")
        if column_type.max_value is not None:
            bounds.append(f"{name} > {column_type.max_value}")
        if bounds:
            rules.append(
                RowRule(f"{header} is {column_type.description}", name, " OR ".join(bounds), name)
            )
    for lesser, greater in spec.ordered:
        rules.append(
            RowRule(
                f"{spec.header(lesser)} ≤ {spec.header(greater)}",
                f"{lesser}, {greater}",
                f"{lesser} > {greater}",
                f"'(' || {_text(lesser)} || ', ' || {_text(greater)} || ')'",
            )
        )
    rules += _time_rules(spec)
    return rules


def _time_rules(spec: SourceSpec) -> list[RowRule]:
    """Rule 4 of orchestration/lib/row_rules.py: no time after what its dump date may hold."""
    rules = []
    dated = spec.dated_by
    for column in spec.columns:
        if column.type.sql_type != "TIMESTAMPTZ" and not (dated and column.name == dated.column):
            continue
        distance = f"datediff('day', dump_date, {local_day(spec, column.name)})"
        if dated and column.name == dated.column:
            broken, window = (
                (f"{distance} > 0", "is no later than the dump date")
                if dated.late_rows_allowed
                else (f"{distance} <> 0", "lies on the dump date")
            )
        else:
            broken = f"{distance} > {EXPORT_DELAY_DAYS}"
            window = f"is no later than {EXPORT_DELAY_DAYS} day after the dump date"
        shown = f"CASE WHEN {distance} >= 0 THEN '+' ELSE '' END || {distance} || ' days'"
        rules.append(RowRule(f"{column.header} {window} (China time)", column.name, broken, shown))
    return rules


def checked_rows_sql(spec: SourceSpec) -> str:
    """The staged rows of the dump dates `$dates`, each with how often its key is in its day.
    Counted and joined, not in a window: a window over a year's first load outgrows DuckDB's
    memory, a join spills to disk."""
    key = ", ".join(spec.key)
    same_key = " AND ".join(f"staged.{k} IS NOT DISTINCT FROM copies.{k}" for k in spec.key)
    staged = f"SELECT * FROM {spec.table} WHERE dump_date IN (SELECT unnest($dates))"
    return f"""
        SELECT staged.*, copies.key_copies
        FROM ({staged}) AS staged
        JOIN (SELECT dump_date, {key}, count(*) AS key_copies FROM ({staged})
              GROUP BY dump_date, {key}) AS copies
          ON staged.dump_date = copies.dump_date AND {same_key}"""


def row_metrics_sql(spec: SourceSpec, rules: list[RowRule]) -> str:
    """Per dump date of `$dates` (a day without rows too): its staged rows and, per rule, how
    many break it."""
    counts = ", ".join(
        f"count(*) FILTER (WHERE {rule.broken}) AS rule_{number}"
        for number, rule in enumerate(rules)
    )
    zeros = ", ".join(f"coalesce(per_day.rule_{n}, 0) AS rule_{n}" for n in range(len(rules)))
    return f"""
        SELECT day.dump_date, coalesce(per_day.rows_staged, 0) AS rows_staged, {zeros}
        FROM (SELECT unnest($dates) AS dump_date) AS day
        LEFT JOIN (SELECT dump_date, count(*) AS rows_staged, {counts}
                   FROM ({checked_rows_sql(spec)}) GROUP BY dump_date) AS per_day
          USING (dump_date)
        ORDER BY day.dump_date"""


def examples_sql(spec: SourceSpec, rule: RowRule, samples: int) -> str:
    return f"""
        SELECT {rule.shown} AS shown, source_file || ' line ' || source_line AS location
        FROM ({checked_rows_sql(spec)}) WHERE {rule.broken}
        ORDER BY dump_date, source_line LIMIT {samples}"""


def expected_columns(spec: SourceSpec) -> list[tuple[str, str]]:
    """(name, type) of `raw.<source>` as the spec has it."""
    return [(name, sql_type) for name, sql_type in (*RAW_META_COLUMNS, *spec.stored_columns)]


_CURRENT_DELIVERIES_SQL = "SELECT * FROM audit.current_delivery WHERE source = $source"

VOLUME_SQL = f"""
    WITH loaded AS (
        SELECT dump_date, rows_read FROM audit.current_delivery
        WHERE source = $source AND status = 'loaded'
    ), history AS (
        SELECT day.dump_date, median(past.rows_read) AS recent_median,
               count(past.rows_read) AS recent_files
        FROM (SELECT unnest($dates) AS dump_date) AS day
        LEFT JOIN loaded AS past
          ON past.dump_date < day.dump_date
         AND past.dump_date >= day.dump_date - to_days(CAST($history_days AS INTEGER))
        GROUP BY day.dump_date
    )
    SELECT history.dump_date, latest.file_name, latest.rows_read, history.recent_median,
           history.recent_files,
           CASE WHEN history.recent_files >= $min_history
                 AND history.recent_median >= $min_median
                THEN $share * history.recent_median ELSE 0 END AS row_count_floor
    FROM history LEFT JOIN ({_CURRENT_DELIVERIES_SQL}) AS latest USING (dump_date)
    ORDER BY history.dump_date
"""


# The first defects quarantined on the failing dump dates, with file, line and column: what
# to fix, where a share alone says only how much. Reasons never quote a personal cell.
QUARANTINED_EXAMPLES_SQL = """
SELECT file_name || ' line ' || line_number
       || CASE WHEN starts_with(reason, column_name || ':') THEN ''
               ELSE coalesce(', ' || column_name, '') END
       || ': ' || reason
FROM audit.quarantine
WHERE source = $source AND dump_date IN (SELECT unnest($dates)) AND kind <> $identical
ORDER BY dump_date, file_name, line_number
LIMIT $samples
"""


def ledger_sql(spec: SourceSpec) -> str:
    """Per dump date of `$dates`: its current delivery's counts against what the tables hold."""
    return f"""
    WITH days AS (SELECT unnest($dates) AS dump_date),
    quarantined AS (
        SELECT dump_date, count(*) AS rows_in_quarantine,
               count(*) FILTER (WHERE kind <> $identical) AS defect_rows
        FROM audit.quarantine
        WHERE source = $source AND dump_date IN (SELECT dump_date FROM days)
        GROUP BY dump_date
    ), staged AS (
        SELECT dump_date, count(*) AS rows_in_raw FROM {spec.table}
        WHERE dump_date IN (SELECT dump_date FROM days) GROUP BY dump_date
    )
    SELECT days.dump_date, latest.file_name, latest.status,
           latest.rows_read, latest.rows_staged, latest.rows_quarantined,
           latest.rows_read - latest.rows_staged - latest.rows_quarantined AS unaccounted_rows,
           coalesce(staged.rows_in_raw, 0) AS rows_in_raw,
           coalesce(quarantined.rows_in_quarantine, 0) AS rows_in_quarantine,
           coalesce(quarantined.defect_rows, 0) AS defect_rows,
           CASE WHEN latest.rows_read > 0
                THEN round(coalesce(quarantined.defect_rows, 0) / latest.rows_read, 6)
                ELSE 0 END AS quarantine_share
    FROM days
    LEFT JOIN ({_CURRENT_DELIVERIES_SQL}) AS latest USING (dump_date)
    LEFT JOIN staged USING (dump_date)
    LEFT JOIN quarantined USING (dump_date)
    ORDER BY days.dump_date
    """
