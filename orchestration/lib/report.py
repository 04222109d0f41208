"""The campaign report: one self-contained HTML page drawn from the analysts' published file.

Charts are matplotlib figures inlined as SVG: the page needs no network, no JavaScript, and the
same published file always gives the same page. A window that is not complete yet is drawn
hatched and pale and labelled "not final", so a figure that may still grow never reads as low.
"""

from __future__ import annotations

import html
import io
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import matplotlib
import matplotlib.dates
import matplotlib.ticker
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from orchestration.lib.publication import default_report_path

WINDOWS = (7, 15, 30)
PLATFORMS = ("tmall", "jd")
KOL_LEADERBOARD_SIZE = 15
TOP_CAMPAIGNS_IN_METADATA = 10
NOT_FINAL = "not final"
# A campaign or KOL without clicks has no window to wait for (its completeness is empty): its
# zeros are not unfinished figures.
NO_CLICKS = "no clicks"
# Why a platform's lag chart has no curve.
NO_MATURE_COHORT = (
    "no mature cohort yet:\ncurves appear once a click day's\nT+30 window is complete"
)
NO_GMV_TO_SHARE = "mature click days, but no GMV\nwithin their 30 days: no share to draw"
# Up to this many campaigns of a platform get a labelled lag curve each; more are drawn thin,
# with their pooled curve, and named in the table below the chart.
LABELLED_CURVES = 8
# Up to this many paid days, the attribution chart has a tick per day.
DAILY_TICKS_UP_TO_DAYS = 10
# The ROI chart's height per campaign: a row holds its three windows' bars.
ROI_ROW_INCHES = 0.34

# Text stays text (small, selectable, searchable); a fixed salt and no date keep the SVG the
# same from one run to the next.
SVG_STYLE = {"svg.fonttype": "none", "svg.hashsalt": "redcat-report", "font.size": 9}
SVG_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
WINDOW_COLOURS = {7: "#9ecae1", 15: "#4292c6", 30: "#08519c"}
UNFINISHED_HATCH = "///"
ATTRIBUTION_PARTS = (
    ("attributed_orders", "attributed", "#2b8cbe"),
    ("paid_before_click_orders", "paid before click", "#fdae6b"),
    ("unmatched_cid_orders", "unmatched CID", "#e6550d"),
    ("organic_orders", "organic", "#bdbdbd"),
)

CAMPAIGNS_SQL = """
SELECT campaign_id, campaign_name, store_platform, industry, total_cost,
       gmv_t7, gmv_t15, gmv_t30, roi_t7, roi_t15, roi_t30, benchmark_roi,
       t7_complete, t15_complete, t30_complete
FROM marts.mart_campaign_roi
ORDER BY store_platform, campaign_id
"""

# Only click dates whose T+30 window is complete: an unfinished cohort would bend the curve
# down. Shares are of the mature cohorts' 30-day orders and gross GMV.
LAG_CURVES_SQL = """
WITH mature_cohorts AS (
    SELECT campaign_id, platform, click_date
    FROM marts.mart_conversion_lag
    WHERE lag_days = 30 AND is_complete
),
per_lag AS (
    SELECT campaign_id, platform, lag_days, count(*) AS cohorts,
           sum(orders) AS orders, sum(gross_gmv) AS gross_gmv
    FROM marts.mart_conversion_lag
    JOIN mature_cohorts USING (campaign_id, platform, click_date)
    GROUP BY campaign_id, platform, lag_days
)
SELECT campaign_id, platform, lag_days, cohorts,
       sum(orders) OVER (PARTITION BY campaign_id, platform) AS orders_30_day,
       sum(gross_gmv) OVER (PARTITION BY campaign_id, platform) AS gmv_30_day,
       sum(orders) OVER cumulative
           / nullif(sum(orders) OVER (PARTITION BY campaign_id, platform), 0) AS orders_share,
       sum(gross_gmv) OVER cumulative
           / nullif(sum(gross_gmv) OVER (PARTITION BY campaign_id, platform), 0) AS gmv_share
FROM per_lag
WINDOW cumulative AS (PARTITION BY campaign_id, platform ORDER BY lag_days)
ORDER BY platform, campaign_id, lag_days
"""

UNFINISHED_COHORTS_SQL = """
SELECT campaign_id, platform, count(*) AS unfinished_cohorts
FROM marts.mart_conversion_lag
WHERE lag_days = 30 AND NOT is_complete
GROUP BY campaign_id, platform
"""

SEEDED_LAG_BENCHMARK_SQL = """
SELECT platform, after_day, share FROM reference.benchmark_platform_lag_share
"""

