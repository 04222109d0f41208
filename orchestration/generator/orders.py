"""Orders: conversion lags, life cycles (timelines of states) and export rows."""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import accumulate

from .catalog import JD_STATUS, TMALL_STATUS, Product
from .people import Buyer
from .world import LAG_TAIL_SHARE, Note, Store

# Shares of attributed conversions (lag 0..30) landing after T+7 on Tmall and after T+15 on
# JD: the benchmarks of the contract, which the generated data is built to meet.
TARGET_SHARE_AFTER = {"tmall": (7, 0.40), "jd": (15, 0.40)}
MAX_WINDOW = 30

# Hour-of-day weights of shopping activity (China time): quiet nights, evening peak.
HOUR_WEIGHTS = (
    0.6, 0.3, 0.2, 0.1, 0.1, 0.2, 0.5, 1.0, 1.5, 1.8, 2.0, 2.2,
    2.6, 2.3, 2.0, 2.0, 2.2, 2.5, 3.0, 3.6, 4.2, 4.5, 3.8, 1.8,
)  # fmt: skip
HOUR_CUM = tuple(accumulate(HOUR_WEIGHTS))


def _lag_table(boundary: int, share_after: float) -> tuple[list[int], list[float]]:
    """Cumulative weights over lags 0..30: `share_after` of the mass beyond `boundary`,
    decaying within each part, plus a thin tail beyond T+30."""
    early = [0.75**k for k in range(boundary + 1)]
    late = [0.93**k for k in range(MAX_WINDOW - boundary)]
    in_window = 1 - LAG_TAIL_SHARE
    weights = [w / sum(early) * (1 - share_after) * in_window for w in early]
    weights += [w / sum(late) * share_after * in_window for w in late]
    tail = list(range(MAX_WINDOW + 1, MAX_WINDOW + 11))
    weights += [LAG_TAIL_SHARE / len(tail)] * len(tail)
    return list(range(MAX_WINDOW + 1)) + tail, list(accumulate(weights))


LAG_TABLES = {p: _lag_table(b, s) for p, (b, s) in TARGET_SHARE_AFTER.items()}


def pick(rng: random.Random, cum_weights: Sequence[float]) -> int:
    """Index drawn by cumulative weights; rng.choices without its per-call overhead."""
    # hi guards against random() * total rounding up to total, as rng.choices does.
    return bisect(cum_weights, rng.random() * cum_weights[-1], 0, len(cum_weights) - 1)


def draw_lag(rng: random.Random, platform: str) -> int:
    lags, cum = LAG_TABLES[platform]
    return lags[pick(rng, cum)]


def random_time(rng: random.Random, day: date) -> datetime:
    start = datetime.combine(day, time(pick(rng, HOUR_CUM)))
    return start + timedelta(seconds=int(rng.random() * 3600))


def end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59))


@dataclass(eq=False, slots=True)
class Click:
    cid: str
    time: datetime
    note: Note
    user: int
    placement: str
    delivered: date | None  # first dump date holding it, None if after the range


@dataclass(eq=False, slots=True)
class Order:
    platform: str
    created: datetime
    paid: datetime | None
    amount_cents: int
    quantity: int
    product: Product
    store: Store
    cid: str
    click: Click | None
    user: int
    events: list[tuple[datetime, str, int]]  # (time, normalised state, refund so far)
    order_id: str = ""
    buyer: Buyer | None = None

    def state_on(self, day: date) -> tuple[str, int]:
        """State and refund at the end of `day` (the export time of that day's dump)."""
        current = self.events[0]
        for event in self.events:
            if event[0].date() > day:
                break
            current = event
        return current[1], current[2]

    def paid_by(self, day: date) -> datetime | None:
        return self.paid if self.paid is not None and self.paid.date() <= day else None

    def event_days(self, last: date) -> list[date]:
        return sorted({e[0].date() for e in self.events if e[0].date() <= last})


def new_order(
    rng: random.Random,
    store: Store,
    product: Product,
    created: datetime,
    paid: datetime | None,
    cid: str = "",
    click: Click | None = None,
    user: int = 0,
) -> Order:
    quantity = rng.choices((1, 2, 3), cum_weights=(80, 95, 100))[0]
    amount = product.price_cents * quantity
    if rng.random() < 0.3:
        amount -= min(rng.choice((1000, 2000, 3000, 5000)), amount // 4)
    return Order(
        platform=store.platform,
        created=created,
        paid=paid,
        amount_cents=amount,
        quantity=quantity,
        product=product,
        store=store,
        cid=cid,
        click=click,
        user=user,
        events=_life_cycle(rng, store.platform, created, paid, amount),
    )


def _after(t: datetime, rng: random.Random, low_hours: float, high_hours: float) -> datetime:
    return t + timedelta(seconds=rng.randint(int(low_hours * 3600), int(high_hours * 3600)))


def _life_cycle(
    rng: random.Random, platform: str, created: datetime, paid: datetime | None, amount: int
) -> list[tuple[datetime, str, int]]:
    events = [(created, "pending_payment", 0)]
    if paid is None:
        # Unpaid orders are closed by the platform (JD sooner) or cancelled by the buyer.
        timeout = (12, 72) if platform == "tmall" else (6, 24)
        events.append((_after(created, rng, *timeout), "closed", 0))
        return events
    events.append((paid, "paid", 0))
    if rng.random() < 0.03:
        events.append((_after(paid, rng, 1, 48), "refunded", amount))
        return events
    shipped = _after(paid, rng, 3, 72)
    events.append((shipped, "shipped", 0))
    if rng.random() < 0.035:
        events.append((_after(shipped, rng, 72, 336), "refunded", amount))
        return events
    completed = _after(shipped, rng, 72, 240)
    events.append((completed, "completed", 0))
    if rng.random() < 0.05:
        partial = max(100, round(amount * rng.uniform(0.1, 0.5) / 100) * 100)
        events.append((_after(completed, rng, 12, 240), "completed", partial))
    return events


class OrderIds:
    """Increasing ids with random gaps, in the shapes of the platforms' exports."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(f"{seed}:order-ids")
        self._rng = rng
        self._next = {
            "tmall": 3900000000000000000 + rng.randrange(10**16),
            "jd": 290000000000 + rng.randrange(10**9),
        }
        self._gap = {"tmall": 40000, "jd": 300}

    def take(self, platform: str) -> str:
        self._next[platform] += self._rng.randint(1, self._gap[platform])
        return str(self._next[platform])


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def export_row(order: Order, day: date) -> list[str | int]:
    state, refund = order.state_on(day)
    buyer = order.buyer
    assert buyer is not None, "buyer is set when the order gets its id"
    paid = order.paid_by(day)
    status = (TMALL_STATUS if order.platform == "tmall" else JD_STATUS)[state]
    return [
        order.order_id,
        buyer.account,
        buyer.name,
        buyer.mobile,
        buyer.address,
        order.created.isoformat(" "),
        paid.isoformat(" ") if paid else "",
        status,
        money(order.amount_cents),
        money(refund),
        order.product.title,
        order.quantity,
        order.store.store_id,
        order.cid,
    ]
