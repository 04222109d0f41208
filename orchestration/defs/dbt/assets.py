"""dbt models as Dagster assets; dbt sources `raw.<table>` are the ingestion assets."""

import contextlib
import hashlib
import logging
import shutil
import uuid
from collections.abc import Mapping, Sequence
from functools import cached_property
from importlib.metadata import version
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)
from packaging.version import Version

from orchestration.defs.dbt.project import DBT_EXECUTABLE, REPOSITORY_ROOT, dbt_project
from orchestration.defs.failures import one_line_failures
from orchestration.defs.partitions import WAREHOUSE_POOL
from orchestration.lib import lake
from orchestration.lib.progress import progress_bar
from orchestration.lib.publication import (
    last_published_fingerprint,
    models_last_built,
    record_build,
    report_is_behind,
)
from orchestration.lib.settings import Settings

redcat_dbt_project = dbt_project()
PARTIAL_PARSE = "partial_parse.msgpack"
INCREMENTAL_BUILD_THREADS = 2
SEED_GROUP = "reference"
MART_GROUP = "marts"
STAGING_MODELS = "dbt_project/models/staging"


class _NoOpNightNotice(logging.Filter):
    """A night where nothing changed skips the build on purpose, so no dbt test reports: Dagster's
    warning that the publication then proceeds ungated is moot (it is skipped too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "emitted no result in step 'redcat_dbt_models'" not in record.getMessage()


logging.getLogger("dagster._core.execution.plan.active").addFilter(_NoOpNightNotice())


class RedcatDbtTranslator(DagsterDbtTranslator):
    """Groups follow the dbt layers, so the UI reads file → raw → staging → marts."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        if dbt_resource_props.get("resource_type") == "seed":
            return SEED_GROUP
        return fqn[1] if len(fqn) > 2 else "dbt"


@dbt_assets(
    manifest=redcat_dbt_project.manifest_path,
    project=redcat_dbt_project,
    dagster_dbt_translator=RedcatDbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
    ),
    pool=WAREHOUSE_POOL,
)
def redcat_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    # Models are built from every loaded dump, not per dump date: unpartitioned, so a run over
    # a range of dump dates is one dbt build, and Dagster records each model once, not once per
    # day of the range (13,000 records for a year's first load, about two minutes of SQLite).
    with one_line_failures():
        settings = Settings.from_env()
        settings.export_for_dbt()
        lake.refuse_another_lake_of_warehouse(settings)
    # REDCAT_ENGINE=spark: the profile's spark target reads the lake and writes the marts as
    # Parquet tables under REDCAT_SPARK_WAREHOUSE (README: Scale out); duckdb: the default target.
    target = ["--target", "spark"] if settings.engine == "spark" else []
    if target:
        context.log.info(f"dbt build on Spark: marts under {settings.spark_warehouse}/marts.db")
    models = lake.models_fingerprint(redcat_dbt_project.manifest_path)
    built_from = lake.fingerprint(settings.lake, models, settings.engine.encode())
    if not target and built_from == last_published_fingerprint(settings.published):
        # Nothing staged and no model changed since the published marts were built: the
        # build and the publication (which waits on it) are skipped; only a report that a
        # killed publication left behind the published file is drawn again.
        context.log.info("nothing changed since the last publication: no dbt build, no publication")
        if report_is_behind(settings.published):
            from orchestration.lib.report import write_report

            try:
                context.log.info(f"campaign report drawn again: {write_report(settings.published)}")
            except Exception as error:  # a report is no reason to fail the models' step
                context.log.warning(f"the campaign report could not be drawn again: {error}")
        return
    # Incremental models (int_orders_latest) add only what new deliveries change to what the
    # same code built before: after any change of models, seeds or vars, all is built anew.
    full_refresh = (
        ["--full-refresh"]
        if not target and models_last_built(settings.warehouse) != models.hex()
        else []
    )
    if full_refresh:
        context.log.info("models changed since the last build (or none yet): a full rebuild")
    # The profile builds one model at a time: two of a year's models side by side would share
    # one memory limit. An incremental build's models take what changed, and its data tests
    # are small queries: two nodes at once overlap dbt's own work on each.
    threads = [] if full_refresh or target else ["--threads", str(INCREMENTAL_BUILD_THREADS)]
    whole_graph = (
        context.selected_asset_keys == redcat_dbt_models.keys
        and context.selected_asset_check_keys == redcat_dbt_models.check_keys
    )
    # An incremental build of the whole graph leaves what the last full build made from code
    # alone: the reference seeds (a change of a seed's file changes the models' fingerprint:
    # dbt checksums a seed's content up to 1 MiB, ours are a few hundred bytes) and the
    # staging views over the lake (1:1 with the raw tables, their definitions in the
    # fingerprint). Their data tests go with them: the seeds' check code, and the staging
    # views' the rules the blocking gates have just checked on the same new deliveries
    # (required values, enumerations, keys); a full build runs both over every row.
    left_as_built = ["--exclude", f"resource_type:seed path:{STAGING_MODELS}"]
    if not (threads and whole_graph):
        left_as_built = []
    # The unit tests check the models' code on fixed inputs, not the data: CI runs them
    # (tests/test_dbt_unit_tests.py), and a nightly run would only repeat them.
    # A run of part of the graph (the reference seeds a backfill builds first, say) runs the
    # tests of what it builds, not those that also read models it leaves alone.
    # --no-write-json: the events carry every result; the build's manifest and run results
    # (9 MB of JSON, half a second) would be deleted unread below.
    invocation = dbt.cli(
        ["build", "--exclude-resource-type", "unit_test", "--indirect-selection", "cautious",
         "--no-write-json", *full_refresh, *threads, *left_as_built, *target],
        context=context,
        target_path=_build_folder_from_the_last_parse_of(settings.warehouse, context),
    )  # fmt: skip
    try:
        with progress_bar("dbt build", "nodes") as bar:  # a counter: events per node vary
            for event in invocation.stream():
                bar.update()
                yield event
        if not target and whole_graph:
            # What the marts were built from, once every model is built and tested (not a
            # part of the graph): the next build's tests check what changed since.
            record_build(settings.warehouse, built_from, models.hex())
        _keep_parse_for_next_build(invocation.target_path, settings.warehouse)
    finally:
        if invocation.process.poll() is None:  # the step failed in Dagster while dbt ran on
            invocation.process.terminate()
            invocation.process.wait()
        # Each build writes its compiled SQL and partial parse to a folder of its own; its
        # events already carry what matters, so the folders would only pile up run after run.
        shutil.rmtree(invocation.target_path, ignore_errors=True)