# Published files without the reference schema still carry the benchmark on each campaign.
CAMPAIGN_LAG_BENCHMARK_SQL = """
SELECT DISTINCT store_platform, 7, benchmark_share_after_t7
FROM marts.mart_campaign_roi WHERE benchmark_share_after_t7 IS NOT NULL
UNION
SELECT DISTINCT store_platform, 15, benchmark_share_after_t15
FROM marts.mart_campaign_roi WHERE benchmark_share_after_t15 IS NOT NULL
"""

KOL_LEADERBOARD_SQL = """
SELECT kol_id, kol_nickname, campaign_id, notes, kol_fees, gmv_t30,
       gmv_t30 / nullif(kol_fees, 0) AS gmv_per_fee, roi_t30, t30_complete
FROM marts.mart_kol_performance
ORDER BY gmv_per_fee DESC NULLS LAST, kol_id, campaign_id
LIMIT ?
"""

ATTRIBUTION_DAILY_SQL = f"""
SELECT platform, paid_date, paid_orders, order_dumps_loaded,
       {", ".join(column for column, _, _ in ATTRIBUTION_PARTS)}
FROM marts.mart_attribution_daily
ORDER BY platform, paid_date
"""

ATTRIBUTION_TOTALS_SQL = """
SELECT platform, min(paid_date), max(paid_date), sum(paid_orders), sum(attributed_orders),
       sum(organic_orders), sum(unmatched_cid_orders), sum(paid_before_click_orders),
       sum(attributed_orders) / nullif(sum(paid_orders), 0)
FROM marts.mart_attribution_daily
GROUP BY platform
ORDER BY platform
"""

LATEST_SNAPSHOT_SQL = """
SELECT snapshot_id, published_at, code_version
FROM audit.published_snapshot
ORDER BY published_at DESC
LIMIT 1
"""

KEY_FIGURES_SQL = """
SELECT
    (SELECT sum(attributed_orders) / nullif(sum(paid_orders), 0)
     FROM marts.mart_attribution_daily),
    (SELECT sum(paid_orders) FROM marts.mart_attribution_daily),
    count(*),
    count(*) FILTER (WHERE t30_complete IS NOT NULL),
    count(*) FILTER (WHERE t7_complete),
    count(*) FILTER (WHERE t30_complete),
    sum(orders_t7), sum(orders_t30), sum(gmv_t7), sum(gmv_t30)
FROM marts.mart_campaign_roi
"""

TOP_CAMPAIGNS_SQL = """
SELECT campaign_id, store_platform, gmv_t30, roi_t30, benchmark_roi, t30_complete
FROM marts.mart_campaign_roi
ORDER BY gmv_t30 DESC, campaign_id
LIMIT ?
"""


class PublishedFileMissing(FileNotFoundError):
    """There is no published file to report on yet."""


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    name: str
    platform: str
    industry: str
    total_cost: Decimal
    gmv: dict[int, Decimal]
    roi: dict[int, float | None]
    benchmark_roi: float | None
    complete: dict[int, bool | None]  # None: no clicks


@dataclass(frozen=True)
class LagCurve:
    campaign_id: str
    platform: str
    mature_cohorts: int
    unfinished_cohorts: int
    orders_30_day: int
    gmv_30_day: Decimal
    # By lag day 0..30; None when the mature cohorts have no 30-day conversions.
    orders_share: list[float | None]
    gmv_share: list[float | None]


@dataclass(frozen=True)
class KeyFigures:
    """How the last publication went, in numbers Dagster can plot over time."""

    attributed_share: float | None
    paid_orders: int
    campaigns: int
    campaigns_with_clicks: int
    campaigns_t7_complete: int
    campaigns_t30_complete: int
    orders_t7: int
    orders_t30: int
    gmv_t7: Decimal
    gmv_t30: Decimal
    top_campaigns_markdown: str


def open_published(published: Path) -> duckdb.DuckDBPyConnection:
    if not published.is_file():
        raise PublishedFileMissing(
            f"no published file at {published}: run `redcat run` first "
            "(or set REDCAT_PUBLISHED to the analysts' file)"
        )
    return duckdb.connect(str(published), read_only=True)


def write_report(published: Path, out: Path | None = None, charts: Charts | None = None) -> Path:
    """Write the campaign report of the published file to `out` (default: beside it), with
    its charts drawn already if given (`draw_charts`)."""
    out = out or default_report_path(published)
    with open_published(published) as connection:
        page = _render_page(connection, published, charts)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Replace in one step: someone may have the previous report open in a browser.
    building = out.with_name(f".{out.name}.building")
    building.write_text(page, encoding="utf-8")
    os.replace(building, out)
    return out


def key_figures(published: Path) -> KeyFigures:
    with open_published(published) as connection:
        return _key_figures(connection)


