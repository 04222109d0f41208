"""Blocking asset checks on every ingestion asset: a failed gate stops the dbt models
downstream, so the marts keep their last good state.

A gate that failed keeps its dump dates under watch: the next evaluation of the same check,
whatever days its run loads, validates them again, so a later nightly run cannot rebuild the
marts over a bad day still staged. Fixing the day (redeliver, re-run it) clears it. So do
days whose ledger was written since the check last judged, by a run that stopped before its
gates, or by a later file's settlement of conflicts: every staged day is judged.
"""

import math
from collections.abc import Callable, Iterator
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
from orchestration.lib import lake
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


def _dates_to_judge_again(
    context: dg.AssetCheckExecutionContext,
    check_key: dg.AssetCheckKey,
    ledger_written: dict[date, float],
) -> set[date]:
    """Besides the run's: the dump dates of this check's latest finished evaluation if it
    failed, and those whose ledger was written since it (loaded by a run killed or failed
    before its gates, or run without them, or recounted when a later file settled conflicts
    across files), every day if it has none (a new instance): no staged day goes unjudged."""
    # The event log's own query: the instance's "latest record" would be this run's planned one.
    history = context.instance.event_log_storage.get_asset_check_execution_history(
        check_key, limit=1, status={Status.SUCCEEDED, Status.FAILED}
    )
    last = history[0].event if history else None
    judged_at = last.timestamp if last else 0.0
    dates = {day for day, written in ledger_written.items() if written > judged_at}
    failed = last.asset_check_evaluation.metadata.get("dump_dates") if last else None
    if history and history[0].status == Status.FAILED and failed:
        dates |= {date.fromisoformat(d) for d in failed.value}
    return dates


def _result(
    context: dg.AssetCheckExecutionContext,
    check_key: dg.AssetCheckKey,
    outcome: GateOutcome,
    carried: list[date],
) -> dg.AssetCheckResult:
    log = context.log.info if outcome.passed else context.log.error
    log(outcome.summary())
    return dg.AssetCheckResult(
        asset_key=check_key.asset_key,
        check_name=check_key.name,
        passed=outcome.passed,
        description=outcome.summary(),
        metadata={
            "dump_dates": dg.MetadataValue.json([d.isoformat() for d in outcome.dump_dates]),
            "judged_again": ", ".join(d.isoformat() for d in carried),
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


def build_gates(spec: SourceSpec) -> dg.AssetChecksDefinition:
    """A source's gates, one step: each step of a run costs Dagster its own records and the
    pool's slot, and a night's gates take a fraction of a second each. Either may be run
    alone from the UI."""
    asset_key = dg.AssetKey(["raw", spec.name])

    @dg.multi_asset_check(
        specs=[
            dg.AssetCheckSpec(name, asset=asset_key, description=description, blocking=True)
            for name, (_, description) in CHECKS.items()
        ],
        name=f"raw__{spec.name}_gates",
        can_subset=True,
        # Not partitioned: partitioned checks are a preview in Dagster 1.13, and a run over a
        # range of days records one evaluation without a partition anyway. The gates read the
        # run's dump dates from its context and name them in their metadata.
        pool=WAREHOUSE_POOL,  # DuckDB refuses a reader while another process writes
    )
    def gates(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        run_dates = dump_dates_of(context)
        with one_line_failures():
            settings = Settings.from_env()
        ledger_written = lake.ledger_written(settings.lake, spec.name)
        errors = []
        for name, (gate, _) in CHECKS.items():
            check_key = dg.AssetCheckKey(asset_key, name)
            if check_key not in context.selected_asset_check_keys:
                continue
            again = _dates_to_judge_again(context, check_key, ledger_written)
            carried = sorted(again - set(run_dates))
            try:
                outcome = gate(spec, sorted(run_dates + carried), settings, settings.thresholds)
            except Exception as error:  # the other gate still judges; the step fails after
                errors.append(error)
                continue
            yield _result(context, check_key, outcome, carried)
        if errors:
            raise errors[0]

    return gates


quality_checks = [build_gates(spec) for spec in SOURCES]
