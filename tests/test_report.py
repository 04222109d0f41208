"""The campaign report: a real pipeline run over generated dumps long enough for mature T+30
windows, `redcat report`, and the page opened in headless Chromium. Every figure the browser
shows is checked against the published marts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import dagster as dg
import duckdb
import matplotlib
import pytest
from PIL import Image

from orchestration.lib import report
from tests.conftest import REPOSITORY_ROOT, Workspace

WINDOW = (1280, 4200)
NOT_FINAL = "not final"


def redcat(space: Workspace, *args: str, published: Path | None = None):
    environment = dict(os.environ, **space.environment())
    if published:
        environment["REDCAT_PUBLISHED"] = str(published)
    return subprocess.run(
        [str(REPOSITORY_ROOT / ".venv/bin/redcat"), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.fail("headless Chromium is missing: `apt-get install -y chromium` (scripts/test.sh)")
    return subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


class Cells(HTMLParser):
    """Text and classes of every `<td data-key=...>` of a page, by key."""

    def __init__(self):
        super().__init__()
        self.text: dict[str, str] = {}
        self.classes: dict[str, set[str]] = {}
        self.rows: dict[str, int] = {}
        self._key: str | None = None
        self._table: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table":
            self._table = attributes.get("id")
        elif tag == "tr" and self._table:
            self.rows[self._table] = self.rows.get(self._table, 0) + 1
        elif tag == "td" and "data-key" in attributes:
            self._key = attributes["data-key"]
            self.text[self._key] = ""
            self.classes[self._key] = set((attributes.get("class") or "").split())

    def handle_endtag(self, tag):
        if tag == "td":
            self._key = None

    def handle_data(self, data):
        if self._key:
            self.text[self._key] += data

    def figure(self, key: str) -> str:
        """The figure of a cell without its "not final" tag."""
        return self.text[key].replace(NOT_FINAL, "").strip()

    def is_final(self, key: str) -> bool:
        unfinished = NOT_FINAL in self.text[key]
        assert unfinished == ("not-final" in self.classes[key]), key
        return not unfinished


@pytest.fixture(scope="module")
def rendered(generated_run: Workspace, tmp_path_factory: pytest.TempPathFactory):
    """`redcat report --out` opened in headless Chromium: the page, its DOM and a screenshot."""
    folder = tmp_path_factory.mktemp("rendered")
    page = folder / "report.html"
    result = redcat(generated_run, "report", "--out", str(page))
    assert result.returncode == 0, result.stderr
    screenshot = folder / "report.png"
    chromium(
        f"--screenshot={screenshot}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        page.as_uri(),
        profile=folder / "profile",
    )
    dom = chromium("--dump-dom", page.as_uri(), profile=folder / "profile").stdout
    cells = Cells()
    cells.feed(dom)
    return page, dom, screenshot, cells


def published(space: Workspace, sql: str, parameters: list | None = None) -> list[tuple]:
    with duckdb.connect(str(space.published), read_only=True) as connection:
        return connection.execute(sql, parameters or []).fetchall()


def money(value: Decimal) -> str:
    return f"{value:,.2f}"


def ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def test_campaign_figures_shown_equal_the_marts(generated_run, rendered):
    *_, cells = rendered
    campaigns = published(
        generated_run,
        """SELECT campaign_id, total_cost, gmv_t7, roi_t7, gmv_t15, roi_t15, gmv_t30, roi_t30,
                  benchmark_roi
           FROM marts.mart_campaign_roi""",
    )
    assert len(campaigns) >= 4
    assert cells.rows["campaign-roi"] == len(campaigns) + 1  # with the header row
    assert cells.figure("total:campaigns") == str(len(campaigns))
    for (
        campaign_id,
        cost,
        gmv_t7,
        roi_t7,
        gmv_t15,
        roi_t15,
        gmv_t30,
        roi_t30,
        benchmark,
    ) in campaigns:
        shown = {
            field: cells.figure(f"{campaign_id}:{field}")
            for field in ("total_cost", "gmv_t7", "roi_t7", "gmv_t15", "roi_t15", "gmv_t30")
            + ("roi_t30", "benchmark_roi")
        }
        assert shown == {
            "total_cost": money(cost),
            "gmv_t7": money(gmv_t7),
            "roi_t7": ratio(roi_t7),
            "gmv_t15": money(gmv_t15),
            "roi_t15": ratio(roi_t15),
            "gmv_t30": money(gmv_t30),
            "roi_t30": ratio(roi_t30),
            "benchmark_roi": ratio(benchmark),
        }
    (gmv_t30_total,) = published(generated_run, "SELECT sum(gmv_t30) FROM marts.mart_campaign_roi")
    assert cells.figure("total:gmv_t30") == money(gmv_t30_total[0])


def test_kol_leaderboard_equals_the_marts(generated_run, rendered):
    *_, cells = rendered
    leaders = published(
        generated_run,
        """SELECT kol_id, campaign_id, kol_fees, gmv_t30, gmv_t30 / nullif(kol_fees, 0)
           FROM marts.mart_kol_performance
           ORDER BY 5 DESC NULLS LAST, kol_id, campaign_id LIMIT 15""",
    )
    assert leaders
    assert cells.rows["kol-leaderboard"] == len(leaders) + 1
    for rank, (kol_id, campaign_id, fees, gmv_t30, per_fee) in enumerate(leaders, start=1):
        key = f"{kol_id}:{campaign_id}"
        assert cells.figure(f"{key}:rank") == str(rank)
        assert cells.figure(f"{key}:kol_fees") == money(fees)
        assert cells.figure(f"{key}:gmv_t30") == money(gmv_t30)
        assert cells.figure(f"{key}:gmv_per_fee") == ratio(per_fee)


def test_lag_curves_use_mature_cohorts_only(generated_run, rendered):
    """The README's lag-curve query, over GMV, gives the shares the page shows."""
    *_, cells = rendered
    mature = published(
        generated_run,
        """WITH mature_cohorts AS (
               SELECT campaign_id, platform, click_date FROM marts.mart_conversion_lag
               WHERE lag_days = 30 AND is_complete)
           SELECT campaign_id, platform, count(DISTINCT click_date),
                  sum(gross_gmv) FILTER (WHERE lag_days <= 7) / nullif(sum(gross_gmv), 0)
           FROM marts.mart_conversion_lag
           JOIN mature_cohorts USING (campaign_id, platform, click_date)
           GROUP BY ALL""",
    )
    assert any(cohorts > 0 and share is not None for _, _, cohorts, share in mature)
    for campaign_id, platform, cohorts, share_by_t7 in mature:
        key = f"{campaign_id}:{platform}"
        assert cells.figure(f"{key}:mature_cohorts") == str(cohorts)
        expected = "–" if share_by_t7 is None else f"{share_by_t7:.1%}"
        assert cells.figure(f"{key}:gmv_share_t7") == expected
    assert cells.figure("cmp_0001:tmall:benchmark_share_after") == "40% after T+7"


