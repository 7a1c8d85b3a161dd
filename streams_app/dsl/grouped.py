"""Grouped streams and tables: count, reduce, aggregate into a materialized KTable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from streams_app.dsl.cogrouped import CogroupedKStream
from streams_app.dsl.graph import InternalBuilder
from streams_app.dsl.ktable import KTable
from streams_app.dsl.options import Materialized, key_value_spec
from streams_app.processors.aggregate import AggregateSupplier, KStreamAggregate, KStreamReduce
from streams_app.processors.api import Processor
from streams_app.processors.table_aggregate import KTableAggregate, KTableReduce
from streams_app.serdes import ChangeSerde, LongSerde, Serde

__all__ = ["KGroupedStream", "KGroupedTable"]

# make(store_name, send_old_values): the aggregation's processor
Make = Callable[[str, bool], Processor]


def _count_add(_key: Any, _value: Any, agg: int) -> int:
    return agg + 1


def _count_sub(_key: Any, _value: Any, agg: int) -> int:
    return agg - 1


def _zero() -> int:
    return 0


class _Grouped:
    """What grouped streams and tables share: the grouped node, its serdes and building
    the aggregation node behind its repartition topic."""

    # table aggregations always send old values (as Kafka's do)
    sends_old_values = False

    def __init__(self, builder: InternalBuilder, node: str, key_serde: Serde | None,
                 value_serde: Serde | None, grouped_name: str | None) -> None:
        self._builder = builder
        self._node = node
        self.key_serde = key_serde
        self.value_serde = value_serde
        self._grouped_name = grouped_name

    def _place(self, store: str, prefix: str, name: str | None) -> tuple[str, str]:
        """The aggregation's node name and its parent (a repartition topic's source when
        needed), named in Kafka's order."""
        raise NotImplementedError

    def _aggregate(self, prefix: str, materialized: Materialized | str | None, name: str | None,
                   default_serde: Serde | None, make: Make) -> KTable:
        mat = Materialized.of(materialized)
        value_serde = mat.value_serde or default_serde
        b = self._builder
        store = mat.store_name or b.new_store_name(prefix)
        proc_name, parent = self._place(store, prefix, name)
        ks = mat.key_serde or self.key_serde
        spec = key_value_spec(mat, store, ks, value_serde)
        supplier = AggregateSupplier(spec, make, self.sends_old_values)
        node = b.add_processor(proc_name, supplier, parent)
        return KTable(b, node, supplier, ks, value_serde, store if mat.store_name else None,
                      versioned=spec.versioned)


class KGroupedStream(_Grouped):
    """A stream grouped by key, ready to aggregate."""

    def __init__(self, builder: InternalBuilder, node: str, key_serde: Serde | None,
                 value_serde: Serde | None, repartition_required: bool,
                 grouped_name: str | None) -> None:
        super().__init__(builder, node, key_serde, value_serde, grouped_name)
        self._repartition_required = repartition_required

    def _place(self, store: str, prefix: str, name: str | None) -> tuple[str, str]:
        b = self._builder
        proc_name = name or b.new_name(prefix)
        if not self._repartition_required:
            return proc_name, self._node
        return proc_name, b.add_repartition(self._node, self._grouped_name or store,
                                            self.key_serde, self.value_serde)

    def count(self, materialized: Materialized | str | None = None, name: str | None = None
              ) -> KTable:
        """Records per key (null keys and values are dropped), as 8-byte longs by default."""
        return self._aggregate(
            "KSTREAM-AGGREGATE-", materialized, name, LongSerde(),
            lambda store, old: KStreamAggregate(store, _zero, _count_add, old,
                                                reads_value=False),
        )

    def reduce(self, reducer: Callable[[Any, Any], Any],
               materialized: Materialized | str | None = None, name: str | None = None
               ) -> KTable:
        """``reducer(aggregate, value)`` per key; the first value starts the aggregate."""
        return self._aggregate(
            "KSTREAM-REDUCE-", materialized, name, self.value_serde,
            lambda store, old: KStreamReduce(store, reducer, old),
        )

    def aggregate(self, initializer: Callable[[], Any],
                  aggregator: Callable[[Any, Any, Any], Any],
                  materialized: Materialized | str | None = None, name: str | None = None
                  ) -> KTable:
        """``aggregator(key, value, aggregate)`` per key, starting from ``initializer()``."""
        return self._aggregate(
            "KSTREAM-AGGREGATE-", materialized, name, None,
            lambda store, old: KStreamAggregate(store, initializer, aggregator, old),
        )

    def cogroup(self, aggregator: Callable[[Any, Any, Any], Any]) -> CogroupedKStream:
        """Start a cogroup: ``aggregator(key, value, agg)`` for this stream; add others with
        ``CogroupedKStream.cogroup``, then ``aggregate`` (see :mod:`streams_app.dsl.cogrouped`)."""
        return CogroupedKStream(self._builder, self, aggregator)

    def windowed_by(self, windows: Any) -> Any:
        """Aggregate per window: TimeWindows or SlidingWindows give a TimeWindowedKStream,
        SessionWindows a SessionWindowedKStream (see :mod:`streams_app.dsl.windowed`)."""
        from streams_app.dsl.windowed import windowed_by

        return windowed_by(self, windows)


class KGroupedTable(_Grouped):
    """A re-grouped table: aggregations with an adder and a subtractor."""

    sends_old_values = True

    def _place(self, store: str, prefix: str, name: str | None) -> tuple[str, str]:
        b = self._builder
        sink = b.new_name("KSTREAM-SINK-")
        source = b.new_name("KSTREAM-SOURCE-")
        proc_name = name or b.new_name(prefix)
        topic = f"{self._grouped_name or store}-repartition"
        # the repartition topic carries Change(new, old) so the subtractor sees old values
        change_serde = ChangeSerde(self.value_serde)
        b.add_sink(sink, topic, self.key_serde, change_serde, self._node)
        b.add_source(source, [topic], self.key_serde, change_serde, None)
        b.internal_topics.append(topic)
        return proc_name, source

    def count(self, materialized: Materialized | str | None = None, name: str | None = None
              ) -> KTable:
        """Rows per group; moving a row decrements its old group."""
        return self._aggregate(
            "KTABLE-AGGREGATE-", materialized, name, LongSerde(),
            lambda store, old: KTableAggregate(store, _zero, _count_add, _count_sub, old),
        )

    def reduce(self, adder: Callable[[Any, Any], Any], subtractor: Callable[[Any, Any], Any],
               materialized: Materialized | str | None = None, name: str | None = None
               ) -> KTable:
        """``adder(agg, new)`` and ``subtractor(agg, old)`` per group."""
        return self._aggregate(
            "KTABLE-REDUCE-", materialized, name, self.value_serde,
            lambda store, old: KTableReduce(store, adder, subtractor, old),
        )

    def aggregate(self, initializer: Callable[[], Any], adder: Callable[[Any, Any, Any], Any],
                  subtractor: Callable[[Any, Any, Any], Any],
                  materialized: Materialized | str | None = None, name: str | None = None
                  ) -> KTable:
        """``adder(key, new, agg)`` and ``subtractor(key, old, agg)`` per group."""
        return self._aggregate(
            "KTABLE-AGGREGATE-", materialized, name, None,
            lambda store, old: KTableAggregate(store, initializer, adder, subtractor, old),
        )
