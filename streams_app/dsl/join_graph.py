"""Wires joins into the DSL graph, with Kafka Streams' node names, stores and internal topics.

Called by ``KStream.join`` / ``left_join`` / ``outer_join`` and ``KTable.join`` / ... . Table
sides are read through the upstream supplier's ``view()``: the join node is connected to the
stores behind it (a source table read by a join gets materialized, as in Kafka).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from streams_app.dsl.graph import InternalBuilder
from streams_app.dsl.joins import Joined, JoinWindows, StreamJoined, TableJoined
from streams_app.dsl.options import Materialized, key_value_spec
from streams_app.processors.api import Processor
from streams_app.processors.fk_join import (
    ForeignTableJoin,
    ResponseJoin,
    ResponseWrapperSerde,
    SubscriptionJoinForeign,
    SubscriptionReceive,
    SubscriptionSend,
    SubscriptionWrapperSerde,
)
from streams_app.processors.join_buffer import join_buffer_spec
from streams_app.processors.joins import (
    INNER,
    LEFT,
    OUTER,
    RIGHT,
    KStreamKTableJoin,
    KTableKTableJoinMergerSupplier,
    KTableKTableJoinSupplier,
)
from streams_app.processors.stream import KStreamPassThrough
from streams_app.processors.stream_join import (
    JoinTimeTrackers,
    KStreamJoinWindow,
    KStreamKStreamJoin,
)
from streams_app.processors.suppliers import FixedSupplier, StoreValueGetter
from streams_app.processors.table import KTableSourceSupplier
from streams_app.serdes import BytesSerde
from streams_app.state.spec import WINDOW, StoreSpec
from streams_app.state.store_serdes import (
    JoinSideKeySerde,
    JoinValuesSerde,
    LeftOrRightValuesSerde,
)

if TYPE_CHECKING:
    from streams_app.dsl.kstream import KStream
    from streams_app.dsl.ktable import GlobalKTable, KTable

__all__ = [
    "INNER",
    "LEFT",
    "OUTER",
    "stream_join",
    "table_join",
    "stream_stream_join",
    "stream_table_join",
    "stream_global_table_join",
    "table_table_join",
    "foreign_key_join",
    "with_key",
]


def _positional_arity(fn: Callable[..., Any]) -> int | None:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(1 for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
               and p.default is p.empty)


def with_key(fn: Callable[..., Any], arity_without_key: int) -> Callable[..., Any]:
    """``fn`` taking the key first: Kafka's ValueJoiner vs ValueJoinerWithKey (and
    ``Function`` vs ``BiFunction`` foreign-key extractors), told apart by arity."""
    if _positional_arity(fn) != arity_without_key:
        return fn
    if arity_without_key == 1:  # fixed arities: no *args packing per record
        return lambda _key, a: fn(a)
    if arity_without_key == 2:
        return lambda _key, a, b: fn(a, b)
    return lambda _key, *args: fn(*args)


# -- stream-stream --------------------------------------------------------------------------


def stream_stream_join(this: KStream, other: KStream, joiner: Callable[..., Any],
                       windows: JoinWindows, joined: StreamJoined | None, left_outer: bool,
                       right_outer: bool) -> KStream:
    """``this`` joined with ``other`` within ``windows`` (inner, left or outer)."""
    from streams_app.dsl.kstream import KStream

    if not isinstance(windows, JoinWindows):
        raise TypeError(f"stream-stream join: windows must be JoinWindows, got {windows!r}")
    sj = joined or StreamJoined()
    b = this._builder
    ks = sj.key_serde or this.key_serde
    this_node = _copartition(this, f"{sj.name}-left" if sj.name else None, ks,
                             sj.value_serde or this.value_serde)
    other_node = _copartition(other, f"{sj.name}-right" if sj.name else None, ks,
                              sj.other_value_serde or other.value_serde)
    b.copartition(this_node, other_node)

    def named(suffix: str, prefix: str) -> str:
        return f"{sj.name}{suffix}" if sj.name else b.new_name(prefix)

    this_windowed = named("-this-windowed", "KSTREAM-WINDOWED-")
    other_windowed = named("-other-windowed", "KSTREAM-WINDOWED-")
    this_suffix = "-outer-this-join" if right_outer else "-this-join"
    other_suffix = "-outer-other-join" if left_outer else "-other-join"
    this_gen = b.new_name("KSTREAM-OUTERTHIS-" if right_outer else "KSTREAM-JOINTHIS-")
    other_gen = b.new_name("KSTREAM-OUTEROTHER-" if left_outer else "KSTREAM-JOINOTHER-")
    join_this = f"{sj.name}{this_suffix}" if sj.name else this_gen
    join_other = f"{sj.name}{other_suffix}" if sj.name else other_gen
    merge = named("-merge", "KSTREAM-MERGE-")
    base = sj.store_name
    this_store = (f"{base}{this_suffix}" if base else this_gen) + "-store"
    other_store = (f"{base}{other_suffix}" if base else other_gen) + "-store"

    retention = windows.retention_ms()

    this_vs = sj.value_serde or this.value_serde
    other_vs = sj.other_value_serde or other.value_serde

    def window_spec(name: str, value_serde: Any) -> StoreSpec:
        # every value of a key at one timestamp (duplicates are kept), logged as one list
        return StoreSpec(name, kind=WINDOW, key_serde=ks, value_serde=JoinValuesSerde(value_serde),
                         timestamped=False, logging=sj.logging, caching=False,
                         window_size=windows.size())

    this_spec = window_spec(this_store, this_vs)
    other_spec = window_spec(other_store, other_vs)
    outer_spec = None
    if left_outer:
        suffix = "-outer-shared-join" if right_outer else "-left-shared-join"
        prefix_len = len("KSTREAM-OUTERTHIS-" if right_outer else "KSTREAM-JOINTHIS-")
        outer_name = (f"{base}{suffix}" if base else "KSTREAM-OUTERSHARED-" + this_gen[prefix_len:])
        # keys are (timestamp, side, key) tuples, values the held (left, right) pairs
        outer_spec = StoreSpec(outer_name + "-store", key_serde=JoinSideKeySerde(ks),
                               value_serde=LeftOrRightValuesSerde(this_vs, other_vs),
                               timestamped=False, logging=sj.logging, caching=False)
    trackers = JoinTimeTrackers()
    key_joiner = with_key(joiner, 2)
    outer_name_or_none = None if outer_spec is None else outer_spec.name
    shared = [] if outer_spec is None else [outer_spec]

    def side(left_side: bool, store: str, outer: bool) -> Callable[[], Processor]:
        return lambda: KStreamKStreamJoin(
            left_side, store, windows.before_ms, windows.after_ms, windows.grace_ms, retention,
            key_joiner, outer, outer_name_or_none, trackers)

    b.add_processor(this_windowed, FixedSupplier(
        lambda: KStreamJoinWindow(this_store, retention, trackers), [this_spec]), this_node)
    b.add_processor(other_windowed, FixedSupplier(
        lambda: KStreamJoinWindow(other_store, retention, trackers), [other_spec]), other_node)
    b.add_processor(join_this, FixedSupplier(side(True, other_store, left_outer),
                                          [other_spec, *shared]), this_windowed)
    b.add_processor(join_other, FixedSupplier(side(False, this_store, right_outer),
                                           [this_spec, *shared]), other_windowed)
    b.add_processor(merge, FixedSupplier(KStreamPassThrough), join_this, join_other)
    return KStream(b, merge, sj.key_serde, None, False)


def _copartition(stream: KStream, name: str | None, key_serde: Any, value_serde: Any) -> str:
    """The stream's node, through a repartition topic first when its key was changed."""
    if not stream.repartition_required:
        return stream._node
    return stream._builder.add_repartition(stream._node, name or stream._node, key_serde,
                                           value_serde)


