"""The six sources of contract section 1, one spec each."""

from __future__ import annotations

from orchestration.lib.columns import (
    CID,
    COUNT,
    DATE,
    ISO_TIME,
    JD_ORDER_ID,
    LOCAL_TIME,
    MONEY,
    NOTE_ID,
    PLATFORM,
    SCORE,
    TEXT,
    TMALL_ORDER_ID,
    ColumnType,
)
from orchestration.lib.readers import gb18030_csv, jsonl_gz, utf8_csv, xlsx_first_sheet
from orchestration.lib.source_spec import Column, DumpDateRule, SourceSpec

TMALL_STATUSES = (
    "等待买家付款",
    "买家已付款，等待卖家发货",
    "卖家已发货，等待买家确认",
    "交易成功",
    "交易关闭",
)
JD_STATUSES = ("等待付款", "等待出库", "等待确认收货", "完成", "已取消", "退款成功")

# An order dump holds orders created or changed that day, however long ago they were created.
ORDER_DATED_BY = DumpDateRule("created_at", late_rows_allowed=True)
ORDER_ORDERED = (("created_at", "paid_at"), ("refund_amount", "paid_amount"))


def _same(*columns: tuple[str, ColumnType]) -> tuple[Column, ...]:
    """Columns whose export header is already the stored name."""
    return tuple(Column(name, name, column_type) for name, column_type in columns)


def _order_columns(
    headers: tuple[str, ...], order_id: ColumnType, statuses: tuple[str, ...]
) -> tuple[Column, ...]:
    """Tmall and JD export the same facts under their own headers, in this order."""
    names_and_types = (
        ("order_id", order_id),
        ("created_at", LOCAL_TIME),
        ("paid_at", LOCAL_TIME.optional()),
        ("order_status", TEXT.one_of(*statuses)),
        ("paid_amount", MONEY),
        ("refund_amount", MONEY),
        ("item_title", TEXT.optional()),
        ("item_count", COUNT),
        ("store_id", TEXT),
        ("cid", CID.optional()),
    )
    return tuple(
        Column(header, name, column_type)
        for header, (name, column_type) in zip(headers, names_and_types, strict=True)
    )


SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec(
        name="rednote_campaigns",
        extension="csv",
        reader=utf8_csv,
        description="RedNote campaigns: a full snapshot of all campaigns as of the dump date.",
        columns=_same(
            ("campaign_id", TEXT),
            ("campaign_name", TEXT.optional()),
            ("brand", TEXT.optional()),
            (
                "industry",
                TEXT.one_of(
                    "beauty",
                    "3c_electronics",
                    "fashion",
                    "home_decor",
                    "sports_outdoor",
                    "health",
                ),
            ),
            ("store_platform", PLATFORM),
            ("store_id", TEXT),
            ("start_date", DATE),
            ("end_date", DATE),
            ("daily_budget_cny", MONEY),
            ("store_score", SCORE),
        ),
        key=("campaign_id",),
        ordered=(("start_date", "end_date"),),
    ),
    SourceSpec(
        name="rednote_note_metrics",
        extension="csv",
        reader=utf8_csv,
        description="RedNote ads-platform export: one sponsored note's metrics for one day.",
        columns=(
            Column("日期", "metric_date", DATE),
            Column("笔记ID", "note_id", NOTE_ID),
            Column("笔记标题", "note_title", TEXT.optional()),
            Column("博主ID", "kol_id", TEXT),
            Column("博主昵称", "kol_nickname", TEXT.optional()),
            Column("计划ID", "campaign_id", TEXT),
            Column("曝光量", "impressions", COUNT),
            Column("阅读量", "reads", COUNT),
            Column("点击量", "clicks", COUNT),
            Column("点赞量", "likes", COUNT),
            Column("评论量", "comments", COUNT),
            Column("收藏量", "collects", COUNT),
            Column("分享量", "shares", COUNT),
            Column("关注量", "follows", COUNT),
            Column("消费(元)", "spend", MONEY),
            Column("笔记合作费用(元)", "kol_fee", MONEY),
        ),
        key=("metric_date", "note_id"),
        dated_by=DumpDateRule("metric_date", late_rows_allowed=False),
    ),
    SourceSpec(
        name="rednote_clicks",
        extension="jsonl.gz",
        reader=jsonl_gz,
        description="RedNote click log: one click on a note's shop link, with its CID.",
        columns=(
            Column("cid", "cid", CID),
            Column("click_time", "click_ts", ISO_TIME),
            *_same(
                ("note_id", NOTE_ID),
                ("campaign_id", TEXT),
                ("target_platform", PLATFORM),
                ("user_key", TEXT.optional()),
                ("placement", TEXT.one_of("feed", "search", "detail")),
            ),
        ),
        key=("cid",),
        # Late clicks of earlier days may come in later files, however late (contract 1).
        dated_by=DumpDateRule("click_ts", late_rows_allowed=True),
        agreeing_across_files=("note_id", "campaign_id", "click_ts"),
    ),
    SourceSpec(
        name="redstar_funnel",
        extension="csv",
        reader=utf8_csv,
        description="Red Star back-end export: one store event on Tmall or JD carrying a CID.",
        columns=(
            *_same(("cid", CID), ("platform", PLATFORM)),
            Column("event_time", "event_ts", LOCAL_TIME),
            *_same(
                (
                    "event_type",
                    TEXT.one_of("store_visit", "store_search", "add_to_cart", "favorite"),
                ),
                ("store_id", TEXT),
                ("sku_id", TEXT.optional()),
            ),
        ),
        key=("cid", "event_type", "event_ts"),
        # Red Star's tracking reports late the way the click log does.
        dated_by=DumpDateRule("event_ts", late_rows_allowed=True),
    ),
    SourceSpec(
        name="tmall_orders",
        extension="csv",
        reader=gb18030_csv,
        description="Tmall seller-center export: one order created or changed that day.",
        columns=_order_columns(
            (
                "订单编号",
                "订单创建时间",
                "订单付款时间",
                "订单状态",
                "买家实际支付金额",
                "退款金额",
                "宝贝标题",
                "宝贝总数量",
                "店铺ID",
                "推广点击ID",
            ),
            TMALL_ORDER_ID,
            TMALL_STATUSES,
        ),
        key=("order_id",),
        buyer_account_header="买家会员名",
        dropped_personal_headers=("收货人姓名", "联系手机", "收货地址"),
        dated_by=ORDER_DATED_BY,
        ordered=ORDER_ORDERED,
    ),
    SourceSpec(
        name="jd_orders",
        extension="xlsx",
        reader=xlsx_first_sheet,
        description="JD merchant export: one order created or changed that day.",
        columns=_order_columns(
            (
                "订单号",
                "下单时间",
                "付款确认时间",
                "订单状态",
                "应付金额",
                "退款金额",
                "商品名称",
                "订购数量",
                "店铺ID",
                "广告点击ID",
            ),
            JD_ORDER_ID,
            JD_STATUSES,
        ),
        key=("order_id",),
        buyer_account_header="下单帐号",
        dropped_personal_headers=("客户姓名", "联系电话", "客户地址"),
        dated_by=ORDER_DATED_BY,
        ordered=ORDER_ORDERED,
    ),
)

SOURCES_BY_NAME = {spec.name: spec for spec in SOURCES}
