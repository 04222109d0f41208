"""The analysts' snapshot: published only when every upstream asset and gate succeeded."""

import dagster as dg

from orchestration.defs.dbt.assets import MART_KEYS, redcat_dbt_project
from orchestration.defs.failures import one_line_failures
from orchestration.defs.partitions import WAREHOUSE_POOL
from orchestration.lib.publication import PUBLISHED_STORAGE_VERSION, publish, stamped_keys_of
from orchestration.lib.settings import Settings


@dg.asset(
    key=dg.AssetKey(["published", "analytics_snapshot"]),
    deps=MART_KEYS,
    description=(
        "The marts and audit tables copied to REDCAT_PUBLISHED (the analysts' read-only file), "
        "checkpointed and atomically replaced, with audit.published_snapshot provenance."
    ),
    group_name="publish",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
)
def analytics_snapshot(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    with one_line_failures():
        settings = Settings.from_env()
        if settings.engine == "spark":
            # The DuckDB file is for DuckDB users; on Spark the marts already are the published
            # Parquet tables dbt wrote (README: Scale out), and REDCAT_PUBLISHED stays as it was.
            marts = settings.spark_warehouse / "marts.db"
            context.log.info(f"REDCAT_ENGINE=spark: no DuckDB file published; marts at {marts}")
            return dg.MaterializeResult(
                metadata={"engine": "spark", "marts": dg.MetadataValue.path(str(marts))}
            )
        # Imported here, not when the definitions load: matplotlib takes half a second, which
        # the run's ingestion steps spend meanwhile (they start the import).
        from orchestration.lib.report import draw_charts, key_figures, write_report

        snapshot = publish(
            settings,
            dagster_run_id=context.run.run_id,
            stamped_keys=stamped_keys_of(redcat_dbt_project.manifest_path),
            # The report's charts, the slowest part of the step, drawn from the marts while
            # they are copied.
            read_beside_the_copy=draw_charts,
        )
    context.log.info(f"published snapshot {snapshot.snapshot_id} to {snapshot.path}")
    # The latest report always sits beside the file it was drawn from (its charts drawn anew
    # if they could not be meanwhile).
    report = write_report(snapshot.path, charts=snapshot.read_beside)
    context.log.info(f"campaign report: {report}")
    figures = key_figures(snapshot.path)
    return dg.MaterializeResult(
        metadata={
            "snapshot_id": snapshot.snapshot_id,
            "path": dg.MetadataValue.path(str(snapshot.path)),
            "tables": dg.MetadataValue.json(snapshot.tables),
            "files": snapshot.file_count,
            "code_version": snapshot.code_version,
            "built_anew": snapshot.built_anew,
            "storage_version": PUBLISHED_STORAGE_VERSION,
            "report": dg.MetadataValue.path(str(report)),
            # Numeric values, so the asset page plots them run after run.
            "attributed_share": dg.MetadataValue.float(figures.attributed_share),
            "paid_orders": dg.MetadataValue.int(figures.paid_orders),
            "campaigns": dg.MetadataValue.int(figures.campaigns),
            "campaigns_t7_complete": dg.MetadataValue.int(figures.campaigns_t7_complete),
            "campaigns_t30_complete": dg.MetadataValue.int(figures.campaigns_t30_complete),
            "orders_t7": dg.MetadataValue.int(figures.orders_t7),
            "orders_t30": dg.MetadataValue.int(figures.orders_t30),
            "gmv_t7": dg.MetadataValue.float(float(figures.gmv_t7)),
            "gmv_t30": dg.MetadataValue.float(float(figures.gmv_t30)),
            "top_campaigns": dg.MetadataValue.md(figures.top_campaigns_markdown),
        }
    )
