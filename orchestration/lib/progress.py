"""Progress bars for someone watching a terminal: `redcat generate` and the long steps of
`redcat run`. Off unless a command turns them on, so the daemon, the UI's runs and the tests
draw none."""

from __future__ import annotations

from typing import TextIO

from tqdm import tqdm

_terminal: TextIO | None = None


def draw_progress_bars_on(stream: TextIO) -> None:
    """Draw the bars on `stream` if it is a terminal. `redcat run` hands a copy of its stderr
    taken before the run: Dagster captures the steps' own stderr into the compute logs."""
    global _terminal
    _terminal = stream if stream.isatty() else None


def progress_bar(description: str, unit: str, total: int | None = None) -> tqdm:
    """A bar of `total` steps, or a plain counter when the total is not known beforehand."""
    return tqdm(
        total=total,
        desc=description,
        unit=f" {unit}",
        file=_terminal,
        disable=_terminal is None,
        dynamic_ncols=True,
    )
