"""The day loop: simulate one business day at a time and write its six dumps.

State carried between days is bounded: orders waiting for their creation day, orders
waiting for a later state change, and clicks and funnel events due in a later file.
"""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from .catalog import (
    CAMPAIGN_HEADER,
    FUNNEL_HEADER,
    JD_HEADER,
    NOTE_METRICS_HEADER,
    TMALL_HEADER,
)
from .orders import (
    TARGET_SHARE_AFTER,
    Click,
    Order,
    OrderIds,
    draw_lag,
    end_of,
    export_row,
    money,
    new_order,
    pick,
    random_time,
)
from .people import People
from .truth import Truth, campaign_listing, iso
from .world import (
    CLICKS_PER_DAY_AT_SCALE_1,
    LAG_TAIL_SHARE,
    Campaign,
    Note,
    Store,
    World,
    build_world,
)
from .writers import SOURCES, dump_path, write_csv, write_jsonl_gz, write_xlsx

LATE_CLICK_SHARE = 0.01  # delivered in the next day's file
REDELIVERED_CLICK_SHARE = 0.002  # delivered again, identical, in the same or a later file
DUPLICATED_EVENT_SHARE = 0.001
FUNNEL_SHARE = 0.6  # clicks that reach the store and leave funnel events
UNPAID_ORDER_PER_CLICK = 0.012  # orders created from a click and never paid
PAID_BEFORE_CLICK_PER_CLICK = 0.001
ORGANIC_ORDERS_PER_DAY = 4.0  # per platform at scale 1, about a quarter of all orders
UNMATCHED_ORDERS_PER_DAY = 0.7  # orders carrying a CID of no click, at scale 1
USERS_PER_SCALE = 3000
PLACEMENTS = ("feed", "search", "detail")
PLACEMENT_CUM = (60, 85, 100)
PLATFORMS = ("tmall", "jd")


@dataclass(frozen=True)
class GenerationSummary:
    out_dir: Path
    truth_dir: Path
    start: date
    end: date
    files: tuple[Path, ...]
    rows: dict[str, int]  # data rows written per source, header excluded

    @property
    def files_written(self) -> int:
        return len(self.files)