def test_attribution_monitor_equals_the_marts(generated_run, rendered):
    *_, cells = rendered
    totals = published(
        generated_run,
        """SELECT platform, sum(paid_orders), sum(attributed_orders), sum(organic_orders)
           FROM marts.mart_attribution_daily GROUP BY platform""",
    )
    assert {platform for platform, *_ in totals} == {"tmall", "jd"}
    for platform, paid, attributed, organic in totals:
        assert cells.figure(f"{platform}:paid_orders") == str(paid)
        assert cells.figure(f"{platform}:attributed_orders") == str(attributed)
        assert cells.figure(f"{platform}:organic_orders") == str(organic)


def test_unfinished_windows_are_labelled_not_final(generated_run, rendered):
    page, dom, _, cells = rendered
    flags = published(
        generated_run,
        "SELECT campaign_id, t7_complete, t30_complete FROM marts.mart_campaign_roi",
    )
    assert any(not t30 for _, _, t30 in flags) and any(t7 for _, t7, _ in flags)
    for campaign_id, t7_complete, t30_complete in flags:
        # Empty completeness (no clicks) is no unfinished window.
        assert cells.is_final(f"{campaign_id}:gmv_t7") == (t7_complete is not False)
        assert cells.is_final(f"{campaign_id}:roi_t30") == (t30_complete is not False)
    # The charts say it too: the SVG keeps its text as text.
    assert NOT_FINAL in dom[dom.index("<svg") :]


def test_page_is_self_contained(rendered):
    page, *_ = rendered
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"https?://", html)
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert not re.search(r"url\((?!#)", html)
    assert html.count("<svg") == 4


def test_screenshot_shows_the_report(rendered):
    *_, screenshot, _ = rendered
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(screenshot) as image:
        assert image.size == WINDOW
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    # A blank or error page has a handful of colours; charts and tables have hundreds.
    assert len(colours) > 200
    white = sum(count for count, colour in colours if colour == (255, 255, 255))
    assert white < 0.95 * WINDOW[0] * WINDOW[1]


