"""Blocking asset checks on every ingestion asset: a failed gate stops the dbt models
downstream in the same run, so the marts keep their last good state."""

from collections.abc import Callable

import dagster as dg

from orchestration.defs.ingestion.sources import SOURCES
from orchestration.defs.quality.gates import GateOutcome, ledger_gate, quality_gate
from orchestration.defs.quality.thresholds import Thresholds
from orchestration.lib.partitions import WAREHOUSE_POOL, dump_dates_of
from orchestration.lib.settings import Settings
from orchestration.lib.source_spec import SourceSpec

Gate = Callable[[SourceSpec, list, Settings, Thresholds], GateOutcome]

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


def _result(context: dg.AssetCheckExecutionContext, outcome: GateOutcome) -> dg.AssetCheckResult:
    if outcome.passed:
        context.log.info(outcome.summary())
    else:
        context.log.error(outcome.summary())
    return dg.AssetCheckResult(
        passed=outcome.passed,
        description=outcome.summary().splitlines()[0],
        metadata={
            "dump_dates": ", ".join(f"{d}" for d in outcome.dump_dates),
            "rows_checked": outcome.rows_checked,
            "expectations": outcome.expectations,
            "expectations_failed": len(outcome.findings),
            "failed_expectations": dg.MetadataValue.md(outcome.findings_markdown()),
            "per_dump_date": dg.MetadataValue.md(outcome.days_markdown()),
        },
    )


def build_quality_checks(spec: SourceSpec) -> list[dg.AssetChecksDefinition]:
    def build(name: str, gate: Gate, description: str) -> dg.AssetChecksDefinition:
        @dg.asset_check(
            asset=dg.AssetKey(["raw", spec.name]),
            name=name,
            description=description,
            blocking=True,
            # Not partitioned: partitioned checks are a preview in Dagster 1.13, and a run over
            # a range of days records one evaluation without a partition anyway. The check
            # reads the run's dump dates from its context and names them in its metadata.
            pool=WAREHOUSE_POOL,  # DuckDB refuses a reader while another process writes
        )
        def check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
            outcome = gate(spec, dump_dates_of(context), Settings.from_env(), Thresholds.from_env())
            return _result(context, outcome)

        return check

    return [build(name, gate, description) for name, (gate, description) in CHECKS.items()]


quality_checks = [check for spec in SOURCES for check in build_quality_checks(spec)]
