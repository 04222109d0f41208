"""The bad-input corpus: small files of all six sources, each with its exact outcome.

A refused file stages nothing, keeps whatever the day held and is in the ledger as refused
with its reason; a file with bad rows stages the good ones and quarantines the rest with line,
column and reason. Every loaded file balances: rows read = rows staged + rows quarantined.
The last cases are the GX gates (on real DuckDB, through the gate functions the checks run).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
import xlsxwriter

from orchestration.defs.ingestion.sources import SOURCES, SOURCES_BY_NAME
from orchestration.lib import lake
from orchestration.lib.loading import load_dump
from orchestration.lib.quality.gates import ledger_gate, quality_gate
from orchestration.lib.readers import FileRefused
from orchestration.lib.settings import Settings, Thresholds
from orchestration.lib.warehouse import scratch

DAY = date(2026, 5, 13)
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

# One valid row per source (a dump of DAY), as the export's headers name the cells.
VALID = {
    "rednote_campaigns": {
        "campaign_id": "cmp_0001",
        "campaign_name": "618 精华液种草",
        "brand": "Lumiere",
        "industry": "beauty",
        "store_platform": "tmall",
        "store_id": "tm_store_88",
        "start_date": "2026-05-13",
        "end_date": "2026-06-18",
        "daily_budget_cny": "8000.00",
        "store_score": "4.8",
    },
    "rednote_note_metrics": {
        "日期": "2026-05-13",
        "笔记ID": "6650a1f0c2000000001e03b5",
        "笔记标题": "油皮亲妈！这瓶精华我回购三次",
        "博主ID": "kol_101",
        "博主昵称": "小鹿爱护肤",
        "计划ID": "cmp_0001",
        "曝光量": "12000",
        "阅读量": "3100",
        "点击量": "4",
        "点赞量": "210",
        "评论量": "33",
        "收藏量": "180",
        "分享量": "12",
        "关注量": "9",
        "消费(元)": "320.50",
        "笔记合作费用(元)": "6000.00",
    },
    "rednote_clicks": {
        "cid": "00000000000000000000000000000001",
        "click_time": "2026-05-13T10:02:11+08:00",
        "note_id": "6650a1f0c2000000001e03b5",
        "campaign_id": "cmp_0001",
        "target_platform": "tmall",
        "user_key": "u_9f2c01aa77e3b410",
        "placement": "feed",
    },
    "redstar_funnel": {
        "cid": "00000000000000000000000000000001",
        "platform": "tmall",
        "event_time": "2026-05-13 10:02:30",
        "event_type": "store_visit",
        "store_id": "tm_store_88",
        "sku_id": "sku_a1",
    },
    "tmall_orders": {
        "订单编号": "3901234567890000001",
        "买家会员名": "tb_buyer",
        "收货人姓名": "王五",
        "联系手机": "13900001234",
        "收货地址": "北京市某路1号",
        "订单创建时间": "2026-05-13 10:00:00",
        "订单付款时间": "2026-05-13 10:01:00",
        "订单状态": "买家已付款，等待卖家发货",
        "买家实际支付金额": "299.00",
        "退款金额": "0.00",
        "宝贝标题": "精华液",
        "宝贝总数量": "1",
        "店铺ID": "tm_store_88",
        "推广点击ID": "00000000000000000000000000000001",
    },
    "jd_orders": {
        "订单号": "230000000101",
        "下单帐号": "jd_buyer",
        "客户姓名": "赵六",
        "联系电话": "13900001234",
        "客户地址": "北京市某路1号",
        "下单时间": "2026-05-13 09:40:00",
        "付款确认时间": "2026-05-13 09:41:00",
        "订单状态": "等待出库",
        "应付金额": "899.00",
        "退款金额": "0.00",
        "商品名称": "冲锋衣",
        "订购数量": "1",
        "店铺ID": "jd_store_21",
        "广告点击ID": "",
    },
}
# The cell each row's number goes into, so that n rows have n distinct keys.
KEY_CELLS = {
    "rednote_campaigns": ("campaign_id", lambda i: f"cmp_{i:04d}"),
    "rednote_note_metrics": ("笔记ID", lambda i: f"6650a1f0c2000000001e{i:04x}"),
    "rednote_clicks": ("cid", lambda i: f"{i:032x}"),
    "redstar_funnel": ("cid", lambda i: f"{i:032x}"),
    "tmall_orders": ("订单编号", lambda i: f"{3901234567890000000 + i}"),
    "jd_orders": ("订单号", lambda i: f"{230000000100 + i}"),
}


def rows(source: str, count: int = 3, **changes: dict[str, str]) -> list[dict[str, str]]:
    """`count` valid rows with distinct keys; `changes` as line_<n>={header: value}."""
    header, key = KEY_CELLS[source]
    made = [VALID[source] | {header: key(i)} for i in range(1, count + 1)]
    for name, change in changes.items():
        made[int(name.removeprefix("line_")) - 1] |= change
    return made


def csv_bytes(table: list, encoding: str = "utf-8", header: list[str] | None = None) -> bytes:
    """Dict rows under their own header, or list rows (any number of cells) as they are."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    names = header or list(next(r for r in table if isinstance(r, dict)))
    writer.writerow(names)
    writer.writerows(list(r.values()) if isinstance(r, dict) else r for r in table)
    return buffer.getvalue().encode(encoding)


