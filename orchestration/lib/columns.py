"""Column types of the source specs: how a text cell is checked and cast, in DuckDB SQL.

Every cell arrives as text. Each type gives two SQL expressions over that text: the typed
value, and the reason the cell cannot be staged (NULL when it can). One pass over a file
yields both the staged rows and the quarantined ones with their reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from orchestration.lib.settings import BUSINESS_TIME_ZONE
from orchestration.lib.warehouse import sql_literal


@dataclass(frozen=True)
class ColumnType:
    """A text pattern the cell must match and the cast that follows from it."""

    sql_type: str
    pattern: str | None = None
    description: str = ""
    required: bool = True
    allowed: tuple[str, ...] = field(default_factory=tuple)
    # Bounds of the typed value, where the text pattern alone does not enforce them.
    min_value: float | None = None
    max_value: float | None = None

    def optional(self) -> ColumnType:
        return replace(self, required=False)

    def one_of(self, *values: str) -> ColumnType:
        return replace(self, allowed=values, description=f"one of {', '.join(values)}")

    def value_sql(self, cell: str) -> str:
        return f"try_cast({cell} AS {self.sql_type})"

    def problem_sql(self, cell: str) -> str:
        """NULL when the cell is acceptable, otherwise why it is not."""
        checks = []
        if self.required:
            checks.append(f"WHEN {cell} IS NULL THEN 'missing value'")
        if self.allowed:
            values = ", ".join(sql_literal(v) for v in self.allowed)
            checks.append(
                f"WHEN {cell} NOT IN ({values}) THEN {sql_literal('not ' + self.description)}"
            )
        if self.pattern:
            checks.append(
                f"WHEN NOT regexp_full_match({cell}, {sql_literal(self.pattern)}) "
                f"THEN {sql_literal('not ' + self.description)}"
            )
        checks.append(
            f"WHEN {cell} IS NOT NULL AND {self.value_sql(cell)} IS NULL "
            f"THEN {sql_literal('not ' + self.description)}"
        )
        bounds = (
            [f"{self.value_sql(cell)} < {self.min_value}"] if self.min_value is not None else []
        )
        if self.max_value is not None:
            bounds.append(f"{self.value_sql(cell)} > {self.max_value}")
        if bounds:
            checks.append(
                f"WHEN {' OR '.join(bounds)} THEN {sql_literal('not ' + self.description)}"
            )
        return "CASE " + " ".join(checks) + " END"


@dataclass(frozen=True)
class LocalTimestamp(ColumnType):
    """`YYYY-MM-DD HH:MM:SS` wall-clock time in China, stored as an instant."""

    def value_sql(self, cell: str) -> str:
        local = f"try_strptime({cell}, '%Y-%m-%d %H:%M:%S')"
        return f"timezone({sql_literal(BUSINESS_TIME_ZONE)}, {local})"


@dataclass(frozen=True)
class CaseFreeHex(ColumnType):
    """Hex text that exports write in either case: stored in lower case, so that ids join."""

    def value_sql(self, cell: str) -> str:
        return f"lower({cell})"


TEXT = ColumnType("VARCHAR", description="text")
CID = CaseFreeHex("VARCHAR", r"[0-9a-fA-F]{32}", "a click id of 32 hex characters")
NOTE_ID = ColumnType("VARCHAR", r"[0-9a-f]{24}", "a note id of 24 lowercase hex characters")
TMALL_ORDER_ID = ColumnType("VARCHAR", r"[0-9]{18,19}", "a Tmall order id of 18 or 19 digits")
JD_ORDER_ID = ColumnType("VARCHAR", r"[0-9]{12}", "a JD order id of 12 digits")
COUNT = ColumnType("BIGINT", r"[0-9]{1,15}", "a whole number of zero or more", min_value=0)
MONEY = ColumnType(
    "DECIMAL(18,2)",
    r"[0-9]{1,16}(\.[0-9]{1,2})?",
    "an amount of money ≥ 0 with at most 2 decimals",
    min_value=0,
)
SCORE = ColumnType(
    "DECIMAL(4,2)", r"[0-9](\.[0-9]{1,2})?", "a score from 0.0 to 5.0", min_value=0, max_value=5
)
DATE = ColumnType("DATE", r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "a date YYYY-MM-DD")
LOCAL_TIME = LocalTimestamp(
    "TIMESTAMPTZ",
    r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}",
    "a China time YYYY-MM-DD HH:MM:SS",
)
ISO_TIME = ColumnType(
    "TIMESTAMPTZ",
    # Z is ISO 8601's UTC, an offset of +00:00.
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})",
    "an ISO 8601 time with its UTC offset",
)
PLATFORM = TEXT.one_of("tmall", "jd")
# Not read from a file: the keyed hash (HMAC-SHA256, hex) that replaces a buyer account.
BUYER_KEY = ColumnType("VARCHAR", r"[0-9a-f]{64}", "a buyer key of 64 lowercase hex characters")
