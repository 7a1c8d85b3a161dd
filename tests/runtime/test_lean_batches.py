"""Lean records a batch at a time: the same records and fetch positions as aiokafka's own
record-by-record path, on record batches built in memory (no broker)."""

from __future__ import annotations

import gc
import struct
from typing import Any

import pytest
from aiokafka.consumer import fetcher
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.record.memory_records import MemoryRecords
from aiokafka.structs import TopicPartition

from streams_app.runtime import faust_compat
from streams_app.runtime.lean_records import BatchedRecords, LeanConsumerRecord, install

TP = TopicPartition("rides", 3)
# three record batches at offsets 10, 14 and 20; the second ends with a gap (offsets 14-17
# used, the batch claims up to 19, as a compacted batch does)
BATCHES = [(10, [0, 1, 2, 3]), (14, [0, 1, 2, 3], 5), (20, [0, 1, 2])]


def _buffer() -> bytes:
    out = bytearray()
    for base, deltas, *last in BATCHES:
        builder = DefaultRecordBatchBuilder(2, 0, 0, -1, -1, -1, 1 << 20)
        for d in deltas:
            headers = [("h", b"%d" % d)] if d % 2 else []
            builder.append(d, 1_000 + base + d, None if d == 2 else b"k%d" % (base + d),
                           b"v%d" % (base + d), headers)
        raw = builder.build()
        raw[0:8] = struct.pack(">q", base)
        if last:  # compaction removed the batch's last records; it keeps its last offset
            raw[23:27] = struct.pack(">i", last[0])  # lastOffsetDelta (CRCs are not checked)
        out += raw
    return bytes(out)


def _records(fetch_offset: int) -> Any:
    return fetcher.PartitionRecords(TP, MemoryRecords(_buffer()), [], fetch_offset, None,
                                    None, False, 0)


def _reference(fetch_offset: int) -> tuple[list[tuple], list[int], int]:
    """aiokafka's own generator: fields of each record, position after each, final one."""
    part = _records(fetch_offset)
    gen = faust_compat._ORIGINAL_UNPACK(part)
    fields, positions = [], []
    for r in gen:
        fields.append((r.topic, r.partition, r.offset, r.timestamp, r.timestamp_type, r.key,
                       r.value, r.checksum, r.headers))
        positions.append(part.next_fetch_offset)
    return fields, positions, part.next_fetch_offset


@pytest.fixture(autouse=True)
def _lean() -> None:
    install()


# a broker's response starts at the batch holding the fetch offset; later offsets only
# check that aiokafka's rules (a skipped batch moves the position to its end) are kept
@pytest.mark.parametrize("fetch_offset", [10, 12, 14, 16, 20, 22, 23])
def test_one_by_one_matches_aiokafka(fetch_offset: int) -> None:
    fields, positions, end = _reference(fetch_offset)
    part = _records(fetch_offset)
    assert type(part._records_iterator) is BatchedRecords
    got, moved = [], []
    for r in part:
        assert type(r) is LeanConsumerRecord
        got.append(tuple(r))
        moved.append(part.next_fetch_offset)
    assert got == fields and moved == positions
    assert part.next_fetch_offset == end == 23
    if fetch_offset < 14:
        assert [r[2] for r in got] == [o for o in (10, 11, 12, 13, 14, 15, 16, 17, 20, 21, 22)
                                       if o >= fetch_offset]


def test_take_nothing() -> None:
    part = _records(10)
    assert part._records_iterator.take(0) == [] and part.next_fetch_offset == 10
    assert len(part._records_iterator.take(None)) == 11


@pytest.mark.parametrize("limit", [None, 1, 3, 4, 8, 100])
def test_take_matches_aiokafka(limit: int | None) -> None:
    fields, positions, end = _reference(12)
    part = _records(12)
    taken: list[tuple] = []
    while True:
        chunk = part._records_iterator.take(limit)
        taken += [tuple(r) for r in chunk]
        if limit is None or len(chunk) < limit:
            break
        # a full take stops where aiokafka's loop would: one past its last record
        assert part.next_fetch_offset == positions[len(taken) - 1]
    assert taken == fields and part.next_fetch_offset == end


class _State:
    def __init__(self, position: int) -> None:
        self.paused, self.position = False, position

    def consumed_to(self, offset: int) -> None:
        self.position = offset


class _Assignment:
    active = True

    def __init__(self, position: int) -> None:
        self.state = _State(position)

    def state_value(self, tp: TopicPartition) -> _State:
        return self.state


