"""orchestration/lib/ is plain Python that knows no assets: only defs/ (and the run entry point
beside cli.py) import Dagster, so lib/ can be read, tested and reused without it."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPOSITORY_ROOT

IMPORT_EVERY_LIB_MODULE = """
import pkgutil, importlib, sys
import orchestration.lib as lib
for module in pkgutil.walk_packages(lib.__path__, "orchestration.lib."):
    importlib.import_module(module.name)
print(sorted(name for name in sys.modules if name.split(".")[0].startswith("dagster")))
"""


def test_no_lib_module_imports_dagster():
    completed = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_LIB_MODULE],
        cwd=REPOSITORY_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert completed.stdout.strip() == "[]"
