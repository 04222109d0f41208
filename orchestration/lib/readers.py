"""Readers turn one native export into a header and rows of text cells.

They stream where the format allows (CSV, JSON Lines), so a dump of hundreds of MB is
never held as one string; cells stay text so ids keep every digit. A file that is not what
its name says (another format, encoding or a cut transfer) is refused as a whole, with a
reason that says what to do.
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

REDELIVER = "redeliver the file under the same name and re-run the day"


class FileRefused(Exception):
    """The whole file cannot be staged; nothing of it is written."""

    def __init__(self, file: Path, reason: str):
        super().__init__(f"{file.name} refused: {reason}")
        self.file = file
        self.reason = reason

    def __reduce__(self):  # back from a worker process
        return FileRefused, (self.file, self.reason)


@dataclass(frozen=True)
class TextRow:
    line_number: int  # 1 = first data row
    cells: dict[str, str | None]
    # A row the reader could not even split into cells: its text is not kept (loading).
    problem: str | None = None


@dataclass
class TextFile:
    header: list[str]
    rows: Iterator[TextRow]
    # JSON Lines may leave out a key whose value is null: only required fields must show.
    keys_may_be_absent: bool = False
    # Closes the file when its rows are not read to the end (the rows close it otherwise).
    close: Callable[[], None] = lambda: None


# (path, the spec's headers) -> the file as text.
Reader = Callable[[Path, tuple[str, ...]], TextFile]

# The first bytes of the formats a dump is mistaken for, and how to name them.
_SIGNATURES = (
    (b"PK\x03\x04", "an Excel workbook (a zip archive)"),
    (b"\xd0\xcf\x11\xe0", "an old-style Excel .xls workbook"),
    (b"\x1f\x8b", "gzip-compressed"),
    (codecs.BOM_UTF16_LE, "UTF-16 text"),
    (codecs.BOM_UTF16_BE, "UTF-16 text"),
)


def _file_kind(start: bytes) -> str | None:
    return next((kind for signature, kind in _SIGNATURES if start.startswith(signature)), None)


def _first_bytes(path: Path, size: int = 8) -> bytes:
    with open(path, "rb") as raw:
        return raw.read(size)


def _clean(cell: str | None) -> str | None:
    if cell is None:
        return None
    cell = cell.strip()
    return cell or None


def _csv(path: Path, encoding: str, label: str, expected: tuple[str, ...]) -> TextFile:
    kind = _file_kind(_first_bytes(path))
    if kind:
        raise FileRefused(
            path, f"the file is {kind}, not a {label} CSV; export it as CSV, then {REDELIVER}"
        )
    stream = open(path, encoding=encoding, newline="")  # noqa: SIM115 - closed by the generator
    line_number = 0

    def refuse(error: Exception) -> FileRefused:
        stream.close()
        if isinstance(error, UnicodeDecodeError):
            line, byte = _undecodable(path, encoding)
            problem = (
                f"not {label} text (byte 0x{byte:02x} on line {line} of the file cannot be "
                f"decoded); re-export it as {label}"
            )
        else:
            where = f"after data row {line_number}" if line_number else "in the header"
            problem = f"not a readable CSV ({error} {where}); re-export it"
        return FileRefused(path, f"{problem}, then {REDELIVER}")

    reader = csv.reader(stream)
    try:
        header = [h.strip() for h in next(reader, [])]
    except (UnicodeDecodeError, csv.Error) as error:
        raise refuse(error) from None
    try:
        _check_header(path, header, expected)
    except FileRefused:
        stream.close()
        raise

    def rows() -> Iterator[TextRow]:
        nonlocal line_number
        header_lines = reader.line_num
        with stream:
            try:
                for values in reader:
                    first_line, line_number = line_number + 1, reader.line_num - header_lines
                    if line_number > first_line and _swallows_rows(values, len(header)):
                        # A quote opened in a field and closed lines later (a stray quote):
                        # the record swallowed those lines; each is quarantined, none is lost.
                        for number in range(first_line, line_number + 1):
                            yield TextRow(
                                number,
                                {},
                                f"is inside a quoted field that runs from line {first_line} to "
                                f"line {line_number} of the data: a stray or unclosed quote",
                            )
                        continue
                    if not any(v.strip() for v in values):
                        continue
                    if len(values) != len(header):
                        yield TextRow(
                            first_line,
                            {},
                            f"has {len(values)} fields where the header has {len(header)}",
                        )
                        continue
                    yield TextRow(
                        first_line, {h: _clean(v) for h, v in zip(header, values, strict=True)}
                    )
            except (UnicodeDecodeError, csv.Error) as error:
                raise refuse(error) from None

    return TextFile(header, rows(), close=stream.close)


def _swallows_rows(values: list[str], width: int) -> bool:
    """Whether a record over several lines is a stray quote's rather than a quoted field with
    line breaks (a title written on two lines): a quote opened by mistake and closed lines
    later leaves a record of another width, or one whose field spanning lines holds at least a
    row's worth of commas (the rest of its first line and the start of its last are a row)."""
    return len(values) != width or any(
        "\n" in value and value.count(",") >= width - 1 for value in values
    )


