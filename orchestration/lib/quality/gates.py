"""The two gates per source, each over the dump dates of a run (nightly: the new day, plus
days a failed gate keeps under watch):

- the quality gate: the row rules of the source spec counted per day in DuckDB, the table's
  columns and types, and the file's row count against the ledger's recent median;
- the ledger gate: every day has its delivery loaded, rows read = staged + quarantined and
  as the tables hold them, the quarantined share of defects within the threshold.

DuckDB does the counting through a read-only connection, closed before GX judges the per-day
figures; findings carry counts, the rule, a few values and their file and line. The lake
holds no clear personal data (buyer_key is a keyed hash), so neither do they.
"""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import pandas as pd

from orchestration.lib import audit
from orchestration.lib.quality.outcome import SAMPLES, Finding, GateOutcome
from orchestration.lib.quality.rules import (
    QUARANTINED_EXAMPLES_SQL,
    VOLUME_SQL,
    examples_sql,
    expected_columns,
    ledger_sql,
    row_metrics_sql,
    row_rules,
)
from orchestration.lib.quality.validation import (
    failed_expectations,
    failing_locations,
    great_expectations,
)
from orchestration.lib.settings import Settings, Thresholds
from orchestration.lib.source_spec import SourceSpec
from orchestration.lib.warehouse import connect

QUARANTINE_SHARE = "quarantine_share"


def quality_gate(
    spec: SourceSpec, dump_dates: list[date], settings: Settings, thresholds: Thresholds
) -> GateOutcome:
    gxe = great_expectations().expectations

    rules = row_rules(spec)
    with connect(settings.warehouse, read_only=True) as connection:
        metrics = connection.execute(row_metrics_sql(spec, rules), {"dates": dump_dates}).df()
        volume = connection.execute(
            VOLUME_SQL,
            {
                "source": spec.name,
                "dates": dump_dates,
                "history_days": thresholds.row_count_history_days,
                "min_history": thresholds.row_count_min_history,
                "min_median": thresholds.row_count_min_median,
                "share": thresholds.min_row_count_share,
            },
        ).df()
        stored = {
            name: sql_type
            for name, sql_type, *_ in connection.execute(f"DESCRIBE {spec.table}").fetchall()
        }
        expected = expected_columns(spec)
        # As DuckDB names them (TIMESTAMPTZ is TIMESTAMP WITH TIME ZONE).
        type_names = connection.execute(
            "SELECT " + ", ".join(f"typeof(CAST(NULL AS {t}))" for _, t in expected)
        ).fetchone()
        columns = pd.DataFrame(
            [
                {"column": name, "expected_type": type_name, "stored_type": stored.get(name)}
                for (name, _), type_name in zip(expected, type_names, strict=True)
            ]
        )
        row_expectations = [
            gxe.ExpectColumnValuesToBeBetween(
                column=f"rule_{number}", min_value=0, max_value=0, description=rule.description
            )
            for number, rule in enumerate(rules)
        ]
        findings = []
        rows_checked = int(metrics["rows_staged"].sum())
        for result in failed_expectations(metrics, row_expectations, "dump_date"):
            column = result.expectation_config.kwargs["column"]
            rule = rules[int(column.removeprefix("rule_"))]
            examples = connection.execute(
                examples_sql(spec, rule, SAMPLES), {"dates": dump_dates}
            ).fetchall()
            findings.append(
                Finding(
                    rule=rule.description,
                    column=rule.column,
                    unexpected=int(metrics[column].sum()),
                    checked=rows_checked,
                    unit="rows",
                    examples=[shown for shown, _ in examples],
                    where=[location for _, location in examples],
                )
            )
    column_expectations = [
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="stored_type",
            column_B="expected_type",
            description=f"{spec.table} has the columns and types of the {spec.name} spec",
        )
    ]
    volume_expectations = [
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
    findings += [
        _finding(r, columns, "column")
        for r in failed_expectations(columns, column_expectations, "column")
    ]
    findings += [
        _finding(r, volume, "dump_date")
        for r in failed_expectations(volume, volume_expectations, "dump_date")
    ]
    return GateOutcome(
        "quality gate",
        spec.name,
        dump_dates,
        rows_checked,
        len(row_expectations) + len(column_expectations) + len(volume_expectations),
        findings,
        volume.to_dict("records"),
    )


def ledger_gate(
    spec: SourceSpec, dump_dates: list[date], settings: Settings, thresholds: Thresholds
) -> GateOutcome:
    with connect(settings.warehouse, read_only=True) as connection:
        days = connection.execute(
            ledger_sql(spec),
            {"source": spec.name, "dates": dump_dates, "identical": audit.IDENTICAL_COPY},
        ).df()
        expectations = _ledger_expectations(thresholds)
        findings = [
            _finding(r, days, "dump_date")
            for r in failed_expectations(days, expectations, "dump_date")
        ]
        for finding in findings:
            if finding.column == QUARANTINE_SHARE:
                # The share says how much; the rows say what to fix, and where.
                finding.examples += [
                    text
                    for (text,) in connection.execute(
                        QUARANTINED_EXAMPLES_SQL,
                        {
                            "source": spec.name,
                            "dates": [date.fromisoformat(d) for d in finding.where],
                            "identical": audit.IDENTICAL_COPY,
                            "samples": SAMPLES,
                        },
                    ).fetchall()
                ]
    return GateOutcome(
        "ledger gate",
        spec.name,
        dump_dates,
        int(days["rows_read"].fillna(0).sum()),
        len(expectations),
        findings,
        days.to_dict("records"),
    )


def _ledger_expectations(thresholds: Thresholds) -> list:
    gxe = great_expectations().expectations

    return [
        gxe.ExpectColumnValuesToNotBeNull(
            column="file_name", description="the dump date has a file in the ledger"
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="status",
            value_set=[audit.LOADED],
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
            column=QUARANTINE_SHARE,
            min_value=0,
            max_value=thresholds.max_quarantine_share,
            description=(
                f"at most {thresholds.max_quarantine_share:.2%} of the rows read are "
                "quarantined as defects (REDCAT_MAX_QUARANTINE_SHARE)"
            ),
        ),
    ]


def _finding(result, frame: pd.DataFrame, location: str) -> Finding:
    """A failed expectation on a frame of a row per day (or column)."""
    config = result.expectation_config
    columns = [config.kwargs[k] for k in ("column", "column_A", "column_B") if k in config.kwargs]
    finding = Finding(
        rule=config.description or config.type,
        column=", ".join(columns),
        unexpected=None,
        checked=None,
        unit="dump dates" if location == "dump_date" else "columns",
    )
    details = result.result or {}
    if result.exception_info.get("raised_exception"):
        finding.observed = f"could not be evaluated: {result.exception_info}"
        return finding
    finding.unexpected = details["unexpected_count"]
    finding.checked = details.get("element_count")
    dtypes = [frame[c].dtype if c in frame else None for c in columns]
    finding.examples = [_example(v, dtypes) for v in details.get("partial_unexpected_list", [])]
    finding.where = [
        _text(value, frame[location].dtype) for value in failing_locations(result, location)
    ]
    return finding


def _example(value: object, dtypes: list) -> str:
    """A failing value, or the values of a failing pair, as the columns hold them."""
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
        # A DATE column: pandas holds it as a naive midnight.
        text = stamp.date().isoformat() if stamp.tzinfo is None else str(stamp)
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
