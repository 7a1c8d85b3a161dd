"""Store specifications (what a topology declares) and the layer stack built from them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from streams_app.state.api import KeyValueStore, StateStore
from streams_app.state.caching import CachingKeyValueStore
from streams_app.state.logging import ChangeLoggingKeyValueStore
from streams_app.state.memory import (
    InMemoryKeyValueStore,
    InMemorySessionStore,
    InMemoryWindowStore,
)

__all__ = ["StoreSpec", "StoreStack", "build_store_stack", "in_memory_store"]

KEY_VALUE = "key-value"
WINDOW = "window"
SESSION = "session"


@dataclass
class StoreSpec:
    """A state store declared by a topology.

    ``key_serde``/``value_serde`` of ``None`` mean the application's default serdes.
    ``source_topic`` is set for global stores, whose source topic is their changelog.
    """

    name: str
    kind: str = KEY_VALUE
    key_serde: Any = None
    value_serde: Any = None
    timestamped: bool = True
    logging: bool = True
    caching: bool = True
    window_size: int | None = None
    is_global: bool = False
    source_topic: str | None = None

    def changelog_topic(self, application_id: str) -> str | None:
        """``<application_id>-<store>-changelog`` (a global store restores from its source)."""
        if self.is_global:
            return self.source_topic
        if not self.logging:
            return None
        return f"{application_id}-{self.name}-changelog"


@dataclass
class StoreStack:
    """The layers built for one store: what processors see, and the logging layer."""

    spec: StoreSpec
    outer: StateStore
    inner: StateStore
    logging: ChangeLoggingKeyValueStore | None


def in_memory_store(spec: StoreSpec) -> StateStore:
    """The in-memory implementation for ``spec``'s kind."""
    if spec.kind == KEY_VALUE:
        return InMemoryKeyValueStore(spec.name)
    if spec.kind == WINDOW:
        return InMemoryWindowStore(spec.name, spec.window_size or 0)
    if spec.kind == SESSION:
        return InMemorySessionStore(spec.name)
    raise ValueError(f"store {spec.name!r}: unknown store kind {spec.kind!r}")


def build_store_stack(
    spec: StoreSpec,
    cache_max_entries: int,
    factory: Callable[[StoreSpec], StateStore] = in_memory_store,
) -> StoreStack:
    """Wrap ``factory(spec)`` with change-logging and caching as ``spec`` asks.

    Global stores are neither logged nor cached: their source topic is their changelog and
    Kafka Streams forwards nothing from them. A cache size of 0 disables caching.
    """
    inner = factory(spec)
    outer: StateStore = inner
    logging_layer = None
    if isinstance(inner, KeyValueStore) and not spec.is_global:
        if spec.logging:
            logging_layer = ChangeLoggingKeyValueStore(inner, spec.timestamped)
            outer = logging_layer
        if spec.caching and cache_max_entries > 0:
            outer = CachingKeyValueStore(outer, cache_max_entries)  # type: ignore[arg-type]
    return StoreStack(spec, outer, inner, logging_layer)
