"""TopologyTestDriver API, config validation, Processor API topologies and punctuation."""

from __future__ import annotations

from typing import Any

import pytest

from streams_app import (
    ConfigError,
    Processor,
    PunctuationType,
    Record,
    StreamsBuilder,
    TestRecord,
    Topology,
    TopologyTestDriver,
)
from streams_app.dsl.topology import TopologyError
from streams_app.errors import StreamsFailure
from streams_app.runtime.test_driver import NoSuchElementError
from streams_app.serdes import JsonSerde, LongSerde, SerdeError, StringSerde
from streams_app.state import StoreSpec

S, J = StringSerde(), JsonSerde()


def passthrough_topology() -> Topology:
    b = StreamsBuilder()
    b.stream("in", key_serde=S, value_serde=J).to("out")
    return b.build()


def test_output_topic_reading_api() -> None:
    with TopologyTestDriver(passthrough_topology()) as driver:
        inp = driver.create_input_topic("in", S, J, start_timestamp_ms=100, auto_advance_ms=10)
        out = driver.create_output_topic("out", S, J)
        assert out.is_empty()
        inp.pipe_input("a", 1)
        inp.pipe_input("b", 2, headers=[("h", b"v")])
        inp.pipe_record_list([TestRecord("a", 3, 500), ("c", None, 600)])
        assert out.get_queue_size() == 4
        assert out.read_value() == 1
        assert out.read_record() == TestRecord("b", 2, 110, (("h", b"v"),))
        assert out.read_key_values_to_map() == {"a": 3, "c": None}
        with pytest.raises(NoSuchElementError, match="Empty topic: out"):
            out.read_value()
        inp.pipe_value(7, timestamp=1)
        assert out.read_key_value() == (None, 7)


def test_values_cross_the_topic_boundary_as_bytes() -> None:
    with TopologyTestDriver(passthrough_topology()) as driver:
        inp = driver.create_input_topic("in", S, J)
        with pytest.raises(SerdeError, match="cannot encode set"):
            inp.pipe_input("a", {1, 2}, timestamp=0)
        inp.pipe_input("a", {"x": 1}, timestamp=0)
        raw = driver.create_output_topic("out", S, StringSerde()).read_value()
        assert raw == '{"x":1}'


def test_serde_bugs_at_sinks_surface_in_tests() -> None:
    # a sink's serializer error is a production error: the default handler (fail) raises
    b = StreamsBuilder()
    b.stream("in", key_serde=S, value_serde=J).map_values(set).to("out")
    with TopologyTestDriver(b.build()) as driver:
        with pytest.raises(StreamsFailure, match="cannot encode set") as info:
            driver.create_input_topic("in", S, J).pipe_input("a", [1], timestamp=0)
        assert isinstance(info.value.error, SerdeError)


def test_unknown_topics_and_closed_driver() -> None:
    driver = TopologyTestDriver(passthrough_topology())
    with pytest.raises(ValueError, match="Unknown topic: nope"):
        driver.create_input_topic("nope")
    inp = driver.create_input_topic("in", S, J)
    driver.close()
    driver.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        inp.pipe_input("a", 1, timestamp=0)


def test_bad_config_names_the_setting() -> None:
    topo = passthrough_topology()
    with pytest.raises(ConfigError, match="cache_max_entries"):
        TopologyTestDriver(topo, {"cache.max.entries": -1})
    with pytest.raises(ConfigError, match="application_id"):
        TopologyTestDriver(topo, {"application.id": "bad id!"})
    with pytest.raises(ConfigError, match="unknown setting 'bogus'"):
        TopologyTestDriver(topo, {"bogus": 1})
    with pytest.raises(ValueError, match="default_value_serde"):
        TopologyTestDriver(topo, {"default.value.serde": "yaml"})


def test_negative_timestamps_are_rejected() -> None:
    # an invalid timestamp is a deserialization error; its default handler dead-letters it
    fail = {"deserialization_exception_handler": "fail"}
    with TopologyTestDriver(passthrough_topology(), fail) as driver:
        with pytest.raises(RuntimeError, match="invalid \\(negative\\) timestamp"):
            driver.create_input_topic("in", S, J).pipe_input("a", 1, timestamp=-5)


