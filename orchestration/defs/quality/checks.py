"""Blocking asset checks on every ingestion asset: a failed gate stops the dbt models
downstream, so the marts keep their last good state.

A gate that failed keeps its dump dates under watch: the next evaluation of the same check,
whatever days its run loads, validates them again, so a later nightly run cannot rebuild the
marts over a bad day still staged. Fixing the day (redeliver, re-run it) clears it.
"""

import math
from collections.abc import Callable
from datetime import date

import dagster as dg
import pandas as pd

# Not exported at the top level in Dagster 1.13; the event log's records carry it.
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecordStatus as Status,
)

from orchestration.defs.failures import one_line_failures
from orchestration.defs.ingestion.sources import SOURCES
from orchestration.defs.partitions import WAREHOUSE_POOL, dump_dates_of
from orchestration.lib.quality.gates import ledger_gate, quality_gate
from orchestration.lib.quality.outcome import GateOutcome
from orchestration.lib.settings import Settings, Thresholds
from orchestration.lib.source_spec import SourceSpec

Gate = Callable[[SourceSpec, list[date], Settings, Thresholds], GateOutcome]

CHECKS: dict[str, tuple[Gate, str]] = {
    "quality_gate": (
        quality_gate,
        "Great Expectations suite derived from the source spec, on the staged rows of the "
        "run's dump dates: columns and types, required values, id shapes, enumerations, "
        "bounds, unique keys, ordered pairs, times around the dump date, and the row count "
        "against the ledger's recent median.",
    ),
    "ledger_balances": (
        ledger_gate,
        "audit.file_ledger for the run's dump dates: each day's file loaded, rows read = "
        "staged + quarantined and as the tables hold them, quarantined defects within "
        "REDCAT_MAX_QUARANTINE_SHARE.",
    ),
}


def _dates_of_last_failure(
    context: dg.AssetCheckExecutionContext, check_key: dg.AssetCheckKey
) -> list[date]:
    """The dump dates of this check's latest finished evaluation, if it failed."""
    # The event log's own query: the instance's "latest record" would be this run's planned one.
    history = context.instance.event_log_storage.get_asset_check_execution_history(
        check_key, limit=1, status={Status.SUCCEEDED, Status.FAILED}
    )
    if not history or history[0].status != Status.FAILED:
        return []
    evaluation = history[0].event.asset_check_evaluation if history[0].event else None
    dates = evaluation.metadata.get("dump_dates") if evaluation else None
    return [date.fromisoformat(d) for d in dates.value] if dates else []


def _result(
    context: dg.AssetCheckExecutionContext, outcome: GateOutcome, carried: list[date]
) -> dg.AssetCheckResult:
    log = context.log.info if outcome.passed else context.log.error
    log(outcome.summary())
    return dg.AssetCheckResult(
        passed=outcome.passed,
        description=outcome.summary(),
        metadata={
            "dump_dates": dg.MetadataValue.json([d.isoformat() for d in outcome.dump_dates]),
            "carried_from_last_failure": ", ".join(d.isoformat() for d in carried),
            "rows_checked": outcome.rows_checked,
            "expectations": outcome.expectations,
            "expectations_failed": len(outcome.findings),
            "failed_expectations": _table(outcome.findings_records()),
            "per_dump_date": _table(outcome.days),
        },
    )


TABLE_TYPES = {int: "int", float: "float", bool: "bool"}


def _table(records: list[dict]) -> dg.TableMetadataValue:
    """Records as a Dagster table: dates as text, an empty cell where a value is missing."""

    def cell(value: object) -> str | int | float | bool:
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
            return ""
        if isinstance(value, date | pd.Timestamp):
            return value.strftime("%Y-%m-%d")
        return value.item() if hasattr(value, "item") else value

    rows = [{name: cell(value) for name, value in record.items()} for record in records]
    names = list(records[0]) if records else []
    kinds = {name: type(next((r[name] for r in rows if r[name] != ""), "")) for name in names}
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn(
                name, {int: "int", float: "float", bool: "bool"}.get(kinds[name], "string")
            )
            for name in names
        ]
    )
    return dg.MetadataValue.table([dg.TableRecord(row) for row in rows], schema=schema)


def build_quality_checks(spec: SourceSpec) -> list[dg.AssetChecksDefinition]:
    asset_key = dg.AssetKey(["raw", spec.name])

    def build(name: str, gate: Gate, description: str) -> dg.AssetChecksDefinition:
        @dg.asset_check(
            asset=asset_key,
            name=name,
            description=description,
            blocking=True,
            # Not partitioned: partitioned checks are a preview in Dagster 1.13, and a run over
            # a range of days records one evaluation without a partition anyway. The check
            # reads the run's dump dates from its context and names them in its metadata.
            pool=WAREHOUSE_POOL,  # DuckDB refuses a reader while another process writes
        )
        def check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
            run_dates = dump_dates_of(context)
            last_failure = _dates_of_last_failure(context, dg.AssetCheckKey(asset_key, name))
            carried = sorted(set(last_failure) - set(run_dates))
            with one_line_failures():
                settings = Settings.from_env()
            outcome = gate(spec, sorted(run_dates + carried), settings, settings.thresholds)
            return _result(context, outcome, carried)

        return check

    return [build(name, gate, description) for name, (gate, description) in CHECKS.items()]


quality_checks = [check for spec in SOURCES for check in build_quality_checks(spec)]
