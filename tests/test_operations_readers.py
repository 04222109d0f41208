"""Analysts reading the published file while a run publishes: never blocked, never a mix."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import duckdb

from orchestration.lib.loading import file_sha256
from orchestration.run import run_pipeline
from tests.conftest import OPERATIONS_END, REPOSITORY_ROOT

# One statement is one DuckDB transaction: the snapshot id and the mart checksum it returns
# come from the same file, so a half-replaced or half-built file would show as a pair that
# matches neither snapshot.
SNAPSHOT_AND_CHECKSUM_SQL = """
SELECT (SELECT snapshot_id FROM audit.published_snapshot ORDER BY published_at DESC LIMIT 1),
       (SELECT md5(string_agg(o::VARCHAR, '|' ORDER BY o::VARCHAR)) FROM marts.fct_orders o)
"""

# The reader: a fresh read-only connection per query, as analysts' sessions come and go; one
# JSON line per answer or error. It stops when the stop file appears, or after a bound.
READER = """
import json, pathlib, sys, time
import duckdb
published, stop, sql = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
deadline = time.monotonic() + 300
while not stop.exists() and time.monotonic() < deadline:
    try:
        with duckdb.connect(str(published), read_only=True) as connection:
            answer = connection.execute(sql).fetchone()
        print(json.dumps({"answer": list(answer)}), flush=True)
    except Exception as error:
        print(json.dumps({"error": repr(error)}), flush=True)
    time.sleep(0.005)
"""


def _answer(path) -> tuple[str, str]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return tuple(connection.execute(SNAPSHOT_AND_CHECKSUM_SQL).fetchone())


def _storage_version(path) -> str:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute(
            "SELECT tags['storage_version'] FROM duckdb_databases() "
            "WHERE database_name = current_database()"
        ).fetchone()[0]


def test_readers_see_the_old_snapshot_or_the_new_one_and_never_block_the_run(
    workspace, before_last_day
):
    workspace.copy_state_from(before_last_day)
    old = _answer(workspace.published)
    stop, log = workspace.root / "stop-reading", workspace.root / "reader.jsonl"
    with log.open("w") as out, (workspace.root / "reader.err").open("w") as err:
        reader = subprocess.Popen(
            [sys.executable, "-c", READER, str(workspace.published), str(stop)]
            + [SNAPSHOT_AND_CHECKSUM_SQL],
            stdout=out,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 60
        while not log.read_text() and reader.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # reading before the run starts
        with workspace.instance() as instance:
            outcome = run_pipeline(OPERATIONS_END, OPERATIONS_END, instance)
        time.sleep(0.5)  # and for a moment after it published
        stop.touch()
        reader.wait(timeout=30)
    finally:
        reader.kill()
    assert outcome.success, outcome.failures
    assert reader.returncode == 0, (workspace.root / "reader.err").read_text()

    new = _answer(workspace.published)
    assert old[0] != new[0] and old[1] != new[1]
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["error"] for line in lines if "error" in line] == []
    answers = [tuple(line["answer"]) for line in lines]
    assert len(answers) > 100
    assert answers[0] == old and set(answers) == {old, new}
    # Once replaced, the old file is never seen again.
    assert set(answers[answers.index(new) :]) == {new}


def test_the_published_file_opens_in_duckdb_1_0_and_later(batch_run):
    # Analysts' tools may be older than the pipeline's DuckDB: the publication pins the
    # storage version, whatever a newer DuckDB would write by default.
    assert _storage_version(batch_run.published) == "v1.0.0+"


def test_the_readme_provenance_query_lists_the_files_of_the_latest_snapshot(batch_run):
    readme = (REPOSITORY_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Reading the published marts", 1)[1].split("\n## ", 1)[0]
    [sql] = re.findall(r"```sql\n(.*?)```", section, flags=re.DOTALL)
    with duckdb.connect(str(batch_run.published), read_only=True) as connection:
        rows = connection.execute(sql).fetchall()
    assert len(rows) == 6 * 5  # six sources, five days
    assert {row[6] for row in rows} == {
        file_sha256(path) for path in batch_run.inbox.glob("*/*") if path.is_file()
    }
