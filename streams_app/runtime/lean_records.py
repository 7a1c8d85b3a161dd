"""Cheaper fetched records for aiokafka: the consumer half of the per-record cost.

aiokafka turns every fetched record into a ``ConsumerRecord`` dataclass (a Python
``__init__`` of eleven fields, two ``len`` calls) behind a generator step and a method call
per record, and ``getmany`` appends them to its list one by one. For a stream processor that
handles a record in a few microseconds this was a fifth of the time. :func:`install` makes
aiokafka's ``PartitionRecords`` build :class:`LeanConsumerRecord` (a tuple subclass built in
C with the same attribute names) one record batch at a time, in one list comprehension, and
``getmany`` take the lists whole (:class:`BatchedRecords`); each batch's CRC is checked as
before, with the ``crc32c`` package when it is installed (extra ``fast``).

Only records without aiokafka-side deserializers take the lean path (Faust consumes raw
bytes); anything else gets aiokafka's own ``ConsumerRecord``. Batch handling, transactions
(read_committed, aborted batches) and offsets stay aiokafka's code.
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import itemgetter
from typing import Any

from streams_app.runtime.faust_compat import install_lean_records
from streams_app.runtime.task import register_record_layout

__all__ = ["BatchedRecords", "LeanConsumerRecord", "install"]


class LeanConsumerRecord(tuple):
    """A fetched record with ``ConsumerRecord``'s attributes (key and value are bytes)."""

    __slots__ = ()

    topic = property(itemgetter(0), doc="The topic this record is received from")
    partition = property(itemgetter(1), doc="The partition from which it is received")
    offset = property(itemgetter(2), doc="The record's offset in its partition")
    timestamp = property(itemgetter(3), doc="The record's timestamp (ms)")
    timestamp_type = property(itemgetter(4), doc="The timestamp type")
    key = property(itemgetter(5), doc="The key bytes (or None)")
    value = property(itemgetter(6), doc="The value bytes (or None)")
    checksum = property(itemgetter(7), doc="Deprecated (None for v2 batches)")
    headers = property(itemgetter(8), doc="The headers, a tuple of (str, bytes)")

    @property
    def serialized_key_size(self) -> int:
        """Size of the key in bytes, -1 without one."""
        key = self[5]
        return -1 if key is None else len(key)

    @property
    def serialized_value_size(self) -> int:
        """Size of the value in bytes, -1 without one."""
        value = self[6]
        return -1 if value is None else len(value)

    def __repr__(self) -> str:
        return (f"LeanConsumerRecord(topic={self[0]!r}, partition={self[1]}, offset={self[2]}, "
                f"timestamp={self[3]}, key={self[5]!r}, value={self[6]!r})")


class _Drained:
    """The owner of a drained :class:`BatchedRecords` (takes the offsets nobody reads)."""

    __slots__ = ("next_fetch_offset",)


_DRAINED = _Drained()


class BatchedRecords:
    """One fetched partition's lean records, a record batch (one list) at a time.

    ``owner.next_fetch_offset`` moves as aiokafka's record-by-record generator moves it:
    one past the last record handed out, or the batch's end once the next batch is asked
    for (a compacted batch may end after its last record).
    """

    __slots__ = ("_owner", "_batches", "_pending", "_pos", "_end")

    def __init__(self, owner: Any, batches: Iterator[tuple[list[Any], int]]) -> None:
        self._owner = owner
        self._batches = batches
        self._pending: list[Any] = []
        self._pos = 0
        self._end: int | None = None

    def __iter__(self) -> BatchedRecords:
        return self

    def __next__(self) -> Any:
        got = self.take(1)
        if not got:
            raise StopIteration
        return got[0]

    def take(self, limit: int | None) -> list[Any]:
        """Up to ``limit`` further records (None: all that are left)."""
        out: list[Any] = []
        if limit is not None and limit <= 0:
            return out
        while True:
            pending, pos = self._pending, self._pos
            if pos < len(pending):
                room = None if limit is None else limit - len(out)
                chunk = pending[pos:] if room is None else pending[pos:pos + room]
                self._pos = pos + len(chunk)
                self._owner.next_fetch_offset = chunk[-1][2] + 1
                if out:
                    out += chunk
                else:
                    out = chunk
                if room is not None and len(chunk) == room:
                    return out
            if self._end is not None:
                self._owner.next_fetch_offset = self._end
                self._end = None
            nxt = next(self._batches, None)
            if nxt is None:
                # Drained: let go of the last batch and of the owner, whose records iterator
                # is this object. The cycle would keep every record of the batch alive until
                # a garbage collection, and the collector freeing a few thousand of them at
                # once stalled the worker for 10-30 ms.
                self._pending, self._pos, self._owner = [], 0, _DRAINED
                return out
            self._pending, self._end = nxt
            self._pos = 0


def install() -> None:
    """Make aiokafka's fetcher produce lean records (idempotent; process-wide)."""
    install_lean_records(LeanConsumerRecord, BatchedRecords)


# StreamTask reads (key, value, timestamp, headers, offset) of a fetched batch in one C call
register_record_layout(LeanConsumerRecord, itemgetter(5, 6, 3, 8, 2))
