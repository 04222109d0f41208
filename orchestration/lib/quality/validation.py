"""GX judges the gates' per-day figures: one pandas frame of a row per dump date (or per
column), never the staged rows themselves, so a year is judged in the memory of a page.

GX runs in an ephemeral context on pandas: GX through SQLAlchemy on DuckDB does not work.
"""

from __future__ import annotations

import pandas as pd

from orchestration.lib.quality.outcome import SAMPLES


def failed_expectations(frame: pd.DataFrame, expectations: list, location: str) -> list:
    """GX's results of the expectations the frame does not meet, each with the `location`
    values (e.g. dump dates) of its failing rows."""
    import great_expectations as gx  # GX takes seconds to import: only here
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("redcat")
        .add_dataframe_asset("frame")
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = gx.ExpectationSuite(name="gate", expectations=expectations)
    result = batch.validate(
        suite,
        result_format={
            "result_format": "SUMMARY",
            "partial_unexpected_count": SAMPLES,
            "unexpected_index_column_names": [location],
        },
    )
    return [r for r in result.results if not r.success]


def failing_locations(result, location: str) -> list:
    return [
        index[location]
        for index in (result.result or {}).get("partial_unexpected_index_list", [])
        if isinstance(index, dict) and location in index
    ]
