"""Error handlers in the test driver: each handler x each action, as the runtime applies them."""

from __future__ import annotations

from typing import Any

import pytest

from streams_app import (
    ErrorAction,
    ErrorContext,
    ErrorKind,
    StreamsBuilder,
    StreamsFailure,
    Topology,
    TopologyTestDriver,
)
from streams_app.errors import (
    HEADER_EXCEPTION,
    HEADER_KIND,
    HEADER_MESSAGE,
    HEADER_OFFSET,
    HEADER_PARTITION,
    HEADER_STACKTRACE,
    HEADER_TIMESTAMP,
    HEADER_TOPIC,
)
from streams_app.serdes import BytesSerde, JsonSerde, StringSerde

S, J, B = StringSerde(), JsonSerde(), BytesSerde()
MIB = 1024 * 1024


def check(value: Any) -> Any:
    if value == "boom":
        raise ValueError("boom is not a value")
    return value


def topology() -> Topology:
    b = StreamsBuilder()
    b.stream("in", key_serde=S, value_serde=J).map_values(check, name="check") \
        .to("out", key_serde=S, value_serde=J)
    return b.build()


# The raw (key, value) that fails, per kind: malformed JSON, a processor raising, an output
# record larger than the default 1 MiB limit.
BAD = {
    ErrorKind.DESERIALIZATION: (b"k", b"{not json"),
    ErrorKind.PROCESSING: (b"k", b'"boom"'),
    ErrorKind.PRODUCTION: (b"k", J.serialize("x" * MIB)),
}
ERROR_CLASS = {
    ErrorKind.DESERIALIZATION: "SerdeError",
    ErrorKind.PROCESSING: "ValueError",
    ErrorKind.PRODUCTION: "RecordTooLargeError",
}


def run(driver: TopologyTestDriver, kind: ErrorKind) -> None:
    """Pipe a good record, the bad one (offset 1, with a header), and another good one."""
    inp = driver.create_input_topic("in", B, B)
    inp.pipe_input(b"a", b"1", timestamp=10)
    key, value = BAD[kind]
    inp.pipe_input(key, value, timestamp=20, headers=[("trace", b"t-1")])
    inp.pipe_input(b"c", b"3", timestamp=30)


def config(kind: ErrorKind, action: Any) -> dict[str, Any]:
    return {f"{kind.value}_exception_handler": action}


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_fail_raises_naming_topic_partition_offset_and_error(kind: ErrorKind) -> None:
    with TopologyTestDriver(topology(), config(kind, "fail")) as driver:
        with pytest.raises(StreamsFailure) as info:
            run(driver, kind)
        failure = info.value
        assert (failure.topic, failure.partition, failure.offset) == ("in", 0, 1)
        assert failure.context.kind is kind
        assert str(failure).startswith(f"{kind.value} error at in/0/1")
        assert ERROR_CLASS[kind] in str(failure)
        assert type(failure.error).__name__ == ERROR_CLASS[kind]
        out = driver.create_output_topic("out", S, J)
        assert out.read_key_values_to_list() == [("a", 1)]  # what came before is kept
        assert driver.create_output_topic(driver.dead_letter_topic).is_empty()


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_continue_skips_and_counts(kind: ErrorKind) -> None:
    with TopologyTestDriver(topology(), config(kind, "continue")) as driver:
        run(driver, kind)
        out = driver.create_output_topic("out", S, J)
        assert out.read_key_values_to_list() == [("a", 1), ("c", 3)]
        assert driver.create_output_topic(driver.dead_letter_topic).is_empty()
        assert driver.errors.skipped == {kind: 1}
        assert not driver.errors.dead_lettered


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_dead_letter_keeps_the_source_record_and_names_the_error(kind: ErrorKind) -> None:
    with TopologyTestDriver(topology(), config(kind, "dead_letter")) as driver:
        run(driver, kind)
        out = driver.create_output_topic("out", S, J)
        assert out.read_key_values_to_list() == [("a", 1), ("c", 3)]
        assert driver.dead_letter_topic == "dummy-topology-test-driver-app-id-dead-letter"
        (dead,) = driver.create_output_topic(driver.dead_letter_topic, B, B) \
            .read_records_to_list()
        assert (dead.key, dead.value) == BAD[kind]  # the source record's bytes (KIP-1034)
        assert dead.timestamp != 20  # stamped with the failure time, not the event time
        headers = dict(dead.headers)
        assert dead.headers[0] == ("trace", b"t-1")  # original headers first
        assert headers[HEADER_KIND] == kind.value.encode()
        assert headers[HEADER_EXCEPTION].decode().endswith(ERROR_CLASS[kind])
        assert headers[HEADER_MESSAGE]
        assert ERROR_CLASS[kind].encode() in headers[HEADER_STACKTRACE]
        assert (headers[HEADER_TOPIC], headers[HEADER_PARTITION], headers[HEADER_OFFSET]) == \
            (b"in", b"0", b"1")
        assert headers[HEADER_TIMESTAMP] == b"20"
        assert driver.errors.dead_lettered == {kind: 1}


