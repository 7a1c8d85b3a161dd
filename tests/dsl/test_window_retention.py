"""Materialized.with_retention on window and session stores (Kafka's ``withRetention``)."""

from __future__ import annotations

import pytest

from streams_app import Materialized, Serdes, SessionWindows, StreamsBuilder, TimeWindows

MIN = 60_000
DAY = 24 * 60 * MIN


def _retention(windows: object, materialized: Materialized) -> int:
    builder = StreamsBuilder()
    (builder.stream("in", key_serde=Serdes.string(), value_serde=Serdes.string())
     .group_by_key().windowed_by(windows).count(materialized))
    return builder.build().stores["counts"].retention_ms


def test_default_is_size_plus_grace_and_with_retention_overrides_it() -> None:
    tumbling = TimeWindows.of_size_and_grace(MIN, MIN)
    assert _retention(tumbling, Materialized.as_("counts")) == 2 * MIN
    assert _retention(tumbling, Materialized.as_("counts").with_retention(DAY)) == DAY
    sessions = SessionWindows.of_inactivity_gap_and_grace(5 * MIN, MIN)
    assert _retention(sessions, Materialized.as_("counts")) == 6 * MIN
    assert _retention(sessions, Materialized.as_("counts").with_retention(DAY)) == DAY


def test_retention_shorter_than_size_plus_grace_is_refused() -> None:
    with pytest.raises(ValueError, match="window size plus the grace period"):
        _retention(TimeWindows.of_size_and_grace(10 * MIN, MIN),
                   Materialized.as_("counts").with_retention(5 * MIN))
    with pytest.raises(ValueError, match="inactivity gap plus the grace period"):
        _retention(SessionWindows.of_inactivity_gap_and_grace(10 * MIN, 0),
                   Materialized.as_("counts").with_retention(MIN))
