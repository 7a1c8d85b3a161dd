"""streams_app: Kafka Streams semantics in Python, on Faust, aiokafka and RocksDB."""

from streams_app.dsl import (
    Branched,
    Consumed,
    GlobalKTable,
    Grouped,
    KGroupedStream,
    KGroupedTable,
    KStream,
    KTable,
    Materialized,
    Produced,
    Repartitioned,
    StreamsBuilder,
    Topology,
)
from streams_app.processors.api import Change, Processor, ProcessorContext, PunctuationType, Record
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
    StringSerde,
)
from streams_app.state.api import ValueAndTimestamp

__all__ = [
    "StreamsBuilder",
    "KStream",
    "KTable",
    "GlobalKTable",
    "KGroupedStream",
    "KGroupedTable",
    "Topology",
    "TopologyTestDriver",
    "TestRecord",
    "StreamsConfig",
    "ConfigError",
    "Branched",
    "Consumed",
    "Grouped",
    "Materialized",
    "Produced",
    "Repartitioned",
    "Change",
    "Processor",
    "ProcessorContext",
    "PunctuationType",
    "Record",
    "ValueAndTimestamp",
    "Serde",
    "Serdes",
    "JsonSerde",
    "StringSerde",
    "BytesSerde",
    "LongSerde",
    "IntegerSerde",
    "DoubleSerde",
    "FunctionSerde",
    "FaustRecordSerde",
]
