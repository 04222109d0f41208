"""The pipeline job: every asset, from dump file to published snapshot, over dump dates."""

import dagster as dg

pipeline_job = dg.define_asset_job(
    "redcat_pipeline",
    selection=dg.AssetSelection.all(),
    description=(
        "Load the dumps of the selected dump dates, rebuild every model and mart from all "
        "loaded dumps, and publish the analysts' snapshot once every gate has passed."
    ),
)
