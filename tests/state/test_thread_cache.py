"""ThreadCache: Kafka Streams' byte accounting, per-store LRU eviction and flush order."""

from __future__ import annotations

import random
from typing import Any

from streams_app.serdes import LongSerde, StringSerde
from streams_app.state.byte_caching import ByteCachingKeyValueStore
from streams_app.state.memory import InMemoryKeyValueStore
from streams_app.state.thread_cache import CacheEntry, ThreadCache, context_size, entry_size


def dirty(value: Any, size: int) -> CacheEntry:
    return CacheEntry(value, True, 0, (), size)


def test_entry_size_matches_kafka_layout() -> None:
    # key 1 + node refs 24 + dirty flag 1 + ts 8 + offset 8 + partition 4 + value 8 + topic 5
    assert entry_size(1, 8, context_size("input", ())) == 59
    # a clean entry read from the store has no topic or headers
    assert entry_size(1, 8) == 54
    assert context_size("t", [("h", b"xy"), ("k", None)]) == 1 + 3 + 1
    assert context_size("é𝄞", ()) == 3  # UTF-16 code units, as Java's toCharArray


def test_overflow_evicts_eldest_of_the_put_store_and_flushes_all_its_dirty() -> None:
    flushed: list[list[Any]] = []
    cache = ThreadCache(100)
    a = cache.named("a", lambda batch: flushed.append([k for k, _ in batch]))
    a.put("k1", dirty(1, 40))
    a.put("k2", dirty(2, 40))
    a.get("k1")  # a read makes k1 the most recent: k2 is now eldest
    a.put("k3", dirty(3, 40))
    assert flushed == [["k2", "k1", "k3"]]  # the evicted first, then dirty order
    assert list(a.entries) == ["k1", "k3"]  # flushed entries stay cached, clean
    assert cache.size_bytes == 80
    assert not a.dirty


def test_clean_entries_evict_without_a_flush_and_stores_share_the_budget() -> None:
    flushed: list[str] = []
    cache = ThreadCache(100)
    a = cache.named("a", lambda batch: flushed.append("a"))
    b = cache.named("b", lambda batch: flushed.append("b"))
    a.put("x", CacheEntry(1, False, 0, (), 60))
    b.put("y", dirty(2, 30))
    b.put("z", dirty(3, 30))  # 120 > 100: only b's own entries are candidates
    assert flushed == ["b"]
    assert list(a.entries) == ["x"] and list(b.entries) == ["z"]
    a.put("w", CacheEntry(4, False, 0, (), 20))  # 110: a's clean eldest goes, no flush
    assert flushed == ["b"] and list(a.entries) == ["w"]
    assert cache.size_bytes == 50


def test_entry_larger_than_the_cache_is_flushed_at_once() -> None:
    flushed: list[Any] = []
    cache = ThreadCache(1)
    a = cache.named("a", lambda batch: flushed.extend((k, e.value) for k, e in batch))
    a.put("k", dirty(7, 50))
    assert flushed == [("k", 7)] and not a.entries and cache.size_bytes == 0


def test_flushed_deletes_leave_the_cache() -> None:
    cache = ThreadCache(1000)
    a = cache.named("a", lambda batch: None)
    a.put("k", dirty(1, 50))
    a.put("d", dirty(None, 50))
    a.flush()
    assert list(a.entries) == ["k"] and cache.size_bytes == 50


class _Context:
    """The record context a key-value cache reads on each put (through the properties)."""

    task_id = "0_0"

    def __init__(self) -> None:
        self.timestamp, self.headers, self.topic = 0, (), "in"

    def store_serdes(self, _name: str) -> tuple[Any, Any]:
        return StringSerde(), LongSerde()


def test_in_place_updates_keep_the_byte_total_exact() -> None:
    """Dirty entries updated in place (same size, a new topic, headers, a delete) still count
    what Kafka would: each entry its key, value and context; the thread the sum."""
    cache = ThreadCache(10_000)
    store = ByteCachingKeyValueStore(InMemoryKeyValueStore("s"), cache, timestamped=False)
    ctx = _Context()
    store.init(ctx)
    steps = [("in", (), 1), ("in", (), 2), ("a-longer-topic", (), 3),
             ("in", (("h", b"xyz"),), 4), ("in", (), None), ("in", (), 5)]
    for topic, headers, value in steps:
        ctx.topic, ctx.headers = topic, headers
        store.put("key", value)
        ctx_bytes = context_size(topic, headers)
        want = entry_size(3, 0 if value is None else 8, ctx_bytes)
        assert store.cache.entries["key"].size == want, (topic, headers, value)
        assert cache.size_bytes == want
    store.put("other", 1)
    assert cache.size_bytes == sum(e.size for e in store.cache.entries.values())
    assert list(store.cache.dirty) == ["key", "other"]
    store.put("key", 6)  # re-put: last in both the LRU and the dirty order
    assert list(store.cache.entries) == list(store.cache.dirty) == ["other", "key"]


def test_skipped_lru_moves_leave_the_same_cache_as_moving_every_time() -> None:
    """A get or put of the most recent key skips the LRU move: the same entries, order, dirty
    order, bytes and flushes as a store made to move on every access."""
    runs = []
    for always_move in (False, True):
        cache = ThreadCache(400)
        flushed: list[Any] = []
        store = ByteCachingKeyValueStore(InMemoryKeyValueStore("s"), cache, timestamped=False)
        store.init(_Context())
        store.set_flush_listener(
            lambda k, new, old, ts, h, out=flushed: out.append((k, new)), False)
        ops = random.Random(7)
        for _ in range(2000):
            op, key = ops.random(), ops.choice("abcdefg")
            if op < 0.4:
                store.get(key)
            elif op < 0.9:
                store.put(key, ops.randrange(3))
            elif op < 0.97:
                store.delete(key)
            else:
                store.flush()
            if always_move:
                store._mru = object()
        runs.append((list(store.cache.entries), list(store.cache.dirty), cache.size_bytes,
                     flushed))
    assert runs[0] == runs[1] and runs[0][3]
