"""Bounded shutdown: a stopping worker exits within ``STREAMS_SHUTDOWN_TIMEOUT_MS``.

A stop commits what was processed (the checkpoint). With the broker unreachable that commit
waits for the whole outage, past any orchestrator's kill deadline (Kubernetes: 30 s), which
then SIGKILLs the worker anyway. :class:`ShutdownDeadline` starts when a worker process's app
begins to stop (not an app embedded in another program: see ``StreamsApp.on_stop``);
if the process still runs when it expires, it logs why and exits with
:data:`EXIT_SHUTDOWN_TIMEOUT` without the last commit. That is never a half commit: under
exactly_once the open transaction was not committed, so the broker aborts it (at once when
the worker restarts on the same data dir, else after the transaction timeout) and the
restart discards the local stores (not marked clean); under at_least_once the offsets since
the last commit stay uncommitted and those records are processed again.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

__all__ = ["EXIT_SHUTDOWN_TIMEOUT", "ShutdownDeadline"]

log = logging.getLogger(__name__)

#: Exit code of a worker whose last commit did not finish in time (sysexits' EX_TEMPFAIL).
EXIT_SHUTDOWN_TIMEOUT = 75


class ShutdownDeadline:
    """Exits the process ``timeout_ms`` after :meth:`start` unless :meth:`cancel` (or the
    process's end) came first."""

    def __init__(self, timeout_ms: int, guarantee: str) -> None:
        self.timeout_ms = timeout_ms
        self.guarantee = guarantee
        self._timer: threading.Timer | None = None

    def start(self) -> None:
        """Arm the deadline (once; a later call keeps the first)."""
        if self._timer is None:
            self._timer = threading.Timer(self.timeout_ms / 1000.0, self._expire)
            self._timer.daemon = True  # a clean exit does not wait for it
            self._timer.start()

    @property
    def armed(self) -> bool:
        """Started and neither cancelled nor expired."""
        return self._timer is not None and not self._timer.finished.is_set()

    def cancel(self) -> None:
        """The stop finished in time."""
        if self._timer is not None:
            self._timer.cancel()

    def _expire(self) -> None:
        what = ("the open transaction is left to the broker to abort"
                if self.guarantee == "exactly_once"
                else "the offsets since the last commit stay uncommitted (those records "
                     "will be processed again)")
        log.error("shutdown did not finish within %d ms (STREAMS_SHUTDOWN_TIMEOUT_MS): the "
                  "broker did not answer the last commit; exiting without it: %s",
                  self.timeout_ms, what)
        for handler in logging.getLogger().handlers:
            handler.flush()
        sys.stderr.flush()
        os._exit(EXIT_SHUTDOWN_TIMEOUT)
