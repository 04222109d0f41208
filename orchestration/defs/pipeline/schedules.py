"""Nightly: at 02:00 China time, load yesterday's dumps and rebuild what they change.

Orders, refunds and late clicks keep changing the last 30 days of click cohorts; the dbt
models rebuild from every loaded dump on each run, so the nightly run re-derives those
cohorts and its marts equal a full rebuild's.
"""

import dagster as dg

from orchestration.defs.pipeline.jobs import pipeline_job

nightly_schedule = dg.build_schedule_from_partitioned_job(
    pipeline_job,
    name="redcat_nightly",
    hour_of_day=2,
    minute_of_hour=0,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="02:00 Asia/Shanghai: yesterday's dumps of every source, then dbt, then publish.",
)
