"""Run the pipeline job over a range of dump dates: the same assets the schedule and UI use,
on the instance they use (orchestration/dagster_home.py). `redcat run`'s entry point."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import dagster as dg
from dagster._core.execution.plan.objects import StepFailureData

from orchestration.dagster_home import prepare_dagster_home
from orchestration.defs.dbt.project import prepare_manifest

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
# Which process executes an in-process run, so a later run can tell that it died.
HOST_TAG = "redcat/host"
PID_TAG = "redcat/pid"
UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]

# Failures the operator fixes: their message says what to do, the class name adds nothing.
EXPECTED_ERRORS = ("ConfigurationError", "PublicationRefused")

# Per-file lines are logged at INFO, Dagster's step events at DEBUG (they would drown them).
# `redcat run` passes WARNING unless --verbose: its progress bars say how far the run is.
DEFAULT_LOG_LEVEL = "INFO"


PUBLICATION_STEP = "published__analytics_snapshot"
# How often a run looks for runs killed while it waits on them (their pool slot).
DEAD_RUNS_CHECKED_EVERY = 5.0


@dataclass
class RunOutcome:
    success: bool
    run_id: str
    failures: list[str]
    # Nothing was staged and no model changed since the last publication: nothing rebuilt.
    nothing_changed: bool = False


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def fail_runs_of_dead_processes(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the runs of `redcat run`s on this host that were killed outright, and free
    their slots of the warehouse pool.

    A process killed with SIGKILL (or a machine restart) leaves its run STARTED and its pool
    slot claimed, and every later run, the nightly one included, would wait for that slot
    forever. The daemon cannot notice: an in-process run has no run worker it can check.
    A pid reused since then only makes us keep waiting, as Dagster would.
    """
    host = socket.gethostname()
    failed = []
    for record in instance.get_run_records(
        dg.RunsFilter(statuses=UNFINISHED, tags={HOST_TAG: host})
    ):
        run = record.dagster_run
        pid = int(run.tags[PID_TAG])
        if _is_alive(pid):
            continue
        instance.report_run_failed(run, f"its process {pid} on {host} died before the run ended")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        failed.append(run.run_id)
    return failed


def _free_slots_of_dead_runs(instance: dg.DagsterInstance) -> None:
    for run_id in fail_runs_of_dead_processes(instance):
        dg.get_dagster_logger().warning(
            f"run {run_id} was killed before it ended: marked failed, warehouse slot freed"
        )


@contextmanager
def _freeing_slots_of_runs_that_die_meanwhile(instance: dg.DagsterInstance) -> Iterator[None]:
    """While this run goes on, every DEAD_RUNS_CHECKED_EVERY seconds: a run ahead of it that is
    killed while this one waits for its warehouse slot would otherwise keep the slot, and this
    run would wait for ever (until a later `redcat run` starts)."""
    ended = threading.Event()

    def check() -> None:
        while not ended.wait(DEAD_RUNS_CHECKED_EVERY):
            try:
                _free_slots_of_dead_runs(instance)
            except Exception as error:  # the instance busy, say: the next check tries again
                dg.get_dagster_logger().warning(f"could not look for killed runs: {error}")

    checker = threading.Thread(target=check, name="free-slots-of-dead-runs", daemon=True)
    checker.start()
    try:
        yield
    finally:
        ended.set()
        checker.join()


def run_pipeline(
    start: date,
    end: date,
    instance: dg.DagsterInstance | None = None,
    log_level: str = DEFAULT_LOG_LEVEL,
) -> RunOutcome:
    """One run over [start, end], both included, on `instance` (default: DAGSTER_HOME's, the
    UI's)."""
    prepare_manifest()  # the definitions read it when they load: imported only after it
    from orchestration.definitions import defs
    from orchestration.defs.pipeline.jobs import pipeline_job

    if instance is None:
        prepare_dagster_home()
        instance = dg.DagsterInstance.get()
    _free_slots_of_dead_runs(instance)
    job = defs.resolve_job_def(pipeline_job.name)
    with _freeing_slots_of_runs_that_die_meanwhile(instance):
        result = job.execute_in_process(
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            instance=instance,
            tags={
                RANGE_START_TAG: start.isoformat(),
                RANGE_END_TAG: end.isoformat(),
                HOST_TAG: socket.gethostname(),
                PID_TAG: str(os.getpid()),
            },
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
        elif event.is_step_failure and not _failed_for_its_checks(event.step_failure_data):
            failures.append(f"{event.step_key}: {_step_failure_text(event.step_failure_data)}")
    skipped = {event.step_key for event in result.all_events if event.is_step_skipped}
    return RunOutcome(
        result.success, result.run_id, failures, result.success and PUBLICATION_STEP in skipped
    )


def _failed_for_its_checks(failure: StepFailureData) -> bool:
    """A step that failed only because a blocking check it ran failed: the check's own
    evaluation, listed already, says why."""
    return failure.error is not None and failure.error.cls_name == "DagsterAssetCheckFailedError"


def _step_failure_text(failure: StepFailureData) -> str:
    """What failed a step, without a traceback: a dg.Failure's description, else the first line
    of the error the step's code raised (not Dagster's wrapper around it); an expected failure
    (a bad setting, a refused publication) by its message alone."""
    if failure.user_failure_data and failure.user_failure_data.description:
        return failure.user_failure_data.description
    error = failure.error
    while error.cause is not None and error.cls_name == "DagsterExecutionStepExecutionError":
        error = error.cause
    message = error.message.strip().splitlines()[0]
    if error.cls_name in EXPECTED_ERRORS:
        message = message.partition(f"{error.cls_name}: ")[2]
    return message
