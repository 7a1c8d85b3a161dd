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
from streams_app.dsl.options import Materialized, key_value_spec, reject_versioned
from streams_app.dsl.windowed import SessionWindowedKStream, TimeWindowedKStream
from streams_app.dsl.windows import SessionWindows, SlidingWindows, TimeWindows
from streams_app.processors.aggregate import AggregateSupplier, KStreamAggregate
from streams_app.processors.api import Processor
from streams_app.processors.session_aggregate import KStreamSessionWindowAggregate
from streams_app.processors.sliding_aggregate import KStreamSlidingWindowAggregate
from streams_app.processors.stream import KStreamPassThrough
from streams_app.processors.suppliers import (
    KTableProcessorSupplier,
    KTableValueGetterSupplier,
    store_view,
)
from streams_app.processors.window_aggregate import KStreamWindowAggregate, WindowAggregateSupplier
from streams_app.serdes import Serde, SessionWindowedSerde, TimeWindowedSerde
from streams_app.state.spec import StoreSpec

if TYPE_CHECKING:
    from streams_app.dsl.grouped import KGroupedStream

__all__ = ["CogroupedKStream", "TimeWindowedCogroupedKStream", "SessionWindowedCogroupedKStream"]

Aggregator = Callable[[Any, Any, Any], Any]


class CogroupMergeSupplier(KTableProcessorSupplier):
    """The merge node: passes on every input's aggregate updates; asking it for old values
    asks every aggregate processor."""

    def __init__(self, spec: StoreSpec, aggregates: list[AggregateSupplier],
                 grace_ms: int | None = None) -> None:
        self.spec = spec
        self.aggregates = aggregates
        self.grace_ms = grace_ms

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

    def window_grace_ms(self) -> int | None:
        """The windows' grace (windowed cogroups), else ``None``."""
        return self.grace_ms


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
        _check_initializer(initializer)
        mat = Materialized.of(materialized)
        ks = mat.key_serde or self._groups[0][0].key_serde
        store = mat.store_name or self._builder.new_store_name("COGROUPKSTREAM-AGGREGATE-")
        spec = key_value_spec(mat, store, ks, mat.value_serde)
        return self._build(spec, name, ks, mat.store_name is not None,
                           lambda aggregator: AggregateSupplier(
                               spec, _maker(initializer, aggregator)))

    def windowed_by(self, windows: Any) -> TimeWindowedCogroupedKStream | \
            SessionWindowedCogroupedKStream:
        """Aggregate per window: TimeWindows or SlidingWindows, or SessionWindows."""
        if isinstance(windows, TimeWindows | SlidingWindows):
            return TimeWindowedCogroupedKStream(self, windows)
        if isinstance(windows, SessionWindows):
            return SessionWindowedCogroupedKStream(self, windows)
        raise TypeError("cogroup windowed_by: expected TimeWindows, SlidingWindows or "
                        f"SessionWindows, got {windows!r}")

    def _build(self, spec: StoreSpec, name: str | None, table_key_serde: Serde | None,
               queryable: bool, supplier_for: Callable[[Aggregator], AggregateSupplier],
               grace_ms: int | None = None) -> KTable:
        """One aggregate node per input on the shared store, and the merge node."""
        b = self._builder
        parents = self._parents(spec.name)
        aggregates: list[AggregateSupplier] = []
        nodes = []
        for parent, (_, aggregator) in zip(parents, self._groups, strict=True):
            supplier = supplier_for(aggregator)
            aggregates.append(supplier)
            nodes.append(b.add_processor(b.new_name("COGROUPKSTREAM-AGGREGATE-"), supplier,
                                         parent))
        if len(parents) > 1:
            b.copartition(*parents)
        merge = CogroupMergeSupplier(spec, aggregates, grace_ms)
        node = b.add_processor(name or b.new_name("COGROUPKSTREAM-MERGE-"), merge, *nodes)
        return KTable(b, node, merge, table_key_serde, spec.value_serde,
                      spec.name if queryable else None, versioned=spec.versioned)

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


class _WindowedCogrouped:
    def __init__(self, cogrouped: CogroupedKStream, windows: Any) -> None:
        self._cogrouped = cogrouped
        self.windows = windows

    def _windowed(self, materialized: Materialized | str | None, name: str | None,
                  view: TimeWindowedKStream | SessionWindowedKStream,
                  make: Callable[[Aggregator], Callable[[str, bool], Processor]],
                  grace_ms: int, windowed_serde: Callable[[Serde], Serde]) -> KTable:
        mat = Materialized.of(materialized)
        reject_versioned(mat, "windowed cogroup aggregation")
        c = self._cogrouped
        ks = mat.key_serde or c._groups[0][0].key_serde
        store = mat.store_name or c._builder.new_store_name("COGROUPKSTREAM-AGGREGATE-")
        spec = view._spec(store, mat, ks, mat.value_serde)
        return c._build(spec, name, None if ks is None else windowed_serde(ks),
                        mat.store_name is not None,
                        lambda aggregator: WindowAggregateSupplier(spec, make(aggregator),
                                                                   grace_ms), grace_ms)


class TimeWindowedCogroupedKStream(_WindowedCogrouped):
    """A cogroup over time windows (tumbling, hopping) or sliding windows."""

    def aggregate(self, initializer: Callable[[], Any],
                  materialized: Materialized | str | None = None, name: str | None = None
                  ) -> KTable:
        """One aggregate per key and window over every input, from ``initializer()``."""
        _check_initializer(initializer)
        w = self.windows
        sliding = isinstance(w, SlidingWindows)
        processor = KStreamSlidingWindowAggregate if sliding else KStreamWindowAggregate
        size = w.time_difference_ms if sliding else w.size_ms

        def make(aggregator: Aggregator) -> Callable[[str, bool], Processor]:
            return lambda store, old: processor(store, w, initializer, aggregator, False, old)

        view = TimeWindowedKStream(self._cogrouped._groups[0][0], w)
        return self._windowed(materialized, name, view, make, w.grace_ms,
                              lambda ks: TimeWindowedSerde(ks, size))


class SessionWindowedCogroupedKStream(_WindowedCogrouped):
    """A cogroup over session windows."""

    def aggregate(self, initializer: Callable[[], Any],
                  session_merger: Callable[[Any, Any, Any], Any],
                  materialized: Materialized | str | None = None, name: str | None = None
                  ) -> KTable:
        """One aggregate per session over every input; ``session_merger(key, agg1, agg2)``
        combines sessions a record joins together."""
        _check_initializer(initializer)
        if not callable(session_merger):
            raise TypeError(f"cogroup aggregate: the session merger must be callable, got "
                            f"{session_merger!r}")
        w = self.windows

        def make(aggregator: Aggregator) -> Callable[[str, bool], Processor]:
            return lambda store, old: KStreamSessionWindowAggregate(
                store, w, initializer, aggregator, session_merger, False, old)

        view = SessionWindowedKStream(self._cogrouped._groups[0][0], w)
        return self._windowed(materialized, name, view, make, w.gap_ms + w.grace_ms,
                              SessionWindowedSerde)


def _check_initializer(initializer: object) -> None:
    if not callable(initializer):
        raise TypeError(f"cogroup aggregate: the initializer must be callable, got "
                        f"{initializer!r}")


def _maker(initializer: Callable[[], Any], aggregator: Aggregator
           ) -> Callable[[str, bool], Processor]:
    return lambda store, old: KStreamAggregate(store, initializer, aggregator, old)
