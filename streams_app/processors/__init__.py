"""Operators as plain, synchronous processors (Kafka Streams' Processor API)."""

from streams_app.processors.aggregate import KStreamAggregate, KStreamReduce
from streams_app.processors.api import (
    Cancellable,
    Change,
    Processor,
    ProcessorContext,
    PunctuationType,
    Record,
)
from streams_app.processors.process import FixedKeyContext, FixedKeyProcessor, FixedKeyRecord
from streams_app.processors.sink import SinkProcessor
from streams_app.processors.stream import (
    KStreamBranch,
    KStreamFilter,
    KStreamFlatMap,
    KStreamFlatMapValues,
    KStreamMap,
    KStreamMapValues,
    KStreamPassThrough,
    KStreamPeek,
    KStreamSelectKey,
)
from streams_app.processors.table import (
    KTableRepartitionMap,
    KTableSource,
    KTableToStream,
    StreamsError,
)
from streams_app.processors.table_aggregate import KTableAggregate, KTableReduce
from streams_app.processors.table_values import KTableFilter, KTableMapValues

__all__ = [
    "Cancellable",
    "Change",
    "Processor",
    "ProcessorContext",
    "PunctuationType",
    "Record",
    "FixedKeyContext",
    "FixedKeyProcessor",
    "FixedKeyRecord",
    "KStreamAggregate",
    "KStreamReduce",
    "KStreamBranch",
    "KStreamFilter",
    "KStreamFlatMap",
    "KStreamFlatMapValues",
    "KStreamMap",
    "KStreamSelectKey",
    "KStreamMapValues",
    "KStreamPassThrough",
    "KStreamPeek",
    "KTableAggregate",
    "KTableReduce",
    "KTableFilter",
    "KTableMapValues",
    "KTableRepartitionMap",
    "KTableSource",
    "KTableToStream",
    "SinkProcessor",
    "StreamsError",
]
