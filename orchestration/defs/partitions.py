"""Dump dates: the partitioning of the files' assets (ingestion and gates). The dbt models and
the publication are built from every loaded dump, so they are not partitioned: a run over a
range of days is one dbt build and one publication."""

from __future__ import annotations

import warnings
from datetime import date

import dagster as dg

from orchestration.lib.settings import BUSINESS_TIME_ZONE, first_dump_date

DUMP_DATES = dg.DailyPartitionsDefinition(
    start_date=first_dump_date().isoformat(), timezone=BUSINESS_TIME_ZONE, fmt="%Y-%m-%d"
)

# Files are independent but the lake takes one writer per run: a range of days is one run.
# (backfill_policy is marked beta in Dagster 1.13; we rely on it deliberately.)
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=".*backfill_policy.*")
SINGLE_RUN = dg.BackfillPolicy.single_run()

# Every step that opens the warehouse for writing takes a slot of this pool.
WAREHOUSE_POOL = "redcat_warehouse"


def dump_dates_of(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> list[date]:
    # A gate is not partitioned, so the UI lets it run without dump dates: say what it needs.
    if not (context.has_partition_key or context.has_partition_key_range):
        raise dg.Failure(
            description="no dump date chosen: run it for a day or a range of days (partitions)"
        )
    return [date.fromisoformat(key) for key in context.partition_keys]
