"""Grouped streams and tables: count, reduce, aggregate into a materialized KTable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from streams_app.dsl.graph import (
    AggregateSupplier,
    InternalBuilder,
    stream_aggregate,
    stream_reduce,
    table_aggregate,
    table_reduce,
)
from streams_app.dsl.ktable import KTable
from streams_app.dsl.options import Materialized
from streams_app.serdes import ChangeSerde, LongSerde, Serde
from streams_app.state.spec import StoreSpec

__all__ = ["KGroupedStream", "KGroupedTable"]


def _count_add(_key: Any, _value: Any, agg: int) -> int:
    return agg + 1


def _count_sub(_key: Any, _value: Any, agg: int) -> int:
    return agg - 1


def _zero() -> int:
    return 0


class KGroupedStream:
    """A stream grouped by key, ready to aggregate."""

    def __init__(self, builder: InternalBuilder, node: str, key_serde: Serde | None,
                 value_serde: Serde | None, repartition_required: bool,
                 grouped_name: str | None) -> None:
        self._builder = builder
        self._node = node
        self.key_serde = key_serde
        self.value_serde = value_serde
        self._repartition_required = repartition_required
        self._grouped_name = grouped_name

    def _aggregate(self, prefix: str, mat: Materialized, name: str | None,
                   value_serde: Serde | None,
                   make: Callable[[StoreSpec], AggregateSupplier]) -> KTable:
        b = self._builder
        store = mat.store_name or b.new_store_name(prefix)
        proc_name = name or b.new_name(prefix)
        ks = mat.key_serde or self.key_serde
        spec = StoreSpec(store, key_serde=ks, value_serde=value_serde, logging=mat.logging,
                         caching=mat.caching)
        parent = self._node
        if self._repartition_required:
            parent = b.add_repartition(parent, self._grouped_name or store, self.key_serde,
                                       self.value_serde)
        supplier = make(spec)
        node = b.add_processor(proc_name, supplier, parent)
        return KTable(b, node, supplier, ks, value_serde, store if mat.store_name else None)

    def count(self, materialized: Materialized | str | None = None, name: str | None = None
              ) -> KTable:
        """Records per key (null keys and values are dropped), as 8-byte longs by default."""
        mat = Materialized.of(materialized)
        return self._aggregate(
            "KSTREAM-AGGREGATE-", mat, name, mat.value_serde or LongSerde(),
            lambda spec: stream_aggregate(spec, _zero, _count_add),
        )

    def reduce(self, reducer: Callable[[Any, Any], Any],
               materialized: Materialized | str | None = None, name: str | None = None
               ) -> KTable:
        """``reducer(aggregate, value)`` per key; the first value starts the aggregate."""
        mat = Materialized.of(materialized)
        return self._aggregate(
            "KSTREAM-REDUCE-", mat, name, mat.value_serde or self.value_serde,
            lambda spec: stream_reduce(spec, reducer),
        )

    def aggregate(self, initializer: Callable[[], Any],
                  aggregator: Callable[[Any, Any, Any], Any],
                  materialized: Materialized | str | None = None, name: str | None = None
                  ) -> KTable:
        """``aggregator(key, value, aggregate)`` per key, starting from ``initializer()``."""
        mat = Materialized.of(materialized)
        return self._aggregate(
            "KSTREAM-AGGREGATE-", mat, name, mat.value_serde,
            lambda spec: stream_aggregate(spec, initializer, aggregator),
        )

    def windowed_by(self, windows: Any) -> Any:
        """Aggregate per window: TimeWindows or SlidingWindows give a TimeWindowedKStream,
        SessionWindows a SessionWindowedKStream (see :mod:`streams_app.dsl.windowed`)."""
        from streams_app.dsl.windowed import windowed_by

        return windowed_by(self, windows)


class KGroupedTable:
    """A re-grouped table: aggregations with an adder and a subtractor."""

    def __init__(self, builder: InternalBuilder, node: str, key_serde: Serde | None,
                 value_serde: Serde | None, grouped_name: str | None) -> None:
        self._builder = builder
        self._node = node
        self.key_serde = key_serde
        self.value_serde = value_serde
        self._grouped_name = grouped_name

    def _aggregate(self, prefix: str, mat: Materialized, name: str | None,
                   value_serde: Serde | None,
                   make: Callable[[StoreSpec], AggregateSupplier]) -> KTable:
        b = self._builder
        store = mat.store_name or b.new_store_name(prefix)
        sink = b.new_name("KSTREAM-SINK-")
        source = b.new_name("KSTREAM-SOURCE-")
        proc_name = name or b.new_name(prefix)
        topic = f"{self._grouped_name or store}-repartition"
        # the repartition topic carries Change(new, old) so the subtractor sees old values
        change_serde = ChangeSerde(self.value_serde)
        b.add_sink(sink, topic, self.key_serde, change_serde, self._node)
        b.add_source(source, [topic], self.key_serde, change_serde, None)
        b.internal_topics.append(topic)
        ks = mat.key_serde or self.key_serde
        spec = StoreSpec(store, key_serde=ks, value_serde=value_serde, logging=mat.logging,
                         caching=mat.caching)
        supplier = make(spec)
        node = b.add_processor(proc_name, supplier, source)
        return KTable(b, node, supplier, ks, value_serde, store if mat.store_name else None)

    def count(self, materialized: Materialized | str | None = None, name: str | None = None
              ) -> KTable:
        """Rows per group; moving a row decrements its old group."""
        mat = Materialized.of(materialized)
        return self._aggregate(
            "KTABLE-AGGREGATE-", mat, name, mat.value_serde or LongSerde(),
            lambda spec: table_aggregate(spec, _zero, _count_add, _count_sub),
        )

    def reduce(self, adder: Callable[[Any, Any], Any], subtractor: Callable[[Any, Any], Any],
               materialized: Materialized | str | None = None, name: str | None = None
               ) -> KTable:
        """``adder(agg, new)`` and ``subtractor(agg, old)`` per group."""
        mat = Materialized.of(materialized)
        return self._aggregate(
            "KTABLE-REDUCE-", mat, name, mat.value_serde or self.value_serde,
            lambda spec: table_reduce(spec, adder, subtractor),
        )

    def aggregate(self, initializer: Callable[[], Any], adder: Callable[[Any, Any, Any], Any],
                  subtractor: Callable[[Any, Any, Any], Any],
                  materialized: Materialized | str | None = None, name: str | None = None
                  ) -> KTable:
        """``adder(key, new, agg)`` and ``subtractor(key, old, agg)`` per group."""
        mat = Materialized.of(materialized)
        return self._aggregate(
            "KTABLE-AGGREGATE-", mat, name, mat.value_serde,
            lambda spec: table_aggregate(spec, initializer, adder, subtractor),
        )
