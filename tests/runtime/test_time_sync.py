"""The partition group of a multi-input task: Kafka Streams' choice and idling (KIP-695)."""

from __future__ import annotations

from typing import NamedTuple

from faust.types import TP

from streams_app import StreamsBuilder, StreamsConfig
from streams_app.runtime.task import InputRecord, StreamTask
from streams_app.runtime.time_sync import Done, PartitionGroup, TimeSync
from streams_app.serdes import JsonSerde, StringSerde

A, B, C = TP("a", 0), TP("b", 0), TP("c", 0)
S, J = StringSerde(), JsonSerde()


class Rec(NamedTuple):
    offset: int
    timestamp: int


def recs(*stamps: int, first: int = 0) -> list[Rec]:
    return [Rec(first + i, ts) for i, ts in enumerate(stamps)]


def order(runs) -> list[tuple[str, int]]:
    """(topic, timestamp) of every record taken, in order."""
    return [(tp.topic, r.timestamp) for tp, run in runs for r in run]


def group(max_idle_ms: int, lags: dict[TP, int | None] | None = None,
          partitions=(A, B)) -> PartitionGroup:
    lags = lags if lags is not None else {}
    return PartitionGroup(partitions, max_idle_ms, lambda tp: lags.get(tp, 0))


def test_smallest_head_timestamp_goes_first_in_runs() -> None:
    g = group(0)
    g.add(A, recs(10, 30, 31, 50))
    g.add(B, recs(5, 20, 40))
    runs = g.take(0)
    assert order(runs) == [("b", 5), ("a", 10), ("b", 20), ("a", 30), ("a", 31), ("b", 40),
                           ("a", 50)]
    # consecutive records of one partition leave together (one process call each)
    assert [len(run) for _, run in runs] == [1, 1, 1, 2, 1, 1]
    assert g.buffered == 0


def test_equal_timestamps_alternate_like_kafkas_priority_queue() -> None:
    # Kafka re-queues a partition behind those with the same head timestamp after each record
    g = group(-1)
    g.add(A, recs(7, 7, 7))
    g.add(B, recs(7, 7))
    assert order(g.take(0)) == [("a", 7), ("b", 7), ("a", 7), ("b", 7), ("a", 7)]


def test_an_empty_partition_with_data_on_the_broker_is_waited_for_even_at_zero() -> None:
    lags: dict[TP, int | None] = {B: 3}
    g = group(0, lags)
    g.add(A, recs(10, 20))
    assert g.take(0) == [] and g.buffered == 2  # B has 3 records on the broker
    lags[B] = None  # not known yet (never fetched): wait as well
    assert g.take(0) == []
    g.add(B, recs(15))
    lags[B] = 0
    assert order(g.take(0)) == [("a", 10), ("b", 15), ("a", 20)]


def test_zero_idle_processes_at_once_when_the_empty_partition_has_nothing_pending() -> None:
    g = group(0, {B: 0})
    g.add(A, recs(10, 20))
    assert order(g.take(1000)) == [("a", 10), ("a", 20)]


def test_positive_idle_waits_until_the_deadline_then_processes_without_it() -> None:
    g = group(100, {B: 0})
    g.add(A, recs(10, 20))
    assert g.take(1000) == []  # idling starts now: deadline 1100
    assert g.next_deadline() == 1100
    assert g.take(1099) == []
    assert order(g.take(1100)) == [("a", 10), ("a", 20)]
    assert g.next_deadline() is None  # nothing buffered: nothing to wait for


def test_data_arriving_while_idling_ends_the_wait_and_keeps_order() -> None:
    g = group(100, {B: 0})
    g.add(A, recs(10, 20))
    assert g.take(1000) == []
    g.add(B, recs(5))
    # B drained again: before A's next record the task idles anew, from 1001
    assert order(g.take(1001)) == [("b", 5)]
    assert g.take(1100) == [] and g.buffered == 2
    assert order(g.take(1101)) == [("a", 10), ("a", 20)]


def test_a_partition_draining_mid_take_stops_when_it_has_more_on_the_broker() -> None:
    lags: dict[TP, int | None] = {A: 0, B: 0}
    g = group(0, lags)
    g.add(A, recs(10, 40))
    g.add(B, recs(20))
    lags[B] = 5  # B's fetch brought one record, more are on the broker
    assert order(g.take(0)) == [("a", 10), ("b", 20)]  # stops: B is empty with lag 5
    g.add(B, recs(30, first=1))
    lags[B] = 0
    assert order(g.take(0)) == [("b", 30), ("a", 40)]


def test_minus_one_never_waits() -> None:
    g = group(-1, {B: 7, C: None}, partitions=(A, B, C))
    g.add(A, recs(10))
    assert order(g.take(0)) == [("a", 10)]


