"""Ingestion benchmark: redcat's checked load against a naive unchecked load, side by side.

For every source, the same generated dumps are loaded two ways, each in a fresh process so
peak memory is its own (counted above what the imports took): redcat's `load_dump` (stream,
check, cast, quarantine, ledger) and a baseline that reads the file with pandas as text and
inserts it into DuckDB unchecked.
Reported as ratios (redcat / baseline) of wall time and peak RSS, measured in one run.

    .venv/bin/python benchmarks/ingest.py --scale 20 --days 7
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

MEASURE = r"""
import json, os, resource, sys, time
from datetime import date, timedelta
mode, source, inbox, warehouse, start, days = sys.argv[1:7]
os.environ.update(REDCAT_INBOX=inbox, REDCAT_WAREHOUSE=warehouse)
dates = [date.fromisoformat(start) + timedelta(days=i) for i in range(int(days))]
import pathlib
import duckdb, pandas as pd
from python_calamine import CalamineWorkbook
from orchestration.defs.ingestion.sources import SOURCES_BY_NAME
from orchestration.lib.loading import load_dump
from orchestration.lib.settings import Settings
spec = SOURCES_BY_NAME[source]
baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
began = time.perf_counter()
if mode == "redcat":
    settings = Settings.from_env()
    rows = sum(load_dump(spec, d, settings).rows_read for d in dates)
else:
    connection = duckdb.connect(warehouse)
    rows = 0
    for d in dates:
        path = spec.path(pathlib.Path(inbox), d)
        if spec.extension == "xlsx":
            grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
            frame = pd.DataFrame(grid[1:], columns=grid[0]).astype(str)
        elif spec.extension == "jsonl.gz":
            frame = pd.read_json(path, lines=True, dtype=False, compression="gzip").astype(str)
        else:
            encoding = "gb18030" if source == "tmall_orders" else "utf-8-sig"
            frame = pd.read_csv(path, dtype=str, encoding=encoding)
        frame.columns = [f"c{i}" for i in range(len(frame.columns))]
        connection.execute("CREATE TABLE IF NOT EXISTS t AS SELECT * FROM frame LIMIT 0")
        connection.execute("INSERT INTO t SELECT * FROM frame")
        rows += len(frame)
    connection.close()
elapsed = time.perf_counter() - began
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - baseline_mb
print(json.dumps({"rows": rows, "seconds": elapsed, "peak_mb": peak_mb}))
"""


def measure(mode: str, source: str, inbox: Path, work: Path, start: date, days: int) -> dict:
    warehouse = work / f"{mode}-{source}.duckdb"
    output = subprocess.run(
        [sys.executable, "-c", MEASURE, mode, source, str(inbox), str(warehouse),
         start.isoformat(), str(days)],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1],
    ).stdout  # fmt: skip
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=20)
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()

    from orchestration.defs.ingestion.sources import SOURCES
    from orchestration.generator import generate

    start = date(2026, 5, 1)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        generate(work / "inbox", start, start + timedelta(days=args.days - 1), scale=args.scale)
        print(f"scale {args.scale}, {args.days} days; ratio = redcat / naive unchecked load")
        print(f"{'source':22} {'rows':>9} {'redcat s':>9} {'naive s':>8} {'time x':>7} "
              f"{'redcat MB':>9} {'naive MB':>8} {'memory x':>8}")  # fmt: skip
        for spec in SOURCES:
            ours = measure("redcat", spec.name, work / "inbox", work, start, args.days)
            naive = measure("naive", spec.name, work / "inbox", work, start, args.days)
            print(
                f"{spec.name:22} {ours['rows']:>9} {ours['seconds']:>9.2f} "
                f"{naive['seconds']:>8.2f} {ours['seconds'] / naive['seconds']:>7.2f} "
                f"{ours['peak_mb']:>9.0f} {naive['peak_mb']:>8.0f} "
                f"{ours['peak_mb'] / naive['peak_mb']:>8.2f}"
            )


if __name__ == "__main__":
    main()
