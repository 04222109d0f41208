"""The recorded truth: what the pipeline must find in the dumps, written beside them."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from .catalog import CAMPAIGN_HEADER
from .orders import Click, Order, money
from .world import PLATFORM_FEE_RATE, Campaign, World

ORDER_COLUMNS = (
    "platform",
    "order_id",
    "cid",
    "created_at",
    "paid_at",
    "status",
    "gross_gmv",
    "refund_amount",
    "net_gmv",
    "attribution_status",
    "click_ts",
    "click_date",
    "note_id",
    "kol_id",
    "campaign_id",
    "lag_days",
    "store_id",
    "item_count",
    "first_dump_date",
    "last_dump_date",
)
CLICK_COLUMNS = (
    "cid",
    "click_ts",
    "click_date",
    "note_id",
    "campaign_id",
    "kol_id",
    "target_platform",
    "delivered_date",
)
NOTE_COLUMNS = (
    "note_id",
    "campaign_id",
    "kol_id",
    "kol_fee",
    "first_date",
    "last_date",
    "metric_days",
    "ad_spend",
    "reported_clicks",
    "clicks",
)
# A campaign's truth is its latest listing (the export's columns), then its figures.
CAMPAIGN_COLUMNS = (
    *CAMPAIGN_HEADER,
    "kols",
    "notes",
    "ad_spend",
    "kol_fees",
    "platform_fee",
    "total_cost",
    "target_roi",
    "redstar_eligible",
    "redcat_eligible",
)


def campaign_listing(campaign: Campaign, day: date) -> tuple[str, ...]:
    """The campaign as the campaigns export of `day` lists it, in CAMPAIGN_HEADER's order."""
    return (
        campaign.campaign_id,
        campaign.name,
        campaign.brand.name,
        campaign.brand.industry,
        campaign.platform,
        campaign.store.store_id,
        campaign.start_date.isoformat(),
        campaign.end_date.isoformat(),
        money(campaign.budget_on(day)),
        f"{campaign.store.score_tenths / 10:.1f}",
    )


def iso(t: datetime) -> str:
    return t.isoformat() + "+08:00"


def attribution(order: Order, end: date) -> str:
    """The contract's attribution status of `order` once every dump through `end` is loaded."""
    if not order.cid:
        return "organic"
    click = order.click
    if click is None or click.delivered is None:
        return "unmatched_cid"
    paid = order.paid_by(end)
    if paid is not None and paid < click.time:
        return "paid_before_click"
    return "attributed"


class Truth:
    """Streams order and click truth while generating; notes and campaigns at the end."""

    def __init__(self, truth_dir: Path, end: date) -> None:
        truth_dir.mkdir(parents=True, exist_ok=True)
        self.dir = truth_dir
        self.end = end
        self._orders_file = (truth_dir / "orders_truth.csv").open("w", encoding="utf-8", newline="")
        self._clicks_file = (truth_dir / "clicks_truth.csv").open("w", encoding="utf-8", newline="")
        self._orders = csv.writer(self._orders_file, lineterminator="\n")
        self._clicks = csv.writer(self._clicks_file, lineterminator="\n")
        self._orders.writerow(ORDER_COLUMNS)
        self._clicks.writerow(CLICK_COLUMNS)

    def __enter__(self) -> Truth:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._orders_file.close()
        self._clicks_file.close()

    def click(self, click: Click) -> None:
        note = click.note
        self._clicks.writerow(
            (
                click.cid,
                iso(click.time),
                click.time.date().isoformat(),
                note.note_id,
                note.campaign.campaign_id,
                note.kol.kol_id,
                note.campaign.platform,
                click.delivered.isoformat() if click.delivered else "",
            )
        )

    def order(self, order: Order) -> None:
        end = self.end
        state, refund = order.state_on(end)
        paid = order.paid_by(end)
        gross = order.amount_cents if paid else 0
        status = attribution(order, end)
        click = order.click if status in ("attributed", "paid_before_click") else None
        lag = ""
        if status == "attributed" and paid is not None and click is not None:
            lag = str((paid.date() - click.time.date()).days)
        dump_days = order.event_days(end)
        self._orders.writerow(
            (
                order.platform,
                order.order_id,
                order.cid,
                iso(order.created),
                iso(paid) if paid else "",
                state,
                money(gross),
                money(refund),
                money(gross - refund if paid else 0),
                status,
                iso(click.time) if click else "",
                click.time.date().isoformat() if click else "",
                click.note.note_id if click else "",
                click.note.kol.kol_id if click else "",
                click.note.campaign.campaign_id if click else "",
                lag,
                order.store.store_id,
                order.quantity,
                dump_days[0].isoformat(),
                dump_days[-1].isoformat(),
            )
        )

    def finish(self, world: World, generation: dict[str, Any]) -> None:
        end = self.end
        notes_rows, campaign_rows = [], []
        for campaign in world.campaigns:
            if campaign.listed_from > end:
                continue
            shown = [n for n in campaign.notes if n.metric_days]
            for n in shown:
                notes_rows.append(
                    (
                        n.note_id,
                        campaign.campaign_id,
                        n.kol.kol_id,
                        money(n.last_fee_cents),
                        n.first_day.isoformat() if n.first_day else "",
                        n.last_day.isoformat() if n.last_day else "",
                        n.metric_days,
                        money(n.spend_cents),
                        n.reported_clicks,
                        n.clicks,
                    )
                )
            kols = len({n.kol.kol_id for n in shown})
            spend = sum(n.spend_cents for n in shown)
            fees = sum(n.last_fee_cents for n in shown)
            platform_fee = round(fees * PLATFORM_FEE_RATE)
            budget = campaign.budget_on(end)
            score = campaign.store.score_tenths
            redstar = kols >= 2
            campaign_rows.append(
                (
                    *campaign_listing(campaign, end),
                    kols,
                    len(shown),
                    money(spend),
                    money(fees),
                    money(platform_fee),
                    money(spend + fees + platform_fee),
                    f"{campaign.target_roi:.3f}",
                    str(redstar).lower(),
                    str(redstar and score >= 45 and budget >= 500000).lower(),
                )
            )
        _write(self.dir / "notes_truth.csv", NOTE_COLUMNS, notes_rows)
        _write(self.dir / "campaigns_truth.csv", CAMPAIGN_COLUMNS, campaign_rows)
        text = json.dumps(generation, indent=2, ensure_ascii=False, sort_keys=True)
        (self.dir / "generation.json").write_text(text + "\n", encoding="utf-8")


def _write(path: Path, header: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
