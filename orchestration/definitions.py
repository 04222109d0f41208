"""The redcat code location: Definitions assembled from the modules under defs/."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.dbt.assets import dbt_resource, redcat_dbt_models
from orchestration.defs.ingestion.assets import ingestion_assets
from orchestration.lib.partitions import DUMP_DATES

pipeline_job = dg.define_asset_job(
    "redcat_pipeline",
    selection=dg.AssetSelection.all(),
    partitions_def=DUMP_DATES,
    description="Load the dumps of the selected dump dates and rebuild every model and mart.",
)

defs = dg.Definitions(
    assets=[*ingestion_assets, redcat_dbt_models],
    jobs=[pipeline_job],
    resources={"dbt": dbt_resource},
    # One writer at a time: DuckDB takes one writing process per file.
    executor=dg.in_process_executor,
)
