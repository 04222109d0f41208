"""Great Expectations gates on landed dumps, every expectation derived from the source specs.

Two gates per source, each over the dump dates of a run:

- the quality gate validates the staged rows of `raw.<source>` (columns and types, required
  values, id shapes, enumerations, bounds, unique keys, ordered pairs such as refund ≤ paid,
  times within the plausible window of the dump date) and the file's row count against the
  ledger's recent median (a tracking outage looks like a normal file with few rows);
- the ledger gate validates `audit.file_ledger` against the tables: every dump date has its
  file loaded, rows read = staged + quarantined, those counts are what `raw.<source>` and
  `audit.quarantine` hold, and the quarantined share of defects is within the threshold.

Frames are read through a read-only DuckDB connection that is closed before GX runs: DuckDB
takes one writer, and dbt runs next as a subprocess. GX runs on pandas frames in an
ephemeral context (GX through SQLAlchemy on DuckDB does not work). Findings carry counts,
rules and a few sample values with their file and line; raw holds no clear personal data
(buyer_key is a keyed hash), so neither do they.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from orchestration.defs.quality.thresholds import Thresholds
from orchestration.lib import audit
from orchestration.lib.columns import BUYER_KEY, ColumnType
from orchestration.lib.row_rules import EXPORT_DELAY_DAYS
from orchestration.lib.settings import Settings
from orchestration.lib.source_spec import RAW_META_COLUMNS, SourceSpec
from orchestration.lib.warehouse import connect

# How DuckDB hands each SQL type to pandas, named as GX's type expectation names it.
PANDAS_TYPES = {
    "VARCHAR": "str",
    "BIGINT": "int64",
    "DECIMAL": "float64",
    "DATE": "datetime64",
    "TIMESTAMPTZ": "Timestamp",
}
SAMPLES = 5
# Days are validated in batches of about this many rows: a year's backfill of a large brand
# does not fit in one pandas frame.
BATCH_ROWS = 500_000
ROW_LOCATION = ["source_file", "source_line"]
DAY_LOCATION = ["dump_date"]


@dataclass
class Finding:
    """One failed expectation: what was expected, how much failed, a few examples."""

    rule: str
    column: str
    unexpected: int | None  # failing rows (or days); None for a table-level rule
    checked: int | None
    unit: str
    observed: str = ""
    examples: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)

    @property
    def failing(self) -> str:
        if self.unexpected is None:
            return self.observed
        return f"{self.unexpected} of {self.checked} {self.unit}"

    def add(self, other: Finding) -> None:
        """The same rule failing in another batch of days."""
        if self.unexpected is not None and other.unexpected is not None:
            self.unexpected += other.unexpected
            self.checked = (self.checked or 0) + (other.checked or 0)
        self.examples = (self.examples + other.examples)[:SAMPLES]
        self.where = (self.where + other.where)[:SAMPLES]


@dataclass
class GateOutcome:
    gate: str
    source: str
    dump_dates: list[date]
    rows_checked: int
    expectations: int
    findings: list[Finding]
    days: list[dict[str, Any]]  # one row per dump date: the figures the gate judged

    @property
    def passed(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        dates = ", ".join(f"{d}" for d in self.dump_dates)
        if self.passed:
            return (
                f"{self.source} {self.gate}: all {self.expectations} expectations met on "
                f"{self.rows_checked} rows of dump date(s) {dates}"
            )
        lines = [
            f"{self.source} {self.gate}: {len(self.findings)} of {self.expectations} "
            f"expectations failed on dump date(s) {dates}:"
        ]
        for finding in self.findings:
            where = f" at {', '.join(finding.where)}" if finding.where else ""
            examples = f" (e.g. {', '.join(finding.examples)})" if finding.examples else ""
            lines.append(f"- {finding.rule}: {finding.failing}{examples}{where}")
        return "\n".join(lines)

    def findings_markdown(self) -> str:
        lines = ["| rule | column | failing | examples | where |", "|---|---|---|---|---|"]
        lines += [
            f"| {f.rule} | {f.column or ''} | {f.failing} | {'; '.join(f.examples)} "
            f"| {'; '.join(f.where)} |"
            for f in self.findings
        ]
        return "\n".join(lines)

    def days_markdown(self) -> str:
        if not self.days:
            return ""
        columns = list(self.days[0])
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(_text(day[c]) for c in columns) + " |" for day in self.days]
        return "\n".join(lines)


DAYS_FROM_DUMP = "__days_from_dump_date"


def days_from_dump_column(column: str) -> str:
    return column + DAYS_FROM_DUMP


def _time_columns(spec: SourceSpec) -> list[str]:
    """The dated column and every other instant: each gets its distance to the dump date."""
    dated = [spec.dated_by.column] if spec.dated_by else []
    instants = [c.name for c in spec.columns if c.type.sql_type == "TIMESTAMPTZ"]
    return dated + [name for name in instants if name not in dated]


def _rows_sql(spec: SourceSpec) -> str:
    distances = "".join(
        f", datediff('day', dump_date, CAST({name} AS DATE)) AS {days_from_dump_column(name)}"
        for name in _time_columns(spec)
    )
    return (
        f"SELECT *{distances} FROM {spec.table} "
        "WHERE dump_date IN (SELECT unnest($dates)) ORDER BY dump_date, source_line"
    )


_LATEST_FILES_SQL = "SELECT * FROM audit.current_delivery WHERE source = $source"

_VOLUME_SQL = f"""
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
    FROM history LEFT JOIN ({_LATEST_FILES_SQL}) AS latest USING (dump_date)
    ORDER BY history.dump_date
