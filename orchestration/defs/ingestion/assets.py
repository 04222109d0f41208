"""One ingestion asset per source spec, all made by the same factory."""

import contextlib

import dagster as dg

from orchestration.defs.failures import one_line_failures
from orchestration.defs.ingestion.sources import SOURCES
from orchestration.defs.partitions import DUMP_DATES, SINGLE_RUN, WAREHOUSE_POOL, dump_dates_of
from orchestration.lib.loading import (
    LoadResult,
    finish_loading,
    move_warehouse_tables_into_lake,
    show_lake_in_warehouse,
    stage_dumps,
)
from orchestration.lib.meanwhile import import_meanwhile
from orchestration.lib.progress import progress_bar
from orchestration.lib.quality.validation import great_expectations
from orchestration.lib.settings import Settings
from orchestration.lib.source_spec import SourceSpec


def _ledger_table(results: list[LoadResult]) -> dg.MarkdownMetadataValue:
    lines = [
        "| dump date | file | status | read | staged | quarantined | dropped columns |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.dump_date} | {r.file_name} | {r.status} | {r.rows_read} | {r.rows_staged} "
        f"| {r.rows_quarantined} | {', '.join(r.dropped_columns)} |"
        for r in results
    ]
    return dg.MetadataValue.md("\n".join(lines))


def build_ingestion_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(["raw", spec.name]),
        description=f"{spec.description} File: `<inbox>/{spec.name}/{spec.file_name_pattern}`.",
        group_name="ingestion",
        kinds={"python", "duckdb"},
        partitions_def=DUMP_DATES,
        backfill_policy=SINGLE_RUN,
        pool=WAREHOUSE_POOL,
    )
    def ingest(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        with one_line_failures():
            settings = Settings.from_env()
            settings.check_paths()
            move_warehouse_tables_into_lake(settings, SOURCES)
        # GX for the gates after the ingestion steps: two seconds of Python beside the parsers.
        import_meanwhile("great_expectations", great_expectations)
        import_meanwhile("orchestration.lib.report")  # for the publication at the run's end
        dump_dates = dump_dates_of(context)

        def staged(result: LoadResult) -> None:
            context.log.info(
                f"{result.file_name}: {result.status}, read {result.rows_read}, staged "
                f"{result.rows_staged}, quarantined {result.rows_quarantined}"
            )
            bar.update()

        try:
            with progress_bar(f"raw/{spec.name}", "files", total=len(dump_dates)) as bar:
                results, problems = stage_dumps(
                    spec, dump_dates, settings, SOURCES, progress=staged
                )
        except BaseException:
            # Show what was staged before it failed; the failure is what the step reports.
            with contextlib.suppress(Exception):
                show_lake_in_warehouse(settings, SOURCES)
            raise
        # Rows of files that did load are staged: settle them and show them even so.
        finish_loading(spec, results, settings, SOURCES)
        failures = [str(problem) for problem in problems]
        for failure in failures:
            context.log.error(failure)
        if failures:
            raise dg.Failure(
                description=f"{spec.name}: {len(failures)} dump(s) not loaded:\n"
                + "\n".join(failures),
                metadata={"loaded": _ledger_table(results)},
            )
        return dg.MaterializeResult(
            metadata={
                "files": _ledger_table(results),
                "rows_read": sum(r.rows_read for r in results),
                "rows_staged": sum(r.rows_staged for r in results),
                "rows_quarantined": sum(r.rows_quarantined for r in results),
                "files_unchanged": sum(r.status == "unchanged" for r in results),
            }
        )

    return ingest


ingestion_assets = [build_ingestion_asset(spec) for spec in SOURCES]
