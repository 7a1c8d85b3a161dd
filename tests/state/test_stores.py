"""In-memory store, change-logging and caching layers."""

from __future__ import annotations

from typing import Any

import pytest

from streams_app.runtime.record_collector import RecordCollector
from streams_app.state import (
    CachingKeyValueStore,
    ChangeLoggingKeyValueStore,
    InMemoryKeyValueStore,
    InMemorySessionStore,
    InMemoryWindowStore,
    StoreSpec,
    ValueAndTimestamp,
    Windowed,
    build_store_stack,
)


class _Same:
    """Serializes to the value itself (the tests compare logged entries, not bytes)."""

    def serialize(self, value: Any) -> Any:
        return value


class Ctx:
    """The record metadata the layers read, and a record collector they log to."""

    def __init__(self) -> None:
        self.timestamp = 0
        self.headers: tuple[Any, ...] = ()
        self.collector = RecordCollector(0)

    def changelog_writer(self, name: str, encode: Any) -> Any:
        return self.collector.changelog(f"{name}-changelog", _Same(), _Same(), encode)

    def logged(self) -> list[tuple[Any, Any, int]]:
        """The (key, value, timestamp) entries logged since the last call."""
        return [(k, v, ts) for _t, k, v, ts, _h in self.collector.take_changelogs()]


def test_key_value_store_basics() -> None:
    store = InMemoryKeyValueStore("s")
    store.put("b", 2)
    store.put("a", 1)
    store.put("c", 3)
    assert store.get("a") == 1
    assert store.put_if_absent("a", 9) == 1
    assert store.put_if_absent("d", 4) is None
    assert store.get("d") == 4
    assert list(store.range("b", "c")) == [("b", 2), ("c", 3)]
    assert [k for k, _ in store.all()] == ["a", "b", "c", "d"]
    assert store.delete("b") == 2
    store.put("c", None)  # None deletes
    assert store.approximate_num_entries() == 2
    assert store.get("c") is None


def test_logging_layer_records_every_write_with_value_timestamps() -> None:
    ctx = Ctx()
    store = ChangeLoggingKeyValueStore(InMemoryKeyValueStore("s"), timestamped=True)
    store.init(ctx)
    store.put("a", ValueAndTimestamp(1, 10))
    store.put("a", ValueAndTimestamp(2, 12))
    ctx.timestamp = 15
    store.delete("a")
    assert ctx.logged() == [("a", 1, 10), ("a", 2, 12), ("a", None, 15)]
    assert ctx.logged() == []
    store.restore("b", 5, 7)
    assert store.get("b") == ValueAndTimestamp(5, 7)
    assert ctx.logged() == []  # restoring does not log again


def test_cache_forwards_latest_change_per_key_on_flush() -> None:
    ctx = Ctx()
    logged = ChangeLoggingKeyValueStore(InMemoryKeyValueStore("s"), timestamped=True)
    cache = CachingKeyValueStore(logged, max_entries=100)
    cache.init(ctx)
    seen: list[tuple[Any, ...]] = []
    assert cache.set_flush_listener(lambda *a: seen.append(a), send_old_values=True)
    cache.put("a", ValueAndTimestamp(1, 1))
    cache.put("b", ValueAndTimestamp(1, 2))
    cache.put("a", ValueAndTimestamp(2, 3))
    assert cache.get("a") == ValueAndTimestamp(2, 3)
    assert logged.get("a") is None  # nothing written through yet
    cache.flush()
    # b was dirtied before a's last write: a moves to the end
    assert [(k, n.value, o) for k, n, o, _ts, _h in seen] == [("b", 1, None), ("a", 2, None)]
    assert [(k, v) for k, v, _ in ctx.logged()] == [("b", 1), ("a", 2)]
    seen.clear()
    cache.put("a", ValueAndTimestamp(3, 4))
    cache.delete("b")
    cache.delete("zzz")  # absent key deleted: nothing to forward or log
    cache.flush()
    assert [(k, None if n is None else n.value, o.value) for k, n, o, _t, _h in seen] == [
        ("a", 3, 2),
        ("b", None, 1),
    ]
    assert [(k, v) for k, v, _ in ctx.logged()] == [("a", 3), ("b", None)]


