"""The Kafka Streams-style DSL: StreamsBuilder, KStream, KTable, GlobalKTable, Topology."""

from streams_app.dsl.builder import StreamsBuilder
from streams_app.dsl.cogrouped import CogroupedKStream
from streams_app.dsl.grouped import KGroupedStream, KGroupedTable
from streams_app.dsl.joins import Joined, JoinWindows, StreamJoined, TableJoined
from streams_app.dsl.kstream import BranchedKStream, KStream
from streams_app.dsl.ktable import GlobalKTable, KTable
from streams_app.dsl.options import (
    Branched,
    Consumed,
    Grouped,
    Materialized,
    Produced,
    Repartitioned,
)
from streams_app.dsl.stores import StoreBuilder, Stores
from streams_app.dsl.topology import SubTopology, Topology, TopologyError

__all__ = [
    "StreamsBuilder",
    "KStream",
    "BranchedKStream",
    "KTable",
    "GlobalKTable",
    "KGroupedStream",
    "KGroupedTable",
    "CogroupedKStream",
    "Stores",
    "StoreBuilder",
    "Branched",
    "JoinWindows",
    "Joined",
    "StreamJoined",
    "TableJoined",
    "Consumed",
    "Grouped",
    "Materialized",
    "Produced",
    "Repartitioned",
    "SubTopology",
    "Topology",
    "TopologyError",
]