def test_publication_writes_the_report_and_key_figures(generated_run, rendered, tmp_path):
    """The publish asset leaves the same report beside the published file, its charts drawn
    from the warehouse while the marts were copied, and puts the key figures on its
    materialization."""
    page, *_ = rendered
    beside = generated_run.published.parent / "campaign_report.html"
    assert beside.read_bytes() == page.read_bytes()
    with generated_run.instance() as instance:
        event = instance.get_latest_materialization_event(
            dg.AssetKey(["published", "analytics_snapshot"])
        )
    metadata = event.asset_materialization.metadata
    ((share, gmv_t30, orders_t7),) = published(
        generated_run,
        """SELECT (SELECT sum(attributed_orders) / sum(paid_orders)
                   FROM marts.mart_attribution_daily), sum(gmv_t30), sum(orders_t7)
           FROM marts.mart_campaign_roi""",
    )
    assert metadata["attributed_share"].value == pytest.approx(share)
    assert metadata["gmv_t30"].value == float(gmv_t30)
    assert metadata["orders_t7"].value == orders_t7
    assert metadata["report"].value == str(beside)
    ((top_campaign,),) = published(
        generated_run,
        "SELECT campaign_id FROM marts.mart_campaign_roi ORDER BY gmv_t30 DESC LIMIT 1",
    )
    assert f"| {top_campaign} |" in metadata["top_campaigns"].value


def test_odd_campaigns_read_as_what_they_are(generated_run, tmp_path):
    """Campaigns at the edges, in the published marts: one without clicks (its zeros are final,
    tagged "no clicks", never "not final"), one without cost (no ROI, said so), one whose
    name is 250 characters without a space (the page stays as wide as the window)."""
    odd = tmp_path / "odd.duckdb"
    shutil.copyfile(generated_run.published, odd)
    with duckdb.connect(str(odd)) as connection:
        (first, second, third) = [
            row[0]
            for row in connection.execute(
                "SELECT campaign_id FROM marts.mart_campaign_roi ORDER BY campaign_id LIMIT 3"
            ).fetchall()
        ]
        windows = [f"{kind}_t{n}" for kind in ("orders", "gmv") for n in (7, 15, 30)]
        connection.execute(
            f"""INSERT INTO marts.mart_campaign_roi SELECT * REPLACE (
                    'cmp_no_clicks' AS campaign_id, 0 AS clicks,
                    {", ".join(f"0 AS {column}" for column in windows)},
                    {", ".join(f"0 AS roi_t{n}" for n in (7, 15, 30))},
                    {", ".join(f"NULL AS t{n}_complete" for n in (1, 7, 15, 30))})
                FROM marts.mart_campaign_roi WHERE campaign_id = ?""",
            [first],
        )
        connection.execute(
            """UPDATE marts.mart_campaign_roi SET total_cost = 0, roi_t7 = NULL,
               roi_t15 = NULL, roi_t30 = NULL WHERE campaign_id = ?""",
            [second],
        )
        connection.execute(
            "UPDATE marts.mart_campaign_roi SET campaign_name = ? WHERE campaign_id = ?",
            ["Summer_Sale_" + "X" * 250, third],
        )
    page = tmp_path / "odd.html"
    assert redcat(generated_run, "report", "--out", str(page), published=odd).returncode == 0
    # The page as a browser lays it out: how wide it is, in the title once it has loaded.
    measured = tmp_path / "measured.html"
    measured.write_text(
        page.read_text(encoding="utf-8").replace(
            "</body>",
            "<script>document.title = 'width ' + document.documentElement.scrollWidth;</script>"
            "</body>",
        ),
        encoding="utf-8",
    )
    dom = chromium(
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--dump-dom",
        measured.as_uri(),
        profile=tmp_path / "profile",
    ).stdout
    assert int(re.search(r"<title>width (\d+)</title>", dom)[1]) <= WINDOW[0]
    cells = Cells()
    cells.feed(dom)
    for window in (7, 15, 30):
        no_clicks = cells.text[f"cmp_no_clicks:gmv_t{window}"]
        assert no_clicks.endswith(report.NO_CLICKS) and NOT_FINAL not in no_clicks
        assert "not-final" not in cells.classes[f"cmp_no_clicks:roi_t{window}"]
        assert cells.figure(f"{second}:roi_t{window}") == "–"
    charts = dom[dom.index("<svg") :]
    assert f" {report.NO_CLICKS}" in charts and " no cost: no ROI" in charts


