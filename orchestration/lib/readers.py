"""Readers turn one native export into a header and rows of text cells.

They stream where the format allows (CSV, JSON Lines), so a dump of hundreds of MB is
never held as one string; cells stay text so ids keep every digit.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import json
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from python_calamine import CalamineError, CalamineWorkbook


class FileRefused(Exception):
    """The whole file cannot be staged; nothing of it is written."""

    def __init__(self, file: Path, reason: str):
        super().__init__(f"{file.name}: {reason}")
        self.file = file
        self.reason = reason


@dataclass(frozen=True)
class TextRow:
    line_number: int  # 1 = first data row
    cells: dict[str, str | None]
    problem: str | None = None  # a row the reader could not even split into cells


@dataclass
class TextFile:
    header: list[str]
    rows: Iterator[TextRow]


Reader = Callable[[Path, tuple[str, ...]], TextFile]


def _clean(cell: str | None) -> str | None:
    if cell is None:
        return None
    cell = cell.strip()
    return cell or None


def _csv(path: Path, encoding: str) -> TextFile:
    stream = open(path, encoding=encoding, newline="")  # noqa: SIM115 - closed by the generator
    try:
        reader = csv.reader(stream)
        header = [h.strip() for h in next(reader, [])]
    except UnicodeDecodeError as error:
        stream.close()
        raise FileRefused(path, f"not readable as {encoding}: {error.reason}") from None
    if not header:
        stream.close()
        raise FileRefused(
            path, "empty file: not even a header row (a day with no data still has its header)"
        )

    def rows() -> Iterator[TextRow]:
        with stream:
            try:
                for line_number, values in enumerate(reader, start=1):
                    if not any(v.strip() for v in values):
                        continue
                    if len(values) != len(header):
                        yield TextRow(
                            line_number,
                            {},
                            f"has {len(values)} fields where the header has {len(header)}",
                        )
                        continue
                    yield TextRow(
                        line_number, {h: _clean(v) for h, v in zip(header, values, strict=True)}
                    )
            except UnicodeDecodeError as error:
                raise FileRefused(
                    path, f"not readable as {encoding} after line {line_number}: {error.reason}"
                ) from None

    return TextFile(header, rows())


def utf8_csv(path: Path, _fields: tuple[str, ...]) -> TextFile:
    """UTF-8, with or without a BOM (RedNote exports carry one; a BOM-less file is fine too)."""
    return _csv(path, "utf-8-sig")


def gb18030_csv(path: Path, _fields: tuple[str, ...]) -> TextFile:
    """Tmall's seller-center export. A UTF-8 file would decode to mojibake, not fail: refuse it."""
    with open(path, "rb") as raw:
        start = raw.read(65536)
    if start.startswith(codecs.BOM_UTF8):
        raise FileRefused(path, "is UTF-8 (it starts with a UTF-8 BOM); Tmall exports are GB18030")
    if _looks_like_utf8_chinese(start):
        raise FileRefused(path, "is UTF-8, not GB18030: re-export it from Tmall or transcode it")
    return _csv(path, "gb18030")


def _looks_like_utf8_chinese(sample: bytes) -> bool:
    """GB18030 decodes UTF-8 bytes silently; Chinese text that is valid UTF-8 is the tell."""
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as error:
        # A cut multi-byte character at the end of the sample is still UTF-8.
        if error.start < len(sample) - 4:
            return False
        text = sample[: error.start].decode("utf-8")
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def jsonl_gz(path: Path, fields: tuple[str, ...]) -> TextFile:
    """One JSON object a line; the fields of the spec are the header."""

    def rows() -> Iterator[TextRow]:
        line_number = 0
        try:
            with gzip.open(path, "rt", encoding="utf-8") as stream:
                for line_number, line in enumerate(stream, start=1):  # noqa: B007 - used after
                    if not line.strip():
                        continue
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError as error:
                        yield TextRow(line_number, {}, f"not valid JSON: {error.msg}")
                        continue
                    if not isinstance(record, dict):
                        yield TextRow(line_number, {}, "not a JSON object")
                        continue
                    yield TextRow(line_number, {k: _json_cell(record.get(k)) for k in fields})
        except (OSError, EOFError, zlib.error) as error:
            raise FileRefused(
                path,
                f"gzip stream broken after line {line_number} ({error}): truncated or not gzip",
            ) from None

    return TextFile(list(fields), rows())


def _json_cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return _clean(value)
    return json.dumps(value, ensure_ascii=False)


def xlsx_first_sheet(path: Path, _fields: tuple[str, ...]) -> TextFile:
    """JD's merchant export: first sheet, first row the header."""
    try:
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        grid = sheet.iter_rows()
        header = [(_xlsx_cell(c) or "") for c in next(grid, [])]
    except (CalamineError, OSError, ValueError) as error:
        raise FileRefused(
            path, f"not a readable .xlsx workbook (truncated or another format): {error}"
        ) from None
    if not any(header):
        raise FileRefused(path, "empty workbook: the first sheet has no header row")

    def rows() -> Iterator[TextRow]:
        for line_number, values in enumerate(grid, start=1):
            cells = [_xlsx_cell(v) for v in values]
            if not any(cells):
                continue
            cells += [None] * (len(header) - len(cells))
            yield TextRow(line_number, dict(zip(header, cells, strict=False)))

    return TextFile(header, rows())


def _xlsx_cell(value: object) -> str | None:
    """Excel stores numbers as floats: write whole ones without `.0`, dates as the exports do."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return _clean(str(value))