def _undecodable(path: Path, encoding: str) -> tuple[int, int]:
    """The physical line (1 = header) and value of the first byte that does not decode: the
    text reader decodes ahead in blocks, so its own position says little."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    with open(path, "rb") as raw:
        while chunk := raw.read(1 << 16):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                start = max(error.start - len(error.object) + len(chunk), 0)
                return line + chunk[:start].count(b"\n"), chunk[start]
            line += chunk.count(b"\n")
    return line, 0


def _check_header(path: Path, header: list[str], expected: tuple[str, ...]) -> None:
    """A header row is there and names each of the expected columns once. Other names are not
    quoted: in a file saved without its header, the first row is data, maybe personal."""
    if not any(header):
        raise FileRefused(
            path,
            "no header row (a day with no data still has its header); "
            f"re-export the day, then {REDELIVER}",
        )
    repeated = sorted({h for h in header if h in expected and header.count(h) > 1})
    if repeated:
        raise FileRefused(
            path,
            f"the header names {', '.join(repeated)} more than once; re-export it, "
            f"then {REDELIVER}",
        )


def utf8_csv(path: Path, expected: tuple[str, ...]) -> TextFile:
    """UTF-8, with or without a BOM (RedNote exports carry one; a BOM-less file is fine too)."""
    return _csv(path, "utf-8-sig", "UTF-8", expected)


def gb18030_csv(path: Path, expected: tuple[str, ...]) -> TextFile:
    """Tmall's seller-center export. A UTF-8 file would decode to mojibake, not fail: refuse it."""
    with open(path, "rb") as raw:
        start = raw.read(65536)
    if start.startswith(codecs.BOM_UTF8):
        raise FileRefused(
            path,
            "is UTF-8 (it starts with a UTF-8 BOM), not GB18030; re-export it "
            f"from Tmall or transcode it to GB18030, then {REDELIVER}",
        )
    if _looks_like_utf8_chinese(start):
        raise FileRefused(
            path,
            "is UTF-8, not GB18030; re-export it from Tmall or transcode it to GB18030, "
            f"then {REDELIVER}",
        )
    return _csv(path, "gb18030", "GB18030", expected)


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


# Lines read without meeting a JSON object before the file is judged not to be JSON Lines.
_JSON_PROBE_LINES = 20