def jsonl_gz_bytes(lines: list) -> bytes:
    text = "".join((json.dumps(r) if isinstance(r, dict) else r) + "\n" for r in lines)
    return gzip.compress(text.encode())


def xlsx_bytes(table: list, header: list[str] | None = None) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet()
    names = header if header is not None else list(VALID["jd_orders"])
    sheet.write_row(0, 0, names)
    for number, row in enumerate(table, start=1):
        sheet.write_row(number, 0, list(row.values()) if isinstance(row, dict) else row)
    workbook.close()
    return buffer.getvalue()


ENCODED = {
    "rednote_campaigns": lambda t: csv_bytes(t),
    "rednote_note_metrics": lambda t: codecs.BOM_UTF8 + csv_bytes(t),
    "rednote_clicks": jsonl_gz_bytes,
    "redstar_funnel": lambda t: csv_bytes(t),
    "tmall_orders": lambda t: csv_bytes(t, "gb18030"),
    "jd_orders": xlsx_bytes,
}


def dump(source: str, table: list) -> bytes:
    return ENCODED[source](table)


def dumped_rows(source: str, count: int = 3, **changes: dict[str, str]) -> bytes:
    """The source's own file format holding rows(source, count, **changes)."""
    return dump(source, rows(source, count, **changes))


def first_lines(count: int, change: dict[str, str]) -> dict[str, dict[str, str]]:
    """The same change on lines 1 .. count, as keyword arguments of rows()."""
    return {f"line_{i}": change for i in range(1, count + 1)}


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
            (
                2,
                "industry",
                "industry: not one of beauty, 3c_electronics, fashion, home_decor, "
                "sports_outdoor, health",
            ),
            (3, "end_date", "end_date: not a date YYYY-MM-DD"),
        ],
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input(workspace, case: Case):
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
    path = spec.path(workspace.inbox, DAY)
    path.parent.mkdir(parents=True)
    path.write_bytes(dump("redstar_funnel", rows("redstar_funnel", 2)))
    load_dump(spec, DAY, Settings.from_env())
    path.write_bytes(b"")

    with pytest.raises(FileRefused, match="empty file"):
        load_dump(spec, DAY, Settings.from_env())

    assert workspace.query("SELECT count(*) FROM raw.redstar_funnel") == [(2,)]
    assert workspace.query(
        "SELECT status, rows_read, rows_staged FROM audit.file_ledger ORDER BY loaded_at"
    ) == [("loaded", 2, 2), ("refused", None, 0)]


