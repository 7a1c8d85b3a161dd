"""streams_app: Kafka Streams semantics in Python, on Faust, aiokafka and RocksDB.

``__all__`` lists the public API alphabetically.
"""

from streams_app.dsl import (
    Branched,
    CogroupedKStream,
    Consumed,
    GlobalKTable,
    Grouped,
    Joined,
    JoinWindows,
    KGroupedStream,
    KGroupedTable,
    KStream,
    KTable,
    Materialized,
    Produced,
    Repartitioned,
    StoreBuilder,
    Stores,
    StreamJoined,
    StreamsBuilder,
    TableJoined,
    Topology,
)
from streams_app.dsl.cogrouped import SessionWindowedCogroupedKStream, TimeWindowedCogroupedKStream
from streams_app.dsl.suppressed import BufferConfig, Suppressed
from streams_app.dsl.windowed import SessionWindowedKStream, TimeWindowedKStream
from streams_app.dsl.windows import EmitStrategy, SessionWindows, SlidingWindows, TimeWindows
from streams_app.errors import (
    ErrorAction,
    ErrorContext,
    ErrorHandlers,
    ErrorKind,
    StreamsFailure,
)
from streams_app.processors.api import Change, Processor, ProcessorContext, PunctuationType, Record
from streams_app.processors.process import FixedKeyProcessor, FixedKeyRecord
from streams_app.runtime.config import ConfigError, StreamsConfig
from streams_app.runtime.test_driver import TestRecord, TopologyTestDriver
from streams_app.serdes import (
    BytesSerde,
    DoubleSerde,
    FaustRecordSerde,
    FunctionSerde,
    IntegerSerde,
    JsonSerde,
    LongSerde,
    Serde,
    Serdes,
    SessionWindowedSerde,
    StringSerde,
    TimeWindowedSerde,
)
from streams_app.state.api import ValueAndTimestamp, Windowed

#: The package version, its one definition: pyproject.toml reads it (setuptools' dynamic version,
#: parsed without importing), ``streams-app --version`` prints it.
__version__ = "0.1.0"

__all__ = [
    "Branched",
    "BufferConfig",
    "BytesSerde",
    "Change",
    "CogroupedKStream",
    "ConfigError",
    "Consumed",
    "DoubleSerde",
    "EmitStrategy",
    "FaustRecordSerde",
    "FixedKeyProcessor",
    "FixedKeyRecord",
    "FunctionSerde",
    "GlobalKTable",
    "Grouped",
    "IntegerSerde",
    "Joined",
    "JoinWindows",
    "JsonSerde",
    "KGroupedStream",
    "KGroupedTable",
    "KStream",
    "KTable",
    "LongSerde",
    "ErrorAction",
    "ErrorContext",
    "ErrorHandlers",
    "ErrorKind",
    "StreamsFailure",
    "Materialized",
    "Processor",
    "ProcessorContext",
    "Produced",
    "PunctuationType",
    "Record",
    "Repartitioned",
    "Serde",
    "Serdes",
    "SessionWindowedCogroupedKStream",
    "SessionWindowedKStream",
    "SessionWindowedSerde",
    "SessionWindows",
    "SlidingWindows",
    "StoreBuilder",
    "Stores",
    "StreamJoined",
    "StreamsBuilder",
    "StreamsConfig",
    "StringSerde",
    "Suppressed",
    "TableJoined",
    "TestRecord",
    "TimeWindowedCogroupedKStream",
    "TimeWindowedKStream",
    "TimeWindowedSerde",
    "TimeWindows",
    "Topology",
    "TopologyTestDriver",
    "ValueAndTimestamp",
    "Windowed",
]
