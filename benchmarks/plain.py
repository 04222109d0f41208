"""The plain script redcat is measured against: the contract's work in one process, the way
a careful analyst would write it by hand. It reads every dump with the fastest readers at
hand (DuckDB for CSV and JSON Lines, GB18030 transcoded in bulk, calamine for the workbooks),
keeps the rows that pass the contract's row rules and casts them (redcat's own rule SQL),
hashes the buyer accounts, and builds the same marts with the same SQL (the dbt models'
compiled code, executed in order): no gates, no ledger, no quarantine, no lake, no Dagster,
no dbt at run time.

    python benchmarks/plain.py INBOX OUT_FOLDER START END MANIFEST
"""

from __future__ import annotations

import codecs
import hashlib
import hmac
import json
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
from python_calamine import CalamineWorkbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestration.defs.ingestion.sources import SOURCES  # noqa: E402
from orchestration.lib.row_rules import judge_sql  # noqa: E402
from orchestration.lib.settings import BUSINESS_TIME_ZONE, DEVELOPMENT_BUYER_KEY_SECRET  # noqa: E402
from orchestration.lib.source_spec import RAW_META_COLUMNS  # noqa: E402
from orchestration.lib.warehouse import sql_literal  # noqa: E402


def text_table(connection, spec, path: Path, scratch: Path) -> duckdb.DuckDBPyRelation:
    """The file's cells as text, headers as they stand."""
    if spec.extension == "xlsx":
        grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        header = [str(h) for h in grid[0]]
        columns = {
            h: [_cell(row[i]) if i < len(row) else None for row in grid[1:]]
            for i, h in enumerate(header)
        }
        return connection.from_arrow(pa.table(columns))
    if spec.extension == "jsonl.gz":
        return connection.sql(
            f"SELECT * FROM read_json({sql_literal(str(path))}, format = 'newline_delimited', "
            "columns = {" + ", ".join(f"'{c.header}': 'VARCHAR'" for c in spec.columns) + "})"
        )
    if spec.name == "tmall_orders":
        utf8 = scratch / "tmall.csv"
        utf8.write_bytes(codecs.decode(path.read_bytes(), "gb18030").encode("utf-8"))
        path = utf8
    return connection.sql(
        f"SELECT * FROM read_csv({sql_literal(str(path))}, all_varchar = true, header = true)"
    )


def _cell(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def load(connection, spec, dump_date: date, path: Path, scratch: Path, secret: bytes) -> None:
    """Stage the file's rows that keep the contract's row rules (the same SQL as redcat's)."""
    cells = text_table(connection, spec, path, scratch)
    connection.register("cells", cells)
    text = ", ".join(
        f"nullif(trim(cells.{_quoted(c.header)}), '') AS {c.name}" for c in spec.columns
    )
    select = f"""SELECT row_number() OVER () AS source_line, NULL::VARCHAR AS read_problem,
                        NULL::VARCHAR AS raw_text, {text}"""
    if spec.buyer_account_header:
        accounts = [
            a for (a,) in connection.execute(
                f"SELECT {_quoted(spec.buyer_account_header)} FROM cells"
            ).fetchall()
        ]  # fmt: skip
        keys = [
            hmac.new(secret, a.encode(), hashlib.sha256).hexdigest() if a else None
            for a in accounts
        ]
        connection.register("buyer_keys", pa.table({"buyer_key": keys}))
        select += ", buyer_keys.buyer_key FROM cells POSITIONAL JOIN buyer_keys"
    else:
        select += " FROM cells"
    connection.execute(f"CREATE OR REPLACE TEMP TABLE incoming AS {select}")
    stored = ", ".join(name for name, _ in spec.stored_columns)
    connection.execute(
        f"""INSERT INTO {spec.table} (dump_date, source_file, source_sha256, source_line,
                                      loaded_at, {stored})
            SELECT dump_date, {sql_literal(path.name)}, '', source_line, current_timestamp,
                   {stored}
            FROM ({judge_sql(spec)}) WHERE bad_reason IS NULL""",
        {"dump_date": dump_date},
    )
    connection.execute(
        "INSERT INTO audit.file_ledger (source, dump_date, status) VALUES (?, ?, 'loaded')",
        [spec.name, dump_date],
    )
    connection.unregister("cells")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def main() -> None:
    inbox, out, start, end, manifest = sys.argv[1:6]
    out_folder = Path(out)
    out_folder.mkdir(parents=True, exist_ok=True)
    # The compiled models name their relations in catalog "redcat".
    database = out_folder / "redcat.duckdb"
    database.unlink(missing_ok=True)
    secret = DEVELOPMENT_BUYER_KEY_SECRET.encode()
    days = [
        date.fromisoformat(start) + timedelta(days=n)
        for n in range((date.fromisoformat(end) - date.fromisoformat(start)).days + 1)
    ]
    nodes = json.loads(Path(manifest).read_text())["nodes"]
    with duckdb.connect(str(database)) as connection, tempfile.TemporaryDirectory() as folder:
        connection.execute(f"SET TimeZone = {sql_literal(BUSINESS_TIME_ZONE)}")
        connection.execute(
            "CREATE SCHEMA raw; CREATE SCHEMA audit; CREATE SCHEMA staging; "
            "CREATE SCHEMA intermediate; CREATE SCHEMA marts; CREATE SCHEMA reference; "
            "CREATE TABLE audit.file_ledger (source VARCHAR, dump_date DATE, status VARCHAR)"
        )
        for spec in SOURCES:
            columns = ", ".join(f"{n} {t}" for n, t in (*RAW_META_COLUMNS, *spec.stored_columns))
            connection.execute(f"CREATE TABLE {spec.table} ({columns})")
            for day in days:
                load(connection, spec, day, spec.path(Path(inbox), day), Path(folder), secret)
        # Seeds, then models in dependency order.
        for node in nodes.values():
            if node["resource_type"] == "seed":
                seed = Path(node["root_path"]) / node["original_file_path"]
                connection.execute(
                    f"CREATE TABLE {node['schema']}.{node['name']} AS "
                    f"SELECT * FROM read_csv({sql_literal(str(seed))})"
                )
        built: set[str] = {k for k, n in nodes.items() if n["resource_type"] == "seed"}
        models = {k: n for k, n in nodes.items() if n["resource_type"] == "model"}
        while len(built) < len(models) + len(
            [n for n in nodes.values() if n["resource_type"] == "seed"]
        ):
            for key, node in models.items():
                needed = [d for d in node["depends_on"]["nodes"] if d in nodes]
                if key in built or not all(d in built for d in needed):
                    continue
                kind = "VIEW" if node["config"]["materialized"] == "view" else "TABLE"
                connection.execute(
                    f"CREATE {kind} {node['schema']}.{node['name']} AS {node['compiled_code']}"
                )
                built.add(key)


if __name__ == "__main__":
    main()
