"""With ``lazy_values`` on, values no processor reads are not decoded (count after
group_by_key), with the same results: a JSON ``null`` is still a null value, which count
skips. Off (the default), every value is decoded at the source, as Kafka Streams does, so a
malformed one goes to the deserialization handler."""

from __future__ import annotations

from typing import Any

import pytest

from streams_app import Serdes, SessionWindows, StreamsBuilder, TimeWindows, Topology
from streams_app.runtime.config import StreamsConfig
from streams_app.runtime.task import InputRecord, StreamTask
from streams_app.serdes import JsonSerde, StringSerde


class CountingJson(JsonSerde):
    """JSON that counts its decodes."""

    def __init__(self) -> None:
        self.decoded = 0

    def deserialize(self, data: bytes | None) -> Any:
        self.decoded += 1
        return super().deserialize(data)


def _task(topology: Topology, lazy: bool = True) -> StreamTask:
    (sub,) = topology.subtopologies()
    config = StreamsConfig.from_mapping({"application_id": "lazy", "cache_max_entries": 0,
                                         "lazy_values": lazy})
    return StreamTask(topology, sub, config)


def _feed(task: StreamTask, values: list[bytes | None]) -> None:
    task.process_records("in", [InputRecord(b"k", v, 10 + i, (), i)
                                for i, v in enumerate(values)])


VALUES = [b'{"a": 1}', b"null", b" null\n", None, b"0", b"false", b'"x"']


def test_count_skips_null_values_without_decoding_any() -> None:
    serde = CountingJson()
    b = StreamsBuilder()
    b.stream("in", key_serde=StringSerde(), value_serde=serde).group_by_key().count("c")
    task = _task(b.build())
    _feed(task, VALUES)
    assert serde.decoded == 0
    # JSON null and no bytes are null values (skipped); 0, false and "x" are values
    assert task.stores["c"].outer.get("k").value == 4


@pytest.mark.parametrize("windowed", [TimeWindows.of_size_and_grace(100, 100),
                                      SessionWindows.of_inactivity_gap_and_grace(100, 100)])
def test_windowed_counts_do_not_decode(windowed: Any) -> None:
    serde = CountingJson()
    b = StreamsBuilder()
    b.stream("in", key_serde=StringSerde(), value_serde=serde).group_by_key() \
        .windowed_by(windowed).count("c")
    task = _task(b.build())
    _feed(task, VALUES)
    assert serde.decoded == 0
    # windowed counts count null values too (Kafka Streams' rule)
    assert sum(v.value if hasattr(v, "value") else v
               for _, v in task.stores["c"].outer.all()) == len(VALUES)


def test_a_sibling_that_reads_the_value_gets_it_decoded() -> None:
    serde, seen = CountingJson(), []
    b = StreamsBuilder()
    stream = b.stream("in", key_serde=StringSerde(), value_serde=serde)
    stream.group_by_key().count("c")
    stream.foreach(lambda _k, v: seen.append(v))
    task = _task(b.build())
    _feed(task, [b'{"a": 1}', b"null"])
    assert serde.decoded == 2 and seen == [{"a": 1}, None]
    assert task.stores["c"].outer.get("k").value == 1


def test_aggregate_reads_values() -> None:
    serde = CountingJson()
    b = StreamsBuilder()
    b.stream("in", key_serde=StringSerde(), value_serde=serde).group_by_key() \
        .aggregate(lambda: 0, lambda _k, v, agg: agg + v["a"], "s")
    task = _task(b.build())
    _feed(task, [b'{"a": 2}', b'{"a": 3}'])
    assert serde.decoded == 2 and task.stores["s"].outer.get("k").value == 5


@pytest.mark.parametrize("serde", [Serdes.json(), Serdes.string(), Serdes.bytes(),
                                   Serdes.long(), Serdes.double()])
def test_presence_is_none_exactly_when_the_value_is(serde: Any) -> None:
    for value in [None, b"null", b" null ", b"nul", b"{}", b"0" * 8, b"\x00" * 8, b"[null]"]:
        try:
            decoded = serde.deserialize(value)
        except Exception:  # noqa: BLE001 - not this serde's bytes: nothing to compare
            continue
        assert (serde.presence(value) is None) == (decoded is None), (serde, value)


def test_by_default_every_value_is_decoded_and_a_malformed_one_is_an_error() -> None:
    serde = CountingJson()
    b = StreamsBuilder()
    b.stream("in", key_serde=StringSerde(), value_serde=serde).group_by_key().count("c")
    task = _task(b.build(), lazy=False)
    _feed(task, [b'{"a": 1}', b"not json", b'{"a": 2}'])
    assert serde.decoded == 3
    assert task.stores["c"].outer.get("k").value == 2  # the bad one dead-lettered
    assert task.errors.dead_lettered  # by the default deserialization handler


def test_a_timestamp_extractor_gets_the_decoded_value() -> None:
    serde, seen = CountingJson(), []

    def extract(record: Any, _previous: int) -> int:
        seen.append(record.value)
        return record.value["t"]

    b = StreamsBuilder()
    b.stream("in", key_serde=StringSerde(), value_serde=serde,
             timestamp_extractor=extract).group_by_key().count("c")
    task = _task(b.build())
    _feed(task, [b'{"t": 5}'])
    assert seen == [{"t": 5}] and task.stores["c"].outer.get("k").value == 1
