"""StreamsBuilder: the DSL's entry point."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from streams_app.dsl.graph import GlobalStoreNode, InternalBuilder
from streams_app.dsl.kstream import KStream
from streams_app.dsl.ktable import GlobalKTable, KTable
from streams_app.dsl.options import Consumed, Materialized, key_value_spec, reject_versioned
from streams_app.dsl.stores import StoreBuilder
from streams_app.dsl.topology import Topology
from streams_app.processors.table import KTableSourceSupplier
from streams_app.serdes import Serde
from streams_app.state.spec import StoreSpec

__all__ = ["StreamsBuilder"]


def _consumed(consumed: Consumed | None, key_serde: Serde | None, value_serde: Serde | None,
              extractor: Callable[[Any, int], int] | None) -> Consumed:
    c = consumed or Consumed()
    return Consumed(key_serde or c.key_serde, value_serde or c.value_serde,
                    extractor or c.timestamp_extractor, c.name)


class StreamsBuilder:
    """Builds a topology: ``stream()``, ``table()``, ``global_table()``, then ``build()``."""

    def __init__(self) -> None:
        self._builder = InternalBuilder()
        self._built: Topology | None = None

    def stream(self, topics: str | list[str], consumed: Consumed | None = None, *,
               key_serde: Serde | None = None, value_serde: Serde | None = None,
               timestamp_extractor: Callable[[Any, int], int] | None = None) -> KStream:
        """A KStream over one or more topics."""
        c = _consumed(consumed, key_serde, value_serde, timestamp_extractor)
        topic_list = [topics] if isinstance(topics, str) else list(topics)
        b = self._builder
        node = b.add_source(c.name or b.new_name("KSTREAM-SOURCE-"), topic_list, c.key_serde,
                            c.value_serde, c.timestamp_extractor)
        return KStream(b, node, c.key_serde, c.value_serde)

    def _table_source(self, topic: str, materialized: Materialized | str | None,
                      consumed: Consumed, is_global: bool
                      ) -> tuple[str, str, StoreSpec, KTableSourceSupplier]:
        """The source node and the KTableSource reading ``topic`` into its store."""
        mat = Materialized.of(materialized)
        b = self._builder
        store = mat.store_name or b.new_store_name(f"{topic}-")
        source = b.add_source(consumed.name or b.new_name("KSTREAM-SOURCE-"), [topic],
                              consumed.key_serde, consumed.value_serde,
                              consumed.timestamp_extractor)
        ks = mat.key_serde or consumed.key_serde
        vs = mat.value_serde or consumed.value_serde
        if is_global:  # its source topic is its changelog; Kafka forwards nothing from it
            reject_versioned(mat, "global_table")
            spec = StoreSpec(store, key_serde=ks, value_serde=vs)
        else:
            spec = key_value_spec(mat, store, ks, vs)
        supplier = KTableSourceSupplier(spec, queryable=is_global or mat.store_name is not None)
        node = b.add_processor(b.new_name("KTABLE-SOURCE-"), supplier, source)
        return source, node, spec, supplier

    def table(self, topic: str, materialized: Materialized | str | None = None,
              consumed: Consumed | None = None, *, key_serde: Serde | None = None,
              value_serde: Serde | None = None,
              timestamp_extractor: Callable[[Any, int], int] | None = None) -> KTable:
        """A KTable over a (compacted) topic: each record upserts its key, ``None`` deletes.

        Materialized (queryable) when ``materialized`` names a store; otherwise only if a
        downstream operation needs old values (for example ``group_by``).
        """
        c = _consumed(consumed, key_serde, value_serde, timestamp_extractor)
        _, node, spec, supplier = self._table_source(topic, materialized, c, False)
        queryable = Materialized.of(materialized).store_name is not None
        return KTable(self._builder, node, supplier, spec.key_serde, spec.value_serde,
                      spec.name if queryable else None, versioned=spec.versioned)

    def global_table(self, topic: str, materialized: Materialized | str | None = None,
                     consumed: Consumed | None = None, *, key_serde: Serde | None = None,
                     value_serde: Serde | None = None,
                     timestamp_extractor: Callable[[Any, int], int] | None = None
                     ) -> GlobalKTable:
        """A GlobalKTable: every instance holds the whole topic in a store."""
        c = _consumed(consumed, key_serde, value_serde, timestamp_extractor)
        source, node, spec, _ = self._table_source(topic, materialized, c, True)
        self._builder.global_stores.append(
            GlobalStoreNode(spec, source, node, topic, c.key_serde, c.value_serde,
                            c.timestamp_extractor)
        )
        return GlobalKTable(spec.name, spec.key_serde, spec.value_serde)

    def add_state_store(self, store: StoreBuilder) -> StreamsBuilder:
        """Add a store (from :class:`~streams_app.dsl.stores.Stores`) that processors connect
        to by name: ``KStream.process(supplier, store.name)``."""
        if not isinstance(store, StoreBuilder):
            raise TypeError("add_state_store: expected a StoreBuilder (Stores.key_value_store_"
                            f"builder(...)), got {store!r}")
        known = self._builder.state_stores.get(store.name)
        if known is not None and known is not store:
            raise ValueError(f"add_state_store: a store named {store.name!r} was already added")
        self._builder.state_stores[store.name] = store
        return self

    def build(self) -> Topology:
        """Compile the DSL graph into a :class:`Topology` (cached after the first call)."""
        if self._built is None:
            self._built = self._builder.build()
        return self._built
