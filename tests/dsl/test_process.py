"""KStream.process / process_values with stores connected by name (test driver)."""

from __future__ import annotations

from typing import Any

import pytest

from streams_app import (
    FixedKeyProcessor,
    FixedKeyRecord,
    Processor,
    PunctuationType,
    Record,
    Stores,
    StreamsBuilder,
)
from streams_app.dsl.topology import TopologyError
from streams_app.errors import StreamsFailure
from tests.dsl.conftest import L, S

EMIT_MS = 1000


class CountPerKey(Processor):
    """Counts records per key in ``counts``; a wall-clock punctuator emits every count."""

    def init(self, context: Any) -> None:
        super().init(context)
        self.counts = context.get_state_store("counts")
        context.schedule(EMIT_MS, PunctuationType.WALL_CLOCK_TIME, self.emit)

    def process(self, record: Record) -> None:
        self.counts.put(record.key, (self.counts.get(record.key) or 0) + 1)

    def emit(self, now: int) -> None:
        for key, count in self.counts.all():
            self.context.forward(Record(key, count, now))


def counting_builder(store: Any) -> StreamsBuilder:
    b = StreamsBuilder()
    b.add_state_store(store)
    b.stream("input").process(CountPerKey, "counts").to("output", value_serde=L)
    return b


def test_stateful_processor_emits_counts_on_wall_clock_punctuation(harness) -> None:
    store = Stores.key_value_store_builder(Stores.persistent_key_value_store("counts"), S, L)
    h = harness(counting_builder(store))
    inp = h.input()
    for key in "abacab":
        inp.pipe_input(key, {"n": 1}, 5)
    assert h.out(value_serde=L) == []  # nothing before the punctuator fires
    h.driver.advance_wall_clock_time(EMIT_MS - 1)
    assert h.out(value_serde=L) == []
    h.driver.advance_wall_clock_time(1)
    assert h.out(value_serde=L) == [("a", 3, EMIT_MS), ("b", 2, EMIT_MS), ("c", 1, EMIT_MS)]
    inp.pipe_input("c", {"n": 1}, 6)
    h.driver.advance_wall_clock_time(EMIT_MS)
    assert dict((k, v) for k, v, _ in h.out(value_serde=L)) == {"a": 3, "b": 2, "c": 2}
    assert h.driver.get_key_value_store("counts").get("a") == 3  # a plain (untimestamped) store
    assert "counts (key-value, changelog: <application_id>-counts-changelog)" in str(
        h.topology.describe())


def test_store_builder_logging_and_caching_flags() -> None:
    store = Stores.key_value_store_builder(Stores.in_memory_key_value_store("counts"))
    assert (store.build().logging, store.build().caching) == (True, False)  # Kafka's defaults
    spec = store.with_logging_disabled().with_caching_enabled().build()
    assert (spec.logging, spec.caching, spec.timestamped) == (False, True, False)
    assert Stores.timestamped_key_value_store_builder(
        Stores.persistent_timestamped_key_value_store("t")).build().timestamped
    assert "counts (key-value, no changelog)" in str(counting_builder(store).build().describe())


def test_process_may_change_keys_so_grouping_repartitions(harness) -> None:
    class ByCountry(Processor):
        def process(self, record: Record) -> None:
            self.context.forward(record.with_key(record.value["country"]))

    b = StreamsBuilder()
    b.stream("input").process(ByCountry).group_by_key().count().to_stream().to(
        "output", value_serde=L)
    h = harness(b)
    assert "-repartition" in str(h.topology.describe())
    inp = h.input()
    for user, country in [("u1", "fr"), ("u2", "de"), ("u3", "fr")]:
        inp.pipe_input(user, {"country": country}, 1)
    assert [(k, v) for k, v, _ in h.out(value_serde=L)] == [("fr", 1), ("de", 1), ("fr", 2)]


def test_process_sees_headers_and_record_metadata(harness) -> None:
    class Describe(Processor):
        def process(self, record: Record) -> None:
            ctx = self.context
            meta = {"topic": ctx.topic, "partition": ctx.partition, "offset": ctx.offset,
                    "headers": [[k, v.decode()] for k, v in record.headers]}
            self.context.forward(record.with_value(meta).with_headers(
                (*record.headers, ("seen", b"yes"))))

    b = StreamsBuilder()
    b.stream("input").process(Describe).to("output")
    h = harness(b)
    inp = h.input()
    inp.pipe_input("k", {}, 1, headers=[("trace", b"t1")])
    inp.pipe_input("k", {}, 2)
    records = h.output().read_records_to_list()
    assert [r.value for r in records] == [
        {"topic": "input", "partition": 0, "offset": 0, "headers": [["trace", "t1"]]},
        {"topic": "input", "partition": 0, "offset": 1, "headers": []},
    ]
    assert [tuple(r.headers) for r in records] == [
        (("trace", b"t1"), ("seen", b"yes")), (("seen", b"yes"),)]


