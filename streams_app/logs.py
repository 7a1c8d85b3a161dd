"""Worker logging: ``STREAMS_LOG_LEVEL`` and ``STREAMS_LOG_FORMAT`` (text or json).

Faust's worker sets up logging itself (its ``-l`` option, its own formatter); the runtime
calls :func:`configure_logging` when the worker starts, which sets the level and, for
``json``, gives every handler :class:`JsonFormatter`: one JSON object per line with ``time``,
``level``, ``logger``, ``message`` and, where known, ``task``, ``topic``, ``partition``,
``offset`` and ``store`` (from ``extra=``), plus ``exception`` with the traceback.
Nothing here reads settings values other than these two, so no secret can reach a line.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import faust
import orjson
from faust.utils.terminal import SpinnerHandler

__all__ = ["CONTEXT_FIELDS", "JsonFormatter", "StreamsWorker", "configure_logging",
           "drop_startup_spinner"]

#: ``extra=`` fields copied into a JSON line when a log call gives them.
CONTEXT_FIELDS = ("task", "topic", "partition", "offset", "store", "application_id")


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure_logging(level: str | None, fmt: str, root: logging.Logger | None = None) -> None:
    """Set the root logger's ``level`` (None: leave it); with ``fmt == "json"`` every handler
    (one added if none) formats lines as JSON."""
    root = root or logging.getLogger()
    if level is not None:
        number = getattr(logging, level.upper())
        root.setLevel(number)
        for handler in root.handlers:  # Faust gives its handlers the -l level too
            handler.setLevel(number)
    if fmt != "json":
        return
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        handler.setFormatter(JsonFormatter())


def drop_startup_spinner(root: logging.Logger | None = None) -> None:
    """Remove Faust's start-up spinner handler and the DEBUG root level it needs.

    At a level of WARNING or above Faust's worker turns the root logger to DEBUG so every
    log call advances its start-up spinner, and leaves it so: every debug call of aiokafka
    (several per produce and fetch request) then builds a log record that no handler
    writes, 1-4% of a worker's CPU. The root goes back to its handlers' lowest level.
    """
    root = root or logging.getLogger()
    spinners = [h for h in root.handlers if isinstance(h, SpinnerHandler)]
    if not spinners:
        return
    for handler in spinners:
        root.removeHandler(handler)
    root.setLevel(min((h.level for h in root.handlers), default=logging.WARNING))


def _explicit_level() -> bool:
    import os

    from streams_app.settings import env_name

    return bool(os.environ.get(env_name("log_level"), "").strip())


class StreamsWorker(faust.Worker):
    """Faust's worker with the settings' logging: applied when Faust sets up the root logger,
    so every line of the worker (its start-up included) follows ``STREAMS_LOG_FORMAT``.

    ``STREAMS_LOG_LEVEL``, when set, wins over the worker's ``-l`` option. In json format
    the worker's banner and notices go through logging too (one JSON object per line).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self._json():
            self.spinner = None  # its terminal codes would break the JSON lines

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        super().on_setup_root_logger(logger, level)
        settings = getattr(self.app, "settings", None)
        if settings is None:
            return
        configure_logging(settings.log_level if _explicit_level() else None,
                          settings.log_format, logger)

    async def on_startup_finished(self) -> None:
        await super().on_startup_finished()  # the spinner is finished here
        drop_startup_spinner()

    def _json(self) -> bool:
        settings = getattr(self.app, "settings", None)
        return settings is not None and settings.log_format == "json"

    def say(self, msg: str) -> None:
        if self._json():
            logging.getLogger("faust.worker").info("%s", msg.rstrip())
        else:
            super().say(msg)

    def carp(self, msg: str) -> None:
        if self._json():
            logging.getLogger("faust.worker").warning("%s", msg.rstrip())
        else:
            super().carp(msg)
