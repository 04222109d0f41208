"""Every `REDCAT_*` setting (contract section 5, README: Settings), read from the environment
and validated in this one place, so a bad value stops `redcat run` before any work with one
line naming the variable and what it accepts.

Imports nothing heavy: `redcat run` checks the settings before it loads Dagster.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

BUSINESS_TIME_ZONE = "Asia/Shanghai"
# The first day of the dump-date partitions: the sample data's first day (scripts/demo.sh), so
# the UI lists the days a brand can have, not years of empty ones. A brand sets its own.
DEFAULT_FIRST_DUMP_DATE = date(2026, 3, 1)

# Documented in the README. Good for sample data only: production refuses to start with it.
DEVELOPMENT_BUYER_KEY_SECRET = "redcat-development-secret-not-for-production"

ENVIRONMENTS = ("development", "production")
# Where dbt builds the models and marts (README: Scale out): the profile's target of that name.
ENGINES = ("duckdb", "spark")
ALLOW_SMALLER_PUBLICATION = "REDCAT_ALLOW_SMALLER_PUBLICATION"
BOOLEANS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
# What DuckDB's memory_limit takes: a number and a unit of 1000^i or 1024^i bytes.
DUCKDB_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", re.IGNORECASE)

PIPELINE_VARIABLES = (
    "REDCAT_INBOX",
    "REDCAT_WAREHOUSE",
    "REDCAT_PUBLISHED",
    "REDCAT_LAKE",
    "REDCAT_FIRST_DUMP_DATE",
    "REDCAT_INGEST_WORKERS",
    "REDCAT_ENGINE",
    "REDCAT_SPARK_WAREHOUSE",
    "REDCAT_BUYER_KEY_SECRET",
    "REDCAT_ENV",
    "REDCAT_MAX_QUARANTINE_SHARE",
    "REDCAT_MIN_ROW_COUNT_SHARE",
    "REDCAT_ROW_COUNT_HISTORY_DAYS",
    "REDCAT_ROW_COUNT_MIN_HISTORY",
    "REDCAT_ROW_COUNT_MIN_MEDIAN",
    "REDCAT_DUCKDB_MEMORY_LIMIT",
    "REDCAT_DUCKDB_THREADS",
    ALLOW_SMALLER_PUBLICATION,
)
# Set by the pipeline for dbt's profile (Settings.export_for_dbt), not by an operator.
EXPORTED_VARIABLES = ("REDCAT_DBT_MEMORY_LIMIT",)
# Read by scripts/demo.sh, scripts/serve.sh and the tests, never by the pipeline.
SCRIPT_VARIABLES = (
    "REDCAT_DEMO_START",
    "REDCAT_DEMO_END",
    "REDCAT_DEMO_SCALE",
    "REDCAT_UI_HOST",
    "REDCAT_UI_PORT",
    "REDCAT_CONTRACT_EXAMPLES",
)


class ConfigurationError(RuntimeError):
    """A setting is missing or unusable; the message says which and what to do."""


@dataclass(frozen=True)
class Thresholds:
    """The quality gates' thresholds (README: When a run fails)."""

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


SIZE_UNITS = {
    "b": 1,
    **{unit: 1000**power for power, unit in enumerate(("kb", "mb", "gb", "tb"), start=1)},
    **{unit: 1024**power for power, unit in enumerate(("kib", "mib", "gib", "tib"), start=1)},
}
# Below this, DuckDB cannot hold even a small night's hash tables: "0MB" or "1MB" is a typo for
# "1GB", to be told in one line, not met as out-of-memory errors halfway through a run.
LEAST_MEMORY_LIMIT = "128MB"
# dbt's process runs beside the run's own (about 0.5 GB of Dagster, pandas and GX): it takes
# three quarters of the limit. A year's build took as long with 768 MB as with 1 GB.
DBT_MEMORY_SHARE = 0.75


