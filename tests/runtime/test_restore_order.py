"""Bulk changelog restore and Faust's late, buffered apply: the newest value must win."""

from __future__ import annotations

from types import SimpleNamespace

from aiokafka.structs import ConsumerRecord
from faust.types import TP

from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings
from tests.runtime.topologies import CASES


def _record(topic: str, offset: int, key: bytes | None, value: bytes | None) -> ConsumerRecord:
    return ConsumerRecord(topic=topic, partition=0, offset=offset, timestamp=1_000,
                          timestamp_type=0, key=key, value=value, checksum=None,
                          serialized_key_size=len(key or b""),
                          serialized_value_size=len(value or b""), headers=())


def test_a_record_faust_applies_late_does_not_overwrite_a_newer_bulk_write(tmp_path) -> None:
    settings = Settings.from_env(env={}, bootstrap_servers="127.0.0.1:9", app_id="restore-order",
                                 data_dir=str(tmp_path), topic_partitions=1, store="memory")
    runtime = FaustRuntime(CASES["count"].build("t-"), settings,
                           config={"default_key_serde": "string"})
    table = next(iter(runtime.tables.values()))
    topic = table.changelog_topic_name()
    serde = table.value_serde
    old, new = serde.serialize(1), serde.serialize(2)
    # Fetch 1 ends with k=1: the batch consumer writes it and hands it to Faust too, which
    # buffers it. Fetch 2 brings k=2, written at once. Then Faust applies its buffer.
    fetch1 = [_record(topic, 0, b"k", old)]
    fetch2 = [_record(topic, 1, b"k", new)]
    table.restore_records(fetch1)
    table.restore_records(fetch2)
    late = SimpleNamespace(message=SimpleNamespace(tp=TP(topic, 0), offset=0, key=b"k",
                                                   value=old, timestamp=1.0))
    table.apply_changelog_batch([late])
    value = table.store_for(0).get("k")
    assert getattr(value, "value", value) == 2


def test_a_global_store_skips_null_keys_and_notes_its_position(tmp_path) -> None:
    # the memory layout (the RocksDB one: tests/runtime/test_global_store_reads.py)
    settings = Settings.from_env(env={}, bootstrap_servers="127.0.0.1:9", app_id="restore-nulls",
                                 data_dir=str(tmp_path), topic_partitions=1, store="memory")
    runtime = FaustRuntime(CASES["global_join"].build("t-"), settings)
    (table,) = runtime.tables.values()
    topic, serde = table.changelog_topic_name(), table.value_serde
    table.restore_records([_record(topic, 0, None, serde.serialize({"n": 9})),
                           _record(topic, 1, b"k1", serde.serialize({"n": 1})),
                           _record(topic, 2, None, None)])
    store = table.store_for(0)
    assert [(kv[0], getattr(kv[1], "value", kv[1])) for kv in store.all()] == [("k1", {"n": 1})]
    assert table.positions == {TP(topic, 0): 2}
