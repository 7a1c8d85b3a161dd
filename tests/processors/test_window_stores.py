"""Window and session stores: the in-memory ones and the RocksDB ones must behave alike
(Kafka's segmented-store retention, scan orders), and RocksDB ones survive a reopen and
restore from the changelog records the logging layers write."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import rocksdict

from streams_app.runtime.record_collector import RecordCollector
from streams_app.serdes import LongSerde, StringSerde
from streams_app.state.api import ValueAndTimestamp as VT
from streams_app.state.api import Windowed
from streams_app.state.rocksdb_windowed import RocksDictSessionStore, RocksDictWindowStore
from streams_app.state.windowed import SegmentedSessionStore, SegmentedWindowStore
from streams_app.state.windowed_layers import ChangeLoggingSessionStore, ChangeLoggingWindowStore

S, L = StringSerde(), LongSerde()


class _Ctx:
    """Record metadata and a record collector for change-logging layers."""

    timestamp = 0

    def __init__(self) -> None:
        self.collector = RecordCollector(0)

    def changelog_writer(self, name: str, encode: Any) -> Any:
        return self.collector.changelog(f"{name}-changelog", S, L, encode)


def _rdict(path: Path) -> Any:
    return rocksdict.Rdict(str(path), options=rocksdict.Options(raw_mode=True))


@pytest.fixture(params=["memory", "rocksdb"])
def make_window_store(request: pytest.FixtureRequest, tmp_path: Path
                      ) -> Iterator[Callable[..., Any]]:
    dbs: list[Any] = []

    def make(size: int = 10, retention: int = 10, time_ordered: bool = False) -> Any:
        if request.param == "memory":
            return SegmentedWindowStore("w", size, retention, time_ordered)
        db = _rdict(tmp_path / f"w{len(dbs)}")
        dbs.append(db)
        return RocksDictWindowStore("w", db, S, L, size, retention, True, time_ordered)

    yield make
    for db in dbs:
        db.close()


@pytest.fixture(params=["memory", "rocksdb"])
def make_session_store(request: pytest.FixtureRequest, tmp_path: Path
                       ) -> Iterator[Callable[..., Any]]:
    dbs: list[Any] = []

    def make(retention: int = 10) -> Any:
        if request.param == "memory":
            return SegmentedSessionStore("s", retention)
        db = _rdict(tmp_path / f"s{len(dbs)}")
        dbs.append(db)
        return RocksDictSessionStore("s", db, S, L, retention)

    yield make
    for db in dbs:
        db.close()


def test_window_fetch_ranges_and_ends(make_window_store: Callable[..., Any]) -> None:
    store = make_window_store(size=10, retention=100)
    for key, start, value in [("a", 0, 1), ("a", 5, 2), ("b", 5, 3), ("a", 10, 4),
                              ("ab", 5, 9)]:
        store.put(key, VT(value, start), start)
    assert store.fetch("a", 5) == (2, 5)
    assert list(store.fetch_range("a", 0, 5)) == [(0, (1, 0)), (5, (2, 5))]
    assert list(store.fetch_range("a", 1, 10, backward=True)) == [(10, (4, 10)), (5, (2, 5))]
    store.put("a", None, 5)
    assert store.fetch("a", 5) is None
    assert [(w, v.value) for w, v in store.all()] == [
        (Windowed("a", 0, 10), 1), (Windowed("a", 10, 20), 4), (Windowed("ab", 5, 15), 9),
        (Windowed("b", 5, 15), 3),
    ]


def test_window_retention_bounds(make_window_store: Callable[..., Any]) -> None:
    key_first = make_window_store(size=10, retention=10)
    time_first = make_window_store(size=10, retention=10, time_ordered=True)
    for store in (key_first, time_first):
        for start in (0, 5, 10, 15):
            store.put("a", VT(start, start), start)
    # observed start 15: key-first shows starts >= 6, time-first (emit-final) >= 5
    assert [s for s, _ in key_first.fetch_range("a", 0, 100)] == [10, 15]
    assert [s for s, _ in time_first.fetch_range("a", 0, 100)] == [5, 10, 15]
    assert key_first.fetch("a", 5) is None and time_first.fetch("a", 5) == (5, 5)
    assert [w.start for w, _ in time_first.fetch_all(0, 12)] == [5, 10]


def test_window_writes_to_expired_segments_are_dropped(make_window_store: Callable[..., Any]
                                                       ) -> None:
    store = make_window_store(size=10, retention=10)  # segments of 60 s
    store.put("a", VT(1, 0), 0)
    store.put("a", VT(2, 130_000), 130_000)  # segment 2; segments < 2 are dropped
    store.put("a", VT(3, 10), 10)
    assert store.approximate_num_entries() == 1
    assert [w.start for w, _ in store.all()] == [130_000]


def test_time_ordered_fetch_all_orders_by_start_then_key(make_window_store: Callable[..., Any]
                                                         ) -> None:
    store = make_window_store(size=10, retention=100, time_ordered=True)
    for key, start in [("b", 0), ("a", 10), ("a", 0), ("c", 5)]:
        store.put(key, VT(1, start), start)
    assert [(w.key, w.start) for w, _ in store.fetch_all(0, 10)] == [
        ("a", 0), ("b", 0), ("c", 5), ("a", 10)]


def test_sessions_find_merge_candidates_and_expire(make_session_store: Callable[..., Any]
                                                   ) -> None:
    store = make_session_store(retention=10)
    for key, start, end, value in [("a", 0, 4, 1), ("a", 8, 9, 2), ("b", 3, 3, 3),
                                   ("c", 1, 9, 5), ("a", 20, 22, 4)]:
        store.put(Windowed(key, start, end), value)
    # observed end 22: sessions ending before 13 are hidden from key lookups
    assert list(store.find_sessions("a", 0, 30)) == [(Windowed("a", 20, 22), 4)]
    assert store.fetch_session("a", 0, 4) is None
    # the emit-final scan is by end, start, key (Kafka's time-ordered session store) and
    # does not hide by retention
    assert [(w.key, w.end) for w, _ in store.find_sessions_ending(0, 10)] == [
        ("b", 3), ("a", 4), ("c", 9), ("a", 9)]
    store.remove(Windowed("a", 20, 22))
    assert list(store.find_sessions("a", 0, 30)) == []


def test_session_find_sessions_order(make_session_store: Callable[..., Any]) -> None:
    store = make_session_store(retention=1000)
    for start, end in [(10, 12), (0, 3), (5, 12)]:
        store.put(Windowed("k", start, end), end - start)
    assert [(w.start, w.end) for w, _ in store.find_sessions("k", 3, 10)] == [
        (0, 3), (5, 12), (10, 12)]
    assert [(w.start, w.end) for w, _ in store.find_sessions("k", 4, 6)] == [(5, 12)]


def test_rocksdb_window_store_reopens_and_restores_from_changelog(tmp_path: Path) -> None:
    logged = ChangeLoggingWindowStore(SegmentedWindowStore("w", 10, 20), timestamped=True)
    ctx = _Ctx()
    logged.init(ctx)
    for key, start, value in [("a", 0, 1), ("b", 10, 2), ("a", 0, 3)]:
        logged.put(key, VT(value, start + value), start)
    logged.put("b", None, 10)
    records = ctx.collector.take_changelogs()
    db = _rdict(tmp_path / "w")
    store = RocksDictWindowStore("w", db, S, L, 10, 20)
    for _, key, value, ts, _ in records:
        store.put_raw(key, value, ts)
    assert list(store.all()) == list(logged.all()) == [(Windowed("a", 0, 10), (3, 3))]
    store.put("a", VT(5, 40), 40)  # observed start 40: window 0 is past retention
    db.close()
    db = _rdict(tmp_path / "w")
    reopened = RocksDictWindowStore("w", db, S, L, 10, 20)
    assert reopened.observed_stream_time == 40
    assert reopened.fetch("a", 0) is None and reopened.fetch("a", 40) == (5, 40)
    db.close()


class _CountingDb:
    """A database counting point reads."""

    def __init__(self, db: Any) -> None:
        self.db, self.gets = db, 0

    def get(self, key: bytes) -> Any:
        self.gets += 1
        return self.db.get(key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


def test_rocksdb_window_fetch_past_observed_time_reads_nothing(tmp_path: Path) -> None:
    db = _CountingDb(_rdict(tmp_path / "w"))
    store = RocksDictWindowStore("w", db, S, L, 10, 100)
    store.put("a", VT(1, 25), 20)
    assert store.fetch("a", 30) is None and db.gets == 0  # a window newer than any stored
    assert store.fetch("a", 20) == (1, 25) and db.gets == 1
    db.db.close()


def test_rocksdb_session_store_restores_from_changelog(tmp_path: Path) -> None:
    logged = ChangeLoggingSessionStore(SegmentedSessionStore("s", 100))
    ctx = _Ctx()
    logged.init(ctx)
    logged.put(Windowed("a", 0, 0), 1)
    logged.remove(Windowed("a", 0, 0))
    logged.put(Windowed("a", 0, 4), 2)
    db = _rdict(tmp_path / "s")
    store = RocksDictSessionStore("s", db, S, L, 100)
    for _, key, value, _, _ in ctx.collector.take_changelogs():
        store.put_raw(key, value)
    assert list(store.all()) == list(logged.all()) == [(Windowed("a", 0, 4), 2)]
    db.close()