@dataclass(frozen=True)
class DuckDBLimits:
    """What one DuckDB connection may take: the pipeline's, and dbt's share of it
    (profiles/profiles.yml)."""

    # With 1 GB, DuckDB spills a year of a large brand to disk. 768 MB ran out in the
    # ingestion's settling of a year's clicks across files.
    memory_limit: str = "1GB"
    threads: int = 2

    @property
    def dbt_memory_limit(self) -> str:
        return f"{int(_bytes(self.memory_limit) * DBT_MEMORY_SHARE) // 1000**2}MB"

    @classmethod
    def from_env(cls) -> DuckDBLimits:
        defaults = cls()
        memory_limit = os.environ.get("REDCAT_DUCKDB_MEMORY_LIMIT") or defaults.memory_limit
        if not DUCKDB_SIZE.fullmatch(memory_limit.strip()):
            raise ConfigurationError(
                f"REDCAT_DUCKDB_MEMORY_LIMIT={memory_limit!r} is not a DuckDB memory size "
                "(e.g. 512MB or 2GB)"
            )
        if _bytes(memory_limit) < _bytes(LEAST_MEMORY_LIMIT):
            raise ConfigurationError(
                f"REDCAT_DUCKDB_MEMORY_LIMIT={memory_limit!r} is less than {LEAST_MEMORY_LIMIT}, "
                "too little for DuckDB to run the pipeline (e.g. 512MB or 2GB)"
            )
        threads = _count("REDCAT_DUCKDB_THREADS", defaults.threads, minimum=1)
        return cls(memory_limit.strip(), threads)


def _bytes(size: str) -> float:
    """A DuckDB memory size (DUCKDB_SIZE) in bytes."""
    number, unit = DUCKDB_SIZE.fullmatch(size.strip()).groups()
    return float(number) * SIZE_UNITS[unit.lower()]


@dataclass(frozen=True)
class Settings:
    inbox: Path
    warehouse: Path
    published: Path
    # Where ingestion writes the staged rows and the audit tables (orchestration/lib/lake.py).
    lake: Path
    buyer_key_secret: bytes
    environment: str
    thresholds: Thresholds = field(default_factory=Thresholds)
    duckdb_limits: DuckDBLimits = field(default_factory=DuckDBLimits)
    # The publication guard's override (README: When a run fails).
    allow_smaller_publication: bool = False
    # Processes that parse dumps side by side (a range of days); one is the default's floor.
    ingest_workers: int = 1
    # duckdb (the warehouse file) or spark (dbt's spark target; marts as Parquet tables under
    # <spark_warehouse>/marts.db/<model>/).
    engine: str = "duckdb"
    spark_warehouse: Path = Path("data/spark-warehouse")
    first_dump_date: date = DEFAULT_FIRST_DUMP_DATE

    @classmethod
    def from_env(cls) -> Settings:
        _reject_unknown_variables()
        environment = (os.environ.get("REDCAT_ENV") or "development").strip().lower()
        if environment not in ENVIRONMENTS:
            raise ConfigurationError(
                f"REDCAT_ENV={os.environ['REDCAT_ENV']!r} is not one of {', '.join(ENVIRONMENTS)}"
            )
        secret = os.environ.get("REDCAT_BUYER_KEY_SECRET")
        if not secret:
            if environment == "production":
                raise ConfigurationError(
                    "REDCAT_BUYER_KEY_SECRET is not set: production refuses to hash buyer "
                    "accounts with the development key. Set it to the brand's secret salt."
                )
            secret = DEVELOPMENT_BUYER_KEY_SECRET
        elif environment == "production" and secret == DEVELOPMENT_BUYER_KEY_SECRET:
            raise ConfigurationError(
                "REDCAT_BUYER_KEY_SECRET is the documented development key: production refuses "
                "it. Set it to the brand's secret salt."
            )
        return cls(
            inbox=_path("REDCAT_INBOX", "data/inbox"),
            warehouse=_path("REDCAT_WAREHOUSE", "data/warehouse/redcat.duckdb"),
            published=_path("REDCAT_PUBLISHED", "data/warehouse/analytics.duckdb"),
            lake=_path("REDCAT_LAKE", "data/lake"),
            ingest_workers=_count("REDCAT_INGEST_WORKERS", os.cpu_count() or 1, minimum=1),
            engine=_choice("REDCAT_ENGINE", ENGINES),
            spark_warehouse=_path("REDCAT_SPARK_WAREHOUSE", "data/spark-warehouse"),
            first_dump_date=first_dump_date(),
            buyer_key_secret=secret.encode("utf-8"),
            environment=environment,
            thresholds=Thresholds.from_env(),
            duckdb_limits=DuckDBLimits.from_env(),
            allow_smaller_publication=_boolean(ALLOW_SMALLER_PUBLICATION),
        )

    def check_paths(self) -> None:
        """The folders a run reads and writes are usable (not a typo or a folder for a file)."""
        if not self.inbox.is_dir():
            problem = "is not a folder" if self.inbox.exists() else "does not exist"
            raise ConfigurationError(
                f"REDCAT_INBOX={str(self.inbox)!r} {problem}: point it at the inbox folder "
                "that holds <source>/<source>_YYYYMMDD.<ext>"
            )
        if self.published == self.warehouse:
            raise ConfigurationError(
                f"REDCAT_PUBLISHED={str(self.published)!r} is REDCAT_WAREHOUSE: the analysts' "
                "copy must be another file"
            )
        for variable, path in (
            ("REDCAT_WAREHOUSE", self.warehouse),
            ("REDCAT_PUBLISHED", self.published),
        ):
            if path.is_dir():
                raise ConfigurationError(
                    f"{variable}={str(path)!r} is a folder: point it at a DuckDB file"
                )

    def export_for_dbt(self) -> None:
        """dbt runs in another working directory: hand it the same absolute warehouse path and
        the validated DuckDB limits its profile reads (for memory, dbt's share). The warehouse's
        folder is made here, as the ingestion makes it: a build may come first (a backfill's
        seeds), and dbt-duckdb takes a missing folder for a locked file, retrying for 17
        minutes."""
        self.warehouse.parent.mkdir(parents=True, exist_ok=True)
        os.environ["REDCAT_WAREHOUSE"] = str(self.warehouse)
        os.environ["REDCAT_SPARK_WAREHOUSE"] = str(self.spark_warehouse)
        os.environ["REDCAT_LAKE"] = str(self.lake)
        os.environ["REDCAT_DBT_MEMORY_LIMIT"] = self.duckdb_limits.dbt_memory_limit
        os.environ["REDCAT_DUCKDB_THREADS"] = str(self.duckdb_limits.threads)


