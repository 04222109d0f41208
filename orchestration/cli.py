"""`redcat generate` and `redcat run` (contract section 5)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

RESULT_PREVIEW_SQL = """
SELECT campaign_id, store_platform, clicks, orders_t7, gmv_t7, total_cost, roi_t7, t30_complete
FROM marts.mart_campaign_roi ORDER BY campaign_id LIMIT 10
"""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def generate(args: argparse.Namespace) -> int:
    from orchestration.generator import generate as generate_dumps

    summary = generate_dumps(
        Path(args.out), args.start, args.end, scale=args.scale, seed=args.seed, progress=print
    )
    rows = ", ".join(f"{source} {count}" for source, count in summary.rows.items())
    print(f"wrote {summary.files_written} files to {summary.out_dir} (rows: {rows})")
    print(f"recorded truth (not read by the pipeline): {summary.truth_dir}")
    return 0


def run(args: argparse.Namespace) -> int:
    from orchestration.lib.publication import refuse_new_warehouse_over_published
    from orchestration.lib.settings import ALLOW_SMALLER_PUBLICATION, Settings
    from orchestration.lib.warehouse import connect, scratch, sql_literal

    if args.end < args.start:
        print("--end is before --start", file=sys.stderr)
        return 2
    if args.allow_smaller_publication:
        os.environ[ALLOW_SMALLER_PUBLICATION] = "1"  # the run's steps read it too
    # Every setting and path checked before Dagster loads: a mistake costs seconds, not a run.
    settings = Settings.from_env()
    settings.check_paths()
    refuse_new_warehouse_over_published(settings)
    print(f"warehouse: {settings.warehouse}")
    print(f"inbox:     {settings.inbox}")
    print(f"published: {settings.published}")
    print(f"loading dumps {args.start} .. {args.end}")

    from orchestration.lib.run import run_pipeline

    outcome = run_pipeline(args.start, args.end)
    if not outcome.success:
        print(f"\nredcat run FAILED (run {outcome.run_id}):", file=sys.stderr)
        for failure in outcome.failures:
            print(f"  - {failure}", file=sys.stderr)
        return 1
    if settings.engine == "spark":  # the marts are Spark's Parquet tables (README: Scale out)
        marts = settings.spark_warehouse / "marts.db"
        print(f"\nmarts (Spark, Parquet): {marts}")
        table = f"read_parquet({sql_literal(str(marts / 'mart_campaign_roi' / '*.parquet'))})"
        with scratch(settings.duckdb_limits) as connection:
            print(connection.sql(RESULT_PREVIEW_SQL.replace("marts.mart_campaign_roi", table)))
        return 0
    print(f"\nwarehouse: {settings.warehouse}")
    with connect(settings.warehouse, read_only=True) as connection:
        print(connection.sql(RESULT_PREVIEW_SQL))
    return 0


def report(args: argparse.Namespace) -> int:
    from orchestration.lib.report import PublishedFileMissing, write_report
    from orchestration.lib.settings import Settings

    published = Settings.from_env().published
    try:
        out = write_report(published, Path(args.out) if args.out else None)
    except PublishedFileMissing as missing:
        print(f"redcat report: {missing}", file=sys.stderr)
        return 1
    print(f"campaign report of {published}: {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="redcat", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    generating = commands.add_parser("generate", help="write sample dumps of all six sources")
    generating.add_argument("--out", required=True, help="inbox folder to write into")
    generating.add_argument("--start", required=True, type=_date)
    generating.add_argument("--end", required=True, type=_date)
    generating.add_argument("--scale", type=float, default=1.0, help="1 = small brand, 100 = large")
    generating.add_argument("--seed", type=int, default=42)
    generating.set_defaults(handler=generate)

    running = commands.add_parser("run", help="load the dumps of those dates and build every mart")
    running.add_argument("--start", required=True, type=_date)
    running.add_argument("--end", required=True, type=_date)
    running.add_argument(
        "--allow-smaller-publication",
        action="store_true",
        help="publish even a snapshot with fewer deliveries or from another warehouse "
        "(sets REDCAT_ALLOW_SMALLER_PUBLICATION=1)",
    )
    running.set_defaults(handler=run)

    reporting = commands.add_parser(
        "report", help="write the campaign report (one HTML file) from the published marts"
    )
    reporting.add_argument(
        "--out", help="HTML file to write (default: campaign_report.html beside REDCAT_PUBLISHED)"
    )
    reporting.set_defaults(handler=report)

    args = parser.parse_args(argv)
    from orchestration.lib.settings import ConfigurationError

    try:
        return args.handler(args)
    except ConfigurationError as error:
        # An operator's mistake: one line that names the setting, no traceback.
        print(f"redcat: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
