"""``KTable.suppress``: Suppressed (until_window_closes, until_time_limit) and BufferConfig."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from streams_app.dsl.windows import to_ms
from streams_app.processors.suppress import KTableSuppressSupplier, buffer_store_spec

if TYPE_CHECKING:
    from streams_app.dsl.ktable import KTable

__all__ = ["Suppressed", "BufferConfig", "suppress"]


@dataclass(frozen=True)
class BufferConfig:
    """How many records a suppression buffer holds (``None``: unbounded) and what happens
    when it is full: emit the oldest early, or fail (Kafka's shutDownWhenFull)."""

    record_limit: int | None = None
    shut_down: bool = True

    @classmethod
    def unbounded(cls) -> BufferConfig:
        """No limit (memory permitting)."""
        return cls(None, True)

    @classmethod
    def max_records(cls, records: int) -> BufferConfig:
        """At most ``records`` keys; the oldest are emitted early when it overflows."""
        return cls(None, False).with_max_records(records)

    def with_max_records(self, records: int) -> BufferConfig:
        """This config with a record limit."""
        if not isinstance(records, int) or records < 0:
            raise ValueError(f"BufferConfig max_records: must be an int >= 0, got {records!r}")
        return replace(self, record_limit=records)

    def with_no_bound(self) -> BufferConfig:
        """This config without a limit."""
        return replace(self, record_limit=None)

    def shut_down_when_full(self) -> BufferConfig:
        """Fail the task when the buffer overflows."""
        return replace(self, shut_down=True)

    def emit_early_when_full(self) -> BufferConfig:
        """Emit the oldest records early when the buffer overflows."""
        return replace(self, shut_down=False)


@dataclass(frozen=True)
class Suppressed:
    """What a suppression waits for: its window's close (final results), or a time limit."""

    final: bool
    time_to_wait_ms: int
    buffer_config: BufferConfig
    name: str | None = None

    BufferConfig = BufferConfig  # Kafka's nested Suppressed.BufferConfig

    @classmethod
    def until_window_closes(cls, buffer_config: BufferConfig) -> Suppressed:
        """One result per window, once stream time passes its end plus grace; tombstones
        are dropped. The buffer must not emit early."""
        if not buffer_config.shut_down:
            raise ValueError("Suppressed.until_window_closes: buffer_config must not emit "
                             "early (use BufferConfig.unbounded() or .shut_down_when_full())")
        return cls(True, 0, buffer_config)

    @classmethod
    def until_time_limit(cls, time_to_wait: int | timedelta,
                         buffer_config: BufferConfig) -> Suppressed:
        """Hold each key's updates until ``time_to_wait`` of stream time has passed since
        its first buffered update, then emit the latest."""
        return cls(False, to_ms(time_to_wait, "Suppressed time_to_wait"), buffer_config)

    def with_name(self, name: str) -> Suppressed:
        """Name the suppression node."""
        return replace(self, name=name)


def suppress(table: KTable, suppressed: Suppressed) -> KTable:
    """The ``table.suppress(suppressed)`` node."""
    from streams_app.dsl.ktable import KTable

    if not isinstance(suppressed, Suppressed):
        raise TypeError(f"suppress: expected a Suppressed, got {suppressed!r}")
    b = table._builder
    name = suppressed.name or b.new_name("KTABLE-SUPPRESS-")
    store = (f"{suppressed.name}-store" if suppressed.name
             else b.new_store_name("KTABLE-SUPPRESS-"))
    duration = suppressed.time_to_wait_ms
    if suppressed.final:
        grace = table._supplier.window_grace_ms()
        if grace is None:
            raise ValueError("suppress(until_window_closes): the table is not the result of "
                             "a windowed aggregation, so its windows have no close time")
        duration = grace
    spec = buffer_store_spec(store, table.key_serde, table.value_serde)
    cfg = suppressed.buffer_config
    supplier = KTableSuppressSupplier(table._supplier, suppressed.final, duration,
                                      cfg.record_limit, cfg.shut_down, table.key_serde, name,
                                      spec)
    node = b.add_processor(name, supplier, table._node)
    return KTable(b, node, supplier, table.key_serde, table.value_serde)