"""


def _ledger_sql(spec: SourceSpec) -> str:
    return f"""
    WITH days AS (SELECT unnest($dates) AS dump_date),
    quarantined AS (
        SELECT dump_date, count(*) AS rows_in_quarantine,
               count(*) FILTER (WHERE kind <> $identical) AS defect_rows
        FROM audit.quarantine WHERE source = $source GROUP BY dump_date
    ), staged AS (
        SELECT dump_date, count(*) AS rows_in_raw FROM {spec.table} GROUP BY dump_date
    )
    SELECT days.dump_date, latest.file_name, latest.status, latest.refusal_reason,
           latest.rows_read, latest.rows_staged, latest.rows_quarantined,
           latest.rows_read - latest.rows_staged - latest.rows_quarantined AS unaccounted_rows,
           coalesce(staged.rows_in_raw, 0) AS rows_in_raw,
           coalesce(quarantined.rows_in_quarantine, 0) AS rows_in_quarantine,
           coalesce(quarantined.defect_rows, 0) AS defect_rows,
           CASE WHEN latest.rows_read > 0
                THEN round(coalesce(quarantined.defect_rows, 0) / latest.rows_read, 6)
                ELSE 0 END AS quarantine_share
    FROM days
    LEFT JOIN ({_LATEST_FILES_SQL}) AS latest USING (dump_date)
    LEFT JOIN staged USING (dump_date)
    LEFT JOIN quarantined USING (dump_date)
    ORDER BY days.dump_date
    """


def quality_gate(
    spec: SourceSpec, dump_dates: list[date], settings: Settings, thresholds: Thresholds
) -> GateOutcome:
    row_rules = _row_expectations(spec)
    volume_rules = _volume_expectations(thresholds)
    findings: dict[tuple[str, str], Finding] = {}
    rows_checked = 0
    with connect(settings.warehouse, read_only=True) as connection:
        volume = connection.execute(
            _VOLUME_SQL,
            {
                "source": spec.name,
                "dates": dump_dates,
                "history_days": thresholds.row_count_history_days,
                "min_history": thresholds.row_count_min_history,
                "min_median": thresholds.row_count_min_median,
                "share": thresholds.min_row_count_share,
            },
        ).df()
        for batch in _batches(volume):
            rows = connection.execute(_rows_sql(spec), {"dates": batch}).df()
            rows_checked += len(rows)
            for finding in _validate(rows, row_rules, ROW_LOCATION):
                key = (finding.rule, finding.column)
                if key in findings:
                    findings[key].add(finding)
                else:
                    findings[key] = finding
    return GateOutcome(
        "quality gate",
        spec.name,
        dump_dates,
        rows_checked,
        len(row_rules) + len(volume_rules),
        [*findings.values(), *_validate(volume, volume_rules, DAY_LOCATION)],
        volume.to_dict("records"),
    )


def _batches(volume: pd.DataFrame) -> list[list[date]]:
    """The dump dates in consecutive groups of at most BATCH_ROWS rows (or one day)."""
    batches: list[list[date]] = [[]]
    size = 0
    for day, rows in zip(volume["dump_date"], volume["rows_read"].fillna(0), strict=True):
        if batches[-1] and size + rows > BATCH_ROWS:
            batches.append([])
            size = 0
        batches[-1].append(day.date())
        size += rows
    return batches


def ledger_gate(
    spec: SourceSpec, dump_dates: list[date], settings: Settings, thresholds: Thresholds
) -> GateOutcome:
    with connect(settings.warehouse, read_only=True) as connection:
        files = connection.execute(
            _ledger_sql(spec),
            {"source": spec.name, "dates": dump_dates, "identical": audit.IDENTICAL_COPY},
        ).df()
    rules = _ledger_expectations(thresholds)
    return GateOutcome(
        "ledger gate",
        spec.name,
        dump_dates,
        int(files["rows_read"].fillna(0).sum()),
        len(rules),
        _validate(files, rules, DAY_LOCATION),
        files.drop(columns=["refusal_reason"]).to_dict("records"),
    )


def _row_expectations(spec: SourceSpec) -> list:
    import great_expectations.expectations as gxe  # GX takes seconds to import: only here

    types: dict[str, ColumnType] = {c.name: c.type for c in spec.columns}
    headers = {c.name: c.header for c in spec.columns}
    if spec.buyer_account_header:
        types["buyer_key"] = BUYER_KEY
        headers["buyer_key"] = "buyer_key"
    stored = [*RAW_META_COLUMNS, *spec.stored_columns]
    distances = [days_from_dump_column(name) for name in _time_columns(spec)]
    rules = [
        gxe.ExpectTableColumnsToMatchOrderedList(
            column_list=[name for name, _ in stored] + distances,
            description=f"{spec.table} has the columns of the {spec.name} spec",
        ),
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["dump_date", *spec.key],
            description=f"one row per dump date and {', '.join(spec.key)}",
        ),
    ]
    for name, sql_type in stored:
        rules.append(
            gxe.ExpectColumnValuesToBeOfType(
                column=name,
                type_=PANDAS_TYPES[sql_type.split("(")[0]],
                description=f"{name} is stored as {sql_type}",
            )
        )
    for name, column_type in types.items():
        header = headers[name]
        if column_type.required:
            rules.append(
                gxe.ExpectColumnValuesToNotBeNull(column=name, description=f"{header} is present")
            )
        if column_type.allowed:
            rules.append(
                gxe.ExpectColumnValuesToBeInSet(
                    column=name,
                    value_set=list(column_type.allowed),
                    description=f"{header} is {column_type.description}",
                )
            )
        elif column_type.pattern and column_type.sql_type == "VARCHAR":
            rules.append(
                gxe.ExpectColumnValuesToMatchRegex(
                    column=name,
                    regex=f"^(?:{column_type.pattern})$",
                    description=f"{header} is {column_type.description}",
                )
            )
        if column_type.min_value is not None or column_type.max_value is not None:
            rules.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=name,
                    min_value=column_type.min_value,
                    max_value=column_type.max_value,
                    description=f"{header} is {column_type.description}",
                )
            )
    for lesser, greater in spec.ordered:
        rules.append(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=greater,
                column_B=lesser,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                description=f"{headers[lesser]} ≤ {headers[greater]}",
            )
        )
    # Re-checks rule 4 of orchestration/lib/row_rules.py on what was staged.
    for name in _time_columns(spec):
        dated = spec.dated_by is not None and name == spec.dated_by.column
        earliest = None if not dated or spec.dated_by.late_rows_allowed else 0
        latest = 0 if dated else EXPORT_DELAY_DAYS
        window = (
            "is no later than the dump date"
            if earliest is None and dated
            else "lies on the dump date"
            if dated
            else f"is no later than {latest} day after the dump date"
        )
        rules.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=days_from_dump_column(name),
                min_value=earliest,
                max_value=latest,
                description=f"{headers[name]} {window} (China time)",
            )
        )
    return rules


def _volume_expectations(thresholds: Thresholds) -> list:
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="rows_read",
            column_B="row_count_floor",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            description=(
                f"rows read ≥ {thresholds.min_row_count_share:.0%} of the median of the files "
                f"of the {thresholds.row_count_history_days} days before (not collapsed)"
            ),
        )
    ]


def _ledger_expectations(thresholds: Thresholds) -> list:
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToNotBeNull(
            column="file_name", description="the dump date has a file in the ledger"
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="status",
            value_set=["loaded"],
            description="the dump date's latest file was loaded, not refused",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="unaccounted_rows",
            min_value=0,
            max_value=0,
            description="rows read - rows staged - rows quarantined = 0",
        ),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="rows_in_raw",
            column_B="rows_staged",
            ignore_row_if="either_value_is_missing",
            description="the raw table holds the rows the ledger says were staged",
        ),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="rows_in_quarantine",
            column_B="rows_quarantined",
            ignore_row_if="either_value_is_missing",
            description="audit.quarantine holds the rows the ledger says were quarantined",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="quarantine_share",
            min_value=0,
            max_value=thresholds.max_quarantine_share,
            description=(
                f"at most {thresholds.max_quarantine_share:.2%} of the rows read are "
                "quarantined as defects (REDCAT_MAX_QUARANTINE_SHARE)"
            ),
        ),
    ]


def _validate(frame: pd.DataFrame, expectations: list, location: list[str]) -> list[Finding]:
    """The failed expectations; `location` names a failing row (file and line, or day)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("redcat")
        .add_dataframe_asset("frame")
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = gx.ExpectationSuite(name="gate", expectations=expectations)
    result = batch.validate(
        suite,
        result_format={
            "result_format": "SUMMARY",
            "partial_unexpected_count": SAMPLES,
            "unexpected_index_column_names": location,
        },
    )
    return [_finding(r, frame, location) for r in result.results if not r.success]


