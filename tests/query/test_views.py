"""Store views over the test driver: reads see cached updates, values unwrapped, and the
InvalidStateStoreException cases."""

from __future__ import annotations

from collections import Counter

import pytest

from streams_app import Materialized, Serdes, StreamsBuilder, TopologyTestDriver
from streams_app.query import (
    DriverStores,
    InvalidStateStorePartitionError,
    KeyValueView,
    SessionView,
    StateStoreMigratedError,
    UnknownStateStoreError,
    WindowView,
)
from streams_app.state.api import ValueAndTimestamp, Windowed
from streams_app.state.caching import CachingKeyValueStore
from streams_app.state.memory import InMemoryKeyValueStore
from tests.query.topologies import GAP_MS, WINDOW_MS, counts_topology, long_keys_topology

EVENTS = [("a", 1_000), ("b", 2_000), ("a", 3_000), ("a", 12_000), ("c", 30_000),
          ("b", 31_000)]


@pytest.fixture
def driver():
    with TopologyTestDriver(counts_topology()) as d:
        inp = d.create_input_topic("in", Serdes.string(), Serdes.json())
        for key, ts in EVENTS:
            inp.pipe_input(key, {"n": 1}, timestamp=ts)
        yield d


def test_key_value_view_reads_cached_counts_with_timestamps(driver) -> None:
    view = DriverStores(driver).store("counts")
    assert isinstance(view, KeyValueView)
    assert dict(view.all()) == Counter(k for k, _ in EVENTS)
    assert view.get("a") == 3 and view.get("zz") is None
    assert view.entry("b") == (("b", 2, 31_000, 0))  # the latest update's timestamp
    assert list(view.range("b", "c")) == [("b", 2), ("c", 1)]
    assert view.approximate_num_entries() >= 3


def test_reads_see_updates_not_yet_flushed_from_the_cache() -> None:
    inner = InMemoryKeyValueStore("s")
    cache = CachingKeyValueStore(inner, 100)
    cache.put("k", ValueAndTimestamp(7, 5))
    view = KeyValueView("s", [(0, cache)])
    assert inner.get("k") is None  # not flushed
    assert view.entry("k") == ("k", 7, 5, 0) and list(view.all()) == [("k", 7)]
    cache.flush()
    cache.put("k", None)  # a cached delete hides the flushed value
    assert inner.get("k") is not None and view.get("k") is None


def test_window_view_fetches_a_keys_windows_and_all(driver) -> None:
    view = DriverStores(driver).store("windowed")
    assert isinstance(view, WindowView) and view.window_size_ms == WINDOW_MS
    assert list(view.fetch("a", 0, 100_000)) == [(0, 2), (10_000, 1)]
    assert [(w.start, w.end, w.value) for w in view.windows("a", 5_000, 100_000)] == \
        [(10_000, 20_000, 1)]
    assert list(view.fetch_all(0, 10_000)) == [
        (Windowed("a", 0, WINDOW_MS), 2), (Windowed("b", 0, WINDOW_MS), 1),
        (Windowed("a", 10_000, 20_000), 1)]


def test_session_view_fetches_a_keys_sessions(driver) -> None:
    view = DriverStores(driver).store("sessions")
    assert isinstance(view, SessionView)
    # a at 1 s and 3 s: one session; 12 s is more than the 5 s gap later: another
    assert list(view.fetch("a")) == [(Windowed("a", 1_000, 3_000), 2),
                                    (Windowed("a", 12_000, 12_000), 1)]
    assert GAP_MS == 5_000 and list(view.fetch("nobody")) == []


def test_unknown_store_and_partitions_not_here(driver) -> None:
    stores = DriverStores(driver)
    with pytest.raises(UnknownStateStoreError, match="no store named 'nope'"):
        stores.store("nope")
    with pytest.raises(InvalidStateStorePartitionError, match="partitions 0..0, not 3"):
        stores.store("counts", partition=3)
    assert stores.store("counts", partition=0).partitions == [0]


class _NotOwned(DriverStores):
    """Partition 0 held as a standby only, as a worker that lost it in a rebalance."""

    def partition_count(self, spec):  # noqa: ANN001, ANN201
        return 2

    def active_partitions(self, spec):  # noqa: ANN001, ANN201
        return [1]

    def standby_partitions(self, spec):  # noqa: ANN001, ANN201
        return [0]


def test_a_standby_partition_is_read_only_with_stale_reads(driver) -> None:
    stores = _NotOwned(driver)
    with pytest.raises(StateStoreMigratedError, match="partition 0 of store 'counts' is not "
                                                      "active on this worker"):
        stores.store("counts", partition=0)
    assert stores.store("counts", partition=0, stale=True).get("a") == 3


def test_info_lists_kinds_and_partitions(driver) -> None:
    info = {i.name: i for i in DriverStores(driver).info()}
    assert {n: i.kind for n, i in info.items()} == {
        "counts": "key_value", "windowed": "window", "sessions": "session"}
    assert info["windowed"].window_size_ms == WINDOW_MS and info["counts"].window_size_ms is None
    assert info["counts"].partitions == [0] and info["counts"].restoring is False


def test_long_keys_range_in_numeric_order() -> None:
    with TopologyTestDriver(long_keys_topology()) as d:
        inp = d.create_input_topic("nums", Serdes.long(), Serdes.json())
        for key in (10, -5, 2, 10):
            inp.pipe_input(key, 1, timestamp=0)
        view = DriverStores(d).store("sums")
        assert list(view.all()) == [(-5, 1), (2, 1), (10, 2)]


def test_a_global_store_is_readable_as_partition_zero() -> None:
    b = StreamsBuilder()
    b.global_table("zones", Materialized.as_("zones-store"), key_serde=Serdes.string(),
                   value_serde=Serdes.json())
    with TopologyTestDriver(b.build()) as d:
        d.create_input_topic("zones", Serdes.string(), Serdes.json()).pipe_input(
            "1", {"borough": "EWR"}, timestamp=0)
        stores = DriverStores(d)
        assert stores.store("zones-store").get("1") == {"borough": "EWR"}
        assert stores.store("zones-store", partition=0).partitions == [0]
        with pytest.raises(InvalidStateStorePartitionError, match="one partition"):
            stores.store("zones-store", partition=1)
        info = {i.name: i for i in stores.info()}["zones-store"]
        assert info.is_global and info.partitions == [0]
