"""Ctrl-C, across the run's processes: stop probing, keep what was decided.

The main process takes SIGINT; worker processes ignore it and instead watch one shared event,
which `Target.call` checks before every request. So a platform stops at its next request, judges
what it saw, and marks the rest `untested` (`interrupted`), wherever it runs.
"""

from __future__ import annotations

import signal
from typing import Any


class Interrupted(BaseException):
    """The user asked the run to stop (Ctrl-C). A BaseException, like KeyboardInterrupt, so
    that the stages' guard (which turns the suite's own bugs into `suite_error`) lets it by."""


_event: Any = None  # a multiprocessing Event shared with the main process, in workers only


def watch(event: Any) -> None:
    """In a worker process: ignore SIGINT (the main process decides) and watch `event`."""
    global _event
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _event = event


def check() -> None:
    """Raise Interrupted once the main process has been asked to stop."""
    if _event is not None and _event.is_set():
        raise Interrupted
