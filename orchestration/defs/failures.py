"""Failures an operator causes and fixes (a bad setting, a refused publication) fail a Dagster
step or sensor with their one-line message, the one `redcat run` prints, not a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from orchestration.lib.publication import PublicationRefused
from orchestration.lib.settings import ConfigurationError


@contextmanager
def one_line_failures() -> Iterator[None]:
    try:
        yield
    except (ConfigurationError, PublicationRefused) as expected:
        raise dg.Failure(description=str(expected)) from None
