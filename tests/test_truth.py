"""Generated dumps against their recorded truth: the pipeline must attribute every order,
and count every mature window, exactly as the generator made them."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

import duckdb
import pandas as pd
import pytest

from orchestration.generator import generate
from orchestration.run import run_pipeline
from tests.conftest import Workspace

START, END = date(2026, 4, 1), date(2026, 5, 15)
WINDOWS = (1, 7, 15, 30)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    space = Workspace(tmp_path_factory.mktemp("generated"))
    truth_dir = space.root / "truth"
    generate(space.inbox, START, END, scale=4, seed=11, truth_dir=truth_dir)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in space.environment().items():
            patch.setenv(name, value)
        with space.instance() as instance:
            outcome = run_pipeline(START, END, instance)
        assert outcome.success, outcome.failures
    space.truth_dir = truth_dir
    return space


def _truth(generated, name: str) -> pd.DataFrame:
    return pd.read_csv(generated.truth_dir / name, dtype=str, keep_default_na=False)


def _money(text: str) -> Decimal:
    return Decimal(text or "0").quantize(Decimal("0.01"))


def test_fct_orders_attributes_every_order_as_the_truth_says(generated):
    truth = _truth(generated, "orders_truth.csv")
    expected = {
        (r.platform, r.order_id): (
            r.status,
            r.attribution_status,
            r.note_id or None,
            r.kol_id or None,
            r.campaign_id or None,
            int(r.lag_days) if r.lag_days else None,
            _money(r.gross_gmv),
            _money(r.net_gmv),
            date.fromisoformat(r.paid_at[:10]) if r.paid_at else None,
        )
        for r in truth.itertuples()
    }
    actual = {
        (platform, order_id): tuple(rest)
        for platform, order_id, *rest in generated.query(
            """SELECT platform, order_id, status, attribution_status, note_id, kol_id,
                      campaign_id, lag_days, gross_gmv, net_gmv, paid_date
               FROM marts.fct_orders"""
        )
    }
    assert len(actual) == len(expected) > 1000
    assert Counter(v[1] for v in actual.values()).keys() == {
        "attributed",
        "organic",
        "unmatched_cid",
        "paid_before_click",
    }
    mismatched = {k: (actual.get(k), v) for k, v in expected.items() if actual.get(k) != v}
    assert not mismatched, list(mismatched.items())[:5]


def test_fct_clicks_hold_every_delivered_click_once(generated):
    truth = _truth(generated, "clicks_truth.csv")
    delivered = truth[truth.delivered_date != ""]
    expected = {
        (r.cid, date.fromisoformat(r.click_date), r.note_id, r.campaign_id, r.kol_id)
        for r in delivered.itertuples()
    }
    actual = set(
        generated.query(
            "SELECT cid, click_date, note_id, campaign_id, kol_id FROM marts.fct_clicks"
        )
    )
    assert actual == expected


def _truth_windows(generated) -> dict[tuple[str, date], dict[int, tuple[int, Decimal]]]:
    """(note, click date) → window → (orders, gross GMV) from the recorded truth."""
    orders = _truth(generated, "orders_truth.csv")
    converted = orders[(orders.attribution_status == "attributed") & (orders.paid_at != "")]
    windows: dict = defaultdict(lambda: {n: (0, Decimal("0.00")) for n in WINDOWS})
    for r in converted.itertuples():
        for n in WINDOWS:
            if int(r.lag_days) <= n:
                count, gmv = windows[(r.note_id, date.fromisoformat(r.click_date))][n]
                windows[(r.note_id, date.fromisoformat(r.click_date))][n] = (
                    count + 1,
                    gmv + _money(r.gross_gmv),
                )
    return windows


def test_mature_note_windows_equal_the_truth(generated):
    truth = _truth_windows(generated)
    rows = generated.query(
        """SELECT note_id, click_date,
                  orders_t1, gmv_t1, t1_complete, orders_t7, gmv_t7, t7_complete,
                  orders_t15, gmv_t15, t15_complete, orders_t30, gmv_t30, t30_complete
           FROM marts.mart_note_windows"""
    )
    mature = Counter()
    for note_id, click_date, *figures in rows:
        for i, n in enumerate(WINDOWS):
            orders, gmv, complete = figures[3 * i : 3 * i + 3]
            assert complete == (click_date + timedelta(days=n) <= END), (note_id, click_date, n)
            if complete:
                mature[n] += 1
                expected = truth.get((note_id, click_date), {n: (0, Decimal("0.00"))})[n]
                assert (orders, gmv) == expected, (note_id, click_date, n)
    assert all(mature[n] > 50 for n in WINDOWS), mature


def test_measured_lag_shares_match_what_the_generator_was_set_to(generated):
    targets = json.loads((generated.truth_dir / "generation.json").read_text())["targets"]
    shares = dict(
        generated.query(
            """WITH mature AS (
                   SELECT platform, lag_days, orders FROM marts.mart_conversion_lag l
                   WHERE EXISTS (
                       SELECT 1 FROM marts.mart_conversion_lag m
                       WHERE m.campaign_id = l.campaign_id AND m.platform = l.platform
                         AND m.click_date = l.click_date AND m.lag_days = 30 AND m.is_complete))
               SELECT platform,
                      sum(orders) FILTER (WHERE lag_days > CASE platform WHEN 'tmall' THEN 7
                                                                    ELSE 15 END)
                      / sum(orders)
               FROM mature GROUP BY platform"""
        )
    )
    assert shares["tmall"] == pytest.approx(targets["tmall_share_after_t7"], abs=0.05)
    assert shares["jd"] == pytest.approx(targets["jd_share_after_t15"], abs=0.05)


def test_campaign_roi_recomputed_from_the_raw_dumps(generated):
    """Cost straight from the note-metrics files, GMV from the truth; the mart must agree."""
    frames = [
        pd.read_csv(path, encoding="utf-8-sig", dtype=str)
        for path in sorted((generated.inbox / "rednote_note_metrics").glob("*.csv"))
    ]
    metrics = pd.concat(frames).sort_values("日期")
    latest = metrics.groupby("笔记ID").tail(1).set_index("笔记ID")
    spend = metrics.groupby("笔记ID")["消费(元)"].agg(lambda s: sum(map(Decimal, s)))
    cost: dict[str, Decimal] = defaultdict(Decimal)
    for note_id, row in latest.iterrows():
        fee = Decimal(row["笔记合作费用(元)"])
        cost[row["计划ID"]] += spend[note_id] + fee + fee * Decimal("0.10")

    orders = _truth(generated, "orders_truth.csv")
    converted = orders[(orders.attribution_status == "attributed") & (orders.paid_at != "")]
    gmv_t30: dict[str, Decimal] = defaultdict(Decimal)
    for r in converted[converted.lag_days.astype(int) <= 30].itertuples():
        gmv_t30[r.campaign_id] += _money(r.gross_gmv)

    rows = generated.query(
        "SELECT campaign_id, total_cost, gmv_t30, roi_t30 FROM marts.mart_campaign_roi"
    )
    assert len(rows) == len(_truth(generated, "campaigns_truth.csv"))
    for campaign_id, total_cost, gmv, roi in rows:
        assert total_cost == cost[campaign_id].quantize(Decimal("0.01")), campaign_id
        assert gmv == gmv_t30[campaign_id], campaign_id
        assert roi == pytest.approx(float(gmv_t30[campaign_id] / cost[campaign_id]), rel=1e-9)


def test_eligibility_follows_the_latest_snapshot(generated):
    truth = _truth(generated, "campaigns_truth.csv")
    expected = {
        (r.campaign_id, r.redstar_eligible == "true", r.redcat_eligible == "true")
        for r in truth.itertuples()
    }
    assert (
        set(
            generated.query(
                "SELECT campaign_id, redstar_eligible, redcat_eligible FROM marts.mart_campaign_roi"
            )
        )
        == expected
    )


def test_readme_lag_curve_matches_the_truth(generated):
    from tests.test_readme import QUERIES

    lag_curve = next(q for q in QUERIES if "cumulative_share_of_30_day_orders" in q)
    with duckdb.connect(str(generated.published), read_only=True) as connection:
        curve = connection.execute(lag_curve).fetchall()
    assert [row[0] for row in curve] == list(range(31))

    orders = _truth(generated, "orders_truth.csv")
    mature = orders[
        (orders.campaign_id == "cmp_0001")
        & (orders.attribution_status == "attributed")
        & (orders.paid_at != "")
        & (orders.click_date != "")
    ]
    mature = mature[mature.click_date.map(date.fromisoformat) + timedelta(days=30) <= END]
    lags = mature.lag_days.astype(int)
    within_30 = lags[lags <= 30]
    for lag_days, orders_at_lag, _, cumulative_share in curve:
        assert orders_at_lag == (within_30 == lag_days).sum()
        assert cumulative_share == pytest.approx((within_30 <= lag_days).mean())
