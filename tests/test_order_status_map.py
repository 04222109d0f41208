"""The seed that normalises order statuses (dbt_project/seeds/order_status_map.csv) maps exactly
the status texts ingestion accepts for each platform, so no accepted order lacks a status."""

from __future__ import annotations

import csv
from collections import defaultdict

from orchestration.defs.ingestion.sources import JD_STATUSES, TMALL_STATUSES
from tests.conftest import REPOSITORY_ROOT

STATUS_MAP = REPOSITORY_ROOT / "dbt_project/seeds/order_status_map.csv"


def test_status_map_holds_every_status_ingestion_accepts_and_no_other():
    mapped = defaultdict(list)
    with STATUS_MAP.open(encoding="utf-8", newline="") as seed:
        for row in csv.DictReader(seed):
            mapped[row["platform"]].append(row["order_status"])
    assert dict(mapped) == {"tmall": list(TMALL_STATUSES), "jd": list(JD_STATUSES)}
