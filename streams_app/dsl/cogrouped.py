"""Cogrouped streams: several grouped streams aggregated into one table (Kafka Streams'
``KGroupedStream.cogroup`` / ``CogroupedKStream``).

Each input gets its own aggregate processor (``aggregator(key, value, agg)``) and all of them
update one shared store; a merge node forwards their updates as the result table. Sharing
the store puts every input in one sub-topology, so the inputs (after any repartition) must be
co-partitioned, as Kafka's ``CogroupedStreamAggregateBuilder`` requires.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from streams_app.dsl.graph import InternalBuilder
from streams_app.dsl.ktable import KTable
from streams_app.dsl.options import Materialized
from streams_app.processors.aggregate import AggregateSupplier, KStreamAggregate
from streams_app.processors.api import Processor
from streams_app.processors.stream import KStreamPassThrough
from streams_app.processors.suppliers import (
    KTableProcessorSupplier,
    KTableValueGetterSupplier,
    store_view,
)
from streams_app.state.spec import StoreSpec

if TYPE_CHECKING:
    from streams_app.dsl.grouped import KGroupedStream

__all__ = ["CogroupedKStream"]

Aggregator = Callable[[Any, Any, Any], Any]


class CogroupMergeSupplier(KTableProcessorSupplier):
    """The merge node: passes on every input's aggregate updates; asking it for old values
    asks every aggregate processor."""

    def __init__(self, spec: StoreSpec, aggregates: list[AggregateSupplier]) -> None:
        self.spec = spec
        self.aggregates = aggregates

    def get(self) -> Processor:
        """A pass-through processor."""
        return KStreamPassThrough()

    def enable_sending_old_values(self, force_materialization: bool) -> bool:
        """Every aggregate sends old values."""
        for supplier in self.aggregates:
            supplier.enable_sending_old_values(force_materialization)
        return True

    def view(self) -> KTableValueGetterSupplier:
        """The shared aggregate store."""
        return store_view(self.spec)


class CogroupedKStream:
    """Grouped streams with one aggregator each, to be aggregated together."""

    def __init__(self, builder: InternalBuilder, first: KGroupedStream,
                 aggregator: Aggregator) -> None:
        self._builder = builder
        self._groups: list[tuple[KGroupedStream, Aggregator]] = []
        self.cogroup(first, aggregator)

    def cogroup(self, grouped: KGroupedStream, aggregator: Aggregator) -> CogroupedKStream:
        """Add ``grouped`` with its ``aggregator(key, value, agg)``."""
        from streams_app.dsl.grouped import KGroupedStream

        if not isinstance(grouped, KGroupedStream):
            raise TypeError(f"cogroup: expected a KGroupedStream, got {grouped!r}")
        if not callable(aggregator):
            raise TypeError(f"cogroup: the aggregator must be callable, got {aggregator!r}")
        if grouped._builder is not self._builder:
            raise ValueError("cogroup: the grouped streams come from different StreamsBuilders")
        if any(g is grouped for g, _ in self._groups):
            raise ValueError("cogroup: this grouped stream is already in the cogroup")
        self._groups.append((grouped, aggregator))
        return self

    def aggregate(self, initializer: Callable[[], Any],
                  materialized: Materialized | str | None = None, name: str | None = None
                  ) -> KTable:
        """One aggregate per key over every input, starting from ``initializer()``; each
        record updates it with its own stream's aggregator."""
        if not callable(initializer):
            raise TypeError(f"cogroup aggregate: the initializer must be callable, got "
                            f"{initializer!r}")
        mat = Materialized.of(materialized)
        b = self._builder
        store = mat.store_name or b.new_store_name("COGROUPKSTREAM-AGGREGATE-")
        ks = mat.key_serde or self._groups[0][0].key_serde
        spec = StoreSpec(store, key_serde=ks, value_serde=mat.value_serde,
                         logging=mat.logging, caching=mat.caching)
        parents = self._parents(store)
        aggregates: list[AggregateSupplier] = []
        nodes = []
        for parent, (_, aggregator) in zip(parents, self._groups, strict=True):
            supplier = AggregateSupplier(spec, _maker(initializer, aggregator))
            aggregates.append(supplier)
            nodes.append(b.add_processor(b.new_name("COGROUPKSTREAM-AGGREGATE-"), supplier,
                                         parent))
        if len(parents) > 1:
            b.copartition(*parents)
        merge = CogroupMergeSupplier(spec, aggregates)
        node = b.add_processor(name or b.new_name("COGROUPKSTREAM-MERGE-"), merge, *nodes)
        return KTable(b, node, merge, ks, mat.value_serde, store if mat.store_name else None)

    def _parents(self, store: str) -> list[str]:
        """Each input's node, behind a repartition topic when its key changed (named by its
        ``Grouped`` name, else by the store, numbered when several need one)."""
        b = self._builder
        needing = [g for g, _ in self._groups if g._repartition_required]
        parents = []
        for grouped, _ in self._groups:
            if not grouped._repartition_required:
                parents.append(grouped._node)
                continue
            prefix = grouped._grouped_name or (
                store if len(needing) == 1 else f"{store}-{needing.index(grouped)}")
            parents.append(b.add_repartition(grouped._node, prefix, grouped.key_serde,
                                             grouped.value_serde))
        return parents


def _maker(initializer: Callable[[], Any], aggregator: Aggregator
           ) -> Callable[[str, bool], Processor]:
    return lambda store, old: KStreamAggregate(store, initializer, aggregator, old)
