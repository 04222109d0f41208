"""The dbt descriptions reach analysts' SQL clients: every table and column of the published
marts and reference data carries its description as a comment."""

from __future__ import annotations

import duckdb
import pytest
import yaml

from tests.conftest import REPOSITORY_ROOT

# Published schema, the dbt ymls that document it (one per mart), and the yml key of its nodes.
DOCUMENTATION = {
    "marts": ("dbt_project/models/marts/*.yml", "models"),
    "reference": ("dbt_project/seeds/_seeds.yml", "seeds"),
}


def documented(schema: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Per table: its description and its columns' descriptions, as written in dbt."""
    pattern, key = DOCUMENTATION[schema]
    nodes = [
        node
        for path in sorted(REPOSITORY_ROOT.glob(pattern))
        for node in yaml.safe_load(path.read_text(encoding="utf-8"))[key]
    ]
    return {
        node["name"]: (
            node["description"].strip(),
            {column["name"]: column["description"].strip() for column in node["columns"]},
        )
        for node in nodes
    }


@pytest.mark.parametrize("schema", DOCUMENTATION)
def test_every_published_table_and_column_has_its_dbt_description(examples_run, schema):
    with duckdb.connect(str(examples_run.published), read_only=True) as connection:
        tables = dict(
            connection.execute(
                "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = ?", [schema]
            ).fetchall()
        )
        columns = connection.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = ?",
            [schema],
        ).fetchall()
    descriptions = documented(schema)
    assert set(tables) == set(descriptions)
    for table, comment in tables.items():
        assert (comment or "").strip() == descriptions[table][0], f"{schema}.{table}"
    assert columns
    for table, column, comment in columns:
        assert comment, f"{schema}.{table}.{column} has no comment"
        assert comment.strip() == descriptions[table][1][column], f"{schema}.{table}.{column}"
