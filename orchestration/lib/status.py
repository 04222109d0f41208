"""`redcat status`: what the warehouse holds per source, which windows are mature, and the last
publication. Reads only, and never waits: a warehouse a run is writing is reported as busy."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb

from orchestration.lib.publication import describe_deliveries
from orchestration.lib.settings import Settings
from orchestration.lib.warehouse import connect

WINDOWS = (1, 7, 15, 30)

DELIVERIES_SQL = """
SELECT source, dump_date, status FROM audit.current_delivery ORDER BY source, dump_date
"""
ORDER_DUMPS_SQL = """
SELECT platform, first_dump_date, loaded_through_date, first_missing_dump_date
FROM intermediate.int_order_dumps_loaded ORDER BY platform
"""
LAST_PUBLICATION_SQL = """
SELECT snapshot_id, published_at, dagster_run_id, file_count, code_version
FROM audit.published_snapshot ORDER BY published_at DESC LIMIT 1
"""


def describe_status(settings: Settings) -> str:
    return "\n".join(
        [*_warehouse_lines(settings.warehouse), *_publication_lines(settings.published)]
    )


def _warehouse_lines(warehouse: Path) -> list[str]:
    if not warehouse.is_file():
        return [f"warehouse: none at {warehouse} yet (`redcat run` makes it)"]
    try:
        with connect(warehouse, read_only=True) as connection:
            deliveries = _fetch_if_there(connection, "audit", "current_delivery", DELIVERIES_SQL)
            order_dumps = _fetch_if_there(
                connection, "intermediate", "int_order_dumps_loaded", ORDER_DUMPS_SQL
            )
    except duckdb.IOException as locked:
        return [f"warehouse: {warehouse} is busy, a run is writing it ({locked}); try later"]
    return [
        f"warehouse: {warehouse}",
        *_delivery_lines(deliveries or []),
        *_window_lines(order_dumps),
    ]


def _fetch_if_there(
    connection: duckdb.DuckDBPyConnection, schema: str, name: str, sql: str
) -> list[tuple] | None:
    """The rows of `sql`, or None before a run has made the table or view it reads."""
    exists = connection.execute(
        """SELECT count(*) FROM information_schema.tables
           WHERE table_schema = ? AND table_name = ?""",
        [schema, name],
    ).fetchone()[0]
    return connection.execute(sql).fetchall() if exists else None


def _delivery_lines(deliveries: list[tuple]) -> list[str]:
    """Per source: the dump dates loaded, then the days missing or refused between its first
    and last delivery (audit.current_delivery: the latest delivery decides a day)."""
    if not deliveries:
        return ["  no dump loaded yet"]
    by_source: dict[str, dict[date, str]] = {}
    for source, dump_date, status in deliveries:
        by_source.setdefault(source, {})[dump_date] = status
    lines = ["  loaded per source (latest delivery of each dump date):"]
    missing, refused = set(), set()
    for source, statuses in by_source.items():
        first, last = min(statuses), max(statuses)
        loaded = sum(status == "loaded" for status in statuses.values())
        lines.append(f"    {source:<21} {first}..{last}  {loaded} dump dates loaded")
        day = first
        while day <= last:
            if day not in statuses:
                missing.add((source, day))
            elif statuses[day] != "loaded":
                refused.add((source, day))
            day += timedelta(days=1)
    lines.append(f"  gaps: {describe_deliveries(missing) if missing else 'none'}")
    if refused:
        lines.append(f"  refused (the day keeps what it had): {describe_deliveries(refused)}")
    return lines


def _window_lines(order_dumps: list[tuple] | None) -> list[str]:
    """Per platform, the last click day whose T+N window is complete: a click day's window is
    complete once the platform's order dumps are loaded without a gap through click day + N."""
    if order_dumps is None:
        return ["  mature windows: not known until a run has built the models"]
    lines = [
        "  mature windows (the last click day whose T+N orders are all loaded):",
        "    platform orders loaded           "
        + "".join(f"{f'T+{n}':<11}" for n in WINDOWS).rstrip(),
    ]
    for platform, first, through, first_missing in order_dumps:
        if through is None:
            lines.append(f"    {platform:<8} no order dump loaded yet")
            continue
        last_click_days = (through - timedelta(days=n) for n in WINDOWS)
        lines.append(
            f"    {platform:<8} {first}..{through}  "
            + " ".join(str(day) if day >= first else "-" * 10 for day in last_click_days)
        )
        if first_missing:
            lines.append(
                f"    {platform:<8} order dump {first_missing} missing: nothing matures past "
                "it until it is loaded"
            )
    return lines


def _publication_lines(published: Path) -> list[str]:
    if not published.is_file():
        return [f"published: none at {published} yet (every gate of a run must pass first)"]
    with connect(published, read_only=True) as connection:
        latest = _fetch_if_there(connection, "audit", "published_snapshot", LAST_PUBLICATION_SQL)
    if not latest:
        return [f"published: {published}, no publication recorded"]
    snapshot_id, published_at, run_id, file_count, code_version = latest[0]
    return [
        f"published: {published}",
        f"  last publication {published_at:%Y-%m-%d %H:%M %z}: snapshot {snapshot_id}, "
        f"{file_count} dump files",
        f"  by Dagster run {run_id}, code {code_version}",
    ]
