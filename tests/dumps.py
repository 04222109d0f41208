"""Dumps for tests: valid rows of every source, changed where a test needs it, in each source's
own file format (GB18030 CSV, UTF-8 CSV with or without a BOM, gzip JSON Lines, .xlsx), written
to an inbox and loaded. Every test that builds a dump builds it here."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from datetime import date
from pathlib import Path

import xlsxwriter

from orchestration.defs.ingestion.sources import SOURCES_BY_NAME
from orchestration.lib.loading import LoadResult, load_dump
from orchestration.lib.settings import Settings

DAY = date(2026, 5, 13)

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


def write_dump(inbox: Path, source: str, day: date, table: list) -> Path:
    """The source's file of `day` in the inbox, holding `table` in the source's own format."""
    path = SOURCES_BY_NAME[source].path(inbox, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dump(source, table))
    return path


def deliver(inbox: Path, source: str, day: date, table: list) -> LoadResult:
    """Write the day's dump and load it, as a delivery and its run would."""
    write_dump(inbox, source, day, table)
    return load_dump(SOURCES_BY_NAME[source], day, Settings.from_env())
