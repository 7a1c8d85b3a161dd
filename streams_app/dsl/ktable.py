"""KTable (a changelog read as a table) and GlobalKTable."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from streams_app.dsl.graph import InternalBuilder
from streams_app.dsl.options import Grouped, Materialized, key_value_spec
from streams_app.processors.suppliers import FixedSupplier, KTableProcessorSupplier
from streams_app.processors.table import KTableRepartitionMap, KTableToStream
from streams_app.processors.table_values import (
    KTableFilter,
    KTableMapValues,
    KTableValuesSupplier,
)
from streams_app.serdes import Serde
from streams_app.state.spec import StoreSpec

if TYPE_CHECKING:
    from streams_app.dsl.grouped import KGroupedTable
    from streams_app.dsl.kstream import KStream

__all__ = ["KTable", "GlobalKTable"]


class KTable:
    """A table of latest values per key; its updates flow as ``Change(new, old)``.

    ``queryable_store_name`` is the store users can query (``None`` when the table is
    not materialized under a name). ``versioned``: the table is materialized in a versioned
    store, or inherits versioned semantics from its parent (Kafka Streams'
    ``isOutputVersioned``), so downstream joins, filters and re-groupings skip out-of-order
    updates (KIP-914).
    """

    def __init__(self, builder: InternalBuilder, node: str,
                 supplier: KTableProcessorSupplier, key_serde: Serde | None,
                 value_serde: Serde | None, queryable_store_name: str | None = None,
                 *, versioned: bool = False) -> None:
        self._builder = builder
        self._node = node
        self._supplier = supplier
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.queryable_store_name = queryable_store_name
        self.versioned = versioned

    def _store(self, materialized: Materialized | str | None, prefix: str,
               value_serde: Serde | None) -> tuple[StoreSpec | None, Materialized]:
        if materialized is None:
            return None, Materialized()
        mat = Materialized.of(materialized)
        name = mat.store_name or self._builder.new_store_name(prefix)
        spec = key_value_spec(mat, name, mat.key_serde or self.key_serde,
                                  mat.value_serde or value_serde)
        return spec, mat

    def _values(self, operator: type[KTableFilter] | type[KTableMapValues], prefix: str,
                fn: Callable[..., Any], flag: bool, materialized: Materialized | str | None,
                name: str | None) -> KTable:
        b = self._builder
        node_name = name or b.new_name(prefix)
        # a filter keeps the table's values (and serde); mapValues makes new ones
        keeps = operator is KTableFilter
        spec, mat = self._store(materialized, prefix, self.value_serde if keeps else None)
        supplier = KTableValuesSupplier(operator, self._supplier, spec, fn, flag,
                                        use_versioned_semantics=self.versioned)
        node = b.add_processor(node_name, supplier, self._node)
        return KTable(b, node, supplier, self.key_serde,
                      self.value_serde if keeps else mat.value_serde,
                      spec.name if spec is not None and mat.store_name else None,
                      versioned=self.versioned if spec is None else spec.versioned)

    def filter(self, predicate: Callable[[Any, Any], bool],
               materialized: Materialized | str | None = None, name: str | None = None
               ) -> KTable:
        """Rows where ``predicate(key, value)``; rows filtered out become tombstones."""
        return self._values(KTableFilter, "KTABLE-FILTER-", predicate, False, materialized, name)

    def filter_not(self, predicate: Callable[[Any, Any], bool],
                   materialized: Materialized | str | None = None, name: str | None = None
                   ) -> KTable:
        """Rows where ``predicate(key, value)`` is false."""
        return self._values(KTableFilter, "KTABLE-FILTER-", predicate, True, materialized, name)

    def map_values(self, mapper: Callable[..., Any],
                   materialized: Materialized | str | None = None, name: str | None = None,
                   *, with_key: bool = False) -> KTable:
        """``mapper(value)`` (``mapper(key, value)`` with ``with_key``) per row."""
        return self._values(KTableMapValues, "KTABLE-MAPVALUES-", mapper, with_key,
                            materialized, name)

    def suppress(self, suppressed: Any) -> KTable:
        """Hold back updates: final results per window (``Suppressed.until_window_closes``)
        or the latest per key after a time limit (see :mod:`streams_app.dsl.suppressed`)."""
        from streams_app.dsl.suppressed import suppress
        from streams_app.dsl.topology import TopologyError

        if self.versioned:
            raise TopologyError("suppress() is only supported for non-versioned KTables (note "
                                "that version semantics might be inherited from upstream)")
        return suppress(self, suppressed)

    def to_stream(self, name: str | None = None) -> KStream:
        """The table's updates as a stream of new values (deletes as ``None`` values)."""
        from streams_app.dsl.kstream import KStream

        b = self._builder
        node = b.add_processor(name or b.new_name("KTABLE-TOSTREAM-"),
                               FixedSupplier(KTableToStream), self._node)
        return KStream(b, node, self.key_serde, self.value_serde, False)

    def join(self, other: KTable, joiner: Callable[..., Any], joiner_or_materialized: Any = None,
             materialized: Materialized | str | None = None, *, name: str | None = None,
             table_joined: Any = None) -> KTable:
        """Inner join of two tables, as Kafka's ``KTable.join``:

        - ``join(table, joiner[, materialized])``: rows with the same key, ``joiner(l, r)``;
        - ``join(table, fk_extractor, joiner[, materialized])``: foreign-key join, each row
          with the other table's row for ``fk_extractor(value)`` (or ``(key, value)``).
        """
        from streams_app.dsl.join_graph import INNER, table_join

        return table_join(self, other, joiner, joiner_or_materialized, materialized, INNER,
                          name, table_joined)

    def left_join(self, other: KTable, joiner: Callable[..., Any],
                  joiner_or_materialized: Any = None,
                  materialized: Materialized | str | None = None, *, name: str | None = None,
                  table_joined: Any = None) -> KTable:
        """Left join (same forms as :meth:`join`): every left row, ``None`` when no partner."""
        from streams_app.dsl.join_graph import LEFT, table_join

        return table_join(self, other, joiner, joiner_or_materialized, materialized, LEFT,
                          name, table_joined)

    def outer_join(self, other: KTable, joiner: Callable[..., Any],
                   materialized: Materialized | str | None = None, *, name: str | None = None
                   ) -> KTable:
        """Outer join: a row for every key in either table, ``None`` for a missing side."""
        from streams_app.dsl.join_graph import OUTER, table_join

        return table_join(self, other, joiner, materialized, None, OUTER, name, None)

    def group_by(self, selector: Callable[[Any, Any], tuple[Any, Any]],
                 grouped: Grouped | None = None, name: str | None = None) -> KGroupedTable:
        """Re-group rows by ``selector(key, value) -> (new_key, new_value)``.

        Updates retract the row's old pair from its old group before adding the new one,
        so the upstream table must send old values (a source table gets materialized).
        """
        from streams_app.dsl.grouped import KGroupedTable

        grouped = grouped or Grouped()
        self._supplier.enable_sending_old_values(True)
        b = self._builder
        versioned = self.versioned
        node = b.add_processor(name or b.new_name("KTABLE-SELECT-"),
                               FixedSupplier(lambda: KTableRepartitionMap(selector, versioned)),
                               self._node)
        return KGroupedTable(b, node, grouped.key_serde, grouped.value_serde, grouped.name)


class GlobalKTable:
    """A fully replicated table, readable by store name; streams join it with
    ``KStream.join(global_table, key_mapper, joiner)``."""

    def __init__(self, store_name: str, key_serde: Serde | None,
                 value_serde: Serde | None) -> None:
        self.store_name = store_name
        self.queryable_store_name = store_name
        self.key_serde = key_serde
        self.value_serde = value_serde
