"""A cache flush reads the old value only where it is used (Kafka Streams' rule): for a
delete, or when the listener wants old values."""

from __future__ import annotations

from typing import Any

import pytest

from streams_app.state.caching import CachingKeyValueStore
from streams_app.state.memory import InMemoryKeyValueStore


class CountedReads(InMemoryKeyValueStore):
    """An in-memory store that counts its reads."""

    reads = 0

    def get(self, key: Any) -> Any:
        self.reads += 1
        return super().get(key)


@pytest.mark.parametrize("send_old_values", [False, True])
def test_flush_reads_old_values_only_when_sent_or_deleting(send_old_values: bool) -> None:
    inner = CountedReads("s")
    inner.put("a", 1)
    cache = CachingKeyValueStore(inner, 100)
    changes: list[tuple[Any, Any, Any]] = []
    cache.set_flush_listener(lambda k, new, old, _ts, _h: changes.append((k, new, old)),
                             send_old_values)
    cache.put("a", 2)
    cache.put("b", 3)
    cache.put("c", None)  # a delete of an absent key: read, then dropped
    cache.flush()
    assert inner.reads == (3 if send_old_values else 1)
    assert changes == [("a", 2, 1 if send_old_values else None), ("b", 3, None)]
    assert (inner.get("a"), inner.get("b"), inner.get("c")) == (2, 3, None)
