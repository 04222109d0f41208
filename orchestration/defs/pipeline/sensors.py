"""Notice new or redelivered dump files in the inbox and run just what they affect.

A redelivery keeps its name, so files are told apart by content hash. The sensor never
opens the warehouse (a reader would block the pipeline's writer): what it has seen lives
in its cursor, as size, modification time and SHA-256 per file.
"""

import json
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import dagster as dg

from orchestration.defs.dbt.assets import redcat_dbt_models
from orchestration.defs.failures import one_line_failures
from orchestration.defs.ingestion.sources import SOURCES
from orchestration.defs.partitions import DUMP_DATES
from orchestration.defs.pipeline.jobs import pipeline_job
from orchestration.defs.publish.assets import analytics_snapshot
from orchestration.lib.loading import file_sha256
from orchestration.lib.settings import Settings

DOWNSTREAM_KEYS = [*redcat_dbt_models.keys, analytics_snapshot.key]


def _dump_files(inbox: Path) -> dict[str, tuple[str, str]]:
    """Relative path → (source, dump date) for every file named as contract section 1 says."""
    found = {}
    for spec in SOURCES:
        pattern = re.compile(rf"{spec.name}_(\d{{8}})\.{re.escape(spec.extension)}")
        for path in (inbox / spec.name).glob(f"{spec.name}_*"):
            match = pattern.fullmatch(path.name)
            if match:
                day = datetime.strptime(match.group(1), "%Y%m%d").date().isoformat()
                found[str(path.relative_to(inbox))] = (spec.name, day)
    return found


@dg.sensor(
    name="redcat_inbox",
    job=pipeline_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Runs the pipeline for dump dates whose files are new or changed in content.",
)
def inbox_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    with one_line_failures():
        settings = Settings.from_env()
        settings.check_paths()
    inbox = settings.inbox
    seen: dict[str, list] = json.loads(context.cursor) if context.cursor else {}
    valid_days = set(DUMP_DATES.get_partition_keys())
    changed: dict[str, dict[str, str]] = defaultdict(dict)  # day → source → sha256
    for relative, (source, day) in sorted(_dump_files(inbox).items()):
        stat = (inbox / relative).stat()
        signature = [stat.st_size, stat.st_mtime_ns]
        previous = seen.get(relative)
        if previous and previous[:2] == signature:
            continue
        sha256 = file_sha256(inbox / relative)
        seen[relative] = [*signature, sha256]
        if previous and previous[2] == sha256:
            continue  # touched, same content
        if day not in valid_days:
            context.log.warning(f"{relative}: dump date {day} is outside the partitions; skipped")
            continue
        changed[day][source] = sha256

    run_requests = [
        dg.RunRequest(
            run_key=f"{day}:" + ",".join(f"{s}={h[:12]}" for s, h in sorted(by_source.items())),
            partition_key=day,
            asset_selection=[dg.AssetKey(["raw", s]) for s in sorted(by_source)] + DOWNSTREAM_KEYS,
            tags={"redcat/trigger": "inbox", "redcat/sources": ",".join(sorted(by_source))},
        )
        for day, by_source in sorted(changed.items())
    ]
    return dg.SensorResult(run_requests=run_requests, cursor=json.dumps(seen, sort_keys=True))
