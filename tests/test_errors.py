"""streams_app.errors and StreamTask's error path, as a runtime drives them (no broker)."""

from __future__ import annotations

from typing import Any

import pytest

from streams_app import (
    ConfigError,
    ErrorAction,
    ErrorContext,
    ErrorHandlers,
    ErrorKind,
    Processor,
    PunctuationType,
    Record,
    StreamsBuilder,
    StreamsConfig,
    StreamsFailure,
    Topology,
    TopologyTestDriver,
)
from streams_app.errors import (
    HEADER_OFFSET,
    HEADER_TOPIC,
    dead_letter_record,
    handler_config,
    parse_handler,
    record_size_limit,
)
from streams_app.runtime.task import InputRecord, StreamTask
from streams_app.serdes import JsonSerde, StringSerde
from streams_app.settings import Settings

S, J = StringSerde(), JsonSerde()


def task_for(topology: Topology, **config: Any) -> StreamTask:
    (sub,) = topology.subtopologies()
    cfg = StreamsConfig.from_mapping({"application_id": "app", "cache_max_entries": 0, **config})
    return StreamTask(topology, sub, cfg, partition=3)


def passthrough() -> Topology:
    b = StreamsBuilder()
    b.stream("in", key_serde=S, value_serde=J).to("out", key_serde=S, value_serde=J)
    return b.build()


def batch(*values: bytes) -> list[InputRecord]:
    return [InputRecord(b"k", v, 100 + i, (), 50 + i) for i, v in enumerate(values)]


def test_fail_stops_the_batch_at_the_failing_record() -> None:
    task = task_for(passthrough(), deserialization_exception_handler="fail")
    with pytest.raises(StreamsFailure) as info:
        task.process_records("in", batch(b"1", b"2", b"{bad", b"4"))
    failure = info.value
    assert failure.processed == 2  # the runtime commits offsets 50 and 51, not 52
    assert (failure.topic, failure.partition, failure.offset) == ("in", 3, 52)
    assert str(failure).startswith("deserialization error at in/3/52 in KSTREAM-SOURCE-")
    assert [J.deserialize(v) for _, _, v, _, _ in task.drain_output()] == [1, 2]
    task.process_records("in", batch(b"5"))  # the task stays usable (a runtime stops anyway)
    assert len(task.drain_output()) == 1


def test_dead_letters_join_the_output_in_order() -> None:
    task = task_for(passthrough())
    task.process_records("in", batch(b"1", b"{bad", b"3"))
    out = task.drain_output()
    assert [t for t, *_ in out] == ["out", "app-dead-letter", "out"]
    assert dict(out[1][4])[HEADER_OFFSET] == b"51"
    assert task.errors.dead_lettered == {ErrorKind.DESERIALIZATION: 1}


def test_an_extractor_that_raises_or_a_negative_timestamp_is_a_deserialization_error() -> None:
    def extractor(record: Record, partition_time: int) -> int:
        if record.value == "raise":
            raise ValueError("no time in it")
        return -1 if record.value == "negative" else record.timestamp

    task = task_for(passthrough(), default_timestamp_extractor=extractor,
                    deserialization_exception_handler="continue")
    task.process_records("in", batch(b'"raise"', b'"negative"', b'"ok"'))
    assert task.errors.skipped == {ErrorKind.DESERIALIZATION: 2}
    assert len(task.drain_output()) == 1


class Punctuating(Processor):
    """Raises from a stream-time punctuator at 200, after the record that triggers it."""

    def init(self, context: Any) -> None:
        super().init(context)
        context.schedule(200, PunctuationType.STREAM_TIME, self.tick)

    def tick(self, now: int) -> None:
        if now >= 200:
            raise RuntimeError("tick failed")

    def process(self, record: Record) -> None:
        self.context.forward(record)


def punctuating() -> Topology:
    topo = Topology().add_source("src", "in", key_serde=S, value_serde=J)
    topo.add_processor("p", Punctuating, "src")
    return topo.add_sink("sink", "out", "p", key_serde=S, value_serde=J)


def test_a_punctuator_failure_has_no_source_record_and_counts_the_record_done() -> None:
    task = task_for(punctuating(), processing_exception_handler="fail")
    records = [InputRecord(b"k", b"1", 100, (), 7), InputRecord(b"k", b"2", 250, (), 8)]
    with pytest.raises(StreamsFailure) as info:
        task.process_records("in", records)
    assert info.value.processed == 2  # the record at 250 was processed before the tick
    assert info.value.topic is None and info.value.offset is None
    assert "no source record (task 0_3)" in str(info.value)


def test_production_errors_outside_a_batch_and_from_the_broker() -> None:
    handlers = ErrorHandlers(production="dead_letter", dead_letter_topic="dlq")
    topic, key, value, _ts, headers = handlers.production_failed("out", PermissionError("denied"))
    assert (topic, key, value) == ("dlq", None, None)
    assert dict(headers)[HEADER_TOPIC] == b""
    assert handlers.dead_lettered == {ErrorKind.PRODUCTION: 1}
    assert ErrorHandlers(production="continue").production_failed("out", OSError()) is None
    with pytest.raises(StreamsFailure, match=r"^production error at no source record \(writing to "
                       r"out\): PermissionError: denied \(production_exception_handler: fail\)$"):
        ErrorHandlers().production_failed("out", PermissionError("denied"))


