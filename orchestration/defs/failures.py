"""Failures an operator causes and fixes (a bad setting, a refused publication) fail a Dagster
step or sensor with their one-line message, the one `redcat run` prints, not a traceback; and
the console shows the failures the pipeline raises on purpose by their message alone."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from orchestration.lib.publication import PublicationRefused
from orchestration.lib.settings import ConfigurationError

# Errors raised on purpose, whose message says what failed and what to do: a step's dg.Failure
# (a refused file, a bad setting, a refused publication) and a failed blocking gate.
DELIBERATE_FAILURE = re.compile(
    r"^(dagster\._core\.definitions\.events\.Failure|"
    r"dagster\._core\.errors\.DagsterAssetCheckFailedError): ",
    re.MULTILINE,
)
STACK_TRACE = "\nStack Trace:\n"
RUN_FAILURE = "Execution of run for "
# Dagster names a skipped step's inputs once per asset of the step they come from.
STEP_LIST = re.compile(r"\[('[^']*'(?:, '[^']*')*)\]")


@contextmanager
def one_line_failures() -> Iterator[None]:
    try:
        yield
    except (ConfigurationError, PublicationRefused) as expected:
        raise dg.Failure(description=str(expected)) from None


class _FailuresByTheirMessage(logging.Filter):
    """On the console, a deliberate failure loses Dagster's stack trace (60 lines of its own
    frames) and the name of its class, and the run's failure its copy of the step's; a skipped
    step names each step it waited on once. The event log, which the UI shows, keeps all."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        # The error's own lines, not those of one it was raised while handling.
        if STACK_TRACE in message and DELIBERATE_FAILURE.search(message.split(STACK_TRACE)[0]):
            if RUN_FAILURE in message.partition("\n")[0]:
                # The run's line repeats its first failed step's: the steps failed suffice.
                message = message.partition("\n")[0]
            else:
                message = DELIBERATE_FAILURE.sub("", message[: message.index(STACK_TRACE)])
            message = message.rstrip()
        elif "Dependencies for step" in message:
            message = STEP_LIST.sub(_each_once, message)
        record.msg, record.args = message, None
        return True


def _each_once(steps: re.Match) -> str:
    return "[" + ", ".join(dict.fromkeys(steps.group(1).split(", "))) + "]"


@dg.logger(
    config_schema=dg.colored_console_logger.config_schema,
    description="Dagster's colored console logger, deliberate failures without stack traces.",
)
def console_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    console = dg.colored_console_logger.logger_fn(init_context)
    for handler in console.handlers:
        handler.addFilter(_FailuresByTheirMessage())
    return console
