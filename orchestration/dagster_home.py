"""The one Dagster instance of `redcat run`, scripts/demo.sh and scripts/serve.sh: DAGSTER_HOME,
by default `data/dagster_home` (from the working directory), set up with deploy/dagster.yaml on
first use, so the UI shows the runs, partitions and checks of every run.

`python -m orchestration.dagster_home` sets it up and prints it (scripts/serve.sh). Imports no
Dagster: it only prepares the folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

DEFAULT_DAGSTER_HOME = Path("data/dagster_home")
INSTANCE_SETTINGS = Path(__file__).resolve().parents[1] / "deploy" / "dagster.yaml"
# deploy/dagster.yaml as earlier versions shipped it (sha256): a home holding one of them as it
# was copied in is given the current one; one edited by hand is kept.
EARLIER_INSTANCE_SETTINGS = {
    "2616e83f36c1b65257b18f698fc594f2ff34a5cbc687154546b6ba7ad815276a",
    "c50fab0ce8b08e8060f35385918a346a4045e22f24cab9b03656ffd5e7b61875",
}


def prepare_dagster_home() -> Path:
    """DAGSTER_HOME (absolute, as Dagster requires), with deploy/dagster.yaml copied in when it
    has none or an earlier version of it; exported, so Dagster and every process started from
    here find it."""
    home = Path(os.environ.get("DAGSTER_HOME") or DEFAULT_DAGSTER_HOME).expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    if not settings.exists() or _sha256(settings) in EARLIER_INSTANCE_SETTINGS:
        copied = settings.with_name(f".{settings.name}.{os.getpid()}")
        shutil.copyfile(INSTANCE_SETTINGS, copied)
        copied.replace(settings)  # a process loading the instance meanwhile reads either whole
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    home = prepare_dagster_home()
    if (home / "dagster.yaml").read_bytes() != INSTANCE_SETTINGS.read_bytes():
        # Kept: it may hold local settings (Postgres storage); merge new ones by hand.
        print(f"note: {home}/dagster.yaml differs from {INSTANCE_SETTINGS}", file=sys.stderr)
    print(home)


if __name__ == "__main__":
    main()
