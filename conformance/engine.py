"""Runs a scenario through streams_app's TopologyTestDriver; the result has the oracle's
shape ({"outputs", "stores", "window_stores"}). A topology streams_app cannot build yet raises
Missing (reported, not failed)."""

from __future__ import annotations

from typing import Any

from conformance.catalogue import CATALOGUE, PyBuilt, window_key
from conformance.scenarios import Scenario, cache_max_bytes

# Raised by a DSL that lacks an operator, a window type or a join kind.
ABSENT = (AttributeError, NotImplementedError, ImportError)


class Missing(Exception):
    """streams_app lacks what the scenario's topology needs (the reason says what)."""


def build(scenario: Scenario) -> PyBuilt:
    """The streams_app topology for ``scenario``, or Missing."""
    factory = CATALOGUE.get(scenario["topology"])
    if factory is None:
        raise Missing(f"topology {scenario['topology']!r} is not in conformance/catalogue.py")
    try:
        return factory(scenario.get("params", {}))
    except ABSENT as exc:
        raise Missing(f"{type(exc).__name__}: {exc}") from exc


def _driver_config(scenario: Scenario) -> dict[str, Any]:
    from streams_app.serdes import JsonSerde, StringSerde

    # The oracle's defaults: string keys, JSON values (used where an operator drops serdes).
    config: dict[str, Any] = {"default_key_serde": StringSerde(),
                              "default_value_serde": JsonSerde()}
    # and its error handlers: every one fails (ours dead-letter bad input by default)
    config.update(dict.fromkeys(("deserialization_exception_handler",
                                 "processing_exception_handler",
                                 "production_exception_handler"), "fail"))
    # Kafka Streams' byte-sized cache (key-value stores; window and session stores still
    # count entries); 0 is off.
    size = cache_max_bytes(scenario)
    config["cache_max_bytes"] = size
    if not size:
        config["cache_max_entries"] = 0
    return config


def _store_items(store: Any) -> list[tuple[Any, Any]]:
    items = store.all() if hasattr(store, "all") else store.range(None, None)
    return [(kv.key, kv.value) if hasattr(kv, "key") else tuple(kv) for kv in items]


def run(scenario: Scenario, expected_stores: dict[str, list[str]]) -> dict[str, Any]:
    """Pipe the scenario's inputs; read outputs and the stores named in ``expected_stores``
    ({"stores": [...], "window_stores": [...]}, as listed by the oracle's result)."""
    from streams_app import StreamsFailure, TopologyTestDriver
    from streams_app.serdes import JsonSerde, StringSerde

    built = build(scenario)
    keys, values = StringSerde(), JsonSerde()
    try:
        driver = TopologyTestDriver(built.topology, _driver_config(scenario))
    except NotImplementedError as exc:
        raise Missing(f"TopologyTestDriver: {exc}") from exc
    try:
        inputs: dict[str, Any] = {}
        for ev in scenario["inputs"]:
            if "advance_wall_clock_ms" in ev:
                driver.advance_wall_clock_time(ev["advance_wall_clock_ms"])
                continue
            topic = ev["topic"]
            if topic not in inputs:
                inputs[topic] = driver.create_input_topic(topic, keys, values)
            inputs[topic].pipe_input(ev.get("key"), ev.get("value"), timestamp=ev["timestamp"])
        outputs = {
            topic: [
                {"key": r.key, "value": r.value, "timestamp": r.timestamp}
                for r in driver.create_output_topic(topic, keys, serde).read_records_to_list()
            ]
            for topic, serde in built.outputs.items()
        }
        stores: dict[str, Any] = {}
        for name in expected_stores.get("stores", []):
            store = driver.get_key_value_store(name)
            stores[name] = None if store is None else dict(_store_items(store))
        windows: dict[str, Any] = {}
        for name in expected_stores.get("window_stores", []):
            store = driver.get_window_store(name)
            windows[name] = None if store is None else {
                window_key(wk): v for wk, v in _store_items(store)
            }
        return {"outputs": outputs, "stores": stores, "window_stores": windows}
    except NotImplementedError as exc:  # an operator that exists but declares itself unbuilt
        raise Missing(f"NotImplementedError while running: {exc}") from exc
    except StreamsFailure as exc:  # the same, raised by a processor
        if isinstance(exc.error, NotImplementedError):
            raise Missing(f"NotImplementedError while running: {exc.error}") from exc
        raise
    finally:
        driver.close()
