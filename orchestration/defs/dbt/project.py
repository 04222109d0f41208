"""The one dbt project: `dbt_project.yml` at the repository root, models in `dbt_project/`."""

from __future__ import annotations

from pathlib import Path

from dagster_dbt import DbtProject

REPOSITORY_ROOT = Path(__file__).resolve().parents[3]

redcat_dbt_project = DbtProject(
    project_dir=REPOSITORY_ROOT,
    profiles_dir=REPOSITORY_ROOT / "profiles",
    target_path=Path("dbt_project/target"),
)
redcat_dbt_project.prepare_if_dev()
