"""The shutdown deadline, in a child process: it exits with EXIT_SHUTDOWN_TIMEOUT when the
stop outlasts it, saying so, and does nothing once cancelled."""

from __future__ import annotations

import subprocess
import sys
import time

from streams_app.runtime.shutdown import EXIT_SHUTDOWN_TIMEOUT

CHILD = """
import logging, sys, time
from streams_app.runtime.shutdown import ShutdownDeadline
logging.basicConfig()
d = ShutdownDeadline(1000, sys.argv[1])
d.start()
if sys.argv[2] == "cancel":
    d.cancel()
time.sleep(3)  # a stop that hangs (standing in for a broker that does not answer)
"""


def run(guarantee: str, action: str) -> tuple[int, str, float]:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", CHILD, guarantee, action],
                          capture_output=True, text=True, timeout=30)
    return proc.returncode, proc.stderr, time.monotonic() - started


def test_a_hung_stop_exits_at_the_deadline_saying_what_was_left() -> None:
    code, err, took = run("exactly_once", "hang")
    assert code == EXIT_SHUTDOWN_TIMEOUT
    assert took < 2.9
    assert "STREAMS_SHUTDOWN_TIMEOUT_MS" in err and "transaction" in err, err
    code, err, _ = run("at_least_once", "hang")
    assert code == EXIT_SHUTDOWN_TIMEOUT and "uncommitted" in err, err


def test_a_cancelled_deadline_lets_the_process_end() -> None:
    code, err, took = run("exactly_once", "cancel")
    assert code == 0 and took >= 3.0, err
