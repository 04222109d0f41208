"""The redcat code location: Definitions assembled from the modules under defs/."""

import dagster as dg

from orchestration.defs.dbt.assets import dbt_resource, redcat_dbt_models
from orchestration.defs.failures import console_logger
from orchestration.defs.ingestion.assets import ingestion_assets
from orchestration.defs.pipeline.jobs import pipeline_job
from orchestration.defs.pipeline.schedules import nightly_schedule
from orchestration.defs.pipeline.sensors import inbox_sensor
from orchestration.defs.publish.assets import analytics_snapshot
from orchestration.defs.quality.checks import quality_checks

defs = dg.Definitions(
    assets=[*ingestion_assets, redcat_dbt_models, analytics_snapshot],
    asset_checks=quality_checks,
    jobs=[pipeline_job],
    schedules=[nightly_schedule],
    sensors=[inbox_sensor],
    resources={"dbt": dbt_resource},
    loggers={"console": console_logger},
    # One writer at a time: DuckDB takes one writing process per file.
    executor=dg.in_process_executor,
)
