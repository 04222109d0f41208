"""The analysts' snapshot: published only when every upstream asset and gate succeeded."""

import dagster as dg

from orchestration.defs.dbt.assets import redcat_dbt_models
from orchestration.lib.expected_failures import one_line_failures
from orchestration.lib.partitions import DUMP_DATES, SINGLE_RUN, WAREHOUSE_POOL
from orchestration.lib.publication import PUBLISHED_STORAGE_VERSION, publish
from orchestration.lib.settings import Settings


@dg.asset(
    key=dg.AssetKey(["published", "analytics_snapshot"]),
    deps=[redcat_dbt_models],
    description=(
        "The marts and audit tables copied to REDCAT_PUBLISHED (the analysts' read-only file), "
        "checkpointed and atomically replaced, with audit.published_snapshot provenance."
    ),
    group_name="publish",
    kinds={"duckdb"},
    partitions_def=DUMP_DATES,
    backfill_policy=SINGLE_RUN,
    pool=WAREHOUSE_POOL,
)
def analytics_snapshot(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    with one_line_failures():
        snapshot = publish(Settings.from_env(), dagster_run_id=context.run.run_id)
    context.log.info(f"published snapshot {snapshot.snapshot_id} to {snapshot.path}")
    return dg.MaterializeResult(
        metadata={
            "snapshot_id": snapshot.snapshot_id,
            "path": dg.MetadataValue.path(str(snapshot.path)),
            "tables": dg.MetadataValue.json(snapshot.tables),
            "files": snapshot.file_count,
            "code_version": snapshot.code_version,
            "storage_version": PUBLISHED_STORAGE_VERSION,
        }
    )
