"""A cache flush reads the old value only where it is used (Kafka Streams' rule): for a
delete, or when the listener wants old values; on RocksDB it writes one batch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import rocksdict

from streams_app.serdes import LongSerde, StringSerde
from streams_app.state.api import ValueAndTimestamp, Windowed
from streams_app.state.caching import CachingKeyValueStore
from streams_app.state.memory import InMemoryKeyValueStore
from streams_app.state.rocksdb_windowed import RocksDictSessionStore, RocksDictWindowStore
from streams_app.state.windowed_layers import CachingWindowStore


class CountedReads(InMemoryKeyValueStore):
    """An in-memory store that counts its reads."""

    reads = 0

    def get(self, key: Any) -> Any:
        self.reads += 1
        return super().get(key)


@pytest.mark.parametrize("send_old_values", [False, True])
def test_flush_reads_old_values_only_when_sent_or_deleting(send_old_values: bool) -> None:
    inner = CountedReads("s")
    inner.put("a", 1)
    cache = CachingKeyValueStore(inner, 100)
    changes: list[tuple[Any, Any, Any]] = []
    cache.set_flush_listener(lambda k, new, old, _ts, _h: changes.append((k, new, old)),
                             send_old_values)
    cache.put("a", 2)
    cache.put("b", 3)
    cache.put("c", None)  # a delete of an absent key: read, then dropped
    cache.flush()
    assert inner.reads == (3 if send_old_values else 1)
    assert changes == [("a", 2, 1 if send_old_values else None), ("b", 3, None)]
    assert (inner.get("a"), inner.get("b"), inner.get("c")) == (2, 3, None)


class CountedDb:
    """A raw-mode Rdict that counts single puts and batch writes."""

    def __init__(self, path: str) -> None:
        self.db = rocksdict.Rdict(path, options=rocksdict.Options(raw_mode=True))
        self.puts = self.writes = 0

    def put(self, key: bytes, value: bytes) -> None:
        self.puts += 1
        self.db.put(key, value)

    def write(self, batch: Any) -> None:
        self.writes += 1
        self.db.write(batch)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


def test_a_window_cache_flush_is_one_write_batch_that_reads_see(tmp_path: Path) -> None:
    db = CountedDb(str(tmp_path / "w"))
    store = RocksDictWindowStore("w", db, StringSerde(), LongSerde(), 10, 10_000)
    cache = CachingWindowStore(store, 100)
    cache.init(None)
    seen = []
    # a listener reading the store mid-flush sees the writes before it
    cache.set_flush_listener(
        lambda w, new, _old, _ts, _h: seen.append((w.key, store.fetch(w.key, w.start))), False)
    for i in range(5):
        cache.put(f"k{i}", ValueAndTimestamp(i, 0), 0)
    cache.flush()
    assert db.puts == 0 and db.writes == 5  # each read applied the batch so far
    assert seen == [(f"k{i}", ValueAndTimestamp(i, 0)) for i in range(5)]
    cache.set_flush_listener(lambda *_: None, False)
    for i in range(5):
        cache.put(f"k{i}", ValueAndTimestamp(i + 1, 0), 0)
    cache.flush()
    assert db.puts == 0 and db.writes == 6  # no reads: one batch
    assert [store.fetch(f"k{i}", 0).value for i in range(5)] == [1, 2, 3, 4, 5]


def test_scans_of_a_key_skip_longer_keys_and_keep_their_last_entry(tmp_path: Path) -> None:
    db = rocksdict.Rdict(str(tmp_path / "s"), options=rocksdict.Options(raw_mode=True))
    windows = RocksDictWindowStore("w", db, StringSerde(), LongSerde(), 10, 10**9)
    sessions = RocksDictSessionStore("s", rocksdict.Rdict(
        str(tmp_path / "t"), options=rocksdict.Options(raw_mode=True)), StringSerde(),
        LongSerde(), 10**9)
    for key in ("1", "10", "100", "2"):  # "1" is a prefix of the next two
        for start in range(0, 50, 10):
            windows.put(key, ValueAndTimestamp(start, start), start)
            sessions.put(Windowed(key, start, start + 5), start)
    for _ in range(200):  # the scan bound must stay valid for the whole scan
        assert [s for s, _ in windows.fetch_range("1", 0, 40)] == [0, 10, 20, 30, 40]
        assert [w.start for w, _ in sessions.find_sessions("1", 0, 10**6)] == [
            0, 10, 20, 30, 40]  # the last one ends at the observed stream time