def test_defaults_dead_letter_bad_input_and_fail_on_production() -> None:
    with TopologyTestDriver(topology()) as driver:
        run(driver, ErrorKind.DESERIALIZATION)
        run(driver, ErrorKind.PROCESSING)
        assert driver.errors.dead_lettered == {ErrorKind.DESERIALIZATION: 1,
                                               ErrorKind.PROCESSING: 1}
        with pytest.raises(StreamsFailure, match="production_exception_handler: fail"):
            run(driver, ErrorKind.PRODUCTION)


def test_a_processor_raising_for_one_key_leaves_the_others_processed() -> None:
    b = StreamsBuilder()
    counts = b.stream("in", key_serde=S, value_serde=J) \
        .peek(lambda k, v: 1 // (k != "bad"), name="picky").group_by_key().count("c")
    counts.to_stream().to("counts", key_serde=S, value_serde=J)
    with TopologyTestDriver(b.build()) as driver:
        inp = driver.create_input_topic("in", S, J)
        for key in ["a", "bad", "b", "a", "bad"]:
            inp.pipe_input(key, 0, timestamp=1)
        counts = driver.create_output_topic("counts", S, J)
        assert counts.read_key_values_to_map() == {"a": 2, "b": 1}
        dead = driver.create_output_topic(driver.dead_letter_topic, S, J).read_records_to_list()
        assert [d.key for d in dead] == ["bad", "bad"]
        assert [dict(d.headers)[HEADER_OFFSET] for d in dead] == [b"1", b"4"]
        assert driver.get_key_value_store("c").get("bad") is None


def test_malformed_json_is_dead_lettered_with_its_bytes() -> None:
    with TopologyTestDriver(topology()) as driver:
        driver.create_input_topic("in", S, B).pipe_input("k", b'{"a": 1', timestamp=5)
        (dead,) = driver.create_output_topic(driver.dead_letter_topic, S, B) \
            .read_records_to_list()
        assert (dead.key, dead.value) == ("k", b'{"a": 1')
        assert dict(dead.headers)[HEADER_EXCEPTION] == b"streams_app.serdes.SerdeError"
        assert driver.create_output_topic("out").is_empty()


def test_output_size_limit_per_topic() -> None:
    limits = {"out": 64}
    with TopologyTestDriver(topology(), config(ErrorKind.PRODUCTION, "continue"),
                            max_record_bytes=limits) as driver:
        inp = driver.create_input_topic("in", S, J)
        inp.pipe_input("k", "x" * 61, timestamp=1)  # 1 + 63 bytes: at the limit
        inp.pipe_input("k", "x" * 62, timestamp=2)  # 65 bytes: too large
        inp.pipe_input("k", "x", timestamp=3, headers=[("h", b"y" * 60)])  # headers count
        assert driver.create_output_topic("out", S, J).read_values_to_list() == ["x" * 61]
        assert driver.errors.skipped == {ErrorKind.PRODUCTION: 2}


def test_a_too_large_record_fails_by_default_with_its_size_and_limit() -> None:
    with TopologyTestDriver(topology()) as driver:
        with pytest.raises(StreamsFailure, match=r"RecordTooLargeError: record of 1048\d+ bytes "
                           r"for out is larger than its limit of 1048576 bytes"):
            driver.create_input_topic("in", S, J).pipe_input("k", "x" * MIB, timestamp=1)


def test_a_user_defined_handler_sees_the_context_and_chooses() -> None:
    seen: list[tuple[ErrorContext, BaseException]] = []

    def handler(context: ErrorContext, error: BaseException) -> ErrorAction:
        seen.append((context, error))
        return ErrorAction.CONTINUE if context.key == b"a" else ErrorAction.DEAD_LETTER

    with TopologyTestDriver(topology(), {"processing_exception_handler": handler}) as driver:
        inp = driver.create_input_topic("in", S, J)
        inp.pipe_input("a", "boom", timestamp=7, headers=[("h", b"1")])
        inp.pipe_input("b", "boom", timestamp=8)
        assert [c for c, _ in seen] == [
            ErrorContext(ErrorKind.PROCESSING, "in", 0, 0, 7, (("h", b"1"),), b"a", b'"boom"',
                         "check", "0_0"),
            ErrorContext(ErrorKind.PROCESSING, "in", 0, 1, 8, (), b"b", b'"boom"', "check",
                         "0_0"),
        ]
        assert all(isinstance(e, ValueError) for _, e in seen)
        dead = driver.create_output_topic(driver.dead_letter_topic, S, J).read_records_to_list()
        assert [d.key for d in dead] == ["b"]
        assert driver.errors.skipped == {ErrorKind.PROCESSING: 1}


@pytest.mark.parametrize(
    ("handler", "reason"),
    [
        (lambda c, e: 1 / 0, "the handler raised ZeroDivisionError"),
        (lambda c, e: None, "the handler returned None, not an action"),
    ],
)
def test_a_broken_user_handler_fails_the_job(handler: Any, reason: str) -> None:
    with TopologyTestDriver(topology(), {"processing_exception_handler": handler}) as driver:
        with pytest.raises(StreamsFailure, match=reason):
            driver.create_input_topic("in", S, J).pipe_input("a", "boom", timestamp=1)


def test_errors_after_a_repartition_name_the_repartition_topic() -> None:
    b = StreamsBuilder()
    b.stream("in", key_serde=S, value_serde=J).select_key(lambda k, v: "g") \
        .group_by_key().reduce(lambda agg, v: agg["missing"], "r")
    with TopologyTestDriver(b.build(), {"processing_exception_handler": "fail"}) as driver:
        inp = driver.create_input_topic("in", S, J)
        inp.pipe_input("k", {"n": 1}, timestamp=1)
        with pytest.raises(StreamsFailure) as info:
            inp.pipe_input("k", {"n": 1}, timestamp=2)  # same group: the reducer runs, raises
        assert info.value.topic == "dummy-topology-test-driver-app-id-r-repartition"
        assert info.value.context.kind is ErrorKind.PROCESSING
        assert info.value.context.node.startswith("KSTREAM-REDUCE-")


def test_the_context_names_the_node_that_raised_not_its_parent() -> None:
    b = StreamsBuilder()
    b.stream("in", key_serde=S, value_serde=J).map_values(str, name="first") \
        .peek(lambda k, v: check(v), name="second").to("out")
    with TopologyTestDriver(b.build(), {"processing_exception_handler": "fail"}) as driver:
        with pytest.raises(StreamsFailure, match="in second: ValueError") as info:
            driver.create_input_topic("in", S, J).pipe_input("k", "boom", timestamp=1)
        assert info.value.context.node == "second"
