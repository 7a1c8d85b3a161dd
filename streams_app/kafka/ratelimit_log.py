"""Rate-limited client error logs: a broker outage is a few lines, not a hundred a second.

aiokafka logs every failed reconnect, metadata refresh and fetch at ERROR, about 100 lines a
second while a broker is down (issue 14). :class:`OutageLogFilter`, installed on every
``aiokafka`` logger, lets one line per (logger, message, node / partition) through per
:data:`INTERVAL_S` and adds how many repeats it held back; when no such line came for an
interval, one line says the errors stopped (the broker answers again).
"""

from __future__ import annotations

import logging
import threading
import time

__all__ = ["INTERVAL_S", "OutageLogFilter", "install_outage_log_filter"]

INTERVAL_S = 10.0
LOGGER_PREFIXES = ("aiokafka",)

log = logging.getLogger(__name__)


class OutageLogFilter(logging.Filter):
    """Passes WARNING+ records of one kind once per ``interval`` s (other levels untouched)."""

    def __init__(self, interval: float = INTERVAL_S) -> None:
        super().__init__()
        self.interval = interval
        self._lock = threading.Lock()
        self._passed: dict[tuple[str, str, str], float] = {}
        self._held: dict[tuple[str, str, str], int] = {}
        self._first_error: float | None = None
        self._last_error = 0.0
        self._total_held = 0
        self._watch: threading.Thread | None = None

    @staticmethod
    def _key(record: logging.LogRecord) -> tuple[str, str, str]:
        args = record.args if isinstance(record.args, tuple) else ()
        # The first argument names the node, partition or group in aiokafka's messages.
        return record.name, str(record.msg), str(args[0])[:200] if args else ""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key, now = self._key(record), time.monotonic()
        with self._lock:
            self._last_error = now
            if self._first_error is None:
                self._first_error = now
                self._start_watch()
            passed = self._passed.get(key)
            if passed is not None and now - passed < self.interval:
                self._held[key] = self._held.get(key, 0) + 1
                self._total_held += 1
                return False
            self._passed[key] = now
            held = self._held.pop(key, 0)
        if held:
            record.msg = (f"{record.getMessage()} (and {held} more like it in the last "
                          f"{now - (passed or now):.0f} s)")
            record.args = ()
        return True

    def _start_watch(self) -> None:
        self._watch = threading.Thread(target=self._watch_recovery, daemon=True,
                                       name="outage-log-watch")
        self._watch.start()

    def _watch_recovery(self) -> None:
        """One line once the errors stop for an interval."""
        while True:
            time.sleep(self.interval / 2)
            with self._lock:
                now = time.monotonic()
                if self._first_error is None or now - self._last_error < self.interval:
                    continue
                lasted = self._last_error - self._first_error
                held, self._total_held = self._total_held, 0
                self._first_error = None
                self._passed.clear()
                self._held.clear()
            log.warning("Kafka client errors stopped (they lasted %.0f s; %d repeated lines "
                        "were held back)", lasted, held)
            return


_installed: OutageLogFilter | None = None


def install_outage_log_filter(interval: float = INTERVAL_S) -> OutageLogFilter:
    """Put one shared filter on every client logger (idempotent; aiokafka imported first)."""
    global _installed
    if _installed is None:
        import aiokafka  # noqa: F401 - its modules create their loggers on import

        _installed = OutageLogFilter(interval)
    names = [n for n in logging.root.manager.loggerDict if n.startswith(LOGGER_PREFIXES)]
    for name in names:
        logger = logging.getLogger(name)
        if _installed not in logger.filters:
            logger.addFilter(_installed)
    return _installed