def _key_figures(connection: duckdb.DuckDBPyConnection) -> KeyFigures:
    totals = connection.execute(KEY_FIGURES_SQL).fetchone()
    (share, paid, campaigns, with_clicks, t7_complete, t30_complete, *sums) = totals
    orders_t7, orders_t30, gmv_t7, gmv_t30 = sums
    top = connection.execute(TOP_CAMPAIGNS_SQL, [TOP_CAMPAIGNS_IN_METADATA]).fetchall()
    lines = [
        "| campaign | platform | GMV T+30 | ROI T+30 | industry Top-50 ROI | T+30 |",
        "|---|---|---:|---:|---:|---|",
    ]
    for campaign_id, platform, gmv, roi, benchmark, is_complete in top:
        lines.append(
            f"| {campaign_id} | {platform} | {_money(gmv)} | {_ratio(roi)} | "
            f"{_ratio(benchmark)} | {_finality(is_complete) or 'final'} |"
        )
    return KeyFigures(
        attributed_share=share,
        paid_orders=int(paid or 0),
        campaigns=campaigns,
        campaigns_with_clicks=with_clicks,
        campaigns_t7_complete=t7_complete,
        campaigns_t30_complete=t30_complete,
        orders_t7=int(orders_t7 or 0),
        orders_t30=int(orders_t30 or 0),
        gmv_t7=gmv_t7 or Decimal("0.00"),
        gmv_t30=gmv_t30 or Decimal("0.00"),
        top_campaigns_markdown="\n".join(lines),
    )


# ------------------------------------------------------------------------------ reading


def _campaigns(connection: duckdb.DuckDBPyConnection) -> list[Campaign]:
    campaigns = []
    for row in connection.execute(CAMPAIGNS_SQL).fetchall():
        (campaign_id, name, platform, industry, cost, *figures) = row
        gmv, roi, (benchmark,), complete = figures[0:3], figures[3:6], figures[6:7], figures[7:]
        campaigns.append(
            Campaign(
                campaign_id,
                name,
                platform,
                industry,
                cost,
                dict(zip(WINDOWS, gmv, strict=True)),
                dict(zip(WINDOWS, roi, strict=True)),
                benchmark,
                dict(zip(WINDOWS, complete, strict=True)),
            )
        )
    return campaigns


def _lag_curves(connection: duckdb.DuckDBPyConnection) -> list[LagCurve]:
    unfinished = {
        (campaign_id, platform): count
        for campaign_id, platform, count in connection.execute(UNFINISHED_COHORTS_SQL).fetchall()
    }
    rows_by_cohort: dict[tuple[str, str], list[tuple]] = {}
    for row in connection.execute(LAG_CURVES_SQL).fetchall():
        rows_by_cohort.setdefault((row[0], row[1]), []).append(row)
    curves = []
    for (campaign_id, platform), rows in rows_by_cohort.items():
        curves.append(
            LagCurve(
                campaign_id,
                platform,
                mature_cohorts=rows[0][3],
                unfinished_cohorts=unfinished.pop((campaign_id, platform), 0),
                orders_30_day=int(rows[0][4]),
                gmv_30_day=rows[0][5],
                orders_share=[row[6] for row in rows],
                gmv_share=[None if row[7] is None else float(row[7]) for row in rows],
            )
        )
    # Campaigns with clicks but no mature cohort yet still get a line in the table.
    for (campaign_id, platform), count in unfinished.items():
        curves.append(
            LagCurve(campaign_id, platform, 0, count, 0, Decimal("0.00"), [None] * 31, [None] * 31)
        )
    return sorted(curves, key=lambda curve: (curve.platform, curve.campaign_id))


def _lag_benchmarks(connection: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, float]]:
    """Per platform: (N, share of 30-day conversions landing after T+N), Red Star's figure."""
    has_seed = connection.execute(
        """SELECT count(*) FROM information_schema.tables
           WHERE table_schema = 'reference' AND table_name = 'benchmark_platform_lag_share'"""
    ).fetchone()[0]
    sql = SEEDED_LAG_BENCHMARK_SQL if has_seed else CAMPAIGN_LAG_BENCHMARK_SQL
    return {
        platform: (int(after_day), float(share))
        for platform, after_day, share in connection.execute(sql).fetchall()
    }


# ------------------------------------------------------------------------------ charts


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata=SVG_METADATA, bbox_inches="tight")
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    # Inline SVG in HTML needs no namespace declarations; dropping them leaves the page
    # without a single http(s) address, so nothing in it can reach for the network.
    return re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)


def _new_figure(width: float, height: float, panels: int = 1) -> tuple[Figure, list]:
    figure = Figure(figsize=(width, height), layout="constrained")
    axes = figure.subplots(1, panels, squeeze=False)[0]
    return figure, list(axes)


