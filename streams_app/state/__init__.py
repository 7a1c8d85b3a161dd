"""State stores: interfaces, in-memory implementations, change-logging and caching layers."""

from streams_app.state.api import (
    KeyValueStore,
    SessionStore,
    StateStore,
    ValueAndTimestamp,
    Windowed,
    WindowStore,
    value_or_none,
)
from streams_app.state.caching import CachingKeyValueStore
from streams_app.state.logging import ChangeLoggingKeyValueStore
from streams_app.state.memory import (
    InMemoryKeyValueStore,
    InMemorySessionStore,
    InMemoryWindowStore,
)
from streams_app.state.spec import StoreSpec, StoreStack, build_store_stack, in_memory_store
from streams_app.state.versioned import (
    InMemoryVersionedKeyValueStore,
    VersionedKeyValueStore,
    VersionedRecord,
)

__all__ = [
    "KeyValueStore",
    "SessionStore",
    "StateStore",
    "ValueAndTimestamp",
    "Windowed",
    "WindowStore",
    "value_or_none",
    "CachingKeyValueStore",
    "ChangeLoggingKeyValueStore",
    "InMemoryKeyValueStore",
    "InMemorySessionStore",
    "InMemoryWindowStore",
    "StoreSpec",
    "StoreStack",
    "build_store_stack",
    "in_memory_store",
    "InMemoryVersionedKeyValueStore",
    "VersionedKeyValueStore",
    "VersionedRecord",
]
