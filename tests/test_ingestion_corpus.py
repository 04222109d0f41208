"""The ingestion corpus: small files of all six sources, each with its exact outcome.

A refused file stages nothing, keeps whatever the day held and is in the ledger as refused
with its reason; a file with bad rows stages the good ones and quarantines the rest with line,
column and reason. Every loaded file balances: rows read = rows staged + rows quarantined.
"""

from __future__ import annotations

import codecs
import gzip
import json
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from orchestration.defs.ingestion.sources import SOURCES, SOURCES_BY_NAME
from orchestration.lib.loading import load_dump
from orchestration.lib.readers import FileRefused
from orchestration.lib.row_rules import UNSPLIT_ROW_TEXT, WRONG_DATE_MIN_ROWS
from orchestration.lib.settings import Settings
from tests.dumps import (
    DAY,
    VALID,
    csv_bytes,
    deliver,
    dumped_rows,
    first_lines,
    jsonl_gz_bytes,
    rows,
    xlsx_bytes,
)

REDELIVER = "redeliver the file under the same name and re-run the day"
EMPTY_FILE = (
    "empty file (0 bytes), probably a cut transfer (a day with no data still has its header, "
    f"or an empty gzip for clicks); {REDELIVER}"
)
PERSONAL_VALUES = ("tb_buyer", "王五", "13900001234", "北京市某路1号", "jd_buyer", "赵六")
HEADERLESS = (
    "its first row names none of the {source} columns (is the header row missing, or is it "
    f"another export?); re-export it with its header, then {REDELIVER}"
)


def _quoted(content: bytes, opened_on: int, closed_on: int) -> bytes:
    """The CSV with a quote opening the last field of one data line and another inside the
    last field of a later one: a CSV reader takes the lines between as one field."""
    lines = content.split(b"\n")
    head, _, last = lines[opened_on].rpartition(b",")
    lines[opened_on] = head + b',"' + last
    lines[closed_on] = lines[closed_on][:-2] + b'"' + lines[closed_on][-2:]
    return b"\n".join(lines)


UNKNOWN_INDUSTRY = (
    "industry: not one of beauty, 3c_electronics, fashion, home_decor, sports_outdoor, health"
)


@dataclass(frozen=True)
class Case:
    source: str
    content: bytes
    refused: str | None = None  # the reason, exactly
    quarantined: list[tuple[int, str | None, str]] = field(default_factory=list)
    staged: int = 0
    file_name: str | None = None  # a file named otherwise than the source's pattern
    dropped: str | None = None