def first_dump_date() -> date:
    """REDCAT_FIRST_DUMP_DATE: read alone too, by the partitions when Dagster loads."""
    text = os.environ.get("REDCAT_FIRST_DUMP_DATE")
    if not text:
        return DEFAULT_FIRST_DUMP_DATE
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ConfigurationError(
            f"REDCAT_FIRST_DUMP_DATE={text!r} is not a date YYYY-MM-DD"
        ) from None


def _reject_unknown_variables() -> None:
    """A mistyped name would otherwise be ignored and its default used without a word."""
    known = PIPELINE_VARIABLES + EXPORTED_VARIABLES + SCRIPT_VARIABLES
    for name in sorted(os.environ):
        if name.startswith("REDCAT_") and name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigurationError(
                f"{name} is not a redcat setting{hint}; the settings are "
                f"{', '.join(PIPELINE_VARIABLES)}"
            )


def _path(variable: str, default: str) -> Path:
    return Path(os.environ.get(variable) or default).expanduser().resolve()


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


def _count(variable: str, default: int, minimum: int = 0) -> int:
    text = os.environ.get(variable)
    if not text:
        return default
    if not (text.isascii() and text.isdigit() and int(text) >= minimum):
        raise ConfigurationError(f"{variable}={text!r} is not a whole number of {minimum} or more")
    return int(text)


def _choice(variable: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (any case); unset or empty: the first."""
    text = os.environ.get(variable)
    if not text:
        return choices[0]
    if text.strip().lower() not in choices:
        raise ConfigurationError(f"{variable}={text!r} is not one of {', '.join(choices)}")
    return text.strip().lower()


def _boolean(variable: str) -> bool:
    text = os.environ.get(variable)
    if not text:
        return False
    if text.lower() not in BOOLEANS:
        raise ConfigurationError(f"{variable}={text!r} is not one of {', '.join(BOOLEANS)}")
    return BOOLEANS[text.lower()]
