"""Imports a later step needs, started early on a thread of their own: their seconds of Python
run while an earlier step waits on DuckDB or the file parsers, which release the GIL."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable

_started: set[str] = set()
_started_lock = threading.Lock()


def import_meanwhile(module: str, importer: Callable[[], object] | None = None) -> None:
    """Start importing `module` (by `importer` where an import needs more), once a process. A
    caller that imports it before the thread is done waits on Python's lock of that module, or
    on the importer's own, then finds it loaded."""
    with _started_lock:
        if module in _started:
            return
        _started.add(module)
    threading.Thread(
        target=importer or (lambda: importlib.import_module(module)),
        name=f"import-{module}",
        daemon=True,
    ).start()