def test_no_buffered_records_nothing_to_take() -> None:
    g = group(0)
    assert g.take(0) == [] and not g.ready(0)  # nothing buffered anywhere


async def test_time_sync_handler_processes_ready_runs_and_pauses_full_partitions() -> None:
    paused: list[tuple[TP, bool]] = []
    lags: dict[TP, int | None] = {B: None}  # B never fetched yet
    sync = TimeSync(0, lambda tp: lags.get(tp, 0), lambda tp, p: paused.append((tp, p)),
                    buffered_per_partition=2)
    seen: list[list[tuple[str, int]]] = []

    async def process(partition: int, runs) -> dict[TP, Done]:
        assert partition == 0
        seen.append(order(runs))
        return {runs[-1][0]: Done(0, 0, 1)}

    handle = sync.handler(1, ["a", "b"], process)
    assert await handle(A, recs(10, 30, 50)) == {}  # nothing of A before B is known
    assert paused == [(A, True)]  # 3 buffered > 2: A stops fetching
    assert sync.waiting() == []
    lags[B] = 0
    assert sync.waiting() == [A]  # B's lag is known now: the group may go
    assert await handle(B, recs(20, first=7)) == {A: Done(0, 0, 1)}  # what process said
    assert seen == [[("a", 10), ("b", 20), ("a", 30), ("a", 50)]]
    assert paused == [(A, True), (A, False)]  # drained: fetching again
    assert sync.waiting() == []
    lags[B] = 4
    assert await handle(A, recs(60, 70, 80, first=3)) == {}  # waits for B's 4 records
    assert paused[-1] == (A, True)
    sync.revoked({B})
    assert sync.groups == {}
    assert paused[-1] == (A, False)  # A stays assigned: its group is gone, it fetches again


async def test_a_partition_of_the_same_fetch_is_waited_for_until_buffered() -> None:
    # both batches came in one fetch: the consumer shows no lag for B any more, but B's
    # records are not buffered until its own handler call (Kafka buffers a whole poll first)
    sync = TimeSync(0, lambda tp: 0, lambda tp, p: None)
    seen: list[list[tuple[str, int]]] = []

    async def process(partition: int, runs) -> dict[TP, Done]:
        seen.append(order(runs))
        return {}

    handle = sync.handler(1, ["a", "b"], process)
    sync.fetched([A, B])
    await handle(A, recs(10, 30))
    assert seen == []
    await handle(B, recs(20))
    assert seen == [[("a", 10), ("b", 20), ("a", 30)]]


def test_a_timestamp_extractors_times_order_the_partitions() -> None:
    g = group(0)
    g.add(A, recs(1, 2), stamps=[30, 10])  # as extracted: what Kafka Streams orders by
    g.add(B, recs(20))
    # by own timestamps a would go first (1, 2 < 20); by extracted ones b's 20 precedes a's 30
    assert [(tp.topic, r.offset) for tp, run in g.take(0) for r in run] == [
        ("b", 0), ("a", 0), ("a", 1)]


def test_task_gives_extracted_times_and_none_without_an_extractor() -> None:
    b = StreamsBuilder()
    b.stream("plain", key_serde=S, value_serde=J).merge(
        b.stream("stamped", key_serde=S, value_serde=J,
                 timestamp_extractor=lambda rec, partition_time: rec.value["ts"])).to("out")
    topo = b.build()
    (sub,) = topo.subtopologies()
    task = StreamTask(topo, sub, StreamsConfig(application_id="app"))
    raw = [InputRecord(b"k", J.serialize({"ts": 500}), 7, (), 0),
           InputRecord(b"k", b"not json", 8, (), 1)]
    assert task.source_timestamps("plain", raw) is None
    assert task.source_timestamps("stamped", raw) == [500, 8]  # unreadable: its own time


async def test_hand_out_adds_an_empty_batch_for_groups_that_may_go_on() -> None:
    lags: dict[TP, int | None] = {B: 2}
    sync = TimeSync(0, lambda tp: lags.get(tp, 0), lambda tp, p: None)
    seen: list[list[tuple[str, int]]] = []

    async def process(partition: int, runs) -> dict[TP, Done]:
        seen.append(order(runs))
        return {}

    handle = sync.handler(1, ["a", "b"], process)
    fetched = {A: recs(10)}
    assert sync.hand_out(fetched) is fetched  # nothing buffered: the fetch as it came
    await handle(A, fetched[A])
    assert seen == [] and sync.hand_out({}) == {}  # B's records are still on the broker
    lags[B] = 0  # they were compacted away, say: nothing to wait for any more
    other = TP("x", 3)
    assert sync.hand_out({other: recs(1)}) == {other: recs(1), A: []}
    await handle(A, [])
    assert seen == [[("a", 10)]]