# -- stream-table and stream-global table ----------------------------------------------------


def stream_table_join(this: KStream, table: KTable, joiner: Callable[..., Any],
                      joined: Joined | None, left: bool) -> KStream:
    """Each stream record joined with the table's current row for its key."""
    from streams_app.dsl.kstream import KStream

    jd = joined or Joined()
    b = this._builder
    ks = jd.key_serde or this.key_serde
    node = _copartition(this, jd.name, ks, jd.value_serde or this.value_serde)
    b.copartition(node, table._node)
    name = jd.name or b.new_name("KSTREAM-LEFTJOIN-" if left else "KSTREAM-JOIN-")
    view = table._supplier.view()
    key_joiner = with_key(joiner, 2)
    grace, specs, buffer = jd.grace_period_ms, list(view.store_specs), None
    if grace is not None:
        if not table.versioned:
            raise ValueError("KTable must be versioned to use a grace period in a stream table "
                             "join.")
        buffer = join_buffer_spec(f"{name}-Buffer", jd.value_serde or this.value_serde)
        specs.append(buffer)
    buffer_name = None if buffer is None else buffer.name
    b.add_processor(name, FixedSupplier(
        lambda: KStreamKTableJoin(view.get(), key_joiner, left, grace_ms=grace or 0,
                                  buffer_store=buffer_name, key_serde=ks), specs), node)
    return KStream(b, name, ks, None, False)


