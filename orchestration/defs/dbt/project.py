"""The one dbt project: `dbt_project.yml` at the repository root, models in `dbt_project/`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

REPOSITORY_ROOT = Path(__file__).resolve().parents[3]
TARGET_PATH = Path("dbt_project/target")
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"

redcat_dbt_project = DbtProject(
    project_dir=REPOSITORY_ROOT,
    profiles_dir=REPOSITORY_ROOT / "profiles",
    target_path=TARGET_PATH,
)


def _project_files() -> list[Path]:
    sources = [REPOSITORY_ROOT / "dbt_project.yml", REPOSITORY_ROOT / "profiles/profiles.yml"]
    for folder in ("models", "macros", "seeds", "tests"):
        sources += (REPOSITORY_ROOT / "dbt_project" / folder).rglob("*.*")
    return sources


def ensure_fresh_manifest() -> None:
    """Dagster reads the manifest when it loads: rebuild it if any model is newer.

    `DbtProject.prepare_if_dev()` does this only under `dagster dev`; the CLI, the daemon
    and the tests load the definitions too, and a stale manifest fails their dbt runs.
    """
    manifest = redcat_dbt_project.manifest_path
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


ensure_fresh_manifest()