def generate(
    out_dir: Path,
    start: date,
    end: date,
    scale: float = 1.0,
    seed: int = 42,
    truth_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    organic_orders_per_day: float | None = None,
) -> GenerationSummary:
    """Write the dumps of every source for every dump date in [start, end] under `out_dir`,
    and what they contain by construction (orders, clicks, notes, campaigns) to `truth_dir`
    (default: a sibling folder named `<out_dir>_truth`). Same arguments, same bytes.

    `organic_orders_per_day` (per platform, at scale 1; default ORGANIC_ORDERS_PER_DAY) sets
    the shops' sales that no note brought: a brand whose shops sell far more than RedNote
    drives has many more order rows per click."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if organic_orders_per_day is None:
        organic_orders_per_day = ORGANIC_ORDERS_PER_DAY
    if organic_orders_per_day < 0:
        raise ValueError(
            f"organic_orders_per_day must not be negative, got {organic_orders_per_day}"
        )
    out_dir = Path(out_dir)
    truth_dir = Path(truth_dir) if truth_dir else out_dir.with_name(out_dir.name + "_truth")
    for source in SOURCES:
        (out_dir / source).mkdir(parents=True, exist_ok=True)

    world = build_world(seed, scale, start, end)
    files: list[Path] = []
    rows = dict.fromkeys(SOURCES, 0)
    with Truth(truth_dir, end) as truth:
        sim = _Day(world, seed, scale, end, out_dir, truth, organic_orders_per_day)
        day = start
        while day <= end:
            written = sim.run(day)
            for source, (path, count) in written.items():
                files.append(path)
                rows[source] += count
            if progress:
                progress(
                    f"{day.isoformat()}: {written['rednote_clicks'][1]} clicks, "
                    f"{written['redstar_funnel'][1]} funnel events, "
                    f"{written['tmall_orders'][1]} tmall + {written['jd_orders'][1]} jd order rows"
                )
            day += timedelta(days=1)
        truth.finish(
            world,
            _parameters(start, end, scale, seed, organic_orders_per_day, len(files), rows),
        )
    return GenerationSummary(out_dir, truth_dir, start, end, tuple(files), rows)


def _parameters(
    start: date,
    end: date,
    scale: float,
    seed: int,
    organic_orders_per_day: float,
    files: int,
    rows: dict[str, int],
) -> dict[str, object]:
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "scale": scale,
        "seed": seed,
        "targets": {
            f"{platform}_share_after_t{boundary}": share
            for platform, (boundary, share) in TARGET_SHARE_AFTER.items()
        },
        "assumptions": {
            "clicks_per_day_at_scale_1": CLICKS_PER_DAY_AT_SCALE_1,
            "late_click_share": LATE_CLICK_SHARE,
            "redelivered_click_share": REDELIVERED_CLICK_SHARE,
            "paid_conversions_after_t30_share": LAG_TAIL_SHARE,
            "organic_orders_per_platform_day_at_scale_1": organic_orders_per_day,
            "unmatched_cid_orders_per_day_at_scale_1": UNMATCHED_ORDERS_PER_DAY,
        },
        "files": files,
        "rows": rows,
    }


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _seconds(rng: random.Random, low: int, high: int) -> timedelta:
    return timedelta(seconds=rng.randint(low, high))


FunnelEvent = tuple[datetime, str, str, str, str, str]


class _Day:
    def __init__(
        self,
        world: World,
        seed: int,
        scale: float,
        end: date,
        out_dir: Path,
        truth: Truth,
        organic_orders_per_day: float,
    ) -> None:
        self.world = world
        self.scale = scale
        self.organic_orders_per_day = organic_orders_per_day
        self.end = end
        self.out_dir = out_dir
        self.truth = truth
        self.rng = random.Random(f"{seed}:days")
        self.people = People(seed, max(1000, round(USERS_PER_SCALE * scale)))
        self.ids = OrderIds(seed)
        self.created_on: defaultdict[date, list[Order]] = defaultdict(list)
        self.changed_on: defaultdict[date, list[Order]] = defaultdict(list)
        self.extra_clicks: defaultdict[date, list[Click]] = defaultdict(list)
        self.funnel: defaultdict[date, list[FunnelEvent]] = defaultdict(list)

    def run(self, day: date) -> dict[str, tuple[Path, int]]:
        rng = self.rng
        weekday_factor = 1.125 if day.weekday() >= 5 else 0.95
        for store in self.world.stores:
            # Store ratings drift now and then, so eligibility can change between snapshots.
            if store.listed_from <= day and rng.random() < 0.01:
                store.score_tenths = min(50, max(38, store.score_tenths + rng.choice((-1, 1))))

        notes = self.world.notes_live(day)
        own_clicks: list[Click] = []
        clicks_per_note = []
        for note in notes:
            expected = self.world.clicks_per_weight * note.click_weight(day) * weekday_factor
            count = _poisson(rng, expected)
            clicks_per_note.append((note, expected, count))
            for _ in range(count):
                self._click(note, day, own_clicks)
        for platform in PLATFORMS:
            stores = self.world.stores_listed(day, platform)
            if stores:
                organic = self.organic_orders_per_day * self.scale * weekday_factor
                for _ in range(_poisson(rng, organic)):
                    self._organic_order(day, rng.choice(stores))
        for _ in range(_poisson(rng, UNMATCHED_ORDERS_PER_DAY * self.scale * weekday_factor)):
            stores = self.world.stores_listed(day, rng.choice(PLATFORMS))
            if stores:
                self._unmatched_order(day, rng.choice(stores))
        self._open_orders(day)

        written = {
            "rednote_campaigns": self._write_campaigns(day),
            "rednote_note_metrics": self._write_note_metrics(day, clicks_per_note),
            "rednote_clicks": self._write_clicks(day, own_clicks),
            "redstar_funnel": self._write_funnel(day),
        }
        changed = self.changed_on.pop(day, [])
        for platform in PLATFORMS:
            written[f"{platform}_orders"] = self._write_orders(day, platform, changed)
        return written

    # --- clicks and the orders they lead to -------------------------------------------

    def _click(self, note: Note, day: date, own_clicks: list[Click]) -> None:
        rng, end = self.rng, self.end
        campaign = note.campaign
        delivery = day + timedelta(days=1) if rng.random() < LATE_CLICK_SHARE else day
        click = Click(
            cid=f"{rng.getrandbits(128):032x}",
            time=random_time(rng, day),
            note=note,
            user=rng.randrange(self.people.pool_size),
            placement=PLACEMENTS[pick(rng, PLACEMENT_CUM)],
            delivered=delivery if delivery <= end else None,
        )
        if delivery == day:
            own_clicks.append(click)
        elif delivery <= end:
            self.extra_clicks[delivery].append(click)
        if rng.random() < REDELIVERED_CLICK_SHARE:
            again = delivery + timedelta(days=rng.randint(0, 2))
            if again <= end:
                self.extra_clicks[again].append(click)
        note.clicks += 1
        self.truth.click(click)

        order = None
        u = rng.random()
        if u < PAID_BEFORE_CLICK_PER_CLICK and click.time.hour >= 1:
            order = self._paid_before_click(click)
        elif u < PAID_BEFORE_CLICK_PER_CLICK + campaign.paid_conversion:
            order = self._converted(click)
        elif u < PAID_BEFORE_CLICK_PER_CLICK + campaign.paid_conversion + UNPAID_ORDER_PER_CLICK:
            created = click.time + _seconds(rng, 60, 6 * 3600)
            order = self._order(campaign, created, None, click)
        if order is not None or rng.random() < FUNNEL_SHARE:
            product = order.product if order else campaign.product_for(rng)
            self._funnel_events(click, campaign, product.sku_suffix, order is not None)

    def _converted(self, click: Click) -> Order:
        """A paid order: its paid date lies the drawn lag after the click date."""
        rng = self.rng
        lag = draw_lag(rng, click.note.campaign.platform)
        paid = None
        if lag == 0:
            earliest = click.time + timedelta(seconds=60)
            latest = min(click.time + timedelta(hours=6), end_of(click.time.date()))
            if earliest < latest:
                paid = earliest + _seconds(rng, 0, int((latest - earliest).total_seconds()))
            else:
                lag = 1
        if paid is None:
            paid = random_time(rng, click.time.date() + timedelta(days=lag))
        # One order in eight is created, then paid hours (maybe days) later.
        delayed = rng.random() < 0.12
        wait = _seconds(rng, 20 * 60, 30 * 3600) if delayed else _seconds(rng, 10, 180)
        created = max(click.time + timedelta(seconds=30), paid - wait)
        return self._order(click.note.campaign, created, paid, click)

    def _paid_before_click(self, click: Click) -> Order:
        """A tracking glitch: the order carries the CID of a click made after its payment."""
        rng = self.rng
        since_midnight = click.time.hour * 3600 + click.time.minute * 60 + click.time.second
        created = click.time - _seconds(rng, 600, min(5 * 3600, since_midnight - 60))
        return self._order(click.note.campaign, created, created + _seconds(rng, 10, 120), click)

    def _order(
        self, campaign: Campaign, created: datetime, paid: datetime | None, click: Click
    ) -> Order:
        order = new_order(
            self.rng,
            campaign.store,
            campaign.product_for(self.rng),
            created,
            paid,
            cid=click.cid,
            click=click,
            user=click.user,
        )
        if created.date() <= self.end:
            self.created_on[created.date()].append(order)
        return order

    def _funnel_events(self, click: Click, campaign: Campaign, sku: str, buying: bool) -> None:
        rng = self.rng
        sku_id = f"sku_{campaign.brand.code}{sku}"
        t = click.time + _seconds(rng, 5, 90)
        events = [(t, "store_visit", sku_id)]
        if rng.random() < 0.2:
            t += _seconds(rng, 10, 300)
            events.append((t, "store_search", ""))
        if rng.random() < 0.12:
            t += _seconds(rng, 5, 240)
            events.append((t, "favorite", sku_id))
        if rng.random() < (0.55 if buying else 0.18):
            t += _seconds(rng, 5, 600)
            events.append((t, "add_to_cart", sku_id))
        for when, kind, sku_value in events:
            self._event(when, click.cid, campaign.store, kind, sku_value)

    def _event(self, when: datetime, cid: str, store: Store, kind: str, sku_id: str) -> None:
        if when.date() <= self.end:
            self.funnel[when.date()].append(
                (when, cid, store.platform, kind, store.store_id, sku_id)
            )

    # --- orders without a click ---------------------------------------------------------

    def _organic_order(self, day: date, store: Store) -> None:
        rng = self.rng
        created = random_time(rng, day)
        u = rng.random()
        if u < 0.1:
            paid = None
        elif u < 0.2:
            paid = created + _seconds(rng, 20 * 60, 30 * 3600)
        else:
            paid = created + _seconds(rng, 10, 180)
        product = rng.choice(store.brand.products)
        order = new_order(rng, store, product, created, paid, user=self._anyone())
        self.created_on[day].append(order)

    def _unmatched_order(self, day: date, store: Store) -> None:
        rng = self.rng
        created = random_time(rng, day)
        cid = f"{rng.getrandbits(128):032x}"
        product = rng.choice(store.brand.products)
        paid = created + _seconds(rng, 10, 180)
        order = new_order(rng, store, product, created, paid, cid=cid, user=self._anyone())
        self.created_on[day].append(order)
        visit = created - _seconds(rng, 60, 1200)
        if visit.date() == day:
            sku_id = f"sku_{store.brand.code}{product.sku_suffix}"
            self._event(visit, cid, store, "store_visit", sku_id)

    def _anyone(self) -> int:
        return self.rng.randrange(self.people.pool_size)

    def _open_orders(self, day: date) -> None:
        """Give the orders created today their ids, and book the dumps they will appear in."""
        created = self.created_on.pop(day, [])
        created.sort(key=lambda o: o.created)
        for order in created:
            order.order_id = self.ids.take(order.platform)
            order.buyer = self.people.buyer(order.user, order.platform)
            for change_day in order.event_days(self.end):
                self.changed_on[change_day].append(order)
            self.truth.order(order)

    # --- the dumps ------------------------------------------------------------------------

    def _write_campaigns(self, day: date) -> tuple[Path, int]:
        rows = [campaign_listing(c, day) for c in self.world.campaigns_listed(day)]
        path = dump_path(self.out_dir, "rednote_campaigns", day)
        write_csv(path, "rednote_campaigns", CAMPAIGN_HEADER, rows)
        return path, len(rows)

    def _write_note_metrics(
        self, day: date, clicks_per_note: list[tuple[Note, float, int]]
    ) -> tuple[Path, int]:
        rng = self.rng
        spend: dict[str, int] = {}
        campaign_spend: defaultdict[str, int] = defaultdict(int)
        for note, _, clicks in clicks_per_note:
            cents = round(clicks * note.campaign.cpc_cents * rng.uniform(0.85, 1.15))
            spend[note.note_id] = cents
            campaign_spend[note.campaign.campaign_id] += cents
        rows = []
        for note, expected, clicks in clicks_per_note:
            campaign = note.campaign
            cents = spend[note.note_id]
            budget = campaign.budget_on(day)
            if campaign_spend[campaign.campaign_id] > budget:  # the platform stops at budget
                cents = cents * budget // campaign_spend[campaign.campaign_id]
            impressions = round(max(expected, 0.3) * rng.uniform(300, 900))
            reads = round(impressions * rng.uniform(0.18, 0.3))
            likes = round(reads * rng.uniform(0.04, 0.09))
            # The ads platform counts shop-link clicks its own way: close to the click log.
            reported = max(0, clicks + (rng.choice((-1, 1)) if rng.random() < 0.15 else 0))
            fee = note.fee_on(day)
            rows.append(
                (
                    day.isoformat(),
                    note.note_id,
                    note.title,
                    note.kol.kol_id,
                    note.kol.nickname,
                    campaign.campaign_id,
                    impressions,
                    reads,
                    reported,
                    likes,
                    round(likes * rng.uniform(0.08, 0.2)),
                    round(likes * rng.uniform(0.4, 0.9)),
                    round(likes * rng.uniform(0.03, 0.08)),
                    round(likes * rng.uniform(0.02, 0.06)),
                    money(cents),
                    money(fee),
                )
            )
            note.metric_days += 1
            note.first_day = note.first_day or day
            note.last_day = day
            note.spend_cents += cents
            note.reported_clicks += reported
            note.last_fee_cents = fee
        path = dump_path(self.out_dir, "rednote_note_metrics", day)
        write_csv(path, "rednote_note_metrics", NOTE_METRICS_HEADER, rows)
        return path, len(rows)

    def _write_clicks(self, day: date, own_clicks: list[Click]) -> tuple[Path, int]:
        own_clicks.sort(key=lambda c: c.time)
        # Late and repeated deliveries come after the day's own clicks, as in the exports.
        clicks = own_clicks + self.extra_clicks.pop(day, [])
        lines = [
            json.dumps(
                {
                    "cid": c.cid,
                    "click_time": iso(c.time),
                    "note_id": c.note.note_id,
                    "campaign_id": c.note.campaign.campaign_id,
                    "target_platform": c.note.campaign.platform,
                    "user_key": self.people.user_key(c.user),
                    "placement": c.placement,
                }
            )
            for c in clicks
        ]
        path = dump_path(self.out_dir, "rednote_clicks", day)
        write_jsonl_gz(path, lines)
        return path, len(lines)

    def _write_funnel(self, day: date) -> tuple[Path, int]:
        rows = []
        for when, cid, platform, kind, store_id, sku_id in sorted(self.funnel.pop(day, [])):
            row = (cid, platform, when.isoformat(" "), kind, store_id, sku_id)
            rows.append(row)
            if self.rng.random() < DUPLICATED_EVENT_SHARE:
                rows.append(row)
        path = dump_path(self.out_dir, "redstar_funnel", day)
        write_csv(path, "redstar_funnel", FUNNEL_HEADER, rows)
        return path, len(rows)

    def _write_orders(self, day: date, platform: str, changed: list[Order]) -> tuple[Path, int]:
        mine = sorted((o for o in changed if o.platform == platform), key=lambda o: o.created)
        rows = [export_row(o, day) for o in mine]
        if platform == "tmall":
            path = dump_path(self.out_dir, "tmall_orders", day)
            write_csv(path, "tmall_orders", TMALL_HEADER, rows)
        else:
            path = dump_path(self.out_dir, "jd_orders", day)
            write_xlsx(path, day, JD_HEADER, rows)
        return path, len(rows)