def _lag_curve_chart(curves: list[LagCurve], benchmarks: dict[str, tuple[int, float]]) -> str:
    platforms = [p for p in PLATFORMS if any(c.platform == p for c in curves)]
    if not platforms:
        return ""
    figure, axes = _new_figure(5.2 * len(platforms), 3.8, len(platforms))
    days = list(range(31))
    for ax, platform in zip(axes, platforms, strict=True):
        drawn = [c for c in curves if c.platform == platform and c.gmv_share[30] is not None]
        if len(drawn) <= LABELLED_CURVES:
            for curve in drawn:
                ax.plot(
                    days,
                    curve.gmv_share,
                    marker=".",
                    markersize=3,
                    linewidth=1.4,
                    label=f"{curve.campaign_id} ({curve.mature_cohorts} mature click days)",
                )
        else:
            # A legend line per campaign would cover the plot: each campaign a thin line (one
            # artist for all), and the platform's pooled curve over them; the table names them.
            ax.add_collection(
                LineCollection(
                    [list(zip(days, curve.gmv_share, strict=True)) for curve in drawn],
                    colors="#4292c6",
                    alpha=0.25,
                    linewidths=0.8,
                    label=f"each of {len(drawn)} campaigns",
                )
            )
            ax.plot(
                days,
                _pooled_gmv_share(drawn),
                color="#08306b",
                linewidth=2.2,
                label="all of them together (share of their summed GMV)",
            )
        if platform in benchmarks:
            after_day, share_after = benchmarks[platform]
            ax.axvline(after_day, color="#444", linestyle=":", linewidth=1)
            ax.plot(
                [after_day],
                [1 - share_after],
                marker="D",
                color="black",
                markersize=7,
                linestyle="none",
                label=f"Red Star benchmark: {share_after:.0%} of conversions after T+{after_day}",
            )
        if not drawn:
            mature = any(c.platform == platform and c.mature_cohorts for c in curves)
            ax.text(
                0.5,
                0.5,
                NO_GMV_TO_SHARE if mature else NO_MATURE_COHORT,
                ha="center",
                va="center",
                transform=ax.transAxes,
                color="#777",
            )
        ax.set_title(f"{platform}: share of 30-day GMV landed by day N")
        ax.set_xlabel("days after the click (T+N)")
        ax.set_xlim(0, 30)
        ax.set_ylim(0, 1.02)
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:  # nothing drawn and no benchmark: no legend
            ax.legend(loc="lower right", fontsize=7)
    return _svg(figure)


def _pooled_gmv_share(curves: list[LagCurve]) -> list[float]:
    """By lag day, the share of the curves' summed 30-day GMV landed: each curve's share
    weighted by its GMV, so the pooled curve is that of all their conversions together. Drawn
    curves have GMV within 30 days, so a share every day (the lag mart holds every lag day)."""
    weights = [float(curve.gmv_30_day) for curve in curves]
    total = sum(weights)
    return [
        sum(weight * curve.gmv_share[day] for weight, curve in zip(weights, curves, strict=True))
        / total
        for day in range(31)
    ]


def _roi_chart(campaigns: list[Campaign]) -> str:
    """A row per campaign, a bar per window: a year's hundred campaigns read down the page
    (their names beside the bars) instead of across a chart metres wide."""
    platforms = [p for p in PLATFORMS if any(c.platform == p for c in campaigns)]
    if not platforms:
        return ""
    counts = [sum(c.platform == p for c in campaigns) for p in platforms]
    figure = Figure(
        figsize=(8.0, ROI_ROW_INCHES * sum(counts) + 1.2 * len(platforms) + 0.6),
        layout="constrained",
    )
    axes = figure.subplots(len(platforms), 1, squeeze=False, height_ratios=counts)[:, 0]
    height = 0.26
    for ax, platform in zip(axes, platforms, strict=True):
        shown = [c for c in campaigns if c.platform == platform]
        for offset, window in enumerate(WINDOWS):
            # One call per window and finality, not per bar: a year's campaigns took a second.
            for final in (True, False):
                bars = [
                    (row + (offset - 1) * height, campaign.roi[window])
                    for row, campaign in enumerate(shown)
                    # No cost: there is no ROI to draw, not a zero one.
                    if campaign.roi[window] is not None and campaign.complete[window] == final
                ]
                if not bars:
                    continue
                rows, rois = zip(*bars, strict=True)
                ax.barh(
                    rows,
                    rois,
                    height,
                    color=WINDOW_COLOURS[window],
                    alpha=1.0 if final else 0.35,
                    hatch=None if final else UNFINISHED_HATCH,
                    edgecolor="#555",
                    linewidth=0.5,
                )
                if not final:
                    for row, roi in bars:
                        ax.text(roi, row, f" {NOT_FINAL}", va="center", fontsize=6, color="#666")
        for row, campaign in enumerate(shown):
            # A row without bars says why, so that it never reads as a zero ROI.
            if campaign.roi[WINDOWS[-1]] is None:
                ax.text(0, row, " no cost: no ROI", va="center", fontsize=6, color="#666")
            elif campaign.complete[WINDOWS[-1]] is None:
                ax.text(0, row, f" {NO_CLICKS}", va="center", fontsize=6, color="#666")
        benchmarked = [
            (row, campaign.benchmark_roi)
            for row, campaign in enumerate(shown)
            if campaign.benchmark_roi is not None
        ]
        if benchmarked:
            rows, rois = zip(*benchmarked, strict=True)
            ax.vlines(
                rois,
                [row - 1.7 * height for row in rows],
                [row + 1.7 * height for row in rows],
                colors="black",
                linewidth=2,
            )
        ax.set_yticks(range(len(shown)), [c.campaign_id for c in shown], fontsize=8)
        ax.set_ylim(len(shown) - 0.5, -0.5)  # the table's order, top down
        ax.set_title(f"{platform}: ROI (gross GMV ÷ total cost)")
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlim(0, ax.get_xlim()[1] * 1.2)
    legend = [Patch(color=WINDOW_COLOURS[window], label=f"T+{window}") for window in WINDOWS]
    legend += [
        Patch(facecolor="#ddd", hatch=UNFINISHED_HATCH, edgecolor="#555", label=NOT_FINAL),
        Line2D([], [], color="black", linewidth=2, label="industry Top-50 ROI"),
    ]
    figure.legend(handles=legend, loc="outside lower center", ncols=len(legend), fontsize=8)
    return _svg(figure)


