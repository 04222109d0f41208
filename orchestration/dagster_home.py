"""The one Dagster instance of `redcat run`, scripts/demo.sh and scripts/serve.sh: DAGSTER_HOME,
by default `data/dagster_home` (from the working directory), set up with deploy/dagster.yaml on
first use, so the UI shows the runs, partitions and checks of every run.

`python -m orchestration.dagster_home` sets it up and prints it (scripts/serve.sh). Imports no
Dagster: it only prepares the folder.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

DEFAULT_DAGSTER_HOME = Path("data/dagster_home")
INSTANCE_SETTINGS = Path(__file__).resolve().parents[1] / "deploy" / "dagster.yaml"


def prepare_dagster_home() -> Path:
    """DAGSTER_HOME (absolute, as Dagster requires), with deploy/dagster.yaml copied in when it
    has none; exported, so Dagster and every process started from here find it."""
    home = Path(os.environ.get("DAGSTER_HOME") or DEFAULT_DAGSTER_HOME).expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    if not settings.exists():
        shutil.copyfile(INSTANCE_SETTINGS, settings)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def main() -> None:
    home = prepare_dagster_home()
    if (home / "dagster.yaml").read_bytes() != INSTANCE_SETTINGS.read_bytes():
        # Kept: it may hold local settings (Postgres storage); merge new ones by hand.
        print(f"note: {home}/dagster.yaml differs from {INSTANCE_SETTINGS}", file=sys.stderr)
    print(home)


if __name__ == "__main__":
    main()
