"""Windowed grouped streams: ``KGroupedStream.windowed_by(windows)`` and their aggregations.

Results are KTables keyed by :class:`~streams_app.state.api.Windowed` ``(key, start, end)``,
materialized in a window store (time and sliding windows) or a session store. Stores keep
windows for ``size + grace`` (sliding: ``2 * difference + grace``; sessions: ``gap + grace``),
as Kafka Streams' default retention.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from streams_app.dsl.ktable import KTable
from streams_app.dsl.options import Materialized, reject_versioned
from streams_app.dsl.windows import EmitStrategy, SessionWindows, SlidingWindows, TimeWindows
from streams_app.processors.api import Processor
from streams_app.processors.session_aggregate import KStreamSessionWindowAggregate
from streams_app.processors.sliding_aggregate import KStreamSlidingWindowAggregate
from streams_app.processors.window_aggregate import (
    KStreamWindowAggregate,
    WindowAggregateSupplier,
)
from streams_app.serdes import LongSerde, Serde, SessionWindowedSerde, TimeWindowedSerde
from streams_app.state.spec import SESSION, WINDOW, StoreSpec

if TYPE_CHECKING:
    from streams_app.dsl.grouped import KGroupedStream

__all__ = [
    "TimeWindowedKStream",
    "SessionWindowedKStream",
    "windowed_by",
]

AGGREGATE = "KSTREAM-AGGREGATE-"
REDUCE = "KSTREAM-REDUCE-"


def _count_init() -> int:
    return 0


def _count_add(_key: Any, _value: Any, agg: int) -> int:
    return agg + 1


def _count_merge(_key: Any, a: int, b: int) -> int:
    return a + b


def _reduce_aggregator(reducer: Callable[[Any, Any], Any]) -> Callable[[Any, Any, Any], Any]:
    # Kafka's windowed reduce: the first value is the aggregate (initializer gives null)
    return lambda _key, value, agg: value if agg is None else reducer(agg, value)


def _no_init() -> Any:
    return None


class _Windowed:
    """What time- and session-windowed streams share: grouping, emit strategy, building."""

    def __init__(self, grouped: KGroupedStream) -> None:
        self._grouped = grouped
        self._builder = grouped._builder
        self.key_serde = grouped.key_serde
        self.value_serde = grouped.value_serde
        self._emit = EmitStrategy.ON_WINDOW_UPDATE

    def emit_strategy(self, strategy: EmitStrategy) -> Any:
        """Emit every update (default) or only final results when windows close."""
        if not isinstance(strategy, EmitStrategy):
            raise TypeError(f"emit_strategy: expected an EmitStrategy, got {strategy!r}")
        self._emit = strategy
        return self

    @property
    def _emit_final(self) -> bool:
        return self._emit is EmitStrategy.ON_WINDOW_CLOSE

    def _build(self, prefix: str, materialized: Materialized | str | None, name: str | None,
               value_serde: Serde | None, burn: bool,
               spec_for: Callable[[str, Materialized, Serde | None, Serde | None], StoreSpec],
               make: Callable[[str, bool], Processor], grace: int,
               windowed_serde: Callable[[Serde], Serde]) -> KTable:
        mat = Materialized.of(materialized)
        reject_versioned(mat, "windowed aggregation")
        b = self._builder
        if burn and mat.store_name is None:
            b.burn_index()  # Kafka burns a name here in count() (topology compatibility)
        store = mat.store_name or b.new_store_name(prefix)
        ks = mat.key_serde or self.key_serde
        vs = mat.value_serde or value_serde
        spec = spec_for(store, mat, ks, vs)
        proc_name, parent = self._grouped._place(store, prefix, name)
        supplier = WindowAggregateSupplier(spec, make, grace)
        node = b.add_processor(proc_name, supplier, parent)
        table_ks = None if ks is None else windowed_serde(ks)
        return KTable(b, node, supplier, table_ks, vs, store if mat.store_name else None)


class TimeWindowedKStream(_Windowed):
    """A grouped stream over time windows (tumbling, hopping) or sliding windows."""

    def __init__(self, grouped: KGroupedStream, windows: TimeWindows | SlidingWindows) -> None:
        super().__init__(grouped)
        self.windows = windows

    def _spec(self, store: str, mat: Materialized, ks: Serde | None, vs: Serde | None
              ) -> StoreSpec:
        w = self.windows
        if isinstance(w, SlidingWindows):
            size = w.time_difference_ms
            retention = mat.window_retention(2 * size + w.grace_ms,
                                             "window size plus the grace period")
            caching = mat.caching and not self._emit_final
        else:
            size = w.size_ms
            retention = mat.window_retention(size + w.grace_ms,
                                             "window size plus the grace period")
            caching = mat.caching
        return StoreSpec(store, kind=WINDOW, key_serde=ks, value_serde=vs, logging=mat.logging,
                         caching=caching, window_size=size, retention_ms=retention,
                         time_ordered=self._emit_final)

    def _aggregate(self, prefix: str, materialized: Materialized | str | None,
                   name: str | None, value_serde: Serde | None, burn: bool,
                   initializer: Callable[[], Any],
                   aggregator: Callable[[Any, Any, Any], Any]) -> KTable:
        w, final = self.windows, self._emit_final
        processor = (KStreamSlidingWindowAggregate if isinstance(w, SlidingWindows)
                     else KStreamWindowAggregate)
        size = w.time_difference_ms if isinstance(w, SlidingWindows) else w.size_ms

        def make(store: str, old: bool) -> Processor:
            made = processor(store, w, initializer, aggregator, final, old)
            made.reads_value = aggregator is not _count_add
            return made

        return self._build(prefix, materialized, name, value_serde, burn, self._spec, make,
                           w.grace_ms, lambda ks: TimeWindowedSerde(ks, size))

    def count(self, materialized: Materialized | str | None = None, name: str | None = None
              ) -> KTable:
        """Records per key and window (null values count; null keys are dropped)."""
        mat = Materialized.of(materialized)
        reject_versioned(mat, "windowed aggregation")
        return self._aggregate(AGGREGATE, mat, name, mat.value_serde or LongSerde(), True,
                               _count_init, _count_add)

    def reduce(self, reducer: Callable[[Any, Any], Any],
               materialized: Materialized | str | None = None, name: str | None = None
               ) -> KTable:
        """``reducer(aggregate, value)`` per key and window; the first value starts it."""
        return self._aggregate(REDUCE, materialized, name, self.value_serde, False, _no_init,
                               _reduce_aggregator(reducer))

    def aggregate(self, initializer: Callable[[], Any],
                  aggregator: Callable[[Any, Any, Any], Any],
                  materialized: Materialized | str | None = None, name: str | None = None
                  ) -> KTable:
        """``aggregator(key, value, aggregate)`` per key and window from ``initializer()``."""
        return self._aggregate(AGGREGATE, materialized, name, None, False, initializer,
                               aggregator)


class SessionWindowedKStream(_Windowed):
    """A grouped stream over session windows."""

    def __init__(self, grouped: KGroupedStream, windows: SessionWindows) -> None:
        super().__init__(grouped)
        self.windows = windows

    def _spec(self, store: str, mat: Materialized, ks: Serde | None, vs: Serde | None
              ) -> StoreSpec:
        w = self.windows
        return StoreSpec(store, kind=SESSION, key_serde=ks, value_serde=vs, timestamped=False,
                         logging=mat.logging, caching=mat.caching and not self._emit_final,
                         retention_ms=mat.window_retention(
                             w.gap_ms + w.grace_ms, "inactivity gap plus the grace period"),
                         time_ordered=self._emit_final)

    def _aggregate(self, prefix: str, materialized: Materialized | str | None,
                   name: str | None, value_serde: Serde | None, burn: bool,
                   initializer: Callable[[], Any], aggregator: Callable[[Any, Any, Any], Any],
                   merger: Callable[[Any, Any, Any], Any]) -> KTable:
        w, final = self.windows, self._emit_final

        def make(store: str, old: bool) -> Processor:
            made = KStreamSessionWindowAggregate(store, w, initializer, aggregator, merger,
                                                 final, old)
            made.reads_value = aggregator is not _count_add
            return made

        return self._build(prefix, materialized, name, value_serde, burn, self._spec, make,
                           w.gap_ms + w.grace_ms, SessionWindowedSerde)

    def count(self, materialized: Materialized | str | None = None, name: str | None = None
              ) -> KTable:
        """Records per session (null values count; null keys are dropped)."""
        mat = Materialized.of(materialized)
        reject_versioned(mat, "windowed aggregation")
        return self._aggregate(AGGREGATE, mat, name, mat.value_serde or LongSerde(), True,
                               _count_init, _count_add, _count_merge)

    def reduce(self, reducer: Callable[[Any, Any], Any],
               materialized: Materialized | str | None = None, name: str | None = None
               ) -> KTable:
        """``reducer(aggregate, value)`` per session; merging sessions reduces their values."""
        agg = _reduce_aggregator(reducer)
        return self._aggregate(REDUCE, materialized, name, self.value_serde, False, _no_init,
                               agg, lambda key, a, b: agg(key, b, a))

    def aggregate(self, initializer: Callable[[], Any],
                  aggregator: Callable[[Any, Any, Any], Any],
                  session_merger: Callable[[Any, Any, Any], Any],
                  materialized: Materialized | str | None = None, name: str | None = None
                  ) -> KTable:
        """``aggregator(key, value, agg)`` per session; ``session_merger(key, agg1, agg2)``
        combines two sessions a record joins together."""
        return self._aggregate(AGGREGATE, materialized, name, None, False, initializer,
                               aggregator, session_merger)


def windowed_by(grouped: KGroupedStream, windows: Any
                ) -> TimeWindowedKStream | SessionWindowedKStream:
    """The windowed view of ``grouped`` for ``windows``."""
    if isinstance(windows, TimeWindows | SlidingWindows):
        return TimeWindowedKStream(grouped, windows)
    if isinstance(windows, SessionWindows):
        return SessionWindowedKStream(grouped, windows)
    raise TypeError(
        f"windowed_by: expected TimeWindows, SlidingWindows or SessionWindows, got {windows!r}"
    )
