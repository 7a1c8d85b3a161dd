"""Shared helpers: string keys and JSON values, cache off like Kafka's driver tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from streams_app import StreamsBuilder, TopologyTestDriver
from streams_app.serdes import JsonSerde, LongSerde, StringSerde

S, J, L = StringSerde(), JsonSerde(), LongSerde()


class Harness:
    """A driver over a built topology with string-keyed input/output helpers."""

    def __init__(self, builder: StreamsBuilder, config: dict[str, Any] | None = None) -> None:
        cfg = {"application_id": "app", "default_key_serde": "string", **(config or {})}
        self.topology = builder.build()
        self.driver = TopologyTestDriver(self.topology, cfg)

    def input(self, topic: str = "input") -> Any:
        return self.driver.create_input_topic(topic, S, J)

    def output(self, topic: str = "output", value_serde: Any = J) -> Any:
        return self.driver.create_output_topic(topic, S, value_serde)

    def out(self, topic: str = "output", value_serde: Any = J) -> list[tuple[Any, Any, int]]:
        return [(r.key, r.value, r.timestamp)
                for r in self.output(topic, value_serde).read_records_to_list()]


@pytest.fixture
def harness() -> Iterator[type[Harness]]:
    made: list[Harness] = []

    def make(builder: StreamsBuilder, config: dict[str, Any] | None = None) -> Harness:
        h = Harness(builder, config)
        made.append(h)
        return h

    yield make  # type: ignore[misc]
    for h in made:
        h.driver.close()
