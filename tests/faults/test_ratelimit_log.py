"""The outage log filter: one line per kind and interval, with the count held back."""

from __future__ import annotations

import logging

import pytest

from streams_app.kafka import ratelimit_log
from streams_app.kafka.ratelimit_log import OutageLogFilter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(ratelimit_log.time, "monotonic", c)
    monkeypatch.setattr(OutageLogFilter, "_start_watch", lambda self: None)
    return c


def record(msg: str, *args: object, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord("aiokafka.conn", level, __file__, 1, msg, args, None)


def test_one_line_per_node_and_interval_with_the_count(clock: Clock) -> None:
    f = OutageLogFilter(interval=10.0)
    msg = "Unable connect to node with id %s: %s"
    passed = []
    for _ in range(300):  # 100 a second for 3 s, two nodes
        clock.now += 0.01
        for node in (1, 2):
            r = record(msg, node, "refused")
            if f.filter(r):
                passed.append(r.getMessage())
    assert passed == ["Unable connect to node with id 1: refused",
                      "Unable connect to node with id 2: refused"]
    clock.now += 10.0
    r = record(msg, 1, "refused")
    assert f.filter(r)
    assert r.getMessage() == ("Unable connect to node with id 1: refused "
                              "(and 299 more like it in the last 13 s)")


def test_info_lines_pass(clock: Clock) -> None:
    f = OutageLogFilter(interval=10.0)
    assert all(f.filter(record("Joined group %s", "g", level=logging.INFO)) for _ in range(5))