def test_figures_without_what_they_divide_by_say_why():
    """A KOL without fee has no GMV per fee, mature click days without GMV no share curve, and
    campaigns without clicks leave the summary's window totals final."""
    kols = [
        ("kol_1", "甲", "cmp_0001", 2, Decimal(100), Decimal(300), 3.0, 2.5, True),
        ("kol_2", "乙", "cmp_0001", 1, Decimal(0), Decimal(50), None, None, True),
    ]
    without_gmv = report.LagCurve(
        "cmp_0001", "jd", 12, 0, 0, Decimal("0.00"), [None] * 31, [None] * 31
    )
    unfinished = report.LagCurve("cmp_0002", "tmall", 0, 5, 0, Decimal(0), [None] * 31, [None] * 31)
    zero = {name: 0 for name in ("paid_orders", "orders_t7", "orders_t30", "gmv_t7", "gmv_t30")}
    figures = report.KeyFigures(
        attributed_share=None,
        campaigns=3,
        campaigns_with_clicks=2,
        campaigns_t7_complete=0,
        campaigns_t30_complete=2,
        top_campaigns_markdown="",
        **zero,
    )
    with matplotlib.rc_context(report.SVG_STYLE):
        kol_chart = report._kol_chart(kols)
        lag_chart = report._lag_curve_chart([without_gmv, unfinished], {})
    assert "no fee: no GMV per fee" in kol_chart
    assert "no share to draw" in lag_chart and "no mature cohort yet" in lag_chart
    summary = report._summary_table(figures)
    assert NOT_FINAL not in summary[summary.index("total:orders_t30") :]
    assert (
        NOT_FINAL in summary[summary.index("total:orders_t7") : summary.index("total:orders_t30")]
    )


def test_report_without_published_file_fails_in_one_line(generated_run, tmp_path):
    result = redcat(generated_run, "report", published=tmp_path / "missing.duckdb")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "missing.duckdb" in result.stderr


def test_charts_of_a_year_of_campaigns_stay_readable():
    """A large brand's hundred campaigns: the lag chart's legend stays a few lines (the table
    names the campaigns), the pooled curve is the share of their summed GMV, and the ROI chart
    grows down the page, not across it, with every campaign named."""
    count = 2 * report.LABELLED_CURVES + 30
    # Half the campaigns land their GMV by T+1, half by T+20, the latter with three times the
    # GMV: pooled, three quarters of it has landed on days 1..19, i.e. a quarter.
    curves = [
        report.LagCurve(
            f"cmp_{n:04d}",
            "tmall",
            mature_cohorts=30,
            unfinished_cohorts=0,
            orders_30_day=10,
            gmv_30_day=Decimal(100 if n % 2 else 300),
            orders_share=[None] * 31,
            gmv_share=[0.0] + [1.0 if n % 2 or day >= 20 else 0.0 for day in range(1, 31)],
        )
        for n in range(count)
    ]
    pooled = report._pooled_gmv_share(curves)
    assert pooled[0] == 0.0 and pooled[1] == pooled[19] == pytest.approx(0.25)
    assert pooled[20] == pooled[30] == pytest.approx(1.0)

    unfinished = 3  # the last campaigns, in all their windows

    def campaign(n: int) -> report.Campaign:
        return report.Campaign(
            campaign_id=f"cmp_{n:04d}",
            name="",
            platform=("tmall", "jd")[n % 2],
            industry="beauty",
            total_cost=Decimal(1000),
            gmv={window: Decimal(1000 + n) for window in report.WINDOWS},
            roi={window: 1 + n / count for window in report.WINDOWS},
            benchmark_roi=1.5,
            complete={window: n < count - unfinished for window in report.WINDOWS},
        )

    def height_and_width(svg: str) -> tuple[float, float]:
        match = re.search(r'<svg[^>]*\bwidth="([\d.]+)pt"[^>]*\bheight="([\d.]+)pt"', svg)
        return float(match[2]), float(match[1])

    with warnings.catch_warnings(), matplotlib.rc_context(report.SVG_STYLE):
        warnings.simplefilter("error")  # e.g. "constrained_layout not applied"
        lag = report._lag_curve_chart(curves, {"tmall": (7, 0.4)})
        few, many = (report._roi_chart([campaign(n) for n in range(k)]) for k in (4, count))
    assert f"each of {count} campaigns" in lag
    assert "mature click days" not in lag  # no legend line per campaign
    assert all(f"cmp_{n:04d}" in many for n in range(count))
    assert many.count(NOT_FINAL) == unfinished * len(report.WINDOWS) + 1  # and the legend's
    (few_height, few_width), (many_height, many_width) = map(height_and_width, (few, many))
    assert many_width <= 1.1 * few_width < 9 * 72
    assert many_height > 3 * few_height
