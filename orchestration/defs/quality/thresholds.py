"""The quality gates' thresholds: environment settings with defaults (README: When a run fails)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from orchestration.lib.settings import ConfigurationError


@dataclass(frozen=True)
class Thresholds:
    # Rows of a file that may be quarantined as defects (identical copies do not count).
    max_quarantine_share: float = 0.01
    # A file with fewer rows than this share of the recent median has collapsed: a tracking
    # outage looks like a normal file with few rows.
    min_row_count_share: float = 0.2
    # The recent median: files of the source loaded for the dump dates this many days back...
    row_count_history_days: int = 28
    # ...judged only with at least this many of them, and a median of at least this many rows
    # (a small brand's quiet day is no outage).
    row_count_min_history: int = 7
    row_count_min_median: int = 20

    @classmethod
    def from_env(cls) -> Thresholds:
        defaults = cls()
        return cls(
            max_quarantine_share=_share(
                "REDCAT_MAX_QUARANTINE_SHARE", defaults.max_quarantine_share
            ),
            min_row_count_share=_share("REDCAT_MIN_ROW_COUNT_SHARE", defaults.min_row_count_share),
            row_count_history_days=_count(
                "REDCAT_ROW_COUNT_HISTORY_DAYS", defaults.row_count_history_days
            ),
            row_count_min_history=_count(
                "REDCAT_ROW_COUNT_MIN_HISTORY", defaults.row_count_min_history
            ),
            row_count_min_median=_count(
                "REDCAT_ROW_COUNT_MIN_MEDIAN", defaults.row_count_min_median
            ),
        )


def _share(variable: str, default: float) -> float:
    text = os.environ.get(variable)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise ConfigurationError(f"{variable}={text!r} is not a share between 0 and 1 (e.g. 0.01)")
    return value


def _count(variable: str, default: int) -> int:
    text = os.environ.get(variable)
    if not text:
        return default
    if not text.isdigit():
        raise ConfigurationError(f"{variable}={text!r} is not a whole number of zero or more")
    return int(text)
