"""KStream: a record stream and its DSL operations."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from streams_app.dsl.graph import InternalBuilder
from streams_app.dsl.options import (
    Branched,
    Grouped,
    Materialized,
    Produced,
    Repartitioned,
    key_value_spec,
)
from streams_app.processors import stream as ops
from streams_app.processors.suppliers import FixedSupplier
from streams_app.processors.table import KTableSourceSupplier
from streams_app.serdes import Serde

if TYPE_CHECKING:
    from streams_app.dsl.grouped import KGroupedStream
    from streams_app.dsl.ktable import KTable

__all__ = ["KStream", "BranchedKStream"]


class KStream:
    """An unbounded stream of key-value records.

    ``key_serde``/``value_serde`` are inherited by sinks and stores downstream when known
    (``None`` = the application default). ``repartition_required`` marks a key change: a
    following stateful operation first writes the stream through a repartition topic.
    """

    def __init__(self, builder: InternalBuilder, node: str, key_serde: Serde | None,
                 value_serde: Serde | None, repartition_required: bool = False) -> None:
        self._builder = builder
        self._node = node
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.repartition_required = repartition_required

    def _child(self, prefix: str, factory: Callable[[], Any], name: str | None,
               key_serde: Serde | None, value_serde: Serde | None, rekey: bool) -> KStream:
        b = self._builder
        node = b.add_processor(name or b.new_name(prefix), FixedSupplier(factory), self._node)
        return KStream(b, node, key_serde, value_serde, rekey)

    # -- stateless ------------------------------------------------------------------------

    def map(self, mapper: Callable[[Any, Any], tuple[Any, Any]], name: str | None = None
            ) -> KStream:
        """``mapper(key, value) -> (key, value)``; a key change (repartitions if grouped)."""
        return self._child("KSTREAM-MAP-", lambda: ops.KStreamMap(mapper), name, None, None, True)

    def map_values(self, mapper: Callable[..., Any], name: str | None = None, *,
                   with_key: bool = False) -> KStream:
        """``mapper(value)`` (``mapper(key, value)`` with ``with_key``); keys are kept."""
        return self._child("KSTREAM-MAPVALUES-", lambda: ops.KStreamMapValues(mapper, with_key),
                           name, self.key_serde, None, self.repartition_required)

    def filter(self, predicate: Callable[[Any, Any], bool], name: str | None = None) -> KStream:
        """Keep records where ``predicate(key, value)`` is true."""
        return self._child("KSTREAM-FILTER-", lambda: ops.KStreamFilter(predicate), name,
                           self.key_serde, self.value_serde, self.repartition_required)

    def filter_not(self, predicate: Callable[[Any, Any], bool], name: str | None = None
                   ) -> KStream:
        """Drop records where ``predicate(key, value)`` is true."""
        return self._child("KSTREAM-FILTER-", lambda: ops.KStreamFilter(predicate, True), name,
                           self.key_serde, self.value_serde, self.repartition_required)

    def flat_map(self, mapper: Callable[[Any, Any], Iterable[tuple[Any, Any]]],
                 name: str | None = None) -> KStream:
        """``mapper(key, value) -> iterable of (key, value)``; a key change."""
        return self._child("KSTREAM-FLATMAP-", lambda: ops.KStreamFlatMap(mapper), name, None,
                           None, True)

    def flat_map_values(self, mapper: Callable[..., Iterable[Any]], name: str | None = None,
                        *, with_key: bool = False) -> KStream:
        """``mapper(value) -> iterable of values``; keys are kept."""
        return self._child("KSTREAM-FLATMAPVALUES-",
                           lambda: ops.KStreamFlatMapValues(mapper, with_key), name, self.key_serde,
                           None, self.repartition_required)

    def select_key(self, mapper: Callable[[Any, Any], Any], name: str | None = None) -> KStream:
        """New key ``mapper(key, value)``, same value; a key change."""
        return self._child("KSTREAM-KEY-SELECT-",
                           lambda: ops.KStreamSelectKey(mapper), name, None,
                           self.value_serde, True)

    def peek(self, action: Callable[[Any, Any], Any], name: str | None = None) -> KStream:
        """Call ``action(key, value)`` and pass records on."""
        return self._child("KSTREAM-PEEK-", lambda: ops.KStreamPeek(action, True), name,
                           self.key_serde, self.value_serde, self.repartition_required)

    def foreach(self, action: Callable[[Any, Any], Any], name: str | None = None) -> None:
        """Call ``action(key, value)`` for every record (terminal)."""
        self._child("KSTREAM-FOREACH-", lambda: ops.KStreamPeek(action, False), name, None, None,
                    False)

    def merge(self, other: KStream, name: str | None = None) -> KStream:
        """Interleave two streams (serdes kept only when both agree)."""
        b = self._builder
        node = b.add_processor(name or b.new_name("KSTREAM-MERGE-"),
                               FixedSupplier(ops.KStreamPassThrough), self._node, other._node)
        ks = self.key_serde if self.key_serde is other.key_serde else None
        vs = self.value_serde if self.value_serde is other.value_serde else None
        return KStream(b, node, ks, vs, self.repartition_required or other.repartition_required)

    def split(self, name: str | None = None) -> BranchedKStream:
        """Route records to branches by predicate (Kafka's ``split()``)."""
        return BranchedKStream(self, name)

    def branch(self, *predicates: Callable[[Any, Any], bool]) -> list[KStream]:
        """One stream per predicate; each record goes to the first that matches."""
        splitter = self.split()
        for predicate in predicates:
            splitter.branch(predicate)
        return list(splitter.no_default_branch().values())

    # -- user processors -------------------------------------------------------------------

    def process(self, supplier: Any, *store_names: str, named: str | None = None) -> KStream:
        """Run a :class:`~streams_app.processors.api.Processor` from ``supplier`` (a Processor
        class, a callable returning a new one, or an object with ``get()``) on every record,
        with access to the stores named (added with ``StreamsBuilder.add_state_store``).

        The processor may forward any key, so the result counts as key-changed (a following
        stateful operation repartitions), as in Kafka Streams.
        """
        return self._user_process(supplier, store_names, named, False)

    def process_values(self, supplier: Any, *store_names: str, named: str | None = None
                       ) -> KStream:
        """Like :meth:`process` with a :class:`~streams_app.processors.process.FixedKeyProcessor`:
        it receives and forwards ``FixedKeyRecord`` s, so keys (and partitioning) are kept."""
        return self._user_process(supplier, store_names, named, True)

    def _user_process(self, supplier: Any, store_names: tuple[str, ...], named: str | None,
                      fixed_key: bool) -> KStream:
        from streams_app.processors.process import UserProcessorSupplier, supplier_factory

        what = "process_values()" if fixed_key else "process()"
        for store in store_names:
            if not isinstance(store, str):
                raise TypeError(f"{what}: store names must be strings, got {store!r}")
        b = self._builder
        names = list(store_names)
        provided = None if isinstance(supplier, type) else getattr(supplier, "stores", None)
        for store in (provided() if callable(provided) else None) or ():  # Kafka's stores()
            if b.state_stores.setdefault(store.name, store) is not store:
                raise ValueError(f"{what}: the supplier's store {store.name!r} clashes with a "
                                 "store of that name added before")
            if store.name not in names:
                names.append(store.name)
        node = b.add_processor(
            named or b.new_name("KSTREAM-PROCESSVALUES-" if fixed_key else "KSTREAM-PROCESSOR-"),
            UserProcessorSupplier(supplier_factory(supplier, what), fixed_key), self._node)
        b.nodes[node].store_names = names
        if fixed_key:
            return KStream(b, node, self.key_serde, None, self.repartition_required)
        return KStream(b, node, None, None, True)

    # -- sinks and repartitioning ---------------------------------------------------------

    def to(self, topic: str, produced: Produced | None = None, *,
           key_serde: Serde | None = None, value_serde: Serde | None = None) -> None:
        """Write to ``topic``; serdes from ``produced``, else inherited, else defaults."""
        produced = produced or Produced()
        b = self._builder
        b.add_sink(produced.name or b.new_name("KSTREAM-SINK-"), topic,
                   key_serde or produced.key_serde or self.key_serde,
                   value_serde or produced.value_serde or self.value_serde, self._node)

    def repartition(self, repartitioned: Repartitioned | str | None = None) -> KStream:
        """Write through ``<application_id>-<name>-repartition`` and read back."""
        if isinstance(repartitioned, str):
            repartitioned = Repartitioned(name=repartitioned)
        rp = repartitioned or Repartitioned()
        b = self._builder
        prefix = rp.name or b.new_name("KSTREAM-REPARTITION-")
        ks = rp.key_serde or self.key_serde
        vs = rp.value_serde or self.value_serde
        source = b.add_repartition(self._node, prefix, ks, vs, filter_null_keys=False,
                                   num_partitions=rp.num_partitions)
        return KStream(b, source, ks, vs, False)

    def through(self, topic: str, produced: Produced | None = None) -> KStream:
        """Write to a user topic and read it back (Kafka's deprecated ``through``)."""
        self.to(topic, produced)
        produced = produced or Produced()
        b = self._builder
        ks = produced.key_serde or self.key_serde
        vs = produced.value_serde or self.value_serde
        source = b.add_source(b.new_name("KSTREAM-SOURCE-"), [topic], ks, vs, None)
        return KStream(b, source, ks, vs, False)

    # -- joins ----------------------------------------------------------------------------

    def join(self, other: Any, joiner: Callable[..., Any], windows_or_joiner: Any = None,
             joined: Any = None, *, name: str | None = None) -> KStream:
        """Inner join, by ``other``'s type, as Kafka's ``KStream.join``:

        - ``join(stream, joiner, JoinWindows[, StreamJoined])``: windowed stream-stream join;
        - ``join(table, joiner[, Joined])``: each record with the table's row for its key;
        - ``join(global_table, key_mapper, joiner)``: with the row for ``key_mapper(k, v)``.

        ``joiner(left, right)`` or ``joiner(key, left, right)``.
        """
        from streams_app.dsl.join_graph import INNER, stream_join

        return stream_join(self, other, joiner, windows_or_joiner, joined, INNER, name)

    def left_join(self, other: Any, joiner: Callable[..., Any], windows_or_joiner: Any = None,
                  joined: Any = None, *, name: str | None = None) -> KStream:
        """Left join (same forms as :meth:`join`): records without a partner still emit,
        with ``None`` as the right value (stream-stream: once the window has closed)."""
        from streams_app.dsl.join_graph import LEFT, stream_join

        return stream_join(self, other, joiner, windows_or_joiner, joined, LEFT, name)

    def outer_join(self, other: KStream, joiner: Callable[..., Any], windows: Any,
                   stream_joined: Any = None, *, name: str | None = None) -> KStream:
        """Windowed outer join of two streams: unmatched records of either side emit with
        ``None`` for the missing side once their window has closed."""
        from streams_app.dsl.join_graph import OUTER, stream_join

        return stream_join(self, other, joiner, windows, stream_joined, OUTER, name)

    # -- grouping and tables ---------------------------------------------------------------

    def group_by_key(self, grouped: Grouped | None = None) -> KGroupedStream:
        """Group by the current key (repartitions first if the key was changed)."""
        from streams_app.dsl.grouped import KGroupedStream

        grouped = grouped or Grouped()
        return KGroupedStream(self._builder, self._node, grouped.key_serde or self.key_serde,
                              grouped.value_serde or self.value_serde,
                              self.repartition_required, grouped.name)

    def group_by(self, selector: Callable[[Any, Any], Any], grouped: Grouped | None = None
                 ) -> KGroupedStream:
        """Group by ``selector(key, value)``; always repartitions before aggregating."""
        from streams_app.dsl.grouped import KGroupedStream

        grouped = grouped or Grouped()
        b = self._builder
        node = b.add_processor(b.new_name("KSTREAM-KEY-SELECT-"),
                               FixedSupplier(lambda: ops.KStreamSelectKey(selector)),
                               self._node)
        return KGroupedStream(b, node, grouped.key_serde,
                              grouped.value_serde or self.value_serde, True, grouped.name)

    def to_table(self, materialized: Materialized | str | None = None,
                 name: str | None = None) -> KTable:
        """Read the stream as a changelog: each record upserts its key (``None`` deletes)."""
        from streams_app.dsl.ktable import KTable

        mat = Materialized.of(materialized)
        b = self._builder
        node_name = name or b.new_name("KSTREAM-TOTABLE-")
        store = mat.store_name or b.new_store_name("KSTREAM-TOTABLE-")
        ks = mat.key_serde or self.key_serde
        vs = mat.value_serde or self.value_serde
        parent = self._node
        if self.repartition_required:
            parent = b.add_repartition(parent, node_name, ks, vs)
        spec = key_value_spec(mat, store, ks, vs)
        supplier = KTableSourceSupplier(spec, queryable=mat.store_name is not None)
        node = b.add_processor(node_name, supplier, parent)
        return KTable(b, node, supplier, ks, vs, versioned=spec.versioned)


class BranchedKStream:
    """The result of ``split()``: add branches, then ``default_branch()``/``no_default_branch()``.

    Branch names are the split name (generated ``KSTREAM-BRANCH-<n>`` when not given)
    followed by the branch name, or its 1-based index (0 for the default branch).
    """

    def __init__(self, stream: KStream, name: str | None) -> None:
        self._stream = stream
        b = stream._builder
        self._name = name or b.new_name("KSTREAM-BRANCH-")
        self._predicates: list[Callable[[Any, Any], bool] | None] = []
        self._children: list[str] = []
        self._outputs: dict[str, KStream] = {}
        preds, children = self._predicates, self._children
        b.add_processor(self._name, FixedSupplier(lambda: ops.KStreamBranch(preds, children)),
                        stream._node)

    def branch(self, predicate: Callable[[Any, Any], bool],
               branched: Branched | str | None = None) -> BranchedKStream:
        """Add a branch for records matching ``predicate`` (and no earlier branch)."""
        self._predicates.append(predicate)
        self._create(branched, len(self._predicates))
        return self

    def default_branch(self, branched: Branched | str | None = None) -> dict[str, KStream]:
        """Add the branch for everything else and return the named branches."""
        self._predicates.append(None)
        self._create(branched, 0)
        return self._outputs

    def no_default_branch(self) -> dict[str, KStream]:
        """Return the named branches; unmatched records are dropped."""
        return self._outputs

    def _create(self, branched: Branched | str | None, index: int) -> None:
        if isinstance(branched, str):
            branched = Branched(name=branched)
        branched = branched or Branched()
        child = self._name + (branched.name if branched.name is not None else str(index))
        self._children.append(child)
        s = self._stream
        b = s._builder
        b.burn_index()
        b.add_processor(child, FixedSupplier(ops.KStreamPassThrough), self._name)
        stream = KStream(b, child, s.key_serde, s.value_serde, s.repartition_required)
        if branched.chain is not None:
            result = branched.chain(stream)
            if result is not None:
                self._outputs[child] = result
        else:
            self._outputs[child] = stream
