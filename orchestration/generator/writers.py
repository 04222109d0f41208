"""Writers of the six native dump formats, byte-reproducible for the same content."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from pathlib import Path

import xlsxwriter

SOURCES = (
    "rednote_campaigns",
    "rednote_note_metrics",
    "rednote_clicks",
    "redstar_funnel",
    "tmall_orders",
    "jd_orders",
)
EXTENSIONS = {
    "rednote_campaigns": "csv",
    "rednote_note_metrics": "csv",
    "rednote_clicks": "jsonl.gz",
    "redstar_funnel": "csv",
    "tmall_orders": "csv",
    "jd_orders": "xlsx",
}
# Encodings of the exports as the platforms ship them; utf-8-sig writes the BOM.
CSV_ENCODINGS = {
    "rednote_campaigns": "utf-8",
    "rednote_note_metrics": "utf-8-sig",
    "redstar_funnel": "utf-8",
    "tmall_orders": "gb18030",
}


def dump_path(out_dir: Path, source: str, day: date) -> Path:
    return out_dir / source / f"{source}_{day:%Y%m%d}.{EXTENSIONS[source]}"


def write_csv(
    path: Path, source: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> None:
    # csv's default CRLF line ends match the example exports.
    with path.open("w", encoding=CSV_ENCODINGS[source], newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def write_jsonl_gz(path: Path, lines: Iterable[str]) -> None:
    # mtime=0 keeps the gzip header, hence the bytes, independent of the wall clock.
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    with (
        path.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as f,
    ):
        f.write(data)


def write_xlsx(
    path: Path, day: date, header: Sequence[str], rows: Iterable[Sequence[str | int]]
) -> None:
    """First sheet 订单; every cell text (ids keep all digits) except integer counts."""
    # in_memory gives fixed zip timestamps; the fixed creation date does the rest.
    workbook = xlsxwriter.Workbook(str(path), {"in_memory": True})
    workbook.set_properties({"created": datetime.combine(day, time(23, 30))})
    sheet = workbook.add_worksheet("订单")
    for col, name in enumerate(header):
        sheet.write_string(0, col, name)
    for r, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if isinstance(value, int):
                sheet.write_number(r, col, value)
            else:
                sheet.write_string(r, col, value)
    workbook.close()
