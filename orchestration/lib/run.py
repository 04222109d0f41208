"""Run the pipeline job over a range of dump dates: the same assets the schedule and UI use."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date

import dagster as dg

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"

# Per-file progress is logged at INFO; Dagster's step events at DEBUG would drown it.
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


@dataclass
class RunOutcome:
    success: bool
    run_id: str
    failures: list[str]


def _instance() -> dg.DagsterInstance:
    """The persistent instance when DAGSTER_HOME is set (runs show in the UI), else ephemeral."""
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def run_pipeline(start: date, end: date, instance: dg.DagsterInstance | None = None) -> RunOutcome:
    from orchestration.definitions import defs
    from orchestration.defs.pipeline.jobs import pipeline_job

    job = defs.resolve_job_def(pipeline_job.name)
    result = job.execute_in_process(
        run_config=QUIET_RUN_CONFIG,
        instance=instance or _instance(),
        tags={RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: end.isoformat()},
        raise_on_error=False,
    )
    failures = []
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.asset_check_evaluation_data
            if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
                failures.append(
                    f"check {evaluation.asset_key.to_user_string()}:{evaluation.check_name} "
                    f"failed: {evaluation.description}"
                )
        elif event.is_step_failure:
            error = event.step_failure_data.user_failure_data
            description = error.description if error else None
            failures.append(
                f"{event.step_key}: {description or event.step_failure_data.error.message}"
            )
    return RunOutcome(result.success, result.run_id, failures)