def _kol_chart(kols: list[tuple]) -> str:
    if not kols:
        return ""
    figure, (ax,) = _new_figure(7.5, 0.3 * len(kols) + 1.2)
    labels = [f"{kol_id} · {campaign_id}" for kol_id, _, campaign_id, *_ in kols]
    for position, row in enumerate(kols):
        gmv_per_fee, final = row[6], row[8] is not False
        if gmv_per_fee is None:  # no fee: ranked last, no ratio to draw
            ax.text(0, position, " no fee: no GMV per fee", va="center", fontsize=7, color="#666")
            continue
        value = float(gmv_per_fee)
        ax.barh(
            position,
            value,
            color="#31a354",
            alpha=1.0 if final else 0.35,
            hatch=None if final else UNFINISHED_HATCH,
            edgecolor="#555",
            linewidth=0.5,
        )
        if tag := _finality(row[8]):
            ax.text(value, position, f" {tag}", va="center", fontsize=7, color="#666")
    ax.set_yticks(range(len(kols)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("GMV T+30 per yuan of KOL fee (hatched, pale = T+30 not final)")
    ax.set_xlim(0, ax.get_xlim()[1] * 1.2)
    ax.grid(axis="x", alpha=0.3)
    return _svg(figure)


def _attribution_chart(daily: list[tuple]) -> str:
    platforms = [p for p in PLATFORMS if any(row[0] == p for row in daily)]
    if not platforms:
        return ""
    figure = Figure(figsize=(10, 2.6 * len(platforms)), layout="constrained")
    axes = figure.subplots(len(platforms), 1, squeeze=False, sharex=True)[:, 0]
    # The platforms share one time axis: its ticks follow all their days.
    paid_days = (min(row[1] for row in daily), max(row[1] for row in daily))
    daily_ticks = (paid_days[1] - paid_days[0]).days < DAILY_TICKS_UP_TO_DAYS
    for ax, platform in zip(axes, platforms, strict=True):
        rows = [row for row in daily if row[0] == platform]
        days = [row[1] for row in rows]
        # One filled step outline per part, a day wide, not a bar per day: a year's 1,460
        # patches took a second to draw and write.
        first = matplotlib.dates.date2num(days[0])
        span = int(matplotlib.dates.date2num(days[-1]) - first) + 1
        edges = [first - 0.5 + offset for offset in range(span + 1)]
        bottom = [0.0] * span
        for index, (_, label, colour) in enumerate(ATTRIBUTION_PARTS, start=4):
            top = list(bottom)
            for row in rows:
                day = int(matplotlib.dates.date2num(row[1]) - first)
                top[day] += (row[index] / row[2]) if row[2] else 0.0
            ax.stairs(top, edges, baseline=bottom, fill=True, color=colour, label=label)
            bottom = top
        ax.xaxis_date()
        if daily_ticks:
            # A few days would get ticks by the hour, as if orders were paid between them.
            ax.xaxis.set_major_locator(matplotlib.dates.DayLocator())
        # A day whose order dumps are not all loaded may still change: hatch it over.
        for day, row in zip(days, rows, strict=True):
            if not row[3]:
                ax.bar(
                    day,
                    1.0,
                    0.85,
                    color="white",
                    alpha=0.6,
                    hatch=UNFINISHED_HATCH,
                    edgecolor="#555",
                    linewidth=0,
                )
                ax.text(day, 0.5, NOT_FINAL, rotation=90, ha="center", va="center", fontsize=6)
        ax.set_ylim(0, 1)
        ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
        ax.set_title(f"{platform}: paid orders per paid day, by attribution")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7)
    figure.autofmt_xdate()
    return _svg(figure)


# ------------------------------------------------------------------------------ page


def _money(value: Decimal | None) -> str:
    return "–" if value is None else f"{value:,.2f}"


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _finality(complete: bool | None) -> str | None:
    """How a window figure is tagged: not at all when final, NOT_FINAL while its window is
    open, NO_CLICKS when there is no click whose window could be (empty completeness)."""
    return None if complete else NOT_FINAL if complete is False else NO_CLICKS


def _cell(
    key: str, text: str, final: bool | None = True, numeric: bool = True, name: bool = False
) -> str:
    """A table cell, addressable by its `data-key`; an unfinished figure says so, and a
    figure without clicks that there are none (`final` None). A `name` (free text, of any
    length) wraps anywhere rather than widen the page."""
    kinds = (
        "num" if numeric else "",
        "name" if name else "",
        "not-final" if final is False else "",
    )
    classes = [kind for kind in kinds if kind]
    tag = _finality(final)
    quiet = " quiet" if final is None else ""
    tag_html = f' <span class="tag{quiet}">{tag}</span>' if tag else ""
    return (
        f'<td data-key="{html.escape(key)}" class="{" ".join(classes)}">'
        f"{html.escape(text)}{tag_html}</td>"
    )


def _table(headers: list[str], rows: list[str], table_id: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(f"<tr>{row}</tr>" for row in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _summary_table(figures: KeyFigures) -> str:
    # Final once every campaign with clicks is: one without has no window to wait for.
    t7_final = figures.campaigns_t7_complete == figures.campaigns_with_clicks
    t30_final = figures.campaigns_t30_complete == figures.campaigns_with_clicks
    cells = [
        _cell("total:campaigns", str(figures.campaigns)),
        _cell("total:campaigns_t30_complete", str(figures.campaigns_t30_complete)),
        _cell("total:paid_orders", str(figures.paid_orders)),
        _cell("total:attributed_share", _percent(figures.attributed_share)),
        _cell("total:orders_t7", str(figures.orders_t7), t7_final),
        _cell("total:gmv_t7", _money(figures.gmv_t7), t7_final),
        _cell("total:orders_t30", str(figures.orders_t30), t30_final),
        _cell("total:gmv_t30", _money(figures.gmv_t30), t30_final),
    ]
    headers = [
        "campaigns",
        "with T+30 final",
        "paid orders",
        "attributed share",
        "orders T+7",
        "GMV T+7",
        "orders T+30",
        "GMV T+30",
    ]
    return _table(headers, ["".join(cells)], "summary")


def _roi_table(campaigns: list[Campaign]) -> str:
    rows = []
    for c in campaigns:
        cells = [
            _cell(f"{c.campaign_id}:campaign_id", c.campaign_id, numeric=False),
            _cell(f"{c.campaign_id}:campaign_name", c.name, numeric=False, name=True),
            _cell(f"{c.campaign_id}:store_platform", c.platform, numeric=False),
            _cell(f"{c.campaign_id}:industry", c.industry, numeric=False),
            _cell(f"{c.campaign_id}:total_cost", _money(c.total_cost)),
        ]
        for window in WINDOWS:
            final = c.complete[window]
            cells.append(_cell(f"{c.campaign_id}:gmv_t{window}", _money(c.gmv[window]), final))
            cells.append(_cell(f"{c.campaign_id}:roi_t{window}", _ratio(c.roi[window]), final))
        cells.append(_cell(f"{c.campaign_id}:benchmark_roi", _ratio(c.benchmark_roi)))
        rows.append("".join(cells))
    headers = ["campaign", "name", "platform", "industry", "total cost"]
    for window in WINDOWS:
        headers += [f"GMV T+{window}", f"ROI T+{window}"]
    return _table([*headers, "industry Top-50 ROI"], rows, "campaign-roi")


def _lag_table(curves: list[LagCurve], benchmarks: dict[str, tuple[int, float]]) -> str:
    rows = []
    for curve in curves:
        key = f"{curve.campaign_id}:{curve.platform}"
        after_day, benchmark_share = benchmarks.get(curve.platform, (None, None))
        measured_after = (
            None
            if after_day is None or curve.orders_share[after_day] is None
            else 1 - curve.orders_share[after_day]
        )
        mature = curve.mature_cohorts > 0
        rows.append(
            "".join(
                [
                    _cell(f"{key}:campaign_id", curve.campaign_id, numeric=False),
                    _cell(f"{key}:platform", curve.platform, numeric=False),
                    _cell(f"{key}:mature_cohorts", str(curve.mature_cohorts)),
                    _cell(f"{key}:unfinished_cohorts", str(curve.unfinished_cohorts)),
                    _cell(f"{key}:orders_30_day", str(curve.orders_30_day), mature),
                    _cell(f"{key}:gmv_30_day", _money(curve.gmv_30_day), mature),
                    _cell(f"{key}:gmv_share_t7", _percent(curve.gmv_share[7]), mature),
                    _cell(f"{key}:gmv_share_t15", _percent(curve.gmv_share[15]), mature),
                    _cell(f"{key}:orders_share_after", _percent(measured_after), mature),
                    _cell(
                        f"{key}:benchmark_share_after",
                        "–" if after_day is None else f"{benchmark_share:.0%} after T+{after_day}",
                    ),
                ]
            )
        )
    headers = [
        "campaign",
        "platform",
        "mature click days",
        "unfinished click days (not drawn)",
        "30-day orders",
        "30-day GMV",
        "GMV by T+7",
        "GMV by T+15",
        "orders after benchmark day",
        "Red Star benchmark",
    ]
    return _table(headers, rows, "lag-curves")


def _kol_table(kols: list[tuple]) -> str:
    rows = []
    for rank, row in enumerate(kols, start=1):
        kol_id, nickname, campaign_id, notes, fees, gmv_t30, per_fee, roi_t30, final = row
        key = f"{kol_id}:{campaign_id}"
        rows.append(
            "".join(
                [
                    _cell(f"{key}:rank", str(rank)),
                    _cell(f"{key}:kol_id", kol_id, numeric=False),
                    _cell(f"{key}:kol_nickname", nickname or "", numeric=False, name=True),
                    _cell(f"{key}:campaign_id", campaign_id, numeric=False),
                    _cell(f"{key}:notes", str(notes)),
                    _cell(f"{key}:kol_fees", _money(fees)),
                    _cell(f"{key}:gmv_t30", _money(gmv_t30), final),
                    _cell(f"{key}:gmv_per_fee", _ratio(per_fee), final),
                    _cell(f"{key}:roi_t30", _ratio(roi_t30), final),
                ]
            )
        )
    headers = [
        "#",
        "KOL",
        "nickname",
        "campaign",
        "notes",
        "KOL fees",
        "GMV T+30",
        "GMV per fee",
        "ROI T+30",
    ]
    return _table(headers, rows, "kol-leaderboard")


def _attribution_table(totals: list[tuple]) -> str:
    rows = []
    for platform, first, last, paid, attributed, organic, unmatched, before, share in totals:
        rows.append(
            "".join(
                [
                    _cell(f"{platform}:platform", platform, numeric=False),
                    _cell(f"{platform}:paid_dates", f"{first} .. {last}", numeric=False),
                    _cell(f"{platform}:paid_orders", str(paid)),
                    _cell(f"{platform}:attributed_orders", str(attributed)),
                    _cell(f"{platform}:paid_before_click_orders", str(before)),
                    _cell(f"{platform}:unmatched_cid_orders", str(unmatched)),
                    _cell(f"{platform}:organic_orders", str(organic)),
                    _cell(f"{platform}:attributed_share", _percent(share)),
                ]
            )
        )
    headers = [
        "platform",
        "paid dates",
        "paid orders",
        "attributed",
        "paid before click",
        "unmatched CID",
        "organic",
        "attributed share",
    ]
    return _table(headers, rows, "attribution-totals")


def _snapshot_line(connection: duckdb.DuckDBPyConnection, published: Path) -> str:
    latest = connection.execute(LATEST_SNAPSHOT_SQL).fetchone()
    if latest is None:
        return f"Published file {html.escape(str(published))}."
    snapshot_id, published_at, code_version = latest
    stamp = published_at.strftime("%Y-%m-%d %H:%M %Z") if isinstance(published_at, datetime) else ""
    return (
        f"Snapshot <code>{html.escape(snapshot_id)}</code>, published {html.escape(stamp)} "
        f"by {html.escape(code_version)}, from <code>{html.escape(str(published))}</code>."
    )


@dataclass(frozen=True)
class Charts:
    """The page's four charts, as SVG."""

    lag: str
    roi: str
    kol: str
    attribution: str


@dataclass(frozen=True)
class Figures:
    """What the charts and their tables show, read from the marts."""

    campaigns: list[Campaign]
    curves: list[LagCurve]
    benchmarks: dict[str, tuple[int, float]]
    kols: list[tuple]
    daily: list[tuple]


def _figures(connection: duckdb.DuckDBPyConnection) -> Figures:
    return Figures(
        campaigns=_campaigns(connection),
        curves=_lag_curves(connection),
        benchmarks=_lag_benchmarks(connection),
        kols=connection.execute(KOL_LEADERBOARD_SQL, [KOL_LEADERBOARD_SIZE]).fetchall(),
        daily=connection.execute(ATTRIBUTION_DAILY_SQL).fetchall(),
    )


def draw_charts(connection: duckdb.DuckDBPyConnection) -> Charts:
    """The charts of the marts a connection reads: the published file's, or the warehouse's
    while the publication copies them (the same rows; it draws them meanwhile)."""
    return _draw_charts(_figures(connection))


def _draw_charts(figures: Figures) -> Charts:
    with matplotlib.rc_context(SVG_STYLE):
        return Charts(
            lag=_lag_curve_chart(figures.curves, figures.benchmarks),
            roi=_roi_chart(figures.campaigns),
            kol=_kol_chart(figures.kols),
            attribution=_attribution_chart(figures.daily),
        )


def _render_page(
    connection: duckdb.DuckDBPyConnection, published: Path, charts: Charts | None
) -> str:
    figures = _figures(connection)
    totals = connection.execute(ATTRIBUTION_TOTALS_SQL).fetchall()
    last_paid = max((row[1] for row in figures.daily), default=None)
    charts = charts or _draw_charts(figures)
    return PAGE.format(
        snapshot=_snapshot_line(connection, published),
        summary_table=_summary_table(_key_figures(connection)),
        last_paid=html.escape(last_paid.isoformat() if isinstance(last_paid, date) else "–"),
        not_final=NOT_FINAL,
        lag_chart=charts.lag,
        lag_table=_lag_table(figures.curves, figures.benchmarks),
        roi_chart=charts.roi,
        roi_table=_roi_table(figures.campaigns),
        kol_size=KOL_LEADERBOARD_SIZE,
        kol_chart=charts.kol,
        kol_table=_kol_table(figures.kols),
        attribution_chart=charts.attribution,
        attribution_table=_attribution_table(totals),
    )


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>redcat campaign report</title>
<style>
body {{ font-family: "Noto Sans", "DejaVu Sans", "WenQuanYi Micro Hei", sans-serif;
       margin: 24px auto; max-width: 1200px; color: #222; padding: 0 16px; }}
h1 {{ margin-bottom: 4px; }}
h2 {{ margin-top: 36px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }}
p.meta {{ color: #555; margin-top: 0; }}
figure {{ margin: 12px 0; overflow-x: auto; }}
figure svg {{ max-width: 100%; height: auto; }}
table {{ border-collapse: collapse; font-size: 13px; margin: 8px 0; }}
th, td {{ border: 1px solid #ddd; padding: 3px 8px; }}
td.name {{ overflow-wrap: anywhere; min-width: 10em; }}
th {{ background: #f3f3f3; text-align: left; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.not-final {{ color: #888; background: repeating-linear-gradient(
    135deg, #fafafa, #fafafa 4px, #eee 4px, #eee 8px); }}
span.tag {{ font-size: 10px; color: #a33; border: 1px solid #d99; border-radius: 3px;
           padding: 0 3px; white-space: nowrap; }}
span.tag.quiet {{ color: #666; border-color: #ccc; }}
</style>
</head>
<body>
<h1>redcat campaign report</h1>
<p class="meta">{snapshot} Orders paid through {last_paid}.
A window whose order dumps are not all loaded yet may still grow: it is drawn hatched and
pale and marked <span class="tag">{not_final}</span>, never as a low figure.</p>
{summary_table}

<h2 id="lag">How much of the 30-day GMV has landed by day N</h2>
<p>Per platform and campaign, the cumulative share of the 30-day gross GMV landed by day T+N,
over the click days whose T+30 window is complete (mature cohorts). Click days still inside
their 30 days are left out, since they would bend the curve down. The diamond is Red Star's
benchmark, on order counts: the share of 30-day conversions that arrive only after T+7 (Tmall)
or T+15 (JD); the table compares it with the measured share of orders.</p>
<figure>{lag_chart}</figure>
{lag_table}

<h2 id="roi">ROI at T+7, T+15 and T+30 against the industry Top-50</h2>
<p>ROI = gross GMV ÷ total cost (ad spend, KOL fees and platform fee). The black bar is the
industry's Top-50 ROI (Red Star).</p>
<figure>{roi_chart}</figure>
{roi_table}

<h2 id="kols">KOL leaderboard: GMV per fee</h2>
<p>The top {kol_size} KOL-campaign pairs by gross GMV at T+30 per yuan of KOL fee.</p>
<figure>{kol_chart}</figure>
{kol_table}

<h2 id="attribution">Attribution monitor</h2>
<p>Per paid day, the paid orders split into attributed (via a click's CID), paid before the
click, unmatched CID (a CID of no known click) and organic (no CID). A falling attributed
share is the first sign of a tracking break.</p>
<figure>{attribution_chart}</figure>
{attribution_table}
</body>
</html>
"""
