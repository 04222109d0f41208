"""The advertising side of the sample world: stores, campaigns, KOLs and notes.

Everything here is planned up front from per-slot and per-campaign random streams, so a
campaign looks the same whatever the end of the generated range is.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from .catalog import (
    BRANDS,
    CAMPAIGN_SUFFIXES,
    CAMPAIGN_THEMES,
    KOL_PREFIXES,
    PAID_CONVERSION,
    TARGET_ROI,
    Brand,
    Product,
)

CLICKS_PER_DAY_AT_SCALE_1 = 300
# Days over which the click rate is calibrated; fixed so the rate does not depend on `end`.
CALIBRATION_DAYS = 60
# Campaigns appear in the snapshots up to this many days before they start.
MAX_LISTING_LEAD = 5
# Platform service fee on KOL fees (contract: 10%).
PLATFORM_FEE_RATE = 0.10
# Share of paid conversions that land after T+30; they count in no ROI window.
LAG_TAIL_SHARE = 0.03
MEAN_ITEM_COUNT = 1.25

# Generator hints that make eligibility vary: "eligible" aims at >= 2 KOLs, store score >= 4.5
# and budget >= 5000; each other profile breaks one of those.
PROFILE_CYCLE = ("eligible", "single_kol", "low_budget", "eligible", "low_score", "eligible")


@dataclass
class Store:
    store_id: str
    platform: str
    brand: Brand
    score_tenths: int
    listed_from: date


@dataclass(frozen=True)
class Kol:
    kol_id: str
    nickname: str


@dataclass(eq=False)
class Note:
    note_id: str
    title: str
    kol: Kol
    campaign: Campaign
    publish: date
    popularity: float
    fee_cents: int = 0
    fee_revision: tuple[date, float] | None = None
    # Running totals of what the dumps hold, for the recorded truth.
    metric_days: int = 0
    first_day: date | None = None
    last_day: date | None = None
    spend_cents: int = 0
    reported_clicks: int = 0
    clicks: int = 0
    last_fee_cents: int = 0

    def is_live(self, day: date) -> bool:
        return self.publish <= day <= self.campaign.end_date

    def fee_on(self, day: date) -> int:
        if self.fee_revision and day >= self.fee_revision[0]:
            return round(self.fee_cents * self.fee_revision[1] / 10000) * 10000
        return self.fee_cents

    def click_weight(self, day: date) -> float:
        """Relative click rate: a launch spike decaying to a paid-promotion floor."""
        age = (day - self.publish).days
        return self.popularity * (0.35 + 0.65 * math.exp(-age / 7))


@dataclass(eq=False)
class Campaign:
    campaign_id: str
    name: str
    brand: Brand
    store: Store
    profile: str
    start_date: date
    end_date: date
    listed_from: date
    target_roi: float
    paid_conversion: float
    notes: list[Note] = field(default_factory=list)
    budget_cents: int = 0
    budget_revision: tuple[date, float] | None = None
    cpc_cents: float = 0.0

    @property
    def platform(self) -> str:
        return self.store.platform

    def budget_on(self, day: date) -> int:
        if self.budget_revision and day >= self.budget_revision[0]:
            return round(self.budget_cents * self.budget_revision[1] / 50000) * 50000
        return self.budget_cents

    def product_for(self, rng: random.Random) -> Product:
        # The campaign's hero product (first listed) sells most.
        products = self.brand.products
        return products[0] if rng.random() < 0.5 else rng.choice(products)


@dataclass
class World:
    campaigns: list[Campaign]
    stores: list[Store]
    clicks_per_weight: float

    def notes_live(self, day: date) -> list[Note]:
        return [n for c in self.campaigns for n in c.notes if n.is_live(day)]

    def campaigns_listed(self, day: date) -> list[Campaign]:
        return [c for c in self.campaigns if c.listed_from <= day]

    def stores_listed(self, day: date, platform: str) -> list[Store]:
        return [s for s in self.stores if s.platform == platform and s.listed_from <= day]


def slot_count(scale: float) -> int:
    return max(2, round(3.6 + 0.35 * scale))


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(4 * digits):0{digits}x}"


def _round_up(cents: float, step_cents: int) -> int:
    return max(step_cents, math.ceil(cents / step_cents) * step_cents)


def build_world(seed: int, scale: float, start: date, end: date) -> World:
    horizon = max(end, start + timedelta(days=CALIBRATION_DAYS - 1)) + timedelta(
        days=MAX_LISTING_LEAD
    )
    drafts = []
    for slot in range(slot_count(scale)):
        rng = random.Random(f"{seed}:slot:{slot}")
        # Every slot launches on the first day, so the first dumps are not empty.
        begin = start
        k = 0
        while begin <= horizon:
            duration = rng.randint(28, 70)
            if k == 0:
                brand_index, profile = slot % len(BRANDS), PROFILE_CYCLE[slot % len(PROFILE_CYCLE)]
                platform = "tmall" if slot % 2 == 0 else "jd"
            else:
                brand_index, profile = rng.randrange(len(BRANDS)), rng.choice(PROFILE_CYCLE)
                platform = rng.choice(("tmall", "jd"))
            drafts.append((begin, slot, k, duration, brand_index, platform, profile))
            begin += timedelta(days=duration + rng.randint(1, 7))
            k += 1
    drafts.sort(key=lambda d: (d[0], d[1]))

    stores: dict[tuple[int, str], Store] = {}
    kol_pool = max(6, round(6 + 3 * scale))
    kol_max = 3 + int(math.log2(1 + scale))
    campaigns = []
    for number, (begin, slot, k, duration, brand_index, platform, profile) in enumerate(
        drafts, start=1
    ):
        rng = random.Random(f"{seed}:campaign:{slot}:{k}")
        brand = BRANDS[brand_index]
        listed_from = max(start, begin - timedelta(days=rng.randint(0, MAX_LISTING_LEAD)))
        store = stores.get((brand_index, platform))
        if store is None:
            store = _new_store(seed, brand_index, platform, profile, listed_from)
            stores[(brand_index, platform)] = store
        store.listed_from = min(store.listed_from, listed_from)
        hero = brand.products[0]
        campaign = Campaign(
            campaign_id=f"cmp_{number:04d}",
            name=f"{rng.choice(CAMPAIGN_THEMES)} {hero.short}{rng.choice(CAMPAIGN_SUFFIXES)}",
            brand=brand,
            store=store,
            profile=profile,
            start_date=begin,
            end_date=begin + timedelta(days=duration - 1),
            listed_from=listed_from,
            target_roi=round(TARGET_ROI[brand.industry] * rng.uniform(0.75, 1.2), 3),
            paid_conversion=PAID_CONVERSION[brand.industry] * rng.uniform(0.8, 1.2),
        )
        kols = 1 if profile == "single_kol" else rng.randint(2, kol_max)
        for i, j in enumerate(sorted(rng.sample(range(kol_pool), kols))):
            kol = _kol(seed, brand_index, j)
            # The first KOL's launch note goes live with the campaign.
            delay = 0 if i == 0 else rng.randint(0, min(3, duration - 1))
            publish = begin + timedelta(days=delay)
            for _ in range(rng.randint(1, 3)):
                if publish > campaign.end_date:
                    break
                campaign.notes.append(_note(rng, campaign, kol, publish))
                publish += timedelta(days=rng.randint(3, max(3, duration // 3)))
        if rng.random() < 0.15:
            campaign.budget_revision = (
                begin + timedelta(days=rng.randint(1, duration - 1)),
                rng.choice((0.5, 0.8, 1.25, 1.5)),
            )
        campaigns.append((campaign, rng))

    rate = _clicks_per_weight(scale, start, [c for c, _ in campaigns])
    for campaign, rng in campaigns:
        _set_economics(campaign, rng, rate)
    return World([c for c, _ in campaigns], list(stores.values()), rate)


def _new_store(seed: int, brand_index: int, platform: str, profile: str, listed: date) -> Store:
    rng = random.Random(f"{seed}:store:{brand_index}:{platform}")
    if profile == "eligible":
        score = rng.randint(45, 49)
    elif profile == "low_score":
        score = rng.randint(39, 44)
    else:
        score = rng.randint(42, 49)
    prefix = "tm" if platform == "tmall" else "jd"
    store_id = f"{prefix}_store_{31 + 7 * brand_index + (platform == 'jd')}"
    return Store(store_id, platform, BRANDS[brand_index], score, listed)


def _kol(seed: int, brand_index: int, j: int) -> Kol:
    rng = random.Random(f"{seed}:kol:{brand_index}:{j}")
    nickname = rng.choice(KOL_PREFIXES) + rng.choice(BRANDS[brand_index].kol_suffixes)
    return Kol(f"kol_{brand_index + 1}{j + 1:02d}", nickname)


def _note(rng: random.Random, campaign: Campaign, kol: Kol, publish: date) -> Note:
    # Real note ids start with the hex unix time of publication.
    published_at = datetime(publish.year, publish.month, publish.day) - timedelta(hours=8)
    stamp = int((published_at - datetime(1970, 1, 1)).total_seconds()) + rng.randint(0, 86399)
    product = rng.choice(campaign.brand.products)
    note = Note(
        note_id=f"{stamp:08x}{_hex(rng, 16)}",
        title=rng.choice(campaign.brand.note_titles).format(p=product.short),
        kol=kol,
        campaign=campaign,
        publish=publish,
        popularity=rng.lognormvariate(0, 0.6) / math.exp(0.18),
    )
    life = (campaign.end_date - publish).days + 1
    if life > 2 and rng.random() < 0.04:
        note.fee_revision = (publish + timedelta(days=rng.randint(1, life - 1)), 1.2)
    return note


def _clicks_per_weight(scale: float, start: date, campaigns: list[Campaign]) -> float:
    """Clicks per unit of note weight so that the brand averages 300 x scale clicks a day."""
    notes = [n for c in campaigns for n in c.notes]
    days = [start + timedelta(days=i) for i in range(CALIBRATION_DAYS)]
    total = sum(n.click_weight(d) for d in days for n in notes if n.is_live(d))
    mean_weight = total / CALIBRATION_DAYS
    return CLICKS_PER_DAY_AT_SCALE_1 * scale / max(mean_weight, 1e-9)


def _set_economics(campaign: Campaign, rng: random.Random, rate: float) -> None:
    """Price ads and KOL fees so the campaign's T+30 ROI lands near its target.

    Expected GMV per click over cost per click is the target ROI; the cost splits into ad
    spend (paid per click) and KOL fees (a fixed price per note for its expected clicks).
    """
    products = campaign.brand.products
    order_value = sum(p.price_cents for p in products[1:]) / (len(products) - 1)
    order_value = (order_value + products[0].price_cents) / 2 * MEAN_ITEM_COUNT
    gmv_per_click = campaign.paid_conversion * order_value * (1 - LAG_TAIL_SHARE)
    cost_per_click = gmv_per_click / campaign.target_roi
    ad_share = rng.uniform(0.3, 0.6)

    expected_clicks = {}
    for note in campaign.notes:
        life = (campaign.end_date - note.publish).days + 1
        days = (note.publish + timedelta(days=i) for i in range(life))
        expected_clicks[note.note_id] = rate * sum(note.click_weight(d) for d in days)
    duration = (campaign.end_date - campaign.start_date).days + 1
    daily_clicks = sum(expected_clicks.values()) / duration
    daily_spend = ad_share * cost_per_click * daily_clicks * 1.3

    if campaign.profile == "low_budget":
        campaign.budget_cents = rng.choice((2000, 2500, 3000, 3500, 4000, 4500)) * 100
        # Shift cost from ads to fees so a small budget still covers the day's clicks.
        ad_share = min(ad_share, 0.7 * campaign.budget_cents / max(daily_spend / ad_share, 1))
    else:
        budget = max(100000, _round_up(daily_spend * rng.uniform(1.5, 3.0), 50000))
        if campaign.profile in ("eligible", "low_score"):
            budget = max(budget, rng.choice((5000, 6000, 8000, 10000)) * 100)
        campaign.budget_cents = budget

    campaign.cpc_cents = ad_share * cost_per_click
    for note in campaign.notes:
        fee = (1 - ad_share) * cost_per_click * expected_clicks[note.note_id]
        note.fee_cents = _round_up(fee / (1 + PLATFORM_FEE_RATE), 10000)