class Summer(Processor):
    """Processor API example: sums per key, emits totals on punctuation."""

    def init(self, context: Any) -> None:
        super().init(context)
        self.store = context.get_state_store("sums")
        self.fired: list[tuple[str, int]] = []
        context.schedule(10, PunctuationType.STREAM_TIME, self.emit)
        context.schedule(1000, PunctuationType.WALL_CLOCK_TIME,
                         lambda now: self.fired.append(("wall", now)))
        SEEN.append(self)

    def process(self, record: Record) -> None:
        self.store.put(record.key, (self.store.get(record.key) or 0) + record.value)
        assert self.context.topic == "nums" and self.context.offset is not None

    def emit(self, now: int) -> None:
        self.fired.append(("stream", now))
        for key, total in self.store.all():
            self.context.forward(Record(key, total, now), "totals-sink")


SEEN: list[Summer] = []


def test_processor_api_topology_with_punctuation() -> None:
    SEEN.clear()
    topo = Topology()
    topo.add_source("src", "nums", key_serde=S, value_serde=J)
    topo.add_processor("sum", Summer, "src")
    topo.add_state_store(StoreSpec("sums", key_serde=S, timestamped=False), "sum")
    topo.add_sink("totals-sink", "totals", "sum", key_serde=S, value_serde=LongSerde())
    with TopologyTestDriver(topo, {"cache_max_entries": 0}) as driver:
        nums = driver.create_input_topic("nums", S, J)
        totals = driver.create_output_topic("totals", S, LongSerde())
        nums.pipe_input("a", 1, timestamp=3)  # first stream-time punctuation fires at 3
        nums.pipe_input("a", 2, timestamp=9)  # next is due at 10
        nums.pipe_input("b", 5, timestamp=25)  # fires once for the missed 10 and 20
        assert totals.read_records_to_list() == [
            TestRecord("a", 1, 3), TestRecord("a", 3, 25), TestRecord("b", 5, 25),
        ]
        driver.advance_wall_clock_time(999)
        assert SEEN[0].fired == [("stream", 3), ("stream", 25)]
        driver.advance_wall_clock_time(1)
        assert SEEN[0].fired[-1] == ("wall", 1000)
        assert driver.get_key_value_store("sums").get("b") == 5
        changelog = driver.create_output_topic("dummy-topology-test-driver-app-id-sums-changelog",
                                               S, J)
        assert changelog.read_key_values_to_list() == [("a", 1), ("a", 3), ("b", 5)]


def test_topology_validation() -> None:
    topo = Topology().add_source("s", "t")
    with pytest.raises(TopologyError, match="unknown parent"):
        topo.add_processor("p", Processor, "missing")
    with pytest.raises(TopologyError, match="already read"):
        topo.add_source("s2", "t")
    with pytest.raises(TopologyError, match="already used"):
        topo.add_source("s", "u")


def test_store_access_requires_connection() -> None:
    class Sneaky(Processor):
        def init(self, context: Any) -> None:
            context.get_state_store("other")

    topo = Topology().add_source("s", "t").add_processor("p", Sneaky, "s") \
        .add_processor("q", Processor, "s")
    topo.add_state_store(StoreSpec("other"), "q")
    with pytest.raises(RuntimeError, match="Processor p has no access to StateStore other"):
        TopologyTestDriver(topo)


def test_store_getters_by_kind() -> None:
    b = StreamsBuilder()
    b.stream("in", key_serde=S, value_serde=J).group_by_key().count("c")
    with TopologyTestDriver(b.build()) as driver:
        assert driver.get_key_value_store("c") is not None
        assert driver.get_window_store("c") is None
        assert driver.get_session_store("c") is None
        assert driver.get_key_value_store("missing") is None
        assert set(driver.get_all_state_stores()) == {"c"}
