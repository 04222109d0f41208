"""The dbt descriptions of the marts reach analysts' SQL clients: every table and column of
schema `marts` in the published file carries its description as a comment."""

from __future__ import annotations

import duckdb
import yaml

from tests.conftest import REPOSITORY_ROOT

MARTS_DOCS = REPOSITORY_ROOT / "dbt_project/models/marts/_marts__models.yml"


def documented_marts() -> dict[str, tuple[str, dict[str, str]]]:
    """Per model: its description and its columns' descriptions, as written in dbt."""
    models = yaml.safe_load(MARTS_DOCS.read_text(encoding="utf-8"))["models"]
    return {
        model["name"]: (
            model["description"].strip(),
            {column["name"]: column["description"].strip() for column in model["columns"]},
        )
        for model in models
    }


def test_every_published_mart_and_column_has_its_dbt_description(examples_run):
    with duckdb.connect(str(examples_run.published), read_only=True) as connection:
        tables = dict(
            connection.execute(
                "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'marts'"
            ).fetchall()
        )
        columns = connection.execute(
            """SELECT table_name, column_name, comment FROM duckdb_columns()
               WHERE schema_name = 'marts'"""
        ).fetchall()
    documented = documented_marts()
    assert set(tables) == set(documented)
    for table, comment in tables.items():
        assert (comment or "").strip() == documented[table][0], table
    assert len(columns) > 100
    for table, column, comment in columns:
        assert comment, f"marts.{table}.{column} has no comment"
        assert comment.strip() == documented[table][1][column], f"marts.{table}.{column}"
