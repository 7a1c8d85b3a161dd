"""Versioned key-value stores (KIP-889): the in-memory and RocksDB stores answer alike, as
Kafka Streams' RocksDBVersionedStore does, and a changelog replay rebuilds the history."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import rocksdict

from streams_app.serdes import JsonSerde, StringSerde
from streams_app.state.rocksdb_versioned import RocksDictVersionedKeyValueStore
from streams_app.state.versioned import (
    PUT_RETURN_CODE_IS_LATEST,
    PUT_RETURN_CODE_NOT_PUT,
    InMemoryVersionedKeyValueStore,
    VersionedKeyValueStore,
    VersionedRecord,
)
from streams_app.state.versioned_logging import ChangeLoggingVersionedKeyValueStore

Make = Callable[[int], VersionedKeyValueStore]


@pytest.fixture(params=["memory", "rocksdb"])
def make(request: Any, tmp_path: Path) -> Iterator[Make]:
    dbs: list[Any] = []

    def build(retention: int) -> VersionedKeyValueStore:
        if request.param == "memory":
            return InMemoryVersionedKeyValueStore("v", retention)
        db = rocksdict.Rdict(str(tmp_path / f"db{len(dbs)}"), options=rocksdict.Options(
            raw_mode=True))
        dbs.append(db)
        return RocksDictVersionedKeyValueStore("v", db, StringSerde(), JsonSerde(), retention)

    yield build
    for db in dbs:
        db.close()


def test_put_returns_valid_to_and_gets_answer_as_of(make: Make) -> None:
    s = make(100)
    assert s.put("k", 1, 10) == PUT_RETURN_CODE_IS_LATEST
    assert s.put("k", 3, 30) == PUT_RETURN_CODE_IS_LATEST
    assert s.put("k", 2, 20) == 30  # out of order: valid until the next version
    assert s.get("k") == VersionedRecord(3, 30)
    assert s.get("k", 9) is None
    assert s.get("k", 10) == VersionedRecord(1, 10, 20)
    assert s.get("k", 25) == VersionedRecord(2, 20, 30)
    assert s.get("k", 99) == VersionedRecord(3, 30)
    assert s.put("k", 4, 20) == 30  # same timestamp replaces
    assert s.get("k", 20) == VersionedRecord(4, 20, 30)


def test_tombstones_end_a_version(make: Make) -> None:
    s = make(100)
    s.put("k", 1, 10)
    assert s.put("k", None, 20) == PUT_RETURN_CODE_IS_LATEST
    assert s.get("k") is None
    assert s.get("k", 15) == VersionedRecord(1, 10, 20)
    assert s.get("k", 25) is None
    assert s.delete("k", 5) is None  # nothing was valid at 5
    assert s.delete("k", 12) == VersionedRecord(1, 10, 20)
    assert s.get("k", 11) == VersionedRecord(1, 10, 12)
    assert s.put("absent", None, 40) == PUT_RETURN_CODE_IS_LATEST


def test_history_retention_refuses_old_puts_and_old_reads(make: Make) -> None:
    s = make(10)
    s.put("k", 1, 0)
    s.put("k", 2, 20)
    s.put("other", 9, 50)  # stream time 50: history before 40 is gone
    assert s.put("k", 3, 39) == PUT_RETURN_CODE_NOT_PUT
    assert s.get("k", 30) == VersionedRecord(2, 20)  # the latest version never expires
    assert s.get("k", 5) is None
    assert s.put("k", 4, 40) == PUT_RETURN_CODE_IS_LATEST
    assert s.put("k", 5, 45) == PUT_RETURN_CODE_IS_LATEST
    assert s.get("k", 42) == VersionedRecord(4, 40, 45)
    assert s.get("k", 39) is None  # before the retention bound; the latest is newer
    assert s.delete("k", 1) is None and s.get("k") == VersionedRecord(5, 45)


def test_changelog_replay_rebuilds_the_history(make: Make) -> None:
    logged: list[tuple[Any, Any, int]] = []

    class Context:
        def changelog_writer(self, name: str, encode: Any) -> Any:
            return logged.append

    store = ChangeLoggingVersionedKeyValueStore(make(100))
    store.init(Context())
    store.put("k", 1, 10)
    store.put("k", 3, 30)
    store.put("k", 2, 20)
    store.delete("k", 40)
    assert logged == [("k", 1, 10), ("k", 3, 30), ("k", 2, 20), ("k", None, 40)]
    restored = ChangeLoggingVersionedKeyValueStore(make(100))
    for key, value, ts in logged:
        restored.restore(key, value, ts)
    for as_of in (5, 10, 20, 30, 40, None):
        assert restored.get("k", as_of) == store.get("k", as_of)


def test_rocksdb_store_keeps_stream_time_when_reopened(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    opts = rocksdict.Options(raw_mode=True)
    db = rocksdict.Rdict(path, options=opts)
    RocksDictVersionedKeyValueStore("v", db, StringSerde(), JsonSerde(), 10).put("k", 1, 100)
    db.close()
    db = rocksdict.Rdict(path, options=opts)
    try:
        s = RocksDictVersionedKeyValueStore("v", db, StringSerde(), JsonSerde(), 10)
        assert s.observed_stream_time == 100
        assert s.put("k", 2, 50) == PUT_RETURN_CODE_NOT_PUT
    finally:
        db.close()
