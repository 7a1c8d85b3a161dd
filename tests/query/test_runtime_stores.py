"""RuntimeStores and the worker's router over a stand-in Faust app: assignment, restore
gating, stale reads of standbys, task-less partitions, and the assignor's host map."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from faust.types import TP

from streams_app.query import RuntimeStores, StateStoreMigratedError, StateStoreRestoringError
from streams_app.query.routing import partition_for_key, runtime_router
from streams_app.runtime.config import StreamsConfig
from streams_app.serdes import StringSerde
from streams_app.state.api import ValueAndTimestamp
from streams_app.state.memory import InMemoryKeyValueStore
from tests.query.topologies import counts_topology

CHANGELOG = "app-counts-changelog"


class Assignor:
    def __init__(self) -> None:
        self.actives = {TP("in", 0), TP("in", 2), TP(CHANGELOG, 0), TP(CHANGELOG, 2)}
        self.standbys = {TP(CHANGELOG, 1)}

    def assigned_actives(self) -> set[TP]:
        return self.actives

    def assigned_standbys(self) -> set[TP]:
        return self.standbys

    def tables_metadata(self) -> dict[str, dict[str, list[int]]]:
        return {"http://me:1": {CHANGELOG: [0, 2]}, "http://other:2": {CHANGELOG: [1, 3]}}

    def external_topics_metadata(self) -> dict[str, dict[str, list[int]]]:
        return {"http://me:1": {"in": [0, 2]}, "http://other:2": {"in": [1, 3]}}


def store_with(key: str, count: int) -> InMemoryKeyValueStore:
    store = InMemoryKeyValueStore("counts")
    store.put(key, ValueAndTimestamp(count, 7))
    return store


def fake_runtime() -> Any:
    topology = counts_topology()
    sub = next(s for s in topology.subtopologies() if "counts" in s.stores)
    databases = {p: store_with(f"db{p}", p) for p in range(4)}
    cached = store_with("task0", 100)
    app = SimpleNamespace(
        assignor=Assignor(), rebalancing=False, in_recovery=False,
        tables=SimpleNamespace(actives_ready=True))
    return SimpleNamespace(
        topology=topology, config=StreamsConfig.from_mapping({"application_id": "app"}),
        app_id="app", app=app, plan=SimpleNamespace(tasks={sub.id: 4}),
        tasks={(sub.id, 0): SimpleNamespace(stores={"counts": SimpleNamespace(outer=cached)})},
        tables={"counts": SimpleNamespace(store_for=databases.__getitem__,
                                          key_serde=StringSerde())},
        settings=SimpleNamespace(advertised_server="ME:1"))


def test_reads_active_partitions_through_the_task_else_the_database() -> None:
    stores = RuntimeStores(fake_runtime())
    view = stores.store("counts")
    assert view.partitions == [0, 2]
    # partition 0 has a task: its outer layer; partition 2 none yet: the table's database
    assert dict(view.all()) == {"task0": 100, "db2": 2}
    with pytest.raises(StateStoreMigratedError, match="partition 1 .* not active"):
        stores.store("counts", partition=1)


def test_restoring_refuses_unless_stale_and_stale_reads_standbys() -> None:
    runtime = fake_runtime()
    stores = RuntimeStores(runtime)
    runtime.app.tables.actives_ready = False
    with pytest.raises(StateStoreRestoringError, match="restoring"):
        stores.store("counts")
    assert dict(stores.store("counts", stale=True).all()) == {"task0": 100, "db1": 1, "db2": 2}
    runtime.app.tables.actives_ready, runtime.app.rebalancing = True, True
    with pytest.raises(StateStoreRestoringError):
        stores.store("counts", partition=0)
    info = {i.name: i for i in stores.info()}["counts"]
    assert (info.partitions, info.standby_partitions, info.restoring) == ([0, 2], [1], True)


def test_router_names_the_owner_of_a_key_from_the_assignors_host_map() -> None:
    runtime = fake_runtime()
    router = runtime_router(runtime, RuntimeStores(runtime))
    assert router.hosts("counts") == {"me:1": [0, 2], "other:2": [1, 3]}
    assert router.self_host == "me:1"  # spelled as the assignor's URLs are
    for key in ("1", "2", "abc"):
        meta = router.query_metadata_for_key("counts", key)
        assert meta.partition == partition_for_key(key.encode(), 4)
        assert meta.active_host == ("me:1" if meta.partition in (0, 2) else "other:2")


def test_a_global_store_is_read_on_every_worker_whatever_the_assignment() -> None:
    from streams_app import Materialized, Serdes, StreamsBuilder

    b = StreamsBuilder()
    b.global_table("zones", Materialized.as_("zones-store"), key_serde=Serdes.string(),
                   value_serde=Serdes.json())
    runtime = fake_runtime()
    runtime.topology = b.build()
    zones = InMemoryKeyValueStore("zones-store")
    zones.put("1", {"borough": "EWR"})
    runtime.global_store_stacks = lambda: {"zones-store": SimpleNamespace(outer=zones)}
    runtime.app.assignor.actives = set()  # owns nothing
    stores = RuntimeStores(runtime)
    assert stores.store("zones-store").get("1") == {"borough": "EWR"}
    router = runtime_router(runtime, stores)
    assert router.query_metadata_for_key("zones-store", "1").active_host == "me:1"