def _finding(result, frame: pd.DataFrame, location: list[str]) -> Finding:
    config = result.expectation_config
    columns = config.kwargs.get("column_list") or [
        config.kwargs[k] for k in ("column", "column_A", "column_B") if k in config.kwargs
    ]
    finding = Finding(
        rule=config.description or config.type,
        column=", ".join(columns),
        unexpected=None,
        checked=None,
        unit="rows" if location == ROW_LOCATION else "dump dates",
    )
    details = result.result or {}
    if result.exception_info.get("raised_exception"):
        finding.observed = f"could not be evaluated: {result.exception_info}"
        return finding
    if "unexpected_count" not in details:
        finding.observed = f"observed {_text(details.get('observed_value'))}"
        return finding
    finding.unexpected = details["unexpected_count"]
    finding.checked = details.get("element_count")
    values = details.get("partial_unexpected_list", [])[:SAMPLES]
    if columns[0].endswith(DAYS_FROM_DUMP):
        finding.examples = [f"{int(float(v)):+d} days" for v in values]
    else:
        dtypes = [frame[c].dtype if c in frame else None for c in columns]
        finding.examples = [_example(v, dtypes) for v in values]
    finding.where = [
        _location(index, frame, location)
        for index in details.get("partial_unexpected_index_list", [])[:SAMPLES]
        if isinstance(index, dict)
    ]
    return finding


def _location(index: dict, frame: pd.DataFrame, location: list[str]) -> str:
    """`file line n` for a row, the dump date for a day."""
    return " line ".join(_text(index.get(name), frame[name].dtype) for name in location)


def _example(value: object, dtypes: list) -> str:
    """A failing value, or the values of a failing pair or key, as the columns hold them."""
    if isinstance(value, dict):
        value = tuple(value.values())
    if isinstance(value, tuple | list):
        return "(" + ", ".join(_text(v, d) for v, d in zip(value, dtypes, strict=False)) + ")"
    return _text(value, dtypes[0] if dtypes else None)


def _text(value: object, dtype: object = None, limit: int = 80) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        text = "(empty)"
    elif isinstance(value, datetime | np.datetime64):
        stamp = pd.Timestamp(value)
        if isinstance(dtype, pd.DatetimeTZDtype):
            # GX hands pairs of instants over as naive UTC.
            stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
            text = str(stamp.tz_convert(dtype.tz))
        elif stamp.tzinfo is None:
            text = stamp.date().isoformat()  # a DATE column: pandas holds it as a naive midnight
        else:
            text = str(stamp)
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