# What the publication copies, and so waits on: the marts (the models and tests upstream of
# them too, since dbt builds a mart only after them). A nightly build leaves the seeds and
# staging views as built, which would skip a step that waited on them.
MART_KEYS = [spec.key for spec in redcat_dbt_models.specs if spec.group_name == MART_GROUP]


# dbt reuses a partial parse only for the same profile, whose DuckDB path is the warehouse's:
# each warehouse keeps the parse of its last build (a full parse takes ~6 s more), the most
# recently built few of them.
BUILDS_FOLDER = REPOSITORY_ROOT / "target"
PARSES_KEPT = 8


def _parse_kept_for(warehouse: Path) -> Path:
    key = hashlib.sha256(str(warehouse).encode()).hexdigest()[:16]
    return BUILDS_FOLDER / f".{PARTIAL_PARSE}.{key}"


def _build_folder_from_the_last_parse_of(
    warehouse: Path, context: dg.AssetExecutionContext
) -> Path:
    """A folder of this build's own, holding the partial parse the last build on this warehouse
    kept, if any (dagster-dbt copies the project's otherwise)."""
    step = context.op_execution_context.op.name
    folder = BUILDS_FOLDER / f"{step}-{context.run.run_id[:7]}-{uuid.uuid4().hex[:7]}"
    kept = _parse_kept_for(warehouse)
    with contextlib.suppress(FileNotFoundError):  # none kept yet, or pruned meanwhile
        folder.mkdir(parents=True)
        shutil.copyfile(kept, folder / PARTIAL_PARSE)
    return folder


def _keep_parse_for_next_build(build_folder: Path, warehouse: Path) -> None:
    """Keep this build's partial parse for the next build on this warehouse."""
    built = build_folder / PARTIAL_PARSE
    if not built.is_file():
        return
    aside = build_folder / f"{PARTIAL_PARSE}.kept"
    shutil.copyfile(built, aside)
    aside.replace(_parse_kept_for(warehouse))  # atomic: builds may run side by side
    parses = sorted(BUILDS_FOLDER.glob(f".{PARTIAL_PARSE}.*"), key=_modified, reverse=True)
    for stale in parses[PARSES_KEPT:]:
        stale.unlink(missing_ok=True)


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


class InstalledDbtCliResource(DbtCliResource):
    """Runs the dbt installed beside this Python, whether or not its environment is activated.

    dagster-dbt learns dbt's version by running `dbt --version`, which asks PyPI for the latest
    release before every build: 1.7 s online, a network timeout offline. The version of the
    dbt-core it runs is in this environment's package metadata."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        """dagster-dbt opens a dbt adapter in this process only to fetch row counts and column
        metadata, which these assets do not ask for: 0.8 s of loading dbt before every build."""
        return None


dbt_resource = InstalledDbtCliResource(
    project_dir=redcat_dbt_project, dbt_executable=str(DBT_EXECUTABLE)
)
