"""The Dagster instance of redcat: Dagster's SQLite event log with its connections kept open,
the storage of every run's events, in the same files, read by the same UI.

Dagster's own SQLite event log opens a new engine and connection for every event it stores and
closes them after. Closing the last connection to a database in WAL mode checkpoints it, so
each event paid an engine, a connection and a checkpoint: about 14 ms, 5 to 6 s of a night's
400 events. Here each database keeps one open connection (the few most recently used
databases: a run's own and the index), and a write to a run's database is checkpointed
passively, which brings the file the UI watches for a run's new events up to date.
"""

from __future__ import annotations

import contextlib
import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import sqlalchemy as db
from dagster._config import Field, StringSource
from dagster._core.instance.ref import _event_logs_directory  # the default storage's folder
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine

# A run's database and the index: what one run writes. The UI reads many runs' databases; each
# past these few is closed as another opens.
DATABASES_KEPT_OPEN = 4


class SqliteEventLogKeptOpen(SqliteEventLogStorage):
    """SqliteEventLogStorage whose databases stay open between events. Its `base_dir` is by
    default $DAGSTER_HOME/history/runs, where Dagster's default storage keeps them."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        # Before the parent's constructor: it may connect.
        self._engines: OrderedDict[str, Engine] = OrderedDict()  # under the parent's _db_lock
        self._tables_seen: set[str] = set()
        super().__init__(base_dir, inst_data)

    @classmethod
    def config_type(cls) -> dict:
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: dict
    ) -> SqliteEventLogKeptOpen:
        base_dir = config_value.get("base_dir")
        if base_dir is None:
            home = os.environ.get("DAGSTER_HOME")
            if not home:
                raise dg.DagsterInvalidConfigError(
                    "SqliteEventLogKeptOpen without a base_dir needs DAGSTER_HOME", [], None
                )
            base_dir = _event_logs_directory(home)
        return cls(base_dir, inst_data)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = db.create_engine(
                self.conn_string_for_shard(shard),
                # One connection: the parent's lock lets one thread at a time use it.
                pool_size=1,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
        self._engines[shard] = engine
        while len(self._engines) > DATABASES_KEPT_OPEN:
            self._engines.popitem(last=False)[1].dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as connection:
                with connection.begin():
                    yield connection
                if shard != INDEX_SHARD_NAME:
                    # The UI follows a run by watching its database file for changes. The
                    # event is stored either way: a checkpoint that failed is the next one's.
                    with contextlib.suppress(db.exc.DBAPIError):
                        connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def has_table(self, table_name: str) -> bool:
        """Whether the index has this table, asked on every asset check event (a new engine
        each time): a table once there stays."""
        if table_name not in self._tables_seen:
            if not super().has_table(table_name):
                return False
            self._tables_seen.add(table_name)
        return True

    def _close_all(self) -> None:
        with self._db_lock:  # not while a thread writes
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def wipe(self) -> None:
        self._close_all()  # before its run databases' files are deleted
        super().wipe()

    def dispose(self) -> None:
        self._close_all()
        super().dispose()


def instance_at(dagster_home: Path) -> dg.DagsterInstance:
    """The instance whose home is `dagster_home`, whatever DAGSTER_HOME says, with this event
    log storage there whether or not its dagster.yaml names it (the tests' and benchmarks'
    homes: not one whose dagster.yaml moved the storage to Postgres)."""
    storage = {
        "module": __name__,
        "class": SqliteEventLogKeptOpen.__name__,
        "config": {"base_dir": _event_logs_directory(str(dagster_home))},
    }
    return dg.DagsterInstance.local_temp(
        str(dagster_home), overrides={"event_log_storage": storage}
    )
