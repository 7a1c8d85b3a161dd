"""Metrics and probes wired to a Faust runtime: what the scrape reads, the web server.

:func:`runtime_view` reads the runtime's live state (assignment, high watermarks, Faust's
recovery bookkeeping, the error counters); :func:`install_observability` connects the restore
events and starts :class:`~streams_app.runtime.web.WebServer` at the worker's first start
when ``STREAMS_WEB_ENABLED`` is on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from streams_app.runtime.faust_compat import fetch_position
from streams_app.runtime.metrics import RuntimeView, StreamsMetrics
from streams_app.runtime.web import RouteInstaller, WebServer
from streams_app.state.caching import CachingKeyValueStore

if TYPE_CHECKING:
    from streams_app.runtime.faust_runtime import FaustRuntime

__all__ = ["install_observability", "is_ready", "runtime_view"]


def is_ready(app: Any) -> bool:
    """Partitions assigned and every active store restored, no rebalance in progress."""
    return bool(app.tables.actives_ready) and not app.rebalancing and not app.in_recovery


def _consumer(app: Any) -> Any:
    try:
        consumer = app.consumer
    except Exception:  # noqa: BLE001 - not built yet
        return None
    return consumer.aiokafka_in_loop() if hasattr(consumer, "aiokafka_in_loop") else None


def _lag(runtime: FaustRuntime, metrics: StreamsMetrics) -> dict[tuple[str, int], int]:
    consumer = _consumer(runtime.app)
    if consumer is None:
        return {}
    inputs = runtime.hooks.handlers
    lag: dict[tuple[str, int], int] = {}
    for tp in consumer.assignment():
        if tp.topic not in inputs:
            continue
        # read_committed (exactly-once) reads up to the last stable offset, as Kafka's lag.
        stable = consumer.last_stable_offset(tp)
        highwater = stable if stable is not None and stable >= 0 else consumer.highwater(tp)
        if highwater is None:
            continue  # no fetch response yet
        position = metrics.positions.get((tp.topic, tp.partition))
        if position is None:
            position = fetch_position(consumer, tp)
        if position is not None:
            lag[(tp.topic, tp.partition)] = max(0, highwater - position)
    return lag


def _restore(runtime: FaustRuntime) -> dict[str, dict[int, int]]:
    app = runtime.app
    names = {table.name for table in runtime.tables.values()}
    recovery = app.tables.recovery
    done = is_ready(app)
    remaining: dict[str, dict[int, int]] = {}
    for tp, table in list(recovery.tp_to_table.items()):
        if table.name not in names or tp not in recovery.active_tps:
            continue
        highwater = recovery.active_highwaters.get(tp)
        offset = recovery.active_offsets.get(tp)
        left = 0 if done or highwater is None or offset is None else max(0, highwater - offset)
        remaining.setdefault(table.name, {})[tp.partition] = left
    return remaining


def _dropped(runtime: FaustRuntime) -> Mapping[tuple[str, str], int]:
    errors = runtime.errors
    counts = {("skipped", str(kind)): n for kind, n in errors.skipped.items()}
    counts.update({("dead_letter", str(kind)): n for kind, n in errors.dead_lettered.items()})
    return counts


def _cache(runtime: FaustRuntime) -> dict[str, tuple[int, int]]:
    """Hits and misses per store, summed over the live tasks' record caches."""
    counts: dict[str, tuple[int, int]] = {}
    for task in list(runtime.tasks.values()):
        for name, stack in task.stores.items():
            cache = stack.outer
            if isinstance(cache, CachingKeyValueStore) and cache.hits + cache.misses:
                hits, misses = counts.get(name, (0, 0))
                counts[name] = (hits + cache.hits, misses + cache.misses)
    return counts


def runtime_view(runtime: FaustRuntime, metrics: StreamsMetrics) -> RuntimeView:
    """What ``metrics``' scrape-time collector reads from ``runtime``."""
    app = runtime.app
    return RuntimeView(
        lag=lambda: _lag(runtime, metrics),
        restore=lambda: _restore(runtime),
        tasks=lambda: [f"{sub}_{partition}" for sub, partition in runtime.tasks],
        dropped=lambda: _dropped(runtime),
        rebalances=lambda: int(app.rebalancing_count),
        cache=lambda: _cache(runtime),
        ready=lambda: is_ready(app),
    )


def install_observability(runtime: FaustRuntime, metrics: StreamsMetrics,
                          routes: Sequence[RouteInstaller] = ()) -> None:
    """Connect the restore events; serve the web endpoints if ``STREAMS_WEB_ENABLED``
    (the probes and metrics, plus ``routes``: the queries and the dashboard)."""
    app, settings = runtime.app, runtime.settings
    metrics.view = runtime_view(runtime, metrics)

    async def assigned(_sender: Any, *_args: Any, **_kwargs: Any) -> None:
        metrics.restore_started(table.name for table in runtime.tables.values())

    async def recovered(_sender: Any, *_args: Any, **_kwargs: Any) -> None:
        metrics.restore_ended()

    app.on_partitions_assigned.connect(assigned)
    app.on_rebalance_complete.connect(recovered)
    runtime.hooks.add_on_revoked(
        lambda revoked: [metrics.positions.pop((tp.topic, tp.partition), None)
                         for tp in revoked])
    if not settings.web_enabled:
        return

    async def serve() -> None:
        server = WebServer(metrics, settings.web_port, ready=lambda: is_ready(app),
                           healthy=lambda: not app.crashed,  # a clean stop stays healthy
                           metrics_enabled=settings.metrics_enabled, routes=routes,
                           loop=app.loop,
                           beacon=app.beacon)
        await app.add_runtime_dependency(server)

    app.first_start_hooks.append(serve)

