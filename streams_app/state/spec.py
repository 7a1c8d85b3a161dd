"""Store specifications (what a topology declares) and the layer stack built from them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from streams_app.state.api import KeyValueStore, SessionStore, StateStore, WindowStore
from streams_app.state.byte_caching import ByteCachingKeyValueStore
from streams_app.state.caching import CachingKeyValueStore
from streams_app.state.logging import ChangeLoggingKeyValueStore
from streams_app.state.memory import (
    InMemoryKeyValueStore,
    InMemorySessionStore,
    InMemoryWindowStore,
)
from streams_app.state.thread_cache import ThreadCache
from streams_app.state.versioned import InMemoryVersionedKeyValueStore, VersionedKeyValueStore
from streams_app.state.versioned_logging import ChangeLoggingVersionedKeyValueStore
from streams_app.state.windowed import SegmentedSessionStore, SegmentedWindowStore
from streams_app.state.windowed_layers import (
    CachingSessionStore,
    CachingWindowStore,
    ChangeLoggingSessionStore,
    ChangeLoggingWindowStore,
)

__all__ = ["StoreSpec", "StoreStack", "build_store_stack", "in_memory_store"]

_FOREVER = 2**62
KEY_VALUE = "key-value"
WINDOW = "window"
SESSION = "session"
VERSIONED = "versioned"


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
    # window/session stores: how long windows are kept, and the time-first layout that
    # emit-on-window-close uses (None = forever)
    retention_ms: int | None = None
    time_ordered: bool = False
    # versioned key-value stores: how far back (event time) history is kept and readable
    history_retention_ms: int | None = None

    @property
    def versioned(self) -> bool:
        """A versioned key-value store (KIP-889)."""
        return self.kind == VERSIONED

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
    logging: Any  # a change-logging layer (key-value, window or session) or None


def in_memory_store(spec: StoreSpec) -> StateStore:
    """The in-memory implementation for ``spec``'s kind."""
    if spec.kind == KEY_VALUE:
        return InMemoryKeyValueStore(spec.name)
    if spec.kind == WINDOW:
        if spec.retention_ms is None and not spec.time_ordered:
            return InMemoryWindowStore(spec.name, spec.window_size or 0)
        return SegmentedWindowStore(spec.name, spec.window_size or 0,
                                    _FOREVER if spec.retention_ms is None else spec.retention_ms,
                                    spec.time_ordered)
    if spec.kind == VERSIONED:
        return InMemoryVersionedKeyValueStore(spec.name, spec.history_retention_ms or 0)
    if spec.kind == SESSION:
        if spec.retention_ms is None:
            return InMemorySessionStore(spec.name)
        return SegmentedSessionStore(spec.name, spec.retention_ms)
    raise ValueError(f"store {spec.name!r}: unknown store kind {spec.kind!r}")


def build_store_stack(
    spec: StoreSpec,
    cache_max_entries: int,
    factory: Callable[[StoreSpec], StateStore] = in_memory_store,
    thread_cache: ThreadCache | None = None,
) -> StoreStack:
    """Wrap ``factory(spec)`` with change-logging and caching as ``spec`` asks.

    Global stores are neither logged nor cached: their source topic is their changelog and
    Kafka Streams forwards nothing from them. A cache size of 0 disables caching.
    With ``thread_cache`` key-value stores cache in it, sized in bytes as Kafka Streams does.
    """
    inner = factory(spec)
    outer: StateStore = inner
    logging_layer = None
    if isinstance(inner, WindowStore | SessionStore) and not spec.is_global:
        return _windowed_stack(spec, inner, cache_max_entries, thread_cache)
    if isinstance(inner, VersionedKeyValueStore):
        # never cached, as in Kafka Streams
        if spec.logging:
            logging_layer = ChangeLoggingVersionedKeyValueStore(inner)
            outer = logging_layer
        return StoreStack(spec, outer, inner, logging_layer)
    if isinstance(inner, KeyValueStore) and not spec.is_global:
        if spec.logging:
            logging_layer = ChangeLoggingKeyValueStore(inner, spec.timestamped)
            outer = logging_layer
        if spec.caching and thread_cache is not None:
            outer = ByteCachingKeyValueStore(outer, thread_cache,  # type: ignore[arg-type]
                                             spec.timestamped)
        elif spec.caching and cache_max_entries > 0:
            outer = CachingKeyValueStore(outer, cache_max_entries)  # type: ignore[arg-type]
    return StoreStack(spec, outer, inner, logging_layer)


def _windowed_stack(spec: StoreSpec, inner: WindowStore | SessionStore,
                    cache_max_entries: int, thread_cache: ThreadCache | None = None
                    ) -> StoreStack:
    """Window and session stores get their own logging and caching layers."""
    outer: StateStore = inner
    logging_layer: Any = None
    if spec.logging:
        if isinstance(inner, WindowStore):
            logging_layer = ChangeLoggingWindowStore(inner, spec.timestamped)
        else:
            logging_layer = ChangeLoggingSessionStore(inner)
        outer = logging_layer
    if spec.caching and (thread_cache is not None or cache_max_entries > 0):
        cache = CachingWindowStore if isinstance(inner, WindowStore) else CachingSessionStore
        outer = cache(outer, cache_max_entries, thread_cache)
    return StoreStack(spec, outer, inner, logging_layer)