def test_the_runtime_sets_a_sink_topics_limit() -> None:
    task = task_for(passthrough(), production_exception_handler="continue")
    task.set_max_record_bytes("out", 7)
    task.process_records("in", batch(b"123456", b"1234567"))  # 1 + 6 bytes fits, 1 + 7 not
    assert len(task.drain_output()) == 1
    assert task.errors.skipped == {ErrorKind.PRODUCTION: 1}


def test_dead_letter_record_layout() -> None:
    context = ErrorContext(ErrorKind.PROCESSING, "in", 2, 9, 123, [("h", b"v")], b"k", b"v",
                           "node", "0_2")
    topic, key, value, ts, headers = dead_letter_record("dlq", context, KeyError("x"), 5000)
    assert (topic, key, value, ts) == ("dlq", b"k", b"v", 5000)
    assert [name for name, _ in headers] == [
        "h", "__streams.errors.kind", "__streams.errors.exception", "__streams.errors.message",
        "__streams.errors.stacktrace", "__streams.errors.topic", "__streams.errors.partition",
        "__streams.errors.offset", "__streams.errors.timestamp",
    ]
    assert dict(headers)["__streams.errors.timestamp"] == b"123"


def test_parse_handler_and_config_validation() -> None:
    assert parse_handler("Dead-Letter") is ErrorAction.DEAD_LETTER
    assert parse_handler(ErrorAction.FAIL) is ErrorAction.FAIL
    with pytest.raises(ValueError, match="'skip' is not one of fail, continue, dead_letter"):
        parse_handler("skip")
    with pytest.raises(ConfigError, match="^processing_exception_handler: 'skip' is not one of"):
        StreamsConfig.from_mapping({"processing.exception.handler": "skip"})
    cfg = StreamsConfig.from_mapping({"production_exception_handler": "continue"})
    assert cfg.production_exception_handler is ErrorAction.CONTINUE
    handlers = ErrorHandlers.from_config(cfg)
    assert handlers.dead_letter_topic == "dummy-topology-test-driver-app-id-dead-letter"
    assert handlers.handlers == {ErrorKind.DESERIALIZATION: ErrorAction.DEAD_LETTER,
                                 ErrorKind.PROCESSING: ErrorAction.DEAD_LETTER,
                                 ErrorKind.PRODUCTION: ErrorAction.CONTINUE}
    assert ErrorHandlers.from_config(cfg, "mine").dead_letter_topic == "mine"


def test_record_size_limit() -> None:
    assert record_size_limit(None, None) == 1024 * 1024
    assert record_size_limit(2_000_000, 1_000_000) == 1_000_000
    assert record_size_limit(500, None) == 500


def test_handler_config_precedence_arguments_then_job_config_then_env() -> None:
    settings = Settings.from_env({"STREAMS_PRODUCTION_EXCEPTION_HANDLER": "continue",
                                  "STREAMS_PROCESSING_EXCEPTION_HANDLER": "continue"})
    job = {"processing_exception_handler": "fail", "deserialization_exception_handler": "fail"}
    assert handler_config(settings, job, deserialization_exception_handler="continue",
                          processing_exception_handler=None) == {
        "deserialization_exception_handler": "continue",  # the argument
        "processing_exception_handler": "fail",  # the job's config
        "production_exception_handler": "continue",  # the env
    }
    with pytest.raises(TypeError, match="unknown handler argument"):
        handler_config(settings, None, punctuation_exception_handler="fail")


class Ticking(Processor):
    """Two wall-clock punctuations: the first raises, the second counts its runs."""

    def init(self, context: Any) -> None:
        super().init(context)
        self.ticks = 0
        context.schedule(100, PunctuationType.WALL_CLOCK_TIME, self.broken)
        context.schedule(100, PunctuationType.WALL_CLOCK_TIME, self.tick)
        TICKING.append(self)

    def broken(self, now: int) -> None:
        raise RuntimeError(f"broken at {now}")

    def tick(self, now: int) -> None:
        self.ticks += 1

    def process(self, record: Record) -> None:
        self.context.forward(record)


TICKING: list[Ticking] = []


@pytest.mark.parametrize("action", ["dead_letter", "continue", "fail"])
def test_a_wall_clock_punctuator_failure_goes_to_the_processing_handler(action: str) -> None:
    TICKING.clear()
    topo = Topology().add_source("src", "in", key_serde=S, value_serde=J)
    topo.add_processor("ticking", Ticking, "src")
    topo.add_sink("sink", "out", "ticking", key_serde=S, value_serde=J)
    with TopologyTestDriver(topo, {"processing_exception_handler": action}) as driver:
        if action == "fail":
            with pytest.raises(StreamsFailure, match=r"^processing error at no source record "
                               r"\(task 0_0\) in ticking: RuntimeError: broken at 100"):
                driver.advance_wall_clock_time(100)
            return
        driver.advance_wall_clock_time(100)
        assert TICKING[0].ticks == 1  # the other punctuation still ran
        dead = driver.create_output_topic(driver.dead_letter_topic).read_records_to_list()
        if action == "continue":
            assert dead == [] and driver.errors.skipped == {ErrorKind.PROCESSING: 1}
            return
        ((key, value),) = [(d.key, d.value) for d in dead]
        assert (key, value) == (None, None)
        assert dict(dead[0].headers)[HEADER_TOPIC] == b""
