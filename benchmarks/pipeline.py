"""The whole pipeline on generated dumps, phase by phase, against a plain script, in one sitting.

    .venv/bin/python benchmarks/pipeline.py --scale 33 --organic-orders 200 --days 364
    .venv/bin/python benchmarks/pipeline.py --scale 5 --days 30        # a quick look

The first is issue 9's large brand: about 3.6 M clicks, 3.7 M funnel events and 7 M order
rows a platform in a year (most of its shops' orders came from no note). Days start on
2026-01-01, and redcat runs only days that have ended in China: before 2027, use fewer days.

It generates `--days` + 1 days of dumps (or reuses `--work`'s), then measures, each in a fresh
process tree whose resident memory is sampled as a whole (workers and dbt included):
1. the first load: `redcat run` over the first `--days` days;
2. the nightly run: `redcat run` for the next day, on top of them;
3. a night where nothing changed: the same day again;
4. the plain script (benchmarks/plain.py): the same files, rules and marts, no gates, no
   Dagster, no dbt, in one process.
Per phase of the first load (from the run's Dagster step timings): ingestion (parse, check,
write the lake), gates, dbt, publication, each with its time and the peak memory sampled
while its steps ran. Prints a table to paste into the README.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from orchestration.defs.instance import instance_at
from orchestration.lib.settings import BUSINESS_TIME_ZONE
from orchestration.lib.warehouse import sql_literal

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
START = date(2026, 1, 1)


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants, from /proc."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(
                int(line.split()[1]) * 1024
                for line in status.splitlines()
                if line.startswith("VmRSS")
            )
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total


def measured(
    command: list[str], environment: dict[str, str]
) -> tuple[float, list[tuple[float, int]], int]:
    """(seconds, samples (epoch second, resident bytes of the process tree), exit code) of a
    command."""
    began = time.perf_counter()
    process = subprocess.Popen(
        command, env=environment, cwd=REPOSITORY_ROOT, stdout=subprocess.DEVNULL
    )
    samples: list[tuple[float, int]] = []

    def sample() -> None:
        while process.poll() is None:
            samples.append((time.time(), _tree_rss(process.pid)))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample)
    sampler.start()
    code = process.wait()
    sampler.join()
    return time.perf_counter() - began, samples, code


def peak(samples: list[tuple[float, int]], spans: list[tuple[float, float]] | None = None) -> int:
    """The highest sample, or the highest taken within `spans` (start, end epoch seconds)."""
    return max(
        (rss for at, rss in samples if spans is None or any(a <= at <= b for a, b in spans)),
        default=0,
    )


def step_phases(dagster_home: Path) -> dict[str, list[tuple[float, float]]]:
    """The (start, end) epoch seconds of the latest run's steps, by phase."""
    with instance_at(dagster_home) as instance:
        run = instance.get_run_records(limit=1)[0].dagster_run
        phases: dict[str, list[tuple[float, float]]] = {}
        for step in instance.get_run_step_stats(run.run_id):
            if step.start_time is None or step.end_time is None:  # skipped: nothing changed
                continue
            key = step.step_key
            phase = (
                "dbt"
                if "dbt" in key
                else "publication"
                if key.startswith("published")
                else "gates"
                if key.endswith("_gates")
                else "ingestion"
            )
            phases.setdefault(phase, []).append((step.start_time, step.end_time))
    return phases


