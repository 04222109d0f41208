"""The one dbt project: `dbt_project.yml` at the repository root, models in `dbt_project/`.

Nothing here runs dbt when it is imported. Dagster reads the manifest when it loads the
definitions: `scripts/setup.sh` parses the project, `redcat run` calls `prepare_manifest()`
before it loads them, and under `dagster dev` DbtProject.prepare_if_dev() parses it.
"""

from __future__ import annotations

import subprocess
import sys
from functools import cache
from pathlib import Path

from dagster_dbt import DbtProject

REPOSITORY_ROOT = Path(__file__).resolve().parents[3]
TARGET_PATH = Path("dbt_project/target")
# The dbt installed beside this Python, whether or not its environment is activated.
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"


@cache
def dbt_project() -> DbtProject:
    project = DbtProject(
        project_dir=REPOSITORY_ROOT,
        profiles_dir=REPOSITORY_ROOT / "profiles",
        target_path=TARGET_PATH,
    )
    project.prepare_if_dev()
    return project


def _project_files() -> list[Path]:
    sources = [REPOSITORY_ROOT / "dbt_project.yml", REPOSITORY_ROOT / "profiles/profiles.yml"]
    for folder in ("models", "macros", "seeds", "tests"):
        sources += (REPOSITORY_ROOT / "dbt_project" / folder).rglob("*.*")
    return sources


def prepare_manifest() -> None:
    """Parse the project when its manifest is missing or older than any of its files.

    A stale manifest fails a run's dbt build; parsing takes ~10 s on 2 cores, so a fresh one
    is kept (DbtProject's own prepare always parses).
    """
    manifest = REPOSITORY_ROOT / TARGET_PATH / "manifest.json"
    if manifest.exists():
        built = manifest.stat().st_mtime
        if all(path.stat().st_mtime <= built for path in _project_files()):
            return
    subprocess.run(
        [str(DBT_EXECUTABLE), "parse", "--profiles-dir", "profiles"]
        + ["--target-path", str(TARGET_PATH), "--quiet"],
        cwd=REPOSITORY_ROOT,
        check=True,
    )
