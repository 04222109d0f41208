"""redcat: which RedNote notes sold the brand's products on Tmall and JD (contract section 5)."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import sys
import textwrap
import threading
from datetime import date, datetime
from pathlib import Path
from typing import NoReturn, TextIO
from zoneinfo import ZoneInfo

DATES_HELP = "Dates are YYYY-MM-DD; --start and --end are both included."

PREVIEW_SQL = """
SELECT campaign_id, store_platform, total_cost, gmv_t7, roi_t7, t7_complete,
       gmv_t30, roi_t30, t30_complete
FROM marts.mart_campaign_roi ORDER BY campaign_id LIMIT 10
"""
# Money in whole yuan, ROI to 2 decimals, every window figure beside whether it is final: a
# low figure that is not final is an unfinished window, not a bad one.
PREVIEW_LAYOUT = "{:<12}{:<9}{:>11}{:>11}{:>7}  {:<6}{:>11}{:>8}  {:<5}"
PREVIEW_HEADER = PREVIEW_LAYOUT.format(
    "campaign", "platform", "total_cost", "gmv_t7", "roi_t7", "final", "gmv_t30", "roi_t30", "final"
)


class _Parser(argparse.ArgumentParser):
    """An argument the operator got wrong is told in one line, as a bad setting is."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


