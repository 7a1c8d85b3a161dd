"""Runs a scenario through the Faust runtime on a real broker, in this process; the result has
the oracle's shape ({"outputs", "stores", "window_stores"}), as conformance/engine.py's.

Each scenario gets fresh topics (its user topics renamed with a unique prefix, one partition,
kept forever so epoch-near timestamps survive), its own application id and state directory,
the record cache as the scenario sets it and no wall-clock emit throttles (as Kafka's test
driver). Inputs are produced in the scenario's order after the worker has its partitions, one
run of records of one topic at a time (one record at a time with the cache on, or where
internal topics feed back: :func:`feeds_back`): each run is processed (the group has committed
the end of every source topic, repartition topics included, and global stores have applied
their topics) before the next is produced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.catalogue import window_key
from conformance.engine import Missing, _driver_config, _store_items, build
from conformance.runtime_progress import Progress
from conformance.scenarios import Scenario, cache_max_bytes

TIMEOUT_S = 60.0


def rename_user_topics(topology: Any, prefix: str) -> None:
    """Prefix every user (non-internal) topic of a built topology, in place."""
    from streams_app.dsl.topology import SinkNode, SourceNode

    def new(t: str) -> str:
        return t if t in topology.internal_topics else prefix + t

    for node in topology.nodes.values():
        if isinstance(node, SourceNode):
            node.topics = [new(t) for t in node.topics]
        elif isinstance(node, SinkNode):
            node.topic = new(node.topic)
    topology._topic_sources = {new(t): n for t, n in topology._topic_sources.items()}
    topology.copartition_groups = [frozenset(map(new, g)) for g in topology.copartition_groups]
    for spec in topology.stores.values():
        if spec.source_topic:
            spec.source_topic = new(spec.source_topic)


def _plain(v: Any) -> Any:
    # Timestamped stores hold ValueAndTimestamp; the driver's facade shows the value.
    return v.value if hasattr(v, "value") and hasattr(v, "timestamp") else v


def _stacks(runtime: Any) -> dict[str, Any]:
    stacks: dict[str, Any] = dict(runtime._global_stores())
    for task in runtime.tasks.values():
        stacks.update(task.stores)
    return stacks


def _read_stores(runtime: Any, expected_stores: dict[str, list[str]]) -> tuple[dict, dict]:
    from streams_app.state.spec import KEY_VALUE, WINDOW

    stacks = _stacks(runtime)
    declared = runtime.topology.stores

    def never_used(name: str, kind: str) -> bool:
        # the worker makes a task at its first record; Kafka's driver has every task, and
        # the store of one that never had a record is empty
        return name not in stacks and name in declared and declared[name].kind == kind

    stores: dict[str, Any] = {}
    for name in expected_stores.get("stores", []):
        st = stacks.get(name)
        stores[name] = ({} if never_used(name, KEY_VALUE) else
                        None if st is None or st.spec.kind != KEY_VALUE else {
                            k: _plain(v) for k, v in _store_items(st.outer)})
    windows: dict[str, Any] = {}
    for name in expected_stores.get("window_stores", []):
        st = stacks.get(name)
        windows[name] = ({} if never_used(name, WINDOW) else
                         None if st is None or st.spec.kind != WINDOW else {
                             window_key(wk): _plain(v) for wk, v in _store_items(st.outer)})
    return stores, windows


def feeds_back(topology: Any) -> bool:
    """Whether a sub-topology reads an internal topic beside another one (a foreign-key
    join's subscription and response topics): records of one input then meet round trips
    through the broker, which the driver completes before its next input."""
    return any(len(sub.source_topics) > 1
               and any(t in topology.internal_topics for t in sub.source_topics)
               for sub in topology.subtopologies() if not sub.is_global)


def segments(scenario: Scenario, per_record: bool = False) -> list[list[dict[str, Any]]]:
    """The input records in runs of one topic (of one record each with ``per_record``), in
    the scenario's order (wall-clock advances dropped: the worker's clock is real)."""
    out: list[list[dict[str, Any]]] = []
    for ev in scenario["inputs"]:
        if "topic" not in ev:
            continue
        if out and out[-1][0]["topic"] == ev["topic"] and not per_record:
            out[-1].append(ev)
        else:
            out.append([ev])
    return out


async def _produce(producer: Any, prefix: str, records: list[dict[str, Any]]) -> None:
    from streams_app.kafka.writer import send_record
    from streams_app.serdes import JsonSerde, StringSerde

    keys, values = StringSerde(), JsonSerde()
    for ev in records:
        await send_record(producer, prefix + ev["topic"], keys.serialize(ev.get("key")),
                          values.serialize(ev.get("value")), ev["timestamp"])
    await producer.flush()


async def run(scenario: Scenario, expected_stores: dict[str, list[str]], *, bootstrap: str,
              name: str, data_dir: Path) -> dict[str, Any]:
    """Run ``scenario`` on the broker at ``bootstrap``; ``name`` must be unique per run
    (it prefixes topics and is the application id)."""
    from aiokafka import AIOKafkaProducer

    from streams_app.kafka.admin import ensure_topics
    from streams_app.kafka.reader import read_to_end, wait_until
    from streams_app.kafka.topics import TopicSpec
    from streams_app.runtime.config import StreamsConfig
    from streams_app.runtime.faust_runtime import FaustRuntime
    from streams_app.serdes import StringSerde
    from streams_app.settings import Settings

    built = build(scenario)
    prefix = f"{name}-"
    topology = built.topology
    rename_user_topics(topology, prefix)
    user_topics = sorted({prefix + ev["topic"] for ev in scenario["inputs"] if "topic" in ev}
                         | {prefix + t for t in built.outputs}
                         | {t for t in topology.source_topics()
                            if t not in topology.internal_topics}
                         | {s.source_topic for s in topology.stores.values() if s.source_topic})
    await ensure_topics(bootstrap, [TopicSpec(t, 1, 1, retention_ms=-1) for t in user_topics])
    # The record cache as the scenario sets it (the driver's entry count): it is flushed on
    # commit, and each record is committed before the next (below), as the driver commits.
    cached = bool(cache_max_bytes(scenario))
    settings = Settings(bootstrap_servers=bootstrap, app_id=name, data_dir=data_dir,
                        topic_partitions=1, commit_interval_ms=100, cache_max_bytes=0)
    config = _driver_config(scenario)
    config.setdefault("cache_max_entries", StreamsConfig().cache_max_entries)
    # as Kafka's TopologyTestDriver (the golden results): no wall-clock emit throttles
    config["windowed_emit_interval_ms"] = config["outer_join_emit_interval_ms"] = 0
    try:
        runtime = FaustRuntime(topology, settings, config=config)
    except NotImplementedError as exc:
        raise Missing(f"FaustRuntime: {exc}") from exc
    app = runtime.app
    sources = [topology.topic_name(t, name) for t in topology.source_topics()]
    await app.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await producer.start()

    global_tables = [runtime.tables[s.name] for s in topology.stores.values() if s.is_global]

    async def globals_caught_up(progress: Progress) -> bool:
        # A global store follows its topic outside the group (no committed offsets): as the
        # driver updates it at once, await its applied position before what comes next.
        for table in global_tables:
            applied = {tp.partition: o for tp, o in table.positions.items()
                       if tp.topic == table.source_topic}
            ends = await progress.end_offsets([table.source_topic])
            if any(end and applied.get(tp.partition, -1) < end - 1 for tp, end in ends.items()):
                return False
        return True

    async def done(progress: Progress) -> bool:
        if app.should_stop or app.crashed:
            raise RuntimeError(f"worker stopped: {app.crash_reason or 'failed'}")
        for _ in range(2):  # twice: a repartition topic may still be growing
            if not await progress.caught_up(sources):
                return False
        return await globals_caught_up(progress)

    try:
        # Each run of one topic is processed before the next is produced, so the runtime
        # sees the scenario's order across topics (as the driver, which processes each
        # record to the end, round trips included, before the next).
        async with Progress(bootstrap, name) as progress:
            for records in segments(scenario, per_record=cached or feeds_back(topology)):
                await _produce(producer, prefix, records)
                await wait_until(lambda: done(progress), TIMEOUT_S,
                                 f"{name} to process its inputs", interval=0.05)
        stores, windows = _read_stores(runtime, expected_stores)
    finally:
        await producer.stop()
        await app.stop()
    keys = StringSerde()
    outputs = {}
    for topic, serde in built.outputs.items():
        records = await read_to_end(bootstrap, prefix + topic)
        outputs[topic] = [{"key": keys.deserialize(r.key), "value": serde.deserialize(r.value),
                           "timestamp": r.timestamp} for r in records]
    return {"outputs": outputs, "stores": stores, "window_stores": windows}