def test_unsplit_rows_keep_their_text_only_where_the_source_has_no_personal_data(workspace):
    for source, table in (
        ("redstar_funnel", rows("redstar_funnel", 1) + [["a", "b", "c"]]),
        ("tmall_orders", rows("tmall_orders", 1) + [["3901234567890000009", "tb_buyer", "王五"]]),
    ):
        path = SOURCES_BY_NAME[source].path(workspace.inbox, DAY)
        path.parent.mkdir(parents=True)
        path.write_bytes(csv_bytes(table, "gb18030" if source == "tmall_orders" else "utf-8"))
        load_dump(SOURCES_BY_NAME[source], DAY, Settings.from_env())

    assert dict(workspace.query("SELECT source, raw_record FROM audit.quarantine")) == {
        "redstar_funnel": '{"raw_text":"a,b,c"}',
        "tmall_orders": '{"raw_text":"withheld: the row could not be split into columns, so its '
        'personal data could not be removed"}',
    }


# --- the GX gates ------------------------------------------------------------------------------


def _load(workspace, source: str, day: date, table: list) -> None:
    path = SOURCES_BY_NAME[source].path(workspace.inbox, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dump(source, table))
    load_dump(SOURCES_BY_NAME[source], day, Settings.from_env())


def _tamper(workspace, source: str, day: date, column: str, value_sql: str) -> None:
    """Change line 2's staged value in the lake, as a hand edit or a loader bug would."""
    data = lake.partition(workspace.lake, f"raw.{source}", day) / lake.DATA_FILE
    with scratch(Settings.from_env().duckdb_limits) as connection:
        connection.execute(
            f"""CREATE TABLE tampered AS SELECT * REPLACE (
                    CASE WHEN source_line = 2 THEN {value_sql} ELSE {column} END AS {column})
                FROM {lake.read_sql([data], ())}"""
        )
        lake.write_file(connection, "tampered", data)


def _findings(outcome) -> list[tuple[str, str, list[str], list[str]]]:
    return [(f.rule, f.failing, f.examples, f.where) for f in outcome.findings]


def test_gate_passes_clean_files_and_names_what_it_checked(workspace):
    _load(workspace, "tmall_orders", DAY, rows("tmall_orders", 3))
    outcome = quality_gate(
        SOURCES_BY_NAME["tmall_orders"], [DAY], Settings.from_env(), Thresholds()
    )
    assert outcome.passed, outcome.summary()
    assert (outcome.rows_checked, outcome.expectations) == (3, 22)


def test_gate_finds_staged_rows_that_break_the_spec(workspace):
    """The GX suite re-checks what the loader staged: a row changed in raw after loading
    (by hand, or by a loader bug) is found with its file and line."""
    _load(workspace, "tmall_orders", DAY, rows("tmall_orders", 3))
    _tamper(workspace, "tmall_orders", DAY, "refund_amount", "300")

    outcome = quality_gate(
        SOURCES_BY_NAME["tmall_orders"], [DAY], Settings.from_env(), Thresholds()
    )

    assert _findings(outcome) == [
        (
            "退款金额 ≤ 买家实际支付金额",
            "1 of 3 rows",
            ["(300.00, 299.00)"],
            ["tmall_orders_20260513.csv line 2"],
        ),
    ]


def test_gate_collapsed_row_count_against_the_recent_median(workspace, monkeypatch):
    monkeypatch.setenv("REDCAT_ROW_COUNT_MIN_HISTORY", "3")
    monkeypatch.setenv("REDCAT_ROW_COUNT_MIN_MEDIAN", "5")
    history = [DAY - timedelta(days=n) for n in (3, 2, 1)]
    for day, count in zip(history, (10, 12, 11), strict=True):
        table = rows("redstar_funnel", count)
        for row in table:
            row["event_time"] = f"{day} 10:00:00"
        _load(workspace, "redstar_funnel", day, table)
    _load(workspace, "redstar_funnel", DAY, rows("redstar_funnel", 2))

    outcome = quality_gate(
        SOURCES_BY_NAME["redstar_funnel"],
        [*history, DAY],
        Settings.from_env(),
        Thresholds.from_env(),
    )
    assert _findings(outcome) == [
        (
            "rows read ≥ 20% of the median of the files of the 28 days before (not collapsed)",
            "1 of 4 dump dates",
            ["(2, 2.2)"],
            ["2026-05-13"],
        ),
    ]
    assert [(d["rows_read"], d["recent_median"]) for d in outcome.days][1:] == [
        (12, 10.0),
        (11, 11.0),
        (2, 11.0),
    ]


