"""GX judges the gates' per-day figures: one pandas frame of a row per dump date (or per
column), never the staged rows themselves, so a year is judged in the memory of a page.

GX runs in an ephemeral context on pandas: GX through SQLAlchemy on DuckDB does not work.
"""

from __future__ import annotations

import sys
import threading
from types import ModuleType

import pandas as pd

from orchestration.lib.quality.outcome import SAMPLES


def great_expectations() -> ModuleType:
    """GX, imported (it takes seconds: when a gate runs, or on a thread an ingestion step
    starts) without its optional Spark support. pyspark is installed for REDCAT_ENGINE=spark,
    whose dbt runs in a process of its own; GX would import it, and pyspark's connect module
    ends with status 0 any process whose __main__ has no file, as Dagster's run workers have.
    One caller at a time: a gate waits for the import an ingestion step started on a thread
    (lib/meanwhile.py) rather than racing it."""
    with _import_lock:
        blocked = "pyspark" not in sys.modules
        if blocked:
            sys.modules["pyspark"] = None  # an ImportError for GX: Spark support not installed
        try:
            import great_expectations
            import great_expectations.expectations  # noqa: F401 - loaded here, as gx.expectations
        finally:
            if blocked:
                del sys.modules["pyspark"]
    return great_expectations


_import_lock = threading.Lock()


def failed_expectations(frame: pd.DataFrame, expectations: list, location: str) -> list:
    """GX's results of the expectations the frame does not meet, each with the `location`
    values (e.g. dump dates) of its failing rows. Judged for success alone first, in a third of
    the time (GX's failing rows and counts take the rest); only a frame that fails is judged
    again for them."""
    if location not in frame.columns:  # what a failing row would be located by
        raise ValueError(f"the frame has no column {location!r}")
    if all(result.success for result in _validate(frame, expectations, "BOOLEAN_ONLY")):
        return []
    summary = {
        "result_format": "SUMMARY",
        "partial_unexpected_count": SAMPLES,
        "unexpected_index_column_names": [location],
    }
    return [result for result in _validate(frame, expectations, summary) if not result.success]


def _validate(frame: pd.DataFrame, expectations: list, result_format: str | dict) -> list:
    batch = _frames_batch_definition().get_batch(batch_parameters={"dataframe": frame})
    suite = great_expectations().ExpectationSuite(name="gate", expectations=expectations)
    return batch.validate(suite, result_format=result_format).results


_kept = threading.local()


def _frames_batch_definition():
    """A batch definition of any pandas frame in an ephemeral GX context, made once a thread:
    making them took twice as long as judging a gate's frame."""
    if not hasattr(_kept, "frames"):
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = great_expectations().get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        _kept.frames = (
            context.data_sources.add_pandas("redcat")
            .add_dataframe_asset("frame")
            .add_batch_definition_whole_dataframe("whole")
        )
    return _kept.frames


def failing_locations(result, location: str) -> list:
    return [
        index[location]
        for index in (result.result or {}).get("partial_unexpected_index_list", [])
        if isinstance(index, dict) and location in index
    ]