def rows_read(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(
            "SELECT sum(rows_read) FROM audit.current_delivery WHERE status = 'loaded'"
        ).fetchone()[0]


CONTRACT_MARTS = (
    "fct_clicks", "fct_orders", "fct_note_daily", "mart_conversion_lag", "mart_note_windows",
    "mart_campaign_roi", "mart_kol_performance",
)  # fmt: skip


def same_marts(published: Path, plain: Path) -> bool:
    """The contract's marts of redcat's first load and of the plain script hold the same rows
    (columns both have; the plain script keeps no file provenance, and each build stamps the
    rows it derives with its own start)."""
    with duckdb.connect() as connection:
        connection.execute(f"ATTACH {sql_literal(str(published))} AS redcat (READ_ONLY)")
        connection.execute(f"ATTACH {sql_literal(str(plain))} AS plain (READ_ONLY)")
        for mart in CONTRACT_MARTS:
            columns = ", ".join(
                name
                for (name,) in connection.execute(
                    """SELECT column_name FROM duckdb_columns() WHERE database_name = 'redcat'
                       AND table_name = ? AND column_name NOT IN
                       ('source_file', 'source_line', 'state_source_line', 'state_dump_date',
                        'dump_date', 'loaded_at', 'derived_at')""",
                    [mart],
                ).fetchall()
            )
            differing = connection.execute(
                f"""SELECT count(*) FROM (
                        (SELECT {columns} FROM redcat.marts.{mart}
                         EXCEPT ALL SELECT {columns} FROM plain.marts.{mart})
                        UNION ALL
                        (SELECT {columns} FROM plain.marts.{mart}
                         EXCEPT ALL SELECT {columns} FROM redcat.marts.{mart}))"""
            ).fetchone()[0]
            if differing:
                print(f"{mart}: {differing} rows differ between redcat and the plain script")
                return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=5)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument(
        "--organic-orders",
        type=float,
        help="orders per platform and day at scale 1 that no note brought (generator default)",
    )
    parser.add_argument("--work", type=Path, default=Path("data/benchmark"))
    args = parser.parse_args()

    work = args.work.resolve()
    inbox = work / "inbox"
    last = START + timedelta(days=args.days)
    # redcat runs only days that have ended in China: say so before generating or timing.
    latest = datetime.now(ZoneInfo(BUSINESS_TIME_ZONE)).date() - timedelta(days=1)
    if last > latest:
        sys.exit(f"--days {args.days} ends on {last}, after {latest}, the last day that has ended")
    if not (inbox / "jd_orders" / f"jd_orders_{last:%Y%m%d}.xlsx").exists():
        from orchestration.generator import generate

        generate(inbox, START, last, scale=args.scale, organic_orders_per_day=args.organic_orders)
    files = [p for p in inbox.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)

    redcat = str(REPOSITORY_ROOT / ".venv/bin/redcat")
    results = {}
    run = work / "run"
    subprocess.run(["rm", "-rf", str(run)], check=True)
    environment = dict(
        os.environ,
        REDCAT_FIRST_DUMP_DATE=f"{START}",
        REDCAT_INBOX=str(inbox),
        REDCAT_WAREHOUSE=str(run / "redcat.duckdb"),
        REDCAT_PUBLISHED=str(run / "analytics.duckdb"),
        REDCAT_LAKE=str(run / "lake"),
        DAGSTER_HOME=str(run / "dagster_home"),
    )
    (run / "dagster_home").mkdir(parents=True)
    (run / "dagster_home" / "dagster.yaml").write_text(
        (REPOSITORY_ROOT / "deploy/dagster.yaml").read_text()
    )
    first_end = last - timedelta(days=1)
    # The plain script runs the models' compiled SQL: compile it first, outside the timing.
    compiled = work / "compiled"
    subprocess.run(
        [str(REPOSITORY_ROOT / ".venv/bin/dbt"), "compile", "--quiet", "--profiles-dir",
         "profiles", "--target-path", str(compiled)],
        env=dict(os.environ, REDCAT_WAREHOUSE=str(compiled / "redcat.duckdb")),
        cwd=REPOSITORY_ROOT, check=True,
    )  # fmt: skip
    plain_seconds, plain_samples, code = measured(
        [sys.executable, str(REPOSITORY_ROOT / "benchmarks/plain.py"), str(inbox),
         str(work / "plain"), f"{START}", f"{first_end}", str(compiled / "manifest.json")],
        dict(os.environ),
    )  # fmt: skip
    if code:
        sys.exit(f"the plain script failed with exit code {code}")
    for name, start, end in (
        ("first load", START, first_end),
        ("nightly run", last, last),
        ("night, nothing changed", last, last),
    ):
        seconds, samples, code = measured(
            [redcat, "run", "--start", f"{start}", "--end", f"{end}"], environment
        )
        if code:
            sys.exit(f"{name} failed with exit code {code}")
        results[name] = (seconds, samples, step_phases(run / "dagster_home"))
        if name == "first load":
            same = same_marts(run / "analytics.duckdb", work / "plain" / "redcat.duckdb")
    rows = rows_read(run / "redcat.duckdb")

    first_seconds = results["first load"][0]
    print(
        f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"scale {args.scale}, {args.days} days: {len(files)} files, {size / 1e9:.2f} GB, "
        f"{rows:,} rows\n"
    )
    print(f"the seven contract marts equal the plain script's: {'yes' if same else 'NO'}\n")
    print("| run / phase | wall time | rows/s | peak RSS | vs the plain script |")
    print("|---|---|---|---|---|")
    print(
        f"| plain script, {args.days} days | {plain_seconds:,.0f} s | "
        f"{rows / plain_seconds:,.0f} | {peak(plain_samples) / 2**30:.2f} GiB | 1.00× |"
    )
    for name, (seconds, samples, phases) in results.items():
        share = (
            f" ({seconds / first_seconds:.1%} of the first load)" if name != "first load" else ""
        )
        print(
            f"| redcat {name}{share} | {seconds:,.0f} s | "
            f"{f'{rows / seconds:,.0f}' if name == 'first load' else '—'} | "
            f"{peak(samples) / 2**30:.2f} GiB | "
            f"{seconds / plain_seconds:.2f}× |"
        )
        if name == "first load":
            for phase, spans in phases.items():
                phase_seconds = sum(end - start for start, end in spans)
                print(
                    f"| — {phase} | {phase_seconds:,.0f} s | {rows / phase_seconds:,.0f} | "
                    f"{peak(samples, spans) / 2**30:.2f} GiB | "
                    f"{phase_seconds / plain_seconds:.2f}× |"
                )


if __name__ == "__main__":
    main()
