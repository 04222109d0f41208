"""Blocking asset checks on every ingestion asset: a failed gate stops the dbt models
downstream, so the marts keep their last good state.

A gate that failed keeps its dump dates under watch: the next evaluation of the same check,
whatever days its run loads, validates them again, so a later nightly run cannot rebuild the
marts over a bad day still staged. Fixing the day (redeliver, re-run it) clears it. So do
days whose ledger was written since the check last judged, by a run that stopped before its
gates, or by a later file's settlement of conflicts: every staged day is judged.

A gate whose last verdict passed on the same inputs (the days' rows and the source's ledger as
files on disk, the thresholds, the code and the libraries that judge) gives it again without
judging: a night where nothing changed costs its gates a look at the files.
"""

import functools
import hashlib
import math
from collections.abc import Callable, Iterator
from datetime import date, datetime
from importlib.metadata import version
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pandas as pd

# Not exported at the top level in Dagster 1.13; the event log's records carry it.
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecord,
)
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecordStatus as Status,
)

import orchestration.lib
from orchestration.defs.failures import one_line_failures
from orchestration.defs.ingestion import sources
from orchestration.defs.ingestion.sources import SOURCES
from orchestration.defs.partitions import WAREHOUSE_POOL, dump_dates_of
from orchestration.lib import lake
from orchestration.lib.quality.gates import ledger_gate, quality_gate
from orchestration.lib.quality.outcome import GateOutcome
from orchestration.lib.settings import BUSINESS_TIME_ZONE, Settings, Thresholds
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


# The code a verdict comes from: the gates, the rules and specs they judge by, and what they read.
GATE_CODE = sorted(
    {*Path(orchestration.lib.__file__).parent.rglob("*.py"), Path(__file__), Path(sources.__file__)}
)
GATE_LIBRARIES = ("great_expectations", "duckdb", "pandas")


@functools.cache
def _judging_code() -> bytes:
    """The code and libraries a verdict comes from, read once a process."""
    digest = hashlib.sha256(repr([version(library) for library in GATE_LIBRARIES]).encode())
    for path in GATE_CODE:
        digest.update(path.read_bytes())
    return digest.digest()


def _inputs(settings: Settings, spec: SourceSpec, dump_dates: tuple[date, ...]) -> str:
    """What a verdict on these days depends on, taken before judging: the days' rows and the
    source's ledger as files on disk, where they are read from (a REDCAT_LAKE pointed elsewhere
    holds other files), the thresholds, and the code and libraries that judge."""
    digest = hashlib.sha256(
        repr(
            (
                [d.isoformat() for d in dump_dates],
                lake.files_identity(settings.lake, spec, dump_dates),
                settings.lake.resolve(),
                settings.warehouse.resolve(),
                settings.thresholds,
            )
        ).encode()
    )
    digest.update(_judging_code())
    return digest.hexdigest()


def _latest_evaluation(
    context: dg.AssetCheckExecutionContext, check_key: dg.AssetCheckKey
) -> AssetCheckExecutionRecord | None:
    """This check's latest finished evaluation, if any."""
    # The event log's own query: the instance's "latest record" would be this run's planned one.
    history = context.instance.event_log_storage.get_asset_check_execution_history(
        check_key, limit=1, status={Status.SUCCEEDED, Status.FAILED}
    )
    return history[0] if history else None


def _dates_to_judge_again(
    last: AssetCheckExecutionRecord | None, ledger_written: dict[date, float]
) -> set[date]:
    """Besides the run's: the dump dates of this check's latest finished evaluation if it
    failed, and those whose ledger was written since it (loaded by a run killed or failed
    before its gates, or run without them, or recounted when a later file settled conflicts
    across files), every day if it has none (a new instance): no staged day goes unjudged."""
    judged_at = last.event.timestamp if last else 0.0
    dates = {day for day, written in ledger_written.items() if written > judged_at}
    failed = last.event.asset_check_evaluation.metadata.get("dump_dates") if last else None
    if last and last.status == Status.FAILED and failed:
        dates |= {date.fromisoformat(d) for d in failed.value}
    return dates


def _passed_on_the_same_inputs(
    last: AssetCheckExecutionRecord | None, again: set[date], inputs: str
) -> bool:
    """Whether the latest evaluation passed on what this one would judge: the same days, their
    rows and the source's ledger as they were then, and nothing else to judge again."""
    if last is None or last.status != Status.SUCCEEDED or again:
        return False
    judged = last.event.asset_check_evaluation.metadata.get("inputs")
    return judged is not None and judged.value == inputs


UNCHANGED = "Unchanged since judged at"


def _passed_again(
    context: dg.AssetCheckExecutionContext,
    check_key: dg.AssetCheckKey,
    last: AssetCheckExecutionRecord,
) -> dg.AssetCheckResult:
    """The latest evaluation's verdict, findings and figures, and when they were judged (a
    verdict given again keeps its judgment's time)."""
    evaluation = last.event.asset_check_evaluation
    metadata = evaluation.metadata
    judged_at = (
        metadata["unchanged_since"].value
        if "unchanged_since" in metadata
        else datetime.fromtimestamp(last.event.timestamp, ZoneInfo(BUSINESS_TIME_ZONE)).isoformat(
            sep=" ", timespec="seconds"
        )
    )
    verdict = evaluation.description.split(f". {UNCHANGED}")[0]
    description = f"{verdict}. {UNCHANGED} {judged_at}: the same rows, ledger, thresholds and code."
    context.log.info(description)
    return dg.AssetCheckResult(
        asset_key=check_key.asset_key,
        check_name=check_key.name,
        passed=True,
        description=description,
        metadata={**metadata, "judged_again": "", "unchanged_since": judged_at},
    )


def _result(
    context: dg.AssetCheckExecutionContext,
    check_key: dg.AssetCheckKey,
    outcome: GateOutcome,
    carried: list[date],
    inputs: str,
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
            "inputs": inputs,
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
        # Both gates usually judge the same days: their files are looked at once.
        inputs_of = functools.cache(lambda days: _inputs(settings, spec, days))
        errors = []
        for name, (gate, _) in CHECKS.items():
            check_key = dg.AssetCheckKey(asset_key, name)
            if check_key not in context.selected_asset_check_keys:
                continue
            last = _latest_evaluation(context, check_key)
            again = _dates_to_judge_again(last, ledger_written)
            judged = tuple(sorted(set(run_dates) | again))
            inputs = inputs_of(judged)
            if _passed_on_the_same_inputs(last, again, inputs):
                yield _passed_again(context, check_key, last)
                continue
            try:
                outcome = gate(spec, list(judged), settings, settings.thresholds)
            except Exception as error:  # the other gate still judges; the step fails after
                errors.append(error)
                continue
            yield _result(context, check_key, outcome, sorted(again - set(run_dates)), inputs)
        if errors:
            raise errors[0]

    return gates


quality_checks = [build_gates(spec) for spec in SOURCES]