def test_ledger_gate_quarantine_share_threshold_is_a_setting(workspace, monkeypatch):
    _load(workspace, "jd_orders", DAY, rows("jd_orders", 4, line_4={"订单状态": "未知"}))
    spec = SOURCES_BY_NAME["jd_orders"]

    outcome = ledger_gate(spec, [DAY], Settings.from_env(), Thresholds.from_env())
    assert _findings(outcome) == [
        (
            "at most 1.00% of the rows read are quarantined as defects "
            "(REDCAT_MAX_QUARANTINE_SHARE)",
            "1 of 1 dump dates",
            ["0.25"],
            ["2026-05-13"],
        ),
    ]
    monkeypatch.setenv("REDCAT_MAX_QUARANTINE_SHARE", "0.25")
    assert ledger_gate(spec, [DAY], Settings.from_env(), Thresholds.from_env()).passed


def test_ledger_gate_ignores_identical_copies_and_flags_a_missing_day(workspace):
    _load(workspace, "rednote_clicks", DAY, rows("rednote_clicks", 2) + rows("rednote_clicks", 1))
    spec = SOURCES_BY_NAME["rednote_clicks"]
    missing = DAY + timedelta(days=1)

    outcome = ledger_gate(spec, [DAY, missing], Settings.from_env(), Thresholds())

    assert _findings(outcome) == [
        (
            "the dump date has a file in the ledger",
            "1 of 2 dump dates",
            ["(empty)"],
            ["2026-05-14"],
        ),
    ]
    assert [(d["rows_read"], d["rows_quarantined"], d["defect_rows"]) for d in outcome.days][0] == (
        3,
        1,
        0,
    )


def test_gate_findings_of_several_days_add_up(workspace):
    days = [DAY, DAY + timedelta(days=1)]
    for day in days:
        table = rows("rednote_clicks", 3)
        for number, row in enumerate(table):
            row |= {"cid": f"{day:%Y%m%d}{number:024x}", "click_time": f"{day}T10:00:00+08:00"}
        _load(workspace, "rednote_clicks", day, table)
        _tamper(workspace, "rednote_clicks", day, "placement", "'story'")

    outcome = quality_gate(
        SOURCES_BY_NAME["rednote_clicks"], days, Settings.from_env(), Thresholds()
    )

    assert outcome.rows_checked == 6
    assert _findings(outcome) == [
        (
            "placement is one of feed, search, detail",
            "2 of 6 rows",
            ["story", "story"],
            ["rednote_clicks_20260513.jsonl.gz line 2", "rednote_clicks_20260514.jsonl.gz line 2"],
        )
    ]


def test_late_rows_pass_the_gates_and_a_row_after_the_dump_date_is_a_small_defect(workspace):
    """Late data the contract allows never stops a run; a funnel event past midnight in the
    previous day's file is quarantined and judged by its share."""
    clicks = rows("rednote_clicks", 3, line_1={"click_time": "2026-03-01T09:00:00+08:00"})
    funnel = rows("redstar_funnel", 200, line_7={"event_time": "2026-05-14 00:00:05"})
    funnel[20]["event_time"] = "2026-01-13 10:00:00"
    _load(workspace, "rednote_clicks", DAY, clicks)
    _load(workspace, "redstar_funnel", DAY, funnel)

    for source in ("rednote_clicks", "redstar_funnel"):
        for gate in (quality_gate, ledger_gate):
            outcome = gate(SOURCES_BY_NAME[source], [DAY], Settings.from_env(), Thresholds())
            assert outcome.passed, outcome.summary()
    assert workspace.query(
        "SELECT rows_read, rows_staged, rows_quarantined FROM audit.current_delivery "
        "WHERE source = 'redstar_funnel'"
    ) == [(200, 199, 1)]
    assert workspace.query("SELECT kind FROM audit.quarantine") == [("outside_dump_date",)]