class _OutputWithoutReader:
    """stdout or stderr of `redcat`: once its reader is gone (`redcat run … | head -1`), the
    rest of the output is dropped, not the command, which ends as it would have (a run that
    published exits 0) and prints no traceback."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._discard_from_now_on()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._discard_from_now_on()

    def _discard_from_now_on(self) -> None:
        # The stream keeps what it could not write: onto /dev/null, its next flush succeeds.
        discard = os.open(os.devnull, os.O_WRONLY)
        os.dup2(discard, self._stream.fileno())
        os.close(discard)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def generate(args: argparse.Namespace) -> int:
    from orchestration.generator import generate as generate_dumps
    from orchestration.lib.progress import draw_progress_bars_on, progress_bar

    draw_progress_bars_on(sys.stderr)
    days = (args.end - args.start).days + 1
    with progress_bar("generating", "days", total=days) as bar:
        summary = generate_dumps(
            Path(args.out),
            args.start,
            args.end,
            scale=args.scale,
            seed=args.seed,
            progress=lambda _day_summary: bar.update(),
            organic_orders_per_day=args.organic_orders,
        )
    rows = ", ".join(f"{source} {count}" for source, count in summary.rows.items())
    print(f"wrote {summary.files_written} files to {summary.out_dir} (rows: {rows})")
    print(f"recorded truth (not read by the pipeline): {summary.truth_dir}")
    return 0


def _check_dump_dates(start: date, end: date, first_dump_date: date, time_zone: str) -> None:
    """Only days with a partition: from REDCAT_FIRST_DUMP_DATE to the last day that has ended
    in China (a day's dumps are complete only after it)."""
    from orchestration.lib.settings import ConfigurationError

    if end < start:
        raise ConfigurationError(f"--end {end} is before --start {start}")
    if start < first_dump_date:
        raise ConfigurationError(
            f"--start {start} is before the first dump date {first_dump_date}: start later, or "
            "set REDCAT_FIRST_DUMP_DATE to the brand's first day"
        )
    today = datetime.now(ZoneInfo(time_zone)).date()
    if end >= today:
        raise ConfigurationError(
            f"--end {end} has not ended yet in {time_zone}: the last dump date is "
            f"{date.fromordinal(today.toordinal() - 1)}"
        )


def run(args: argparse.Namespace) -> int:
    from orchestration.lib.lake import refuse_another_lake_before_the_run
    from orchestration.lib.publication import file_identity, refuse_new_warehouse_over_published
    from orchestration.lib.settings import ALLOW_SMALLER_PUBLICATION, BUSINESS_TIME_ZONE, Settings

    if args.allow_smaller_publication:
        os.environ[ALLOW_SMALLER_PUBLICATION] = "1"  # the run's steps read it too
    # Every setting and path checked before Dagster loads: a mistake costs seconds, not a run.
    settings = Settings.from_env()
    _check_dump_dates(args.start, args.end, settings.first_dump_date, BUSINESS_TIME_ZONE)
    settings.check_paths()
    refuse_new_warehouse_over_published(settings)
    refuse_another_lake_before_the_run(settings)
    print(f"warehouse: {settings.warehouse}")
    print(f"inbox:     {settings.inbox}")
    print(f"published: {settings.published}")
    print(f"loading dumps {args.start} .. {args.end}")

    from orchestration.lib.progress import draw_progress_bars_on
    from orchestration.run import run_pipeline

    published_before = file_identity(settings.published)

    if args.verbose:
        outcome = run_pipeline(args.start, args.end)
    else:
        # Quiet: bars, warnings and errors; dbt's line per node (on stdout) only in the UI.
        with (
            os.fdopen(os.dup(sys.stderr.fileno()), "w") as terminal,
            open(os.devnull, "w") as discard,
            contextlib.redirect_stdout(discard),
        ):
            draw_progress_bars_on(terminal)
            outcome = run_pipeline(args.start, args.end, log_level="WARNING")
    if not outcome.success:
        print(f"\nredcat run FAILED (run {outcome.run_id}):", file=sys.stderr)
        for failure in outcome.failures:
            print("  - " + "\n    ".join(failure.splitlines()), file=sys.stderr)
        published_after = file_identity(settings.published)
        if published_after is None:
            print("nothing is published yet", file=sys.stderr)
        elif published_after == published_before:
            print(f"the published file is as it was: {settings.published}", file=sys.stderr)
        else:
            print(f"published before the failure: {settings.published}", file=sys.stderr)
        return 1
    if outcome.nothing_changed:
        print("nothing changed since the last publication: nothing rebuilt, nothing published")
    _print_preview(settings)
    return 0


def _preview_line(row: tuple) -> str:
    def number(value, layout: str) -> str:
        return "-" if value is None else layout.format(value)

    def final(complete: bool | None) -> str:
        return "-" if complete is None else "yes" if complete else "no"

    campaign, platform, cost, gmv_t7, roi_t7, t7_complete, gmv_t30, roi_t30, t30_complete = row
    return PREVIEW_LAYOUT.format(
        campaign,
        platform,
        number(cost, "{:,.0f}"),
        number(gmv_t7, "{:,.0f}"),
        number(roi_t7, "{:.2f}"),
        final(t7_complete),
        number(gmv_t30, "{:,.0f}"),
        number(roi_t30, "{:.2f}"),
        final(t30_complete),
    ).rstrip()


def _print_preview(settings) -> None:
    """The campaigns' ROI as analysts will read it: from the published file, not the warehouse."""
    from orchestration.lib.publication import default_report_path
    from orchestration.lib.warehouse import connect, scratch, sql_literal

    if settings.engine == "spark":  # the marts are Spark's Parquet tables (README: Scale out)
        marts = settings.spark_warehouse / "marts.db"
        table = f"read_parquet({sql_literal(str(marts / 'mart_campaign_roi' / '*.parquet'))})"
        with scratch(settings.duckdb_limits) as connection:
            rows = connection.sql(PREVIEW_SQL.replace("marts.mart_campaign_roi", table)).fetchall()
        where = [f"marts (Spark, Parquet): {marts}"]
    else:
        with connect(settings.published, read_only=True) as connection:
            rows = connection.sql(PREVIEW_SQL).fetchall()
        where = [
            f"analysts' file (open it read-only): {settings.published}",
            f"campaign report:                    {default_report_path(settings.published)}",
        ]
    print("\n".join(["", PREVIEW_HEADER, *map(_preview_line, rows), "", *where]))


def status(args: argparse.Namespace) -> int:
    from orchestration.lib.settings import Settings
    from orchestration.lib.status import describe_status

    print(describe_status(Settings.from_env()))
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


def _settings_help() -> str:
    from orchestration.lib.settings import PIPELINE_VARIABLES

    names = textwrap.fill(
        ", ".join(PIPELINE_VARIABLES), width=92, initial_indent="  ", subsequent_indent="  "
    )
    return (
        "Settings are environment variables, checked before any work (README: Settings):\n"
        f"{names}\n"
        "  DAGSTER_HOME: the Dagster instance the UI shows (default: data/dagster_home).\n"
        "Relative paths are taken from the working directory."
    )


def _add_date_range(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--start", required=True, type=_date, metavar="YYYY-MM-DD", help=f"first {what}, included"
    )
    parser.add_argument(
        "--end", required=True, type=_date, metavar="YYYY-MM-DD", help=f"last {what}, included"
    )


def main(argv: list[str] | None = None) -> int:
    settings_help = _settings_help()
    dated_help = f"{DATES_HELP}\n\n{settings_help}"
    parser = _Parser(
        prog="redcat",
        description=__doc__,
        epilog=dated_help,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, summary: str, dated: bool = False) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=dated_help if dated else settings_help,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    generating = command(
        "generate", "write sample dumps of all six sources, one set per day", dated=True
    )
    generating.add_argument("--out", required=True, help="inbox folder to write into")
    _add_date_range(generating, "day")
    generating.add_argument("--scale", type=float, default=1.0, help="1 = small brand, 100 = large")
    generating.add_argument("--seed", type=int, default=42)
    generating.add_argument(
        "--organic-orders",
        type=float,
        help="orders per platform and day at scale 1 that no note brought (default: the "
        "generator's, about a quarter of all orders)",
    )
    generating.set_defaults(handler=generate)

    running = command(
        "run", "load the dumps of those dump dates, build every mart and publish them", dated=True
    )
    _add_date_range(running, "dump date")
    running.add_argument(
        "--allow-smaller-publication",
        action="store_true",
        help="publish even a snapshot with fewer deliveries or from another warehouse "
        "(sets REDCAT_ALLOW_SMALLER_PUBLICATION=1)",
    )
    running.add_argument(
        "--verbose",
        action="store_true",
        help="print a line per file and dbt's line per node instead of progress bars",
    )
    running.set_defaults(handler=run)

    reporting = command(
        "report", "write the campaign report (one HTML file) from the published marts"
    )
    reporting.add_argument(
        "--out", help="HTML file to write (default: campaign_report.html beside REDCAT_PUBLISHED)"
    )
    reporting.set_defaults(handler=report)

    command(
        "status",
        "what the warehouse holds per source, which windows are mature, the last publication",
    ).set_defaults(handler=status)

    args = parser.parse_args(argv)
    from orchestration.lib.settings import ConfigurationError

    try:
        return args.handler(args)
    except ConfigurationError as error:
        # An operator's mistake: one line that names the setting, no traceback.
        print(f"redcat: {error}", file=sys.stderr)
        return 2


def entry_point() -> None:
    """`redcat`: main(), then out without tearing the interpreter down. After a run, Python
    would spend over a second freeing Dagster's, dbt's and pandas' half a million objects one
    by one, only to hand the memory back to the system. What a normal exit does before that
    is done first: threads joined, exit handlers run (logging's included), output flushed."""
    sys.stdout, sys.stderr = _OutputWithoutReader(sys.stdout), _OutputWithoutReader(sys.stderr)
    code = main()
    threading._shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # e.g. a stream closed by the one who started us
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    entry_point()