@pytest.mark.parametrize("max_records", [None, 5, 11])
def test_getall_takes_batches_and_updates_the_position(max_records: int | None) -> None:
    fields, _, end = _reference(10)
    assignment = _Assignment(10)
    result = fetcher.FetchResult(TP, assignment=assignment, partition_records=_records(10),
                                 backoff=0)
    got: list[tuple] = []
    while result.has_more():
        got += [tuple(r) for r in result.getall(max_records)]
        assert assignment.state.position == (end if not result.has_more()
                                             else fields[len(got) - 1][2] + 1)
    assert got == fields and assignment.state.position == 23


@pytest.mark.parametrize("max_records", [None, 5])
def test_a_drained_fetch_leaves_nothing_to_the_garbage_collector(max_records: int | None) -> None:
    # A drained partition's records must go when the worker drops them: a reference cycle
    # kept a whole batch of them until a collection, and the collector freeing thousands of
    # records at once stalled the worker for 10-30 ms (the latency test's p99).
    gc.collect()
    gc.disable()
    try:
        result = fetcher.FetchResult(TP, assignment=_Assignment(10),
                                     partition_records=_records(10), backoff=0)
        got = 0
        while result.has_more():
            got += len(result.getall(max_records))
        del result
        assert got == 11 and gc.collect() == 0
    finally:
        gc.enable()


def test_deserializers_keep_aiokafka_records() -> None:
    part = fetcher.PartitionRecords(TP, MemoryRecords(_buffer()), [], 10, None, bytes.decode,
                                    False, 0)
    assert type(part._records_iterator) is not BatchedRecords
    assert [r.value for r in part][:2] == ["v10", "v11"]


def _txn_buffer() -> bytes:
    """A transaction of producer 7 (offsets 0-2), its abort marker (3), then plain 4-5."""
    out = bytearray()
    for base, pid, control, n in ((0, 7, False, 3), (3, 7, True, 1), (4, -1, False, 2)):
        builder = DefaultRecordBatchBuilder(2, 0, int(pid >= 0), pid, 0 if pid >= 0 else -1,
                                            -1, 1 << 20)
        for d in range(n):
            key = struct.pack(">hh", 0, 0) if control else b"k%d" % (base + d)  # 0: abort
            builder.append(d, 1_000 + base + d, key, b"v", [])
        raw = builder.build()
        raw[0:8] = struct.pack(">q", base)
        if control:
            raw[22] |= 0x20  # the attributes' control bit (CRCs are not checked here)
        out += raw
    return bytes(out)


@pytest.mark.parametrize("aborted", [[(7, 0)], []])
def test_read_committed_skips_aborted_transactions_as_aiokafka(aborted: list) -> None:
    def records() -> Any:
        return fetcher.PartitionRecords(TP, MemoryRecords(_txn_buffer()), list(aborted), 0,
                                        None, None, False, 1)

    reference = records()
    want = [r.offset for r in faust_compat._ORIGINAL_UNPACK(reference)]
    part = records()
    got = [r.offset for r in part._records_iterator.take(None)]
    assert got == want == ([4, 5] if aborted else [0, 1, 2, 4, 5])
    assert part.next_fetch_offset == reference.next_fetch_offset == 6


def _kept(data: bytes) -> Any:
    """The record set the patched fetcher builds (``MemoryRecords`` keeping its bytes)."""
    return fetcher.MemoryRecords(data)


@pytest.mark.parametrize("corrupt_at", [None, 0, 1, 2])
def test_crcs_are_checked_per_batch(corrupt_at: int | None) -> None:
    data = bytearray()
    for base, deltas, *_ in BATCHES:  # valid CRCs: no offsets patched after building
        builder = DefaultRecordBatchBuilder(2, 0, 0, -1, -1, -1, 1 << 20)
        for d in deltas:
            builder.append(d, 1_000 + d, b"k", b"v%d" % d, [])
        raw = builder.build()
        raw[0:8] = struct.pack(">q", base)  # outside the CRC
        if corrupt_at == len([b for b in BATCHES if b[0] < base]):
            at = raw.index(b"v1")
            raw[at] = ord("w")  # a value byte: the batch still parses, its CRC is wrong
        data += raw
    assert faust_compat._crc32c is not None  # the "fast" extra, as the bench installs it
    assert type(_kept(b"")) is faust_compat._KeptMemoryRecords
    for records in (_kept(bytes(data)), faust_compat._ORIGINAL_MEMORY_RECORDS(bytes(data))):
        part = fetcher.PartitionRecords(TP, records, [], 10, None, None, True, 0)
        if corrupt_at is None:
            assert len(part._records_iterator.take(None)) == 11
        else:
            with pytest.raises(fetcher.Errors.CorruptRecordException):
                part._records_iterator.take(None)
