"""STREAMS_LOG_FORMAT=json: one JSON object per line with time, level, logger, message and the
task/topic fields a call gives; STREAMS_LOG_LEVEL sets the level."""

from __future__ import annotations

import io
import logging

import orjson
import pytest

from streams_app.logs import JsonFormatter, configure_logging
from streams_app.settings import ConfigError, Settings


@pytest.fixture
def logger() -> logging.Logger:
    log = logging.getLogger("test-logs-root")
    log.handlers.clear()
    log.propagate = False
    return log


def test_json_lines_parse_and_carry_context(logger: logging.Logger) -> None:
    stream = io.StringIO()
    logger.addHandler(logging.StreamHandler(stream))
    configure_logging("info", "json", logger)
    logger.debug("not shown")
    logger.warning("skipping record %s", 41, extra={"task": "0_1", "topic": "rides",
                                                     "partition": 1, "offset": 41})
    try:
        raise ValueError("bad\nride")
    except ValueError:
        logger.exception("failed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2, lines
    first, second = (orjson.loads(line) for line in lines)
    assert first["level"] == "warning" and first["logger"] == "test-logs-root"
    assert first["message"] == "skipping record 41"
    assert (first["task"], first["topic"], first["partition"], first["offset"]) == \
        ("0_1", "rides", 1, 41)
    assert first["time"].endswith("+00:00")
    assert second["message"] == "failed" and "ValueError: bad\\nride" in lines[1]


def test_text_format_keeps_handlers_and_sets_the_level(logger: logging.Logger) -> None:
    formatter = logging.Formatter("%(message)s")
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    configure_logging("error", "text", logger)
    assert logger.level == logging.ERROR and handler.formatter is formatter
    configure_logging(None, "json", logger)
    assert logger.level == logging.ERROR and isinstance(handler.formatter, JsonFormatter)


def test_log_format_is_validated() -> None:
    assert Settings.from_env({"STREAMS_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(ConfigError, match=r"STREAMS_LOG_FORMAT \(log_format\)"):
        Settings.from_env({"STREAMS_LOG_FORMAT": "xml"})


def test_streams_app_job_checks_the_log_level_before_starting(monkeypatch, capsys) -> None:
    from streams_app.cli import main

    monkeypatch.setenv("STREAMS_LOG_LEVEL", "loud")
    assert main(["job", "rides-vendor-count"]) == 1  # fails before the worker is exec'd
    assert "STREAMS_LOG_LEVEL (log_level)" in capsys.readouterr().err


def test_worker_command_is_quiet_only_for_json_logs() -> None:
    from streams_app.jobs.process import worker_argv

    assert "--quiet" in worker_argv("m", env={"STREAMS_LOG_FORMAT": "json"})
    assert "--quiet" not in worker_argv("m", env={})
    assert "--without-web" not in worker_argv("m", env={})  # the plain `faust worker`


def test_the_start_up_spinner_is_dropped_with_its_debug_root_level(
        logger: logging.Logger) -> None:
    # Faust's worker at WARNING: a spinner handler and a DEBUG root so it spins per log call
    from faust.utils.terminal import Spinner, SpinnerHandler

    from streams_app.logs import drop_startup_spinner

    out = logging.StreamHandler(io.StringIO())
    out.setLevel(logging.WARNING)
    logger.addHandler(out)
    logger.addHandler(SpinnerHandler(Spinner(file=io.StringIO()), level=logging.DEBUG))
    logger.setLevel(logging.DEBUG)
    logger.handlers[:] = [h for h in logger.handlers if h is out or isinstance(h, SpinnerHandler)]
    drop_startup_spinner(logger)
    assert logger.handlers == [out]
    assert logger.level == logging.WARNING
    assert not logger.isEnabledFor(logging.DEBUG)  # debug calls build no records
    drop_startup_spinner(logger)  # nothing to drop: the level stays
    assert logger.level == logging.WARNING