def stream_global_table_join(this: KStream, table: GlobalKTable,
                             key_mapper: Callable[[Any, Any], Any], joiner: Callable[..., Any],
                             left: bool, name: str | None) -> KStream:
    """Each stream record joined with the global table's row for ``key_mapper(key, value)``."""
    from streams_app.dsl.kstream import KStream

    b = this._builder
    node_name = name or b.new_name("KSTREAM-LEFTJOIN-")
    store = table.store_name
    key_joiner = with_key(joiner, 2)
    b.add_processor(node_name, FixedSupplier(
        lambda: KStreamKTableJoin(StoreValueGetter(store), key_joiner, left, key_mapper)),
        this._node)
    return KStream(b, node_name, this.key_serde, None, this.repartition_required)


# -- table-table ----------------------------------------------------------------------------


def table_table_join(this: KTable, other: KTable, joiner: Callable[[Any, Any], Any],
                     materialized: Materialized | str | None, kind: str,
                     name: str | None) -> KTable:
    """Kafka's KTableImpl.doJoin: two join sides and a merger."""
    from streams_app.dsl.ktable import KTable

    b = this._builder
    mat = None if materialized is None else Materialized.of(materialized)
    store = None
    if mat is not None:
        store = mat.store_name or b.new_store_name("KTABLE-MERGE-")
    merge = name or b.new_name("KTABLE-MERGE-")
    if kind in (LEFT, OUTER):
        this._supplier.enable_sending_old_values(True)
    if kind == OUTER:
        other._supplier.enable_sending_old_values(True)
    this_view = this._supplier.view()
    other_view = other._supplier.view()
    reverse = (lambda a, c: joiner(c, a))  # noqa: E731
    other_kind = {INNER: INNER, LEFT: RIGHT, OUTER: OUTER}[kind]
    this_side = KTableKTableJoinSupplier(kind, this._supplier, other._supplier, other_view,
                                         joiner)
    other_side = KTableKTableJoinSupplier(other_kind, other._supplier, this._supplier,
                                          this_view, reverse)
    this_side.use_versioned_semantics = this.versioned
    other_side.use_versioned_semantics = other.versioned
    join_this = f"{name}-join-this" if name else b.new_name("KTABLE-JOINTHIS-")
    join_other = f"{name}-join-other" if name else b.new_name("KTABLE-JOINOTHER-")
    ks = (mat.key_serde if mat is not None else None) or this.key_serde
    vs = mat.value_serde if mat is not None else None
    spec = None
    if mat is not None and store is not None:
        spec = key_value_spec(mat, store, ks, vs)
    merger = KTableKTableJoinMergerSupplier(kind, (this_side, other_side), spec, joiner)
    b.copartition(this._node, other._node)
    b.add_processor(join_this, this_side, this._node)
    b.add_processor(join_other, other_side, other._node)
    b.add_processor(merge, merger, join_this, join_other)
    queryable = store if mat is not None and mat.store_name else None
    return KTable(b, merge, merger, ks, vs, queryable,
                  versioned=spec is not None and spec.versioned)


# -- foreign-key ----------------------------------------------------------------------------


