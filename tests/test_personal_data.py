"""Personal data never lands in clear, even when an order export arrives without its header
row, so that its first data row stands where the header should: not in the ledger's refusal
reasons (which the next good run publishes), the Dagster instance, dbt's files, the logs or
the run's output."""

from __future__ import annotations

import os
import subprocess
from datetime import date
from pathlib import Path

import duckdb
import pytest
from python_calamine import CalamineWorkbook

from orchestration.run import run_pipeline
from tests.conftest import EXAMPLE_END, REPOSITORY_ROOT, Workspace
from tests.dumps import xlsx_bytes
from tests.test_examples import _personal_values

ENCODINGS = ("utf-8", "gb18030", "utf-16-le")


def _headerless_tmall(path: Path) -> bytes:
    return path.read_bytes().split(b"\n", 1)[1]


def _headerless_jd(path: Path) -> bytes:
    grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    first, *others = [[str(cell) for cell in row] for row in grid[1:]]
    return xlsx_bytes(others, header=first)


def _text_in_duckdb(path: Path) -> str:
    """Every text cell of every table: DuckDB compresses strings, so a byte scan is not enough."""
    cells = []
    with duckdb.connect(str(path), read_only=True) as connection:
        columns = connection.execute(
            """SELECT schema_name, table_name, column_name FROM duckdb_columns()
               WHERE data_type = 'VARCHAR' AND NOT internal"""
        ).fetchall()
        for schema, table, column in columns:
            cells += [
                value
                for (value,) in connection.execute(
                    f'SELECT "{column}" FROM "{schema}"."{table}" WHERE "{column}" IS NOT NULL'
                ).fetchall()
            ]
    return "\n".join(cells)


@pytest.fixture(scope="module")
def headerless_then_restored(tmp_path_factory: pytest.TempPathFactory, examples_run: Workspace):
    """Both days loaded and published (a copy of the examples' run, whose files
    test_examples.py searches); day 2's Tmall and JD exports redelivered without their
    header row and refused by `redcat run`; the originals put back and published again.
    Yields the workspace, the in-process outcome and the refused run's process."""
    space = Workspace(tmp_path_factory.mktemp("headerless"))
    space.copy_state_from(examples_run)
    end = date.fromisoformat(EXAMPLE_END)
    exports = {
        space.inbox / "tmall_orders" / f"tmall_orders_{end:%Y%m%d}.csv": _headerless_tmall,
        space.inbox / "jd_orders" / f"jd_orders_{end:%Y%m%d}.xlsx": _headerless_jd,
    }
    originals = {path: path.read_bytes() for path in exports}
    with pytest.MonkeyPatch.context() as patch, space.instance() as instance:
        for name, value in space.environment().items():
            patch.setenv(name, value)
        patch.delenv("REDCAT_BUYER_KEY_SECRET", raising=False)
        patch.delenv("REDCAT_ENV", raising=False)
        for path, headerless in exports.items():
            path.write_bytes(headerless(path))
        # As an operator runs it, to see what it prints.
        refused_run = subprocess.run(
            [str(REPOSITORY_ROOT / ".venv/bin/redcat"), "run", "--start", EXAMPLE_END]
            + ["--end", EXAMPLE_END],
            env=dict(os.environ, DAGSTER_HOME=str(space.dagster_home)),
            capture_output=True,
            text=True,
            cwd=REPOSITORY_ROOT,
        )
        for path, original in originals.items():
            path.write_bytes(original)
        restored = run_pipeline(end, end, instance)
    yield space, restored, refused_run


def test_headerless_exports_are_refused_without_quoting_their_rows(headerless_then_restored):
    space, restored, refused_run = headerless_then_restored
    assert restored.success, restored.failures
    assert refused_run.returncode == 1
    for refused_file in ("tmall_orders_20260514.csv", "jd_orders_20260514.xlsx"):
        assert f"{refused_file} refused: its first row names none of the" in refused_run.stderr
    refused = space.query(
        "SELECT source, refusal_reason FROM audit.file_ledger WHERE status = 'refused' ORDER BY 1"
    )
    assert [source for source, _ in refused] == ["jd_orders", "tmall_orders"]
    with duckdb.connect(str(space.published), read_only=True) as published:
        assert published.execute(
            "SELECT count(*) FROM audit.file_ledger WHERE status = 'refused'"
        ).fetchone() == (2,)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_no_personal_data_in_any_file_or_output_of_the_runs(headerless_then_restored, encoding):
    space, _, refused_run = headerless_then_restored
    personal = _personal_values()
    assert {"13800138000", "李小红", "tb_lucy88", "jd_camper"} <= personal
    written = [p for p in space.root.rglob("*") if p.is_file() and space.inbox not in p.parents]
    dbt_output = [REPOSITORY_ROOT / "dbt_project/target", REPOSITORY_ROOT / "logs"]
    written += [p for d in dbt_output if d.exists() for p in d.rglob("*") if p.is_file()]
    assert {space.warehouse, space.published} <= set(written)
    texts = {
        "run output": refused_run.stdout + refused_run.stderr,
        "warehouse cells": _text_in_duckdb(space.warehouse),
        "published cells": _text_in_duckdb(space.published),
    }
    for path in written:
        content = path.read_bytes()
        for value in personal:
            assert value.encode(encoding) not in content, f"{value} found in {path}"
    for where, text in texts.items():
        assert not [value for value in personal if value in text], where