def test_cache_without_old_values_and_overflow_flushes_early() -> None:
    cache = CachingKeyValueStore(InMemoryKeyValueStore("s"), max_entries=2)
    cache.init(Ctx())
    seen: list[Any] = []
    cache.set_flush_listener(lambda k, n, o, t, h: seen.append((k, n, o)), False)
    cache.put("a", ValueAndTimestamp(1, 0))
    cache.put("a", ValueAndTimestamp(5, 0))
    assert cache.put("b", ValueAndTimestamp(1, 0)) is None and seen == []
    cache.put("c", ValueAndTimestamp(1, 0))  # third dirty key overflows the cache
    assert [k for k, _, _ in seen] == ["a", "b", "c"]
    assert all(o is None for _, _, o in seen)
    cache.put("a", ValueAndTimestamp(6, 0))
    assert dict(cache.range()) == {
        "a": ValueAndTimestamp(6, 0),
        "b": ValueAndTimestamp(1, 0),
        "c": ValueAndTimestamp(1, 0),
    }


def test_stack_layers_follow_spec_and_cache_size() -> None:
    spec = StoreSpec("counts")
    cached = build_store_stack(spec, cache_max_entries=10)
    assert isinstance(cached.outer, CachingKeyValueStore)
    assert cached.logging is not None
    uncached = build_store_stack(spec, cache_max_entries=0)
    assert isinstance(uncached.outer, ChangeLoggingKeyValueStore)
    assert spec.changelog_topic("app") == "app-counts-changelog"
    quiet = build_store_stack(StoreSpec("x", logging=False, caching=False), 10)
    assert isinstance(quiet.outer, InMemoryKeyValueStore) and quiet.logging is None
    with pytest.raises(ValueError, match="unknown store kind"):
        build_store_stack(StoreSpec("w", kind="bogus"), 0)


def test_window_and_session_stores() -> None:
    windows = InMemoryWindowStore("w", window_size=10)
    windows.put("k", 1, 0)
    windows.put("k", 2, 10)
    windows.put("j", 3, 0)
    assert windows.fetch("k", 10) == 2
    assert list(windows.fetch_range("k", 0, 10)) == [(0, 1), (10, 2)]
    assert Windowed("j", 0, 10) in dict(windows.all())
    sessions = InMemorySessionStore("s")
    sessions.put(Windowed("k", 0, 5), 2)
    sessions.put(Windowed("k", 20, 30), 1)
    assert [w for w, _ in sessions.find_sessions("k", 3, 25)] == [
        Windowed("k", 0, 5),
        Windowed("k", 20, 30),
    ]
    assert sessions.fetch_session("k", 0, 5) == 2
    sessions.remove(Windowed("k", 0, 5))
    assert sessions.fetch_session("k", 0, 5) is None


def test_in_memory_window_store_scans_by_time_and_tracks_stream_time() -> None:
    windows = InMemoryWindowStore("w", window_size=10)
    assert windows.observed_stream_time == -1
    windows.put("k", 1, 0)
    windows.put("k", 2, 10)
    windows.put("j", 3, 20)
    assert windows.observed_stream_time == 20
    assert list(windows.fetch_all(0, 10)) == [(Windowed("k", 0, 10), 1),
                                              (Windowed("k", 10, 20), 2)]
    assert list(windows.fetch_range("k", 0, 10, backward=True)) == [(10, 2), (0, 1)]


def test_in_memory_session_store_scans_sessions_by_end() -> None:
    sessions = InMemorySessionStore("s")
    sessions.put(Windowed("k", 0, 5), 2)
    sessions.put(Windowed("j", 1, 5), 7)
    sessions.put(Windowed("k", 20, 30), 1)
    # by end, then start, then key (Kafka's time-ordered session store)
    assert list(sessions.find_sessions_ending(0, 10)) == [(Windowed("k", 0, 5), 2),
                                                          (Windowed("j", 1, 5), 7)]
    assert [w for w, _ in sessions.all()] == [Windowed("j", 1, 5), Windowed("k", 0, 5),
                                              Windowed("k", 20, 30)]


def test_only_caching_stores_take_a_flush_listener() -> None:
    plain = InMemoryKeyValueStore("s")
    assert plain.set_flush_listener(lambda *_: None, False) is False
    assert CachingKeyValueStore(plain, 10).set_flush_listener(lambda *_: None, False) is True