CASES = {
    # --- refused files -------------------------------------------------------------------
    "tmall utf-8 not gb18030": Case(
        "tmall_orders",
        csv_bytes(rows("tmall_orders"), "utf-8"),
        refused="is UTF-8, not GB18030; re-export it from Tmall or transcode it to GB18030, "
        f"then {REDELIVER}",
    ),
    "tmall utf-8 with bom": Case(
        "tmall_orders",
        codecs.BOM_UTF8 + csv_bytes(rows("tmall_orders"), "utf-8"),
        refused="is UTF-8 (it starts with a UTF-8 BOM), not GB18030; re-export it from Tmall or "
        f"transcode it to GB18030, then {REDELIVER}",
    ),
    "tmall utf-16": Case(
        "tmall_orders",
        csv_bytes(rows("tmall_orders"), "utf-16"),
        refused=f"the file is UTF-16 text, not a GB18030 CSV; export it as CSV, then {REDELIVER}",
    ),
    "tmall workbook saved under a csv name": Case(
        "tmall_orders",
        xlsx_bytes(rows("tmall_orders"), header=list(VALID["tmall_orders"])),
        refused="the file is an Excel workbook (a zip archive), not a GB18030 CSV; export it as "
        f"CSV, then {REDELIVER}",
    ),
    "metrics gb18030 not utf-8": Case(
        "rednote_note_metrics",
        csv_bytes(rows("rednote_note_metrics"), "gb18030"),
        refused="not UTF-8 text (byte 0xc8 on line 1 of the file cannot be decoded); re-export "
        f"it as UTF-8, then {REDELIVER}",
    ),
    "funnel with one row in gb18030": Case(
        "redstar_funnel",
        csv_bytes(rows("redstar_funnel", 2))
        + ",".join(rows("redstar_funnel", 3, line_3={"sku_id": "商品"})[2].values()).encode(
            "gb18030"
        ),
        refused="not UTF-8 text (byte 0xc9 on line 4 of the file cannot be decoded); re-export "
        f"it as UTF-8, then {REDELIVER}",
    ),
    "campaigns empty file": Case("rednote_campaigns", b"", refused=EMPTY_FILE),
    "clicks empty file": Case("rednote_clicks", b"", refused=EMPTY_FILE),
    "funnel blank lines only": Case(
        "redstar_funnel",
        b"\n\n",
        refused="no header row (a day with no data still has its header); re-export the day, "
        f"then {REDELIVER}",
    ),
    "funnel header names a column twice": Case(
        "redstar_funnel",
        csv_bytes(
            [list(VALID["redstar_funnel"].values()) + ["x"]],
            header=[*VALID["redstar_funnel"], "cid"],
        ),
        refused=f"the header names cid more than once; re-export it, then {REDELIVER}",
    ),
    "clicks truncated gzip": Case(
        "rednote_clicks",
        jsonl_gz_bytes(rows("rednote_clicks", 40))[:-20],
        refused="gzip stream broken after line 36 (Compressed file ended before the "
        f"end-of-stream marker was reached), the file is truncated; {REDELIVER}",
    ),
    "clicks not gzip-compressed": Case(
        "rednote_clicks",
        gzip.decompress(jsonl_gz_bytes(rows("rednote_clicks"))),
        refused="the file is plain, uncompressed data, not gzip-compressed JSON Lines; "
        f"{REDELIVER}",
    ),
    "clicks folder holding the campaigns csv": Case(
        "rednote_clicks",
        gzip.compress(csv_bytes(rows("rednote_campaigns", 2))),
        refused="not JSON Lines: none of its first 3 line(s) is a JSON object (is it another "
        f"source's export?); {REDELIVER}",
    ),
    "clicks key renamed": Case(
        "rednote_clicks",
        jsonl_gz_bytes(
            [
                {("clickTime" if k == "click_time" else k): v for k, v in r.items()}
                for r in rows("rednote_clicks")
            ]
        ),
        refused="required column(s) missing: click_time (found: cid, clickTime, note_id, "
        "campaign_id, target_platform, user_key, placement), the export's layout changed; "
        f"re-export it with the standard columns, then {REDELIVER}",
    ),
    "funnel required columns missing": Case(
        "redstar_funnel",
        csv_bytes(
            [
                {k: v for k, v in r.items() if k not in ("platform", "sku_id")}
                for r in rows("redstar_funnel")
            ]
        ),
        refused="required column(s) missing: platform, sku_id (found: cid, event_time, "
        "event_type, store_id), the export's layout changed; re-export it with the standard "
        f"columns, then {REDELIVER}",
    ),
    "campaigns folder holding a funnel dump": Case(
        "rednote_campaigns",
        dumped_rows("redstar_funnel"),
        refused="it is a redstar_funnel dump (its columns are redstar_funnel's), not "
        f"rednote_campaigns; put the rednote_campaigns dump here, then {REDELIVER}",
    ),
    "jd truncated workbook": Case(
        "jd_orders",
        xlsx_bytes(rows("jd_orders"))[:3000],
        refused="not a readable .xlsx workbook, probably truncated (invalid Zip archive: Could "
        f"not find EOCD); {REDELIVER}",
    ),
    "jd csv saved under an xlsx name": Case(
        "jd_orders",
        csv_bytes(rows("jd_orders")),
        refused="the file is text (a CSV saved under an .xlsx name?), not an .xlsx workbook; "
        f"export the workbook, then {REDELIVER}",
    ),
    "jd export saved as csv": Case(
        "jd_orders",
        csv_bytes(rows("jd_orders")),
        file_name="jd_orders_20260513.csv",
        refused="jd_orders dumps are .xlsx files; deliver the day's export as "
        "jd_orders_20260513.xlsx, remove jd_orders_20260513.csv and re-run the day",
    ),
    "metrics of another day": Case(
        "rednote_note_metrics",
        dumped_rows("rednote_note_metrics", 12, **first_lines(12, {"日期": "2026-05-12"})),
        refused="the file is for another date: only 0 of 12 rows have a 日期 on 2026-05-13 (the "
        "most common is 2026-05-12); deliver each day's export under its own date's name, "
        "then re-run the day",
    ),
    "clicks mostly of another day": Case(
        "rednote_clicks",
        dumped_rows(
            "rednote_clicks", 11, **first_lines(8, {"click_time": "2026-05-14T09:00:00+08:00"})
        ),
        refused="the file is for another date: only 3 of 11 rows have a click_time on or before "
        "2026-05-13 (the most common is 2026-05-14); deliver each day's export under its own "
        "date's name, then re-run the day",
    ),
    "tmall orders created after the dump date": Case(
        "tmall_orders",
        dumped_rows(
            "tmall_orders",
            10,
            **first_lines(10, {"订单创建时间": "2026-05-20 10:00:00", "订单付款时间": ""}),
        ),
        refused="the file is for another date: only 0 of 10 rows have a 订单创建时间 on or "
        "before 2026-05-13 (the most common is 2026-05-20); deliver each day's export under "
        "its own date's name, then re-run the day",
    ),
    "tmall export saved without its header row": Case(
        "tmall_orders",
        csv_bytes(
            rows("tmall_orders", 3)[1:], "gb18030", header=list(VALID["tmall_orders"].values())
        ),
        refused=HEADERLESS.format(source="tmall_orders"),
    ),
    "jd export saved without its header row": Case(
        "jd_orders",
        xlsx_bytes(rows("jd_orders", 3)[1:], header=list(VALID["jd_orders"].values())),
        refused=HEADERLESS.format(source="jd_orders"),
    ),
    # --- late data the contract allows --------------------------------------------------------
    "clicks mostly late, one a year late, all load": Case(
        "rednote_clicks",
        dumped_rows(
            "rednote_clicks",
            11,
            **first_lines(7, {"click_time": "2026-05-01T09:00:00+08:00"}),
            line_8={"click_time": "2025-05-13T09:00:00+08:00"},
        ),
        staged=11,
    ),
    "funnel events of earlier days load": Case(
        "redstar_funnel",
        dumped_rows("redstar_funnel", 12, **first_lines(10, {"event_time": "2026-04-02 08:00:00"})),
        staged=12,
    ),
    "tmall order created two years ago and changed today loads": Case(
        "tmall_orders",
        dumped_rows(
            "tmall_orders",
            2,
            line_1={"订单创建时间": "2024-05-01 10:00:00", "订单付款时间": "2024-05-01 10:05:00"},
        ),
        staged=2,
    ),
    "upper-case cids are staged in lower case": Case(
        "rednote_clicks",
        dumped_rows("rednote_clicks", 2, line_1={"cid": "ABCDEF0123456789ABCDEF0123456789"}),
        staged=2,
    ),
    # --- valid empty days and extra columns ------------------------------------------------
    "jd header-only workbook is an empty day": Case("jd_orders", xlsx_bytes([])),
    "clicks empty gzip is an empty day": Case("rednote_clicks", gzip.compress(b"")),
    "campaigns extra columns are dropped and noted": Case(
        "rednote_campaigns",
        csv_bytes([r | {"owner": "x", "region": "east"} for r in rows("rednote_campaigns", 2)]),
        staged=2,
        dropped="owner, region",
    ),
    # --- quarantined rows --------------------------------------------------------------------
    "tmall unparseable amount, bad id, unknown status, conflicting copy": Case(
        "tmall_orders",
        dumped_rows(
            "tmall_orders",
            6,
            line_2={"买家实际支付金额": "2x9.00"},
            line_3={"订单编号": "12345"},
            line_4={"订单状态": "已发货"},
            line_5={"订单编号": "3901234567890000001", "宝贝总数量": "2"},
        ),
        staged=2,
        quarantined=[
            (
                2,
                "买家实际支付金额",
                "买家实际支付金额: not an amount of money ≥ 0 with at most 2 decimals",
            ),
            (3, "订单编号", "订单编号: not a Tmall order id of 18 or 19 digits"),
            (
                4,
                "订单状态",
                "订单状态: not one of 等待买家付款, 买家已付款，等待卖家发货, "
                "卖家已发货，等待买家确认, 交易成功, 交易关闭",
            ),
            (5, "订单编号", "repeats the key of line 1 with different values (conflicting copy)"),
        ],
    ),
    "tmall row with a field too many": Case(
        "tmall_orders",
        csv_bytes(
            [*rows("tmall_orders", 2), [*rows("tmall_orders", 3)[2].values(), "extra"]], "gb18030"
        ),
        staged=2,
        quarantined=[(3, None, "has 15 fields where the header has 14")],
    ),
    "jd unparseable time, negative count, cells beyond the header": Case(
        "jd_orders",
        xlsx_bytes(
            rows(
                "jd_orders",
                3,
                line_1={"下单时间": "2026-13-45 10:00:00"},
                line_2={"订购数量": "-1"},
            )
            + [[*rows("jd_orders", 4)[3].values(), "", "stray"]]
        ),
        staged=1,
        quarantined=[
            (1, "下单时间", "下单时间: not a China time YYYY-MM-DD HH:MM:SS"),
            (2, "订购数量", "订购数量: not a whole number of zero or more"),
            (4, None, "has 16 fields where the header has 14"),
        ],
    ),
    "clicks bad cid, time without offset, invalid json, copies": Case(
        "rednote_clicks",
        jsonl_gz_bytes(
            rows(
                "rednote_clicks",
                4,
                line_2={"cid": "0" * 31},
                line_3={"click_time": "2026-05-13 10:02:11"},
                line_4={"click_time": "2026-05-13T02:02:11Z"},  # UTC: staged
            )
            + ['{"cid": "00000000000000000000000000000009", "click_time": ']
            + rows("rednote_clicks", 1)
            + rows("rednote_clicks", 1, line_1={"note_id": "6650a1f0c2000000001e03b6"})
        ),
        staged=2,
        quarantined=[
            (2, "cid", "cid: not a click id of 32 hex characters"),
            (3, "click_time", "click_time: not an ISO 8601 time with its UTC offset"),
            (5, None, "not valid JSON: Expecting value"),
            (6, "cid", "repeats the key of line 1 (identical copy; counted once)"),
            (7, "cid", "repeats the key of line 1 with different values (conflicting copy)"),
        ],
    ),
    "funnel stray quote swallows the lines up to the next quote": Case(
        "redstar_funnel",
        _quoted(csv_bytes(rows("redstar_funnel", 4), "utf-8"), opened_on=1, closed_on=3),
        staged=1,
        quarantined=[
            (
                line,
                None,
                "is inside a quoted field that runs from line 1 to line 3 of the data: "
                "a stray or unclosed quote",
            )
            for line in (1, 2, 3)
        ],
    ),
    "funnel unknown event, wrong platform, short row": Case(
        "redstar_funnel",
        csv_bytes(
            rows("redstar_funnel", 3, line_1={"event_type": "purchase"}, line_2={"platform": "pdd"})
            + [
                [
                    "00000000000000000000000000000004",
                    "tmall",
                    "2026-05-13 10:00:00",
                    "store_visit",
                    "tm_store_88",
                ]
            ]
        ),
        staged=1,
        quarantined=[
            (
                1,
                "event_type",
                "event_type: not one of store_visit, store_search, add_to_cart, favorite",
            ),
            (2, "platform", "platform: not one of tmall, jd"),
            (4, None, "has 5 fields where the header has 6"),
        ],
    ),
    "metrics upper-case note id, negative impressions, missing kol": Case(
        "rednote_note_metrics",
        dumped_rows(
            "rednote_note_metrics",
            4,
            line_1={"笔记ID": "6650A1F0C2000000001E03B5"},
            line_2={"曝光量": "-5", "消费(元)": "1,320.50"},
            line_3={"博主ID": ""},
        ),
        staged=1,
        quarantined=[
            (1, "笔记ID", "笔记ID: not a note id of 24 lowercase hex characters"),
            (
                2,
                "曝光量",
                "曝光量: not a whole number of zero or more; "
                "消费(元): not an amount of money ≥ 0 with at most 2 decimals",
            ),
            (3, "博主ID", "博主ID: missing value"),
        ],
    ),
    "funnel event past midnight in the previous day's file": Case(
        "redstar_funnel",
        dumped_rows("redstar_funnel", 3, line_2={"event_time": "2026-05-14 00:00:05"}),
        staged=2,
        quarantined=[
            (2, "event_time", "event_time: on 2026-05-14, after its dump date 2026-05-13"),
        ],
    ),
    "tmall refund above paid, paid before created, paid two days after the dump": Case(
        "tmall_orders",
        dumped_rows(
            "tmall_orders",
            4,
            line_2={"退款金额": "300.00"},
            line_3={"订单付款时间": "2026-05-13 09:00:00"},
            line_4={"订单付款时间": "2026-05-15 09:00:00"},
        ),
        staged=1,
        quarantined=[
            (2, "退款金额", "退款金额: greater than 买家实际支付金额"),
            (3, "订单创建时间", "订单创建时间: later than 订单付款时间"),
            (
                4,
                "订单付款时间",
                "订单付款时间: on 2026-05-15, more than 1 day after its dump date 2026-05-13",
            ),
        ],
    ),
    "metrics row of another day in a small file": Case(
        "rednote_note_metrics",
        dumped_rows("rednote_note_metrics", 3, line_3={"日期": "2026-05-11"}),
        staged=2,
        quarantined=[(3, "日期", "日期: on 2026-05-11, not its dump date 2026-05-13")],
    ),
    "campaigns score out of range, unknown industry, bad date": Case(
        "rednote_campaigns",
        dumped_rows(
            "rednote_campaigns",
            4,
            line_1={"store_score": "5.5"},
            line_2={"industry": "toys"},
            line_3={"end_date": "2026-06-31"},
        ),
        staged=1,
        quarantined=[
            (1, "store_score", "store_score: not a score from 0.0 to 5.0"),
            (2, "industry", UNKNOWN_INDUSTRY),
            (3, "end_date", "end_date: not a date YYYY-MM-DD"),
        ],
    ),
    # A quoted field with a line break is one value, not a stray quote; the rows after it
    # are numbered by the file's lines.
    "campaign name over two lines, quoted": Case(
        "rednote_campaigns",
        dumped_rows(
            "rednote_campaigns",
            3,
            line_1={"campaign_name": "618 精华液\n种草, 第二行"},
            line_2={"industry": "toys"},
        ),
        staged=2,
        quarantined=[
            (3, "industry", UNKNOWN_INDUSTRY),
        ],
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_corpus_file_has_its_exact_outcome(workspace, case: Case):
    spec = SOURCES_BY_NAME[case.source]
    path = spec.path(workspace.inbox, DAY)
    if case.file_name:
        path = path.with_name(case.file_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(case.content)
    settings = Settings.from_env()

    if case.refused:
        with pytest.raises(FileRefused) as refusal:
            load_dump(spec, DAY, settings, SOURCES)
        reason = refusal.value.reason
        assert reason == case.refused
        assert not [v for v in PERSONAL_VALUES if v in reason]
        assert str(refusal.value) == f"{path.name} refused: {reason}"
        assert workspace.query(
            "SELECT source, file_name, status, rows_staged, refusal_reason FROM audit.file_ledger"
        ) == [(case.source, path.name, "refused", 0, reason)]
        assert workspace.query(f"SELECT count(*) FROM {spec.table}") == [(0,)]
        assert workspace.query("SELECT count(*) FROM audit.quarantine") == [(0,)]
        return

    result = load_dump(spec, DAY, settings, SOURCES)
    quarantined = workspace.query(
        "SELECT line_number, column_name, reason FROM audit.quarantine "
        "WHERE source = ? ORDER BY line_number",
        [case.source],
    )
    assert quarantined == case.quarantined
    assert (result.rows_staged, result.rows_quarantined) == (case.staged, len(case.quarantined))
    assert workspace.query(
        "SELECT status, rows_read, rows_staged, rows_quarantined, dropped_columns "
        "FROM audit.file_ledger"
    ) == [
        ("loaded", case.staged + len(case.quarantined), case.staged, len(quarantined), case.dropped)
    ]
    assert workspace.query(f"SELECT count(*) FROM {spec.table}") == [(case.staged,)]
    records = [r for (r,) in workspace.query("SELECT raw_record FROM audit.quarantine")]
    assert not [v for v in PERSONAL_VALUES for r in records if v in (r or "")]


def test_a_refused_redelivery_keeps_the_day_as_it_was(workspace):
    spec = SOURCES_BY_NAME["redstar_funnel"]
    deliver(workspace.inbox, spec.name, DAY, rows(spec.name, 2))
    spec.path(workspace.inbox, DAY).write_bytes(b"")

    with pytest.raises(FileRefused, match="empty file"):
        load_dump(spec, DAY, Settings.from_env())

    assert workspace.query("SELECT count(*) FROM raw.redstar_funnel") == [(2,)]
    assert workspace.query(
        "SELECT status, rows_read, rows_staged FROM audit.file_ledger ORDER BY loaded_at"
    ) == [("loaded", 2, 2), ("refused", None, 0)]


def test_an_unsplit_row_keeps_no_text(workspace):
    """A row that cannot be split into cells keeps its file, line and reason, not its text:
    none of its cells can be told personal or not, whatever the source. Here a buyer's phone
    rides in a short row, a row with a cell past the header, a broken JSON line, a line a
    stray quote swallowed and a file with a column of its own; a Tmall row has a name."""
    phone = "13912340004"
    funnel = [row | {"buyer_phone": phone} for row in rows("redstar_funnel", 2)]
    deliver(
        workspace.inbox,
        "redstar_funnel",
        DAY,
        funnel + [["a", phone], [*funnel[0].values(), phone]],
    )
    cut_with_phone = f'{{"cid": "00000000000000000000000000000009", "buyer_phone": "{phone}", '
    clicks = rows("rednote_clicks", 2) + [
        cut_with_phone,
        '{"cid": "0000000000000000000000000000000a", ',
    ]
    deliver(workspace.inbox, "rednote_clicks", DAY, clicks)
    deliver(
        workspace.inbox, "tmall_orders", DAY, rows("tmall_orders", 1) + [["390123", "王五", phone]]
    )
    metrics = rows("rednote_note_metrics", 3)
    quoted = _quoted(csv_bytes([metrics[0], [*metrics[1].values(), phone], metrics[2]]), 1, 3)
    spec = SOURCES_BY_NAME["rednote_note_metrics"]
    spec.path(workspace.inbox, DAY).parent.mkdir(parents=True, exist_ok=True)
    spec.path(workspace.inbox, DAY).write_bytes(quoted)
    load_dump(spec, DAY, Settings.from_env())

    withheld = json.dumps({"raw_text": UNSPLIT_ROW_TEXT}, separators=(",", ":"))
    assert workspace.query(
        "SELECT source, line_number, raw_record FROM audit.quarantine ORDER BY ALL"
    ) == [
        ("rednote_clicks", 3, withheld),
        ("rednote_clicks", 4, withheld),
        ("rednote_note_metrics", 1, withheld),
        ("rednote_note_metrics", 2, withheld),
        ("rednote_note_metrics", 3, withheld),
        ("redstar_funnel", 3, withheld),
        ("redstar_funnel", 4, withheld),
        ("tmall_orders", 2, withheld),
    ]
    assert workspace.query(
        "SELECT dropped_columns FROM audit.file_ledger WHERE source = 'redstar_funnel'"
    ) == [("buyer_phone",)]
    assert not workspace.query(
        "SELECT * FROM audit.quarantine WHERE contains(CAST(quarantine AS VARCHAR), ?)", [phone]
    )


def test_a_day_delivered_again_under_the_next_date_is_refused(workspace):
    """A day's orders copied under the next day's name would pass for a day whose orders
    never came (and complete its windows); a campaign snapshot, unchanged, may repeat, and so
    may a file of a few rows (tests/test_deliveries.py: a day's one late click)."""
    after = DAY + timedelta(days=1)
    for source in ("tmall_orders", "rednote_campaigns"):
        spec = SOURCES_BY_NAME[source]
        deliver(workspace.inbox, source, DAY, rows(source, WRONG_DATE_MIN_ROWS))
        spec.path(workspace.inbox, after).write_bytes(spec.path(workspace.inbox, DAY).read_bytes())

    orders = SOURCES_BY_NAME["tmall_orders"]
    with pytest.raises(FileRefused) as refusal:
        load_dump(orders, after, Settings.from_env())
    assert refusal.value.reason == (
        f"has the same content as the {DAY} delivery ({orders.file_name(DAY)}): that day's "
        f"export under a wrong date? Deliver {after}'s export as {orders.file_name(after)} "
        "and re-run the day"
    )
    assert workspace.query("SELECT count(*) FROM raw.tmall_orders") == [(WRONG_DATE_MIN_ROWS,)]
    campaigns = load_dump(SOURCES_BY_NAME["rednote_campaigns"], after, Settings.from_env())
    assert (campaigns.status, campaigns.rows_staged) == ("loaded", WRONG_DATE_MIN_ROWS)
