"""The README's SQL for analysts runs against the published marts."""

from __future__ import annotations

import re

import duckdb
import pytest

from tests.conftest import REPOSITORY_ROOT

README = (REPOSITORY_ROOT / "README.md").read_text(encoding="utf-8")
ANALYST_SECTION = README.split("## Answering everyday questions with SQL", 1)[1].split("\n## ", 1)[
    0
]
QUERIES = re.findall(r"```sql\n(.*?)```", ANALYST_SECTION, flags=re.DOTALL)


def test_the_analyst_section_has_its_queries():
    assert len(QUERIES) == 4


@pytest.mark.parametrize("sql", QUERIES, ids=[f"query{i + 1}" for i in range(len(QUERIES))])
def test_readme_query_runs_on_the_published_file(examples_run, sql):
    with duckdb.connect(str(examples_run.published), read_only=True) as connection:
        rows = connection.execute(sql).fetchall()
    if "mart_conversion_lag" not in sql:  # the examples have no cohort 30 days old yet
        assert rows