class Tagger(FixedKeyProcessor):
    """Adds a running number per key, kept in the ``seq`` store."""

    def init(self, context: Any) -> None:
        super().init(context)
        self.seq = context.get_state_store("seq")

    def process(self, record: FixedKeyRecord) -> None:
        n = (self.seq.get(record.key) or 0) + 1
        self.seq.put(record.key, n)
        self.context.forward(record.with_value({**record.value, "seq": n}))


def test_process_values_keeps_keys_and_needs_no_repartition(harness) -> None:
    b = StreamsBuilder()
    b.add_state_store(Stores.key_value_store_builder(Stores.in_memory_key_value_store("seq")))
    tagged = b.stream("input").process_values(Tagger, "seq")
    tagged.to("output")
    tagged.group_by_key().count().to_stream().to("counts", value_serde=L)
    h = harness(b)
    assert "repartition" not in str(h.topology.describe())
    inp = h.input()
    for key in "aba":
        inp.pipe_input(key, {"x": key}, 3)
    assert h.out() == [("a", {"x": "a", "seq": 1}, 3), ("b", {"x": "b", "seq": 1}, 3),
                       ("a", {"x": "a", "seq": 2}, 3)]
    assert [(k, v) for k, v, _ in h.out("counts", L)] == [("a", 1), ("b", 1), ("a", 2)]


def test_operators_after_process_values_may_change_keys(harness) -> None:
    b = StreamsBuilder()
    b.add_state_store(Stores.key_value_store_builder(Stores.in_memory_key_value_store("seq")))
    (b.stream("input").process_values(Tagger, "seq")
     .select_key(lambda k, v: f"{k}-{v['seq']}").map_values(lambda v: v["seq"]).to("output"))
    h = harness(b)
    for key in "aa":
        h.input().pipe_input(key, {}, 1)
    assert [(k, v) for k, v, _ in h.out()] == [("a-1", 1), ("a-2", 2)]


@pytest.mark.parametrize("bad", ["new-key", "plain-record"])
def test_process_values_cannot_forward_another_key(harness, bad) -> None:
    class Rekey(FixedKeyProcessor):
        def process(self, record: FixedKeyRecord) -> None:
            if bad == "new-key":
                record = FixedKeyRecord("other", record.value, record.timestamp)
            else:
                record = Record(record.key, record.value, record.timestamp)
            self.context.forward(record)

    b = StreamsBuilder()
    b.stream("input").process_values(Rekey).to("output")
    h = harness(b, {"processing_exception_handler": "fail"})
    with pytest.raises(StreamsFailure) as failed:
        h.input().pipe_input("k", {}, 1)
    assert isinstance(failed.value.error, ValueError if bad == "new-key" else TypeError)
    assert "process_values()" in str(failed.value.error)
    with pytest.raises(TypeError, match="cannot change the key"):
        FixedKeyRecord("k", 1, 0).with_key("x")


def test_supplier_forms_and_the_stores_it_provides(harness) -> None:
    class Supplier:
        def __init__(self) -> None:
            self.store = Stores.key_value_store_builder(
                Stores.persistent_key_value_store("counts"), S, L)

        def get(self) -> Processor:
            return CountPerKey()

        def stores(self) -> list[Any]:
            return [self.store]

    b = StreamsBuilder()
    b.stream("input").process(Supplier()).to("output", value_serde=L)
    h = harness(b)
    h.input().pipe_input("a", {}, 1)
    h.driver.advance_wall_clock_time(EMIT_MS)
    assert h.out(value_serde=L) == [("a", 1, EMIT_MS)]
    b2 = StreamsBuilder()
    b2.add_state_store(Stores.key_value_store_builder(Stores.persistent_key_value_store("counts")))
    b2.stream("input").process(lambda: CountPerKey(), "counts")  # a callable works too
    assert "stores: [counts]" in str(b2.build().describe())


def test_bad_processor_arguments_fail_clearly() -> None:
    b = StreamsBuilder()
    s = b.stream("input")
    with pytest.raises(TypeError, match="not an instance"):
        s.process(CountPerKey())
    with pytest.raises(TypeError, match="store names must be strings"):
        s.process(CountPerKey, 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="StoreBuilder"):
        b.add_state_store("counts")  # type: ignore[arg-type]
    s.process(CountPerKey, "missing")
    with pytest.raises(TopologyError, match="unknown state store 'missing'"):
        b.build()

    one = CountPerKey()
    b2 = StreamsBuilder()
    b2.add_state_store(Stores.key_value_store_builder(Stores.persistent_key_value_store("counts")))
    b2.stream("input").process(lambda: one, "counts")
    topology = b2.build()
    factory = topology.nodes["KSTREAM-PROCESSOR-0000000001"].factory
    factory()
    with pytest.raises(ValueError, match="same processor instance"):
        factory()


def test_a_store_name_used_twice_is_refused() -> None:
    b = StreamsBuilder()
    b.add_state_store(Stores.key_value_store_builder(Stores.persistent_key_value_store("x")))
    with pytest.raises(ValueError, match="already added"):
        b.add_state_store(Stores.key_value_store_builder(Stores.persistent_key_value_store("x")))
    b.stream("input").group_by_key().count("x")  # a DSL store of the same name
    with pytest.raises(TopologyError, match="already declared"):
        b.build()