def jsonl_gz(path: Path, expected: tuple[str, ...]) -> TextFile:
    """One JSON object a line, gzip-compressed. The keys of the first object are the header;
    the expected fields are read from every object, absent ones as null."""
    start = _first_bytes(path)
    if not start.startswith(b"\x1f\x8b"):
        kind = _file_kind(start) or "plain, uncompressed data"
        raise FileRefused(path, f"the file is {kind}, not gzip-compressed JSON Lines; {REDELIVER}")
    stream = gzip.open(path, "rt", encoding="utf-8")  # noqa: SIM115 - closed by the generator
    line_number = 0

    def refuse(error: Exception) -> FileRefused:
        stream.close()
        if isinstance(error, UnicodeDecodeError):
            problem = f"line {line_number + 1} is not UTF-8 text"
        else:
            problem = (
                f"gzip stream broken after line {line_number} ({error}), the file is truncated"
            )
        return FileRefused(path, f"{problem}; {REDELIVER}")

    def numbered() -> Iterator[tuple[int, str]]:
        nonlocal line_number
        try:
            for line_number, line in enumerate(stream, start=1):  # noqa: B007 - in refuse
                if line.strip():
                    yield line_number, line
        except (OSError, EOFError, zlib.error, UnicodeDecodeError) as error:
            raise refuse(error) from None

    def parsed(number: int, line: str) -> TextRow | dict:
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            problem = f"not valid JSON: {error.msg}"
        else:
            if isinstance(record, dict):
                return record
            problem = "not a JSON object"
        return TextRow(number, {}, problem)

    lines = numbered()
    before_first: list[TextRow] = []
    first: tuple[int, dict] | None = None
    for number, line in lines:
        outcome = parsed(number, line)
        if isinstance(outcome, dict):
            first = (number, outcome)
            break
        before_first.append(outcome)
        if len(before_first) >= _JSON_PROBE_LINES:
            break
    if before_first and first is None:
        stream.close()
        raise FileRefused(
            path,
            f"not JSON Lines: none of its first {len(before_first)} line(s) is a JSON object "
            f"(is it another source's export?); {REDELIVER}",
        )
    # An empty file (a day without clicks) has no layout to contradict the expected one.
    header = list(first[1]) if first else list(expected)
    fields = header + [field for field in expected if field not in header]

    def as_row(number: int, record: dict) -> TextRow:
        return TextRow(number, {k: _json_cell(record.get(k)) for k in fields})

    def rows() -> Iterator[TextRow]:
        with stream:
            yield from before_first
            if first:
                yield as_row(*first)
            for number, line in lines:
                outcome = parsed(number, line)
                yield as_row(number, outcome) if isinstance(outcome, dict) else outcome

    return TextFile(header, rows(), keys_may_be_absent=True, close=stream.close)


def _json_cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return _clean(value)
    return json.dumps(value, ensure_ascii=False)


def xlsx_first_sheet(path: Path, expected: tuple[str, ...]) -> TextFile:
    """JD's merchant export: first sheet, first row the header."""
    start = _first_bytes(path)
    if not start.startswith(b"PK\x03\x04"):
        kind = _file_kind(start) or "text (a CSV saved under an .xlsx name?)"
        raise FileRefused(
            path,
            f"the file is {kind}, not an .xlsx workbook; export the workbook, then {REDELIVER}",
        )
    try:
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        grid = sheet.iter_rows()
        header = [(_xlsx_cell(c) or "") for c in next(grid, [])]
    except (CalamineError, OSError, ValueError) as error:
        raise _unreadable(path, error) from None
    while header and not header[-1]:
        header.pop()
    _check_header(path, header, expected)

    def rows() -> Iterator[TextRow]:
        try:
            yield from split(grid)
        except (CalamineError, ValueError) as error:
            raise _unreadable(path, error) from None

    def split(grid: Iterator[list]) -> Iterator[TextRow]:
        for line_number, values in enumerate(grid, start=1):
            cells = [_xlsx_cell(v) for v in values]
            while cells and cells[-1] is None:
                cells.pop()
            if not cells:
                continue
            if len(cells) > len(header):
                yield TextRow(
                    line_number, {}, f"has {len(cells)} fields where the header has {len(header)}"
                )
                continue
            cells += [None] * (len(header) - len(cells))
            yield TextRow(line_number, dict(zip(header, cells, strict=True)))

    return TextFile(header, rows())


def _unreadable(path: Path, error: Exception) -> FileRefused:
    return FileRefused(
        path, f"not a readable .xlsx workbook, probably truncated ({error}); {REDELIVER}"
    )


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
