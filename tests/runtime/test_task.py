"""StreamTask as a runtime uses it: raw batches in, serialized output and changelogs out."""

from __future__ import annotations

from streams_app import StreamsBuilder, StreamsConfig
from streams_app.runtime.task import StreamTask
from streams_app.serdes import JsonSerde, LongSerde, StringSerde

S, J, L = StringSerde(), JsonSerde(), LongSerde()


def count_topology():  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    b.stream("in", key_serde=S, value_serde=J).group_by_key().count("c").to_stream() \
        .to("out", key_serde=S, value_serde=L)
    return b.build()


def batch(n: int) -> list[tuple[int, bytes, bytes, int, tuple[()]]]:
    return [(i, f"k{i % 3}".encode(), b"1", 1000 + i, ()) for i in range(n)]


def test_batch_with_cache_emits_one_update_per_key_per_commit() -> None:
    topo = count_topology()
    (sub,) = topo.subtopologies()
    task = StreamTask(topo, sub, StreamsConfig(application_id="app"), partition=2)
    assert task.process_batch("in", batch(9)) == 9
    assert task.drain_output() == []  # cached until commit
    task.commit()
    out = task.drain_output()
    assert [(t, k, L.deserialize(v), ts) for t, k, v, ts, _ in out] == [
        ("out", b"k0", 3, 1006), ("out", b"k1", 3, 1007), ("out", b"k2", 3, 1008),
    ]
    changelog = task.drain_changelogs()
    assert [(t, k) for t, k, *_ in changelog] == [
        ("app-c-changelog", b"k0"), ("app-c-changelog", b"k1"), ("app-c-changelog", b"k2"),
    ]
    assert task.stream_time == 1008 and task.partition == 2
    assert task.drain_output() == [] and task.drain_changelogs() == []
    task.close()


def test_batch_without_cache_emits_every_update() -> None:
    topo = count_topology()
    (sub,) = topo.subtopologies()
    task = StreamTask(topo, sub, StreamsConfig(application_id="app", cache_max_entries=0))
    task.process_batch("in", batch(6))
    out = task.drain_output()
    assert [L.deserialize(value) for _t, _k, value, _ts, _h in out] == [1, 1, 1, 2, 2, 2]
    assert len(task.drain_changelogs()) == 6


def test_subtopologies_run_independently_on_real_topic_names() -> None:
    b = StreamsBuilder()
    b.stream("in", key_serde=S, value_serde=J).select_key(lambda k, v: v).group_by_key().count("c")
    topo = b.build()
    first, second = topo.subtopologies()
    cfg = StreamsConfig(application_id="app", cache_max_entries=0)
    upstream = StreamTask(topo, first, cfg)
    downstream = StreamTask(topo, second, cfg)
    assert upstream.source_topics == ["in"]
    assert downstream.source_topics == ["app-c-repartition"]
    upstream.process("in", b"x", b'"g"', 5)
    ((topic, key, value, ts, headers),) = upstream.drain_output()
    assert topic == "app-c-repartition" and key == b'"g"'
    downstream.process(topic, key, value, ts, headers, offset=0)
    assert downstream.stores["c"].outer.get("g").value == 1


def test_lean_fetched_records_reach_the_topology_field_by_field() -> None:
    """The worker's lean tuples are read by position (runtime.lean_records registers the
    layout): key, value, timestamp, headers and offset must each land where they belong."""
    from streams_app.runtime.lean_records import LeanConsumerRecord

    b = StreamsBuilder()
    offsets: list[int | None] = []
    b.stream("in", key_serde=S, value_serde=S).peek(lambda k, v: offsets.append(task.offset)) \
        .to("out", key_serde=S, value_serde=S)
    topo = b.build()
    task = StreamTask(topo, topo.subtopologies()[0], StreamsConfig(application_id="app"))
    headers = (("h", b"1"),)
    fetched = [LeanConsumerRecord(("in", 0, 40 + i, 1000 + i, 0, f"k{i}".encode(),
                                   f"v{i}".encode(), None, headers)) for i in range(3)]
    task.process_records("in", fetched)
    assert task.drain_output() == [
        ("out", f"k{i}".encode(), f"v{i}".encode(), 1000 + i, headers) for i in range(3)]
    assert offsets == [40, 41, 42]
