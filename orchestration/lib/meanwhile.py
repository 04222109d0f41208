"""Imports a later step needs, started early on a thread of their own: their seconds of Python
run while an earlier step waits on DuckDB or the file parsers, which release the GIL."""

from __future__ import annotations

import importlib
import threading

_started: set[str] = set()
_started_lock = threading.Lock()


def import_meanwhile(module: str) -> None:
    """Start importing `module`, once a process. A caller that imports it before the thread is
    done waits on Python's lock of that module, then finds it loaded."""
    with _started_lock:
        if module in _started:
            return
        _started.add(module)
    threading.Thread(
        target=importlib.import_module, args=(module,), name=f"import-{module}", daemon=True
    ).start()
