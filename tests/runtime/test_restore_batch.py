"""The key-value bulk restore (one write batch per fetch) against the generic restore path:
the same database bytes, persisted offset and position, tombstones and null keys included."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from aiokafka.structs import ConsumerRecord
from faust.types import TP

from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.runtime.faust_stores import StoreTable
from streams_app.settings import Settings
from tests.runtime.topologies import CASES


def _record(topic: str, offset: int, key: bytes | None, value: bytes | None,
            timestamp: int | None) -> ConsumerRecord:
    return ConsumerRecord(topic=topic, partition=1, offset=offset, timestamp=timestamp,
                          timestamp_type=0, key=key, value=value, checksum=None,
                          serialized_key_size=len(key or b""),
                          serialized_value_size=len(value or b""), headers=())


def _table(path: Path, timestamped: bool) -> StoreTable:
    settings = Settings.from_env(env={}, bootstrap_servers="127.0.0.1:9", app_id="restore-kv",
                                 data_dir=str(path), topic_partitions=2, store="rocksdb")
    runtime = FaustRuntime(CASES["count"].build("t-"), settings,
                           config={"default_key_serde": "string"})
    (table,) = runtime.tables.values()
    table.spec = dataclasses.replace(table.spec, timestamped=timestamped)
    return table


@pytest.mark.parametrize("timestamped", [True, False])
def test_bulk_restore_writes_what_the_generic_restore_writes(tmp_path, timestamped) -> None:
    fast, generic = _table(tmp_path / "a", timestamped), _table(tmp_path / "b", timestamped)
    topic = fast.changelog_topic_name()
    tp = TP(topic, 1)
    fetches = [[_record(topic, 5, b"a", b"1", 100), _record(topic, 6, None, b"x", 101),
                _record(topic, 7, b"b", b"2", None), _record(topic, 8, b"a", b"3", 102)],
               [_record(topic, 9, b"b", None, 103), _record(topic, 10, b"c", b"4", 104)]]
    for fetch in fetches:
        fast.restore_records(fetch)
        generic.restore((tp, r.offset, r.key, r.value, r.timestamp or 0) for r in fetch)
    rows = {table: list(table._db(1).items()) for table in (fast, generic)}
    assert rows[fast] == rows[generic]
    stamp = (lambda ts: ts.to_bytes(8, "big")) if timestamped else (lambda ts: b"")
    assert [kv for kv in rows[fast] if not kv[0].startswith(b"__faust")] == [
        (b"a", stamp(102) + b"3"), (b"c", stamp(104) + b"4")]
    assert fast.data.persisted_offset(tp) == generic.data.persisted_offset(tp) == 10
    assert fast.positions == generic.positions == {tp: 10}
    assert list(fast._db(0).keys()) == []  # the other partition's database is untouched