def foreign_key_join(this: KTable, other: KTable, extractor: Callable[..., Any],
                     joiner: Callable[[Any, Any], Any], table_joined: TableJoined | None,
                     materialized: Materialized | str | None, left: bool) -> KTable:
    """Kafka's KTableImpl.doJoinOnForeignKey: subscription and response topics, a
    subscription store next to the right table, the result as a table source."""
    from streams_app.dsl.ktable import KTable

    b: InternalBuilder = this._builder
    nm = (table_joined or TableJoined()).name
    fk_extract = with_key(extractor, 1)
    other._supplier.enable_sending_old_values(True)
    this._supplier.enable_sending_old_values(True)

    def named(suffix: str, prefix: str) -> str:
        return f"{nm}{suffix}" if nm else b.new_name(prefix)

    sub_topic = named("-subscription-registration",
                      "KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-") + "-topic"
    b.internal_topics.append(sub_topic)
    fk_serde, pk_serde = other.key_serde, this.key_serde
    sub_serde = SubscriptionWrapperSerde(pk_serde)
    response_serde = ResponseWrapperSerde(other.value_serde)
    this_vs = this.value_serde
    send = named("-subscription-registration-processor",
                 "KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-")
    this_versioned, other_versioned = this.versioned, other.versioned
    b.add_processor(send, FixedSupplier(
        lambda: SubscriptionSend(fk_extract, left, fk_serde, this_vs, this_versioned)),
        this._node)
    sub_sink = b.add_sink(named("-subscription-registration-sink", "KSTREAM-SINK-"), sub_topic,
                          fk_serde, sub_serde, send)
    sub_source = b.add_source(named("-subscription-registration-source", "KSTREAM-SOURCE-"),
                              [sub_topic], fk_serde, sub_serde, None)
    del sub_sink
    b.copartition(sub_source, other._node)  # subscriptions land beside the foreign table
    store = named("-subscription-store", "KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-")
    store_spec = StoreSpec(store, key_serde=BytesSerde(), value_serde=sub_serde, caching=False)
    receive = named("-subscription-receive", "KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-")
    b.add_processor(receive, FixedSupplier(
        lambda: SubscriptionReceive(store, fk_serde, pk_serde), [store_spec]), sub_source)
    right_view = other._supplier.view()
    join_foreign = named("-subscription-join-foreign", "KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-")
    b.add_processor(join_foreign, FixedSupplier(
        lambda: SubscriptionJoinForeign(right_view.get()), right_view.store_specs), receive)
    foreign_join = named("-foreign-join-subscription", "KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-")
    def foreign_table_join() -> ForeignTableJoin:
        processor = ForeignTableJoin(store, fk_serde, pk_serde)
        processor.use_versioned_semantics = other_versioned
        return processor

    b.add_processor(foreign_join, FixedSupplier(foreign_table_join, [store_spec]), other._node)
    response_topic = named("-subscription-response",
                           "KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-") + "-topic"
    b.internal_topics.append(response_topic)
    response_sink = b.add_sink(named("-subscription-response-sink", "KSTREAM-SINK-"),
                               response_topic, pk_serde, response_serde, join_foreign)
    b.nodes[response_sink].parents.append(foreign_join)  # both answer through one sink
    response_source = b.add_source(named("-subscription-response-source", "KSTREAM-SOURCE-"),
                                   [response_topic], pk_serde, response_serde, None)
    b.copartition(response_source, this._node)  # responses land beside the left table
    left_view = this._supplier.view()
    resolver = named("-subscription-response-resolver",
                     "KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-")
    b.add_processor(resolver, FixedSupplier(
        lambda: ResponseJoin(left_view.get(), this_vs, joiner, left), left_view.store_specs),
        response_source)
    result = named("-result", "KTABLE-FK-JOIN-OUTPUT-")
    mat = Materialized.of(materialized)
    result_store = mat.store_name or b.new_store_name("KTABLE-FK-JOIN-OUTPUT-")
    ks = mat.key_serde or pk_serde
    spec = key_value_spec(mat, result_store, ks, mat.value_serde)
    supplier = KTableSourceSupplier(spec, queryable=mat.store_name is not None)
    b.add_processor(result, supplier, resolver)
    return KTable(b, result, supplier, ks, mat.value_serde,
                  result_store if mat.store_name else None, versioned=spec.versioned)


# -- dispatch from KStream / KTable ---------------------------------------------------------


def stream_join(this: KStream, other: Any, first: Callable[..., Any], second: Any, third: Any,
                kind: str, name: str | None) -> KStream:
    """``KStream.join`` / ``left_join`` / ``outer_join`` by the type of ``other``:
    ``(stream, joiner, JoinWindows[, StreamJoined])``, ``(table, joiner[, Joined])`` or
    ``(global_table, key_mapper, joiner)``."""
    from streams_app.dsl.kstream import KStream
    from streams_app.dsl.ktable import GlobalKTable, KTable

    if isinstance(other, KStream):
        if second is None:
            raise TypeError("stream-stream join: windows (JoinWindows) are required")
        joined = third or StreamJoined()
        if name is not None:
            joined = replace(joined, name=name)
        return stream_stream_join(this, other, first, second, joined, kind != INNER,
                                  kind == OUTER)
    if kind == OUTER:
        raise TypeError(f"outer_join: only stream-stream joins can be outer, got {other!r}")
    if isinstance(other, KTable):
        joined = second if isinstance(second, Joined) else Joined()
        if name is not None:
            joined = replace(joined, name=name)
        return stream_table_join(this, other, first, joined, kind == LEFT)
    if isinstance(other, GlobalKTable):
        if not callable(second):
            raise TypeError("stream-global table join: (global_table, key_mapper, joiner)")
        return stream_global_table_join(this, other, first, second, kind == LEFT, name)
    raise TypeError(f"join: cannot join a KStream with {other!r}")


def table_join(this: KTable, other: KTable, first: Callable[..., Any], second: Any,
               materialized: Materialized | str | None, kind: str, name: str | None,
               table_joined: TableJoined | None) -> KTable:
    """``KTable.join`` / ``left_join`` / ``outer_join``: ``(table, joiner[, materialized])``,
    or the foreign-key join ``(table, fk_extractor, joiner[, materialized])``."""
    from streams_app.dsl.ktable import KTable

    if not isinstance(other, KTable):
        raise TypeError(f"table join: other must be a KTable, got {other!r}")
    if callable(second):
        if kind == OUTER:
            raise TypeError("foreign-key joins are inner or left, not outer")
        if name is not None and table_joined is None:
            table_joined = TableJoined(name)
        return foreign_key_join(this, other, first, second, table_joined, materialized,
                                kind == LEFT)
    return table_table_join(this, other, first, second if second is not None else materialized,
                            kind, name)
